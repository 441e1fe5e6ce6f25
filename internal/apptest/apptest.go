// Package apptest runs the whole daemon in-process for the tests of bridge
// (the use cases, seen through HTTP and LDAP) and of internal/daemon (reload,
// listeners, online checks): examples/openldap.yaml, or examples/ad.yaml, as an
// admin would load it, pointed at testenv's directory and at a namespace of
// the test's own, so that tests can run in parallel on one shared server.
//
// Only tests import it: it links package testing, which the binary must not
// (cmd/scimbridge's TestBinaryLinksNoTestCode).
package apptest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/testenv"
)

// Harness is one daemon.App built from an example configuration, with what a
// test needs to drive it over HTTP and to check LDAP behind its back.
type Harness struct {
	T     testing.TB
	Srv   *testenv.Server
	NS    testenv.Namespace
	LDAP  *ldap.Conn // bound as the directory's admin
	App   *daemon.App
	Token string // the bearer token App accepts
	Cfg   *config.Config
	AD    *testenv.ADServer  // set for Active Directory runs
	Logs  *testenv.LogBuffer // the daemon's log, warn level and up
}

// ExampleConfig loads examples/openldap.yaml as an admin would, with the
// connection settings overridden through the environment: pointed at srv and
// at the namespace ns, with the token hash given.
func ExampleConfig(t testing.TB, srv *testenv.Server, ns testenv.Namespace, hash string) *config.Config {
	t.Helper()
	env := examples.OpenLDAPEnv(examples.Target{
		URL: srv.URL, BindDN: srv.BindDN, BindPassword: srv.BindPassword,
		UsersBaseDN: ns.People, GroupsBaseDN: ns.Groups, TokenSHA256: hash,
	})
	cfg, err := config.Load(config.Source{
		File: "examples/openldap.yaml", Data: examples.OpenLDAP,
		Environ: func() []string { return env },
	})
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	return cfg
}

// Logger keeps the daemon's warnings in logs, for tests that assert what an
// admin would read; SCIMBRIDGE_TEST_LOG=1 also prints every line.
func Logger(logs *testenv.LogBuffer) zerolog.Logger {
	if os.Getenv("SCIMBRIDGE_TEST_LOG") != "" {
		return zerolog.New(io.MultiWriter(logs, os.Stderr))
	}
	return zerolog.New(logs).Level(zerolog.WarnLevel)
}

// New runs the daemon on examples/openldap.yaml against testenv's shared
// slapd, in a new namespace, after mutate has adjusted the configuration
// (delete mode, disable method, ...).
func New(t testing.TB, mutate func(*config.Config)) *Harness {
	t.Helper()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	cfg := ExampleConfig(t, srv, ns, hash)
	if mutate != nil {
		mutate(cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatalf("mutated config: %v", err)
		}
	}
	logs := &testenv.LogBuffer{}
	app, err := daemon.NewApp(cfg, Logger(logs))
	if err != nil {
		t.Fatalf("NewApp: %v", err)
	}
	t.Cleanup(func() { _ = app.Pool().Close() })
	return &Harness{T: t, Srv: srv, NS: ns, LDAP: testenv.Conn(t, srv), App: app, Token: tok, Cfg: cfg, Logs: logs}
}

// FromConfig runs the daemon on cfg as it is (after Validate), accepting
// token: for tests that build their configuration themselves, e.g. on
// servers other than testenv's shared ones. Srv, NS and LDAP stay unset.
func FromConfig(t testing.TB, cfg *config.Config, token string) *Harness {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &testenv.LogBuffer{}
	app, err := daemon.NewApp(cfg, Logger(logs))
	if err != nil {
		t.Fatalf("NewApp: %v", err)
	}
	t.Cleanup(func() { _ = app.Pool().Close() })
	return &Harness{T: t, App: app, Token: token, Cfg: cfg, Logs: logs}
}

// adExample is examples/ad.yaml, found from this file because tests run in
// their own package's directory, at different depths.
func adExample(t testing.TB) []byte {
	t.Helper()
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("apptest: cannot locate examples/ad.yaml")
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "examples", "ad.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// NewAD runs the daemon on examples/ad.yaml against the shared Samba DC, in
// an OU of its own, with the connection settings taken from the environment
// exactly as a container would. Names must still be unique domain-wide
// (sAMAccountName, userPrincipalName).
func NewAD(t testing.TB, mutate func(*config.Config)) *Harness {
	t.Helper()
	ad := testenv.ActiveDirectory(t)
	ns := testenv.NewADNamespace(t, ad)
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"AD_URL=" + ad.URL, "AD_BIND_DN=" + ad.BindDN, "AD_BIND_PASSWORD=" + ad.BindPassword,
		"AD_USERS_DN=" + ns.People, "AD_GROUPS_DN=" + ns.Groups, "AD_CA_FILE=" + ad.CAFile,
		"SCIMBRIDGE_LISTEN=127.0.0.1:0", "SCIMBRIDGE_TOKEN_SHA256=" + hash,
	}
	cfg, err := config.Load(config.Source{File: "examples/ad.yaml", Data: adExample(t), Environ: func() []string { return env }})
	if err != nil {
		t.Fatalf("examples/ad.yaml: %v", err)
	}
	if mutate != nil {
		mutate(cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	logs := &testenv.LogBuffer{}
	app, err := daemon.NewApp(cfg, Logger(logs))
	if err != nil {
		t.Fatalf("NewApp: %v", err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
	return &Harness{
		T: t, Srv: &testenv.Server{URL: ad.URL, BindDN: ad.BindDN, BindPassword: ad.BindPassword, BaseDN: ad.BaseDN},
		NS: testenv.Namespace(ns), LDAP: testenv.ADConn(t, ad), App: app, Token: tok, Cfg: cfg, AD: ad, Logs: logs,
	}
}

// NewPrivate runs the daemon on a slapd of its own, for tests that stop,
// pause or restart the directory, which the shared one must never be.
func NewPrivate(t testing.TB, mutate func(*config.Config)) (*Harness, *testenv.Slapd) {
	t.Helper()
	slapd := testenv.PrivateSlapd(t)
	h := New(t, nil).Rebuild(t, func(c *config.Config) {
		c.LDAP.URL, c.LDAP.BindPassword = slapd.URL, slapd.BindPassword
		c.Users.BaseDN, c.Groups.BaseDN = "ou=people,"+slapd.BaseDN, "ou=groups,"+slapd.BaseDN
		if mutate != nil {
			mutate(c)
		}
	})
	h.LDAP = testenv.Conn(t, &slapd.Server)
	h.NS.People, h.NS.Groups = "ou=people,"+slapd.BaseDN, "ou=groups,"+slapd.BaseDN
	return h, slapd
}

// Rebuild starts a second daemon on h's directory and namespace with a copy
// of h's configuration changed by mutate (as after a config change); h keeps
// running.
func (h *Harness) Rebuild(t testing.TB, mutate func(*config.Config), opts ...daemon.Option) *Harness {
	t.Helper()
	cfg := *h.Cfg
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	app, err := daemon.NewApp(&cfg, Logger(h.Logs), opts...)
	if err != nil {
		t.Fatalf("NewApp: %v", err)
	}
	t.Cleanup(func() { _ = app.Pool().Close() })
	h2 := *h
	h2.App, h2.Cfg = app, &cfg
	return &h2
}

// Serve starts h's daemon on a free loopback port, stopped by t.Cleanup, and
// returns its Tenant URL.
func (h *Harness) Serve(t testing.TB) string {
	t.Helper()
	h.Cfg.Server.Listen = "127.0.0.1:0"
	h.Start(t)
	return "http://" + h.App.Addr() + h.Cfg.Server.BasePath
}

// Start starts h's daemon on the listeners its configuration names; t.Cleanup
// stops it.
func (h *Harness) Start(t testing.TB) {
	t.Helper()
	if err := h.App.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.App.Stop(ctx)
	})
}

// EntraScope is the recommended layout: Entra's entries carry
// businessCategory=entra, set by a constant on every new entry, and the scope
// filters keep SCIM to them.
func EntraScope(c *config.Config) {
	c.Users.ScopeFilter = "(businessCategory=entra)"
	c.Users.Derive = append(c.Users.Derive, config.DeriveConfig{LDAP: "businessCategory", Template: "entra"})
	c.Groups.ScopeFilter = "(businessCategory=entra)"
	c.Groups.Constants = append(c.Groups.Constants, config.ConstantConfig{LDAP: "businessCategory", Value: "entra"})
}
