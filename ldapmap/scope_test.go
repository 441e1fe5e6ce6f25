package ldapmap_test

import (
	"context"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// users.scope_filter is ANDed into every filter the bridge searches with, and
// a new entry must match it: checked offline from the constants, and per add.
func TestScopeFilter(t *testing.T) {
	entra := func(u *config.UsersConfig) {
		u.ScopeFilter = "(businessCategory=entra)"
		u.Derive = append(u.Derive, config.DeriveConfig{LDAP: "businessCategory", Template: "entra"})
	}
	m := exampleMap(t, entra)
	if !strings.Contains(m.Managed, "(businessCategory=entra)") || !strings.HasPrefix(m.Managed, "(&") {
		t.Errorf("Managed %q does not AND the scope filter in", m.Managed)
	}
	f, err := m.SearchFilter(context.Background(), nil, newResolver())
	if err != nil || !strings.Contains(f, "(businessCategory=entra)") {
		t.Errorf("list filter %q (%v) is not scoped", f, err)
	}
	req, err := m.PlanAdd(context.Background(), ldapmap.Resource{"userName": "jdoe", "name": map[string]any{"familyName": "D"}}, newResolver())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckScope(req); err != nil {
		t.Errorf("an entry with the constant is refused: %v", err)
	}

	// The constant lost: every add is refused before it is sent.
	noConst := func(u *config.UsersConfig) { u.ScopeFilter = "(businessCategory=entra)" }
	cfg := exampleConfig(t)
	noConst(&cfg.Users)
	_, err = ldapmap.New(cfg.Users)
	if err == nil || !strings.Contains(err.Error(), "users.scope_filter: new entries would not match") {
		t.Errorf("offline: %v, want a users.scope_filter problem", err)
	}

	// What SCIM or a template sets is unknown offline: never a false alarm.
	for _, tc := range []struct {
		name  string
		scope string
		ok    bool // offline verdict: accepted
	}{
		{"mapped attribute", "(title=*)", true},
		{"object class", "(objectClass=inetOrgPerson)", true},
		{"object class missing", "(objectClass=posixAccount)", false},
		{"or with a constant-less branch", "(|(businessCategory=x)(objectClass=person))", true},
		{"not of a class it has", "(!(objectClass=person))", false},
		{"substring: unknown", "(businessCategory=ent*)", true},
		{"operational: unknown", "(entryUUID=*)", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := exampleConfig(t)
			cfg.Users.ScopeFilter = tc.scope
			_, err := ldapmap.New(cfg.Users)
			if got := err == nil; got != tc.ok {
				t.Errorf("scope %s: New error %v, want accepted=%v", tc.scope, err, tc.ok)
			}
		})
	}

	// Per add: a template that yields another value is caught before the add.
	m = exampleMap(t, func(u *config.UsersConfig) {
		u.ScopeFilter = "(businessCategory=entra)"
		u.Derive = append(u.Derive, config.DeriveConfig{LDAP: "businessCategory", Template: "{{ .uid }}"})
	})
	req, err = m.PlanAdd(context.Background(), ldapmap.Resource{"userName": "jdoe", "name": map[string]any{"familyName": "D"}}, newResolver())
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, m.CheckScope(req), scimerr.Internal)
}

// Adoption (users.match) only finds entries inside the scope.
func TestScopeFilterAdoption(t *testing.T) {
	m := exampleMap(t, func(u *config.UsersConfig) {
		u.ScopeFilter = "(businessCategory=entra)"
		u.Derive = append(u.Derive, config.DeriveConfig{LDAP: "businessCategory", Template: "entra"})
		u.Match = []config.MatchConfig{{LDAP: "uid", Template: "{{ .uid }}"}}
	})
	req, err := m.PlanAdd(context.Background(), ldapmap.Resource{"userName": "jdoe", "name": map[string]any{"familyName": "D"}}, newResolver())
	if err != nil {
		t.Fatal(err)
	}
	fs, err := m.MatchFilters(req)
	if err != nil || len(fs) != 1 || fs[0] != "(&(businessCategory=entra)(uid=jdoe))" {
		t.Errorf("match filters %q (%v)", fs, err)
	}
}

// FuzzScopeFilter: any filter the directory would accept as a scope is
// judged without a panic, offline and per add.
func FuzzScopeFilter(f *testing.F) {
	for _, s := range []string{
		"(businessCategory=entra)", "(&(objectClass=person)(!(ou=x))(|(a=*)(b=c)))",
		"(cn=a*b)", "(uid>=5)", "(cn:dn:=x)", "(!(!(objectClass=*)))", `(cn=\2a)`,
	} {
		f.Add(s)
	}
	cfg := exampleConfig(f)
	f.Fuzz(func(t *testing.T, scope string) {
		c := cfg.Users
		c.ScopeFilter = scope
		m, _ := ldapmap.New(c) // problems are fine, panics are not
		if m == nil {
			return
		}
		req, err := m.PlanAdd(context.Background(), ldapmap.Resource{"userName": "jdoe", "name": map[string]any{"familyName": "D"}}, newResolver())
		if err == nil {
			_ = m.CheckScope(req)
		}
	})
}

// An attribute the bridge adds after the check (an allocated uidNumber) is
// not held against the add: the number is taken only once the add goes ahead.
func TestScopeFilterAllocatedLater(t *testing.T) {
	m := exampleMap(t, func(u *config.UsersConfig) {
		u.ScopeFilter = "(&(businessCategory=entra)(uidNumber=*))"
		u.Derive = append(u.Derive, config.DeriveConfig{LDAP: "businessCategory", Template: "entra"})
		u.UIDNumber = config.GIDNumberConfig{CounterDN: "cn=uidnext,dc=example,dc=org", Start: 1000}
	})
	req, err := m.PlanAdd(context.Background(), ldapmap.Resource{"userName": "jdoe", "name": map[string]any{"familyName": "D"}}, newResolver())
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, m.CheckScope(req), scimerr.Internal)
	if err := m.CheckScope(req, "uidNumber"); err != nil {
		t.Errorf("with uidNumber allocated later: %v", err)
	}
}
