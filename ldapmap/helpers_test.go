package ldapmap_test

import (
	"context"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// testEnv is what examples/openldap.yaml needs from the environment.
var testEnv = []string{
	"LDAP_BIND_PASSWORD=secret",
	"SCIMBRIDGE_TOKEN_SHA256=" + strings.Repeat("ab", 32),
}

// exampleConfig loads examples/openldap.yaml the way an admin's file is loaded.
func exampleConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load(config.Source{Data: examples.OpenLDAP, Environ: func() []string { return testEnv }})
	if err != nil {
		t.Fatalf("load example config: %v", err)
	}
	return cfg
}

// exampleMap compiles the example user mapping after mutate (may be nil)
// adjusted it.
func exampleMap(t testing.TB, mutate func(*config.UsersConfig)) *ldapmap.Map {
	t.Helper()
	cfg := exampleConfig(t)
	if mutate != nil {
		mutate(&cfg.Users)
	}
	m, err := ldapmap.New(cfg.Users)
	if err != nil {
		t.Fatalf("ldapmap.New: %v", err)
	}
	return m
}

// fakeResolver stands in for the bridge's LDAP lookups of manager references.
type fakeResolver struct {
	dns map[string]string // SCIM id → DN
	err error             // returned for every lookup when set
	// unresolved records Unresolved calls as "path=id".
	unresolved []string
}

const (
	bossID = "9a1b6c1e-0000-4000-8000-000000000001"
	// bossDN holds characters that are special in LDAP filters, to show the
	// resolved DN is escaped like any other value.
	bossDN = `uid=o\2cbrien (boss),ou=people,dc=example,dc=org`
)

func newResolver() *fakeResolver {
	return &fakeResolver{dns: map[string]string{bossID: bossDN}}
}

func (r *fakeResolver) DNOf(_ context.Context, id string) (string, error) {
	if r.err != nil {
		return "", r.err
	}
	if dn, ok := r.dns[id]; ok {
		return dn, nil
	}
	return "", scimerr.New(scimerr.NotFound, "no user %q", id)
}

func (r *fakeResolver) IDOf(_ context.Context, dn string) (string, error) {
	if r.err != nil {
		return "", r.err
	}
	for id, d := range r.dns {
		if ldapmap.SameDN(d, dn) {
			return id, nil
		}
	}
	return "", scimerr.New(scimerr.NotFound, "no user at %q", dn)
}

func (r *fakeResolver) Unresolved(_ context.Context, path, id string) {
	r.unresolved = append(r.unresolved, path+"="+id)
}

var _ ldapmap.Resolver = (*fakeResolver)(nil)

// wantKind fails unless err is a scimerr of kind k.
func wantKind(t *testing.T, err error, k scimerr.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want scimerr kind %d", k)
	}
	if got := scimerr.KindOf(err); got != k {
		t.Fatalf("error %q has kind %d, want %d", err, got, k)
	}
}

// attrsOf renders an add request's attributes as name → values.
func attrsOf(req *ldap.AddRequest) map[string][]string {
	out := map[string][]string{}
	for _, a := range req.Attributes {
		out[a.Type] = a.Vals
	}
	return out
}
