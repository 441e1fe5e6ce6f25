package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables that point the tests at an existing server (for example the
// docker-compose one) instead of a private slapd.
const (
	EnvURL          = "SCIMBRIDGE_TEST_LDAP_URL"
	EnvBindDN       = "SCIMBRIDGE_TEST_LDAP_BIND_DN"
	EnvBindPassword = "SCIMBRIDGE_TEST_LDAP_BIND_PASSWORD"
	EnvBaseDN       = "SCIMBRIDGE_TEST_LDAP_BASE_DN"
)

// shared is the one server of a test binary: a slapd per test would cost a start (~0.1 s plus
// slapadd) each, while namespaces already isolate the tests from each other.
var shared struct {
	once     sync.Once
	srv      Server
	slapd    *Slapd
	err      error
	external bool
}

// OpenLDAP returns the server shared by the tests of this test binary: the one named by
// SCIMBRIDGE_TEST_LDAP_URL, or else a private slapd started on first use. Tests must not stop
// or pause it; those that need to should call StartSlapd themselves. Isolate data with
// NewNamespace.
//
// Without a server the test is skipped on a developer's machine but fails under CI, because a
// CI run that silently skipped every directory test would prove nothing.
func OpenLDAP(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(startShared)
	if shared.err != nil {
		switch {
		case shared.external:
			// The developer asked for that server explicitly: skipping would hide the typo.
			t.Fatalf("testenv: %s=%s: %v", EnvURL, shared.srv.URL, shared.err)
		case CIRequiresServer():
			t.Fatalf("testenv: no LDAP server, and CI=%q requires one: %v", os.Getenv("CI"), shared.err)
		default:
			t.Skipf("testenv: no LDAP server (would fail under CI=true): %v", shared.err)
		}
	}
	srv := shared.srv // a copy: one test changing fields must not affect the others
	return &srv
}

// CIRequiresServer reports whether env CI asks for a hard failure instead of a skip. CI systems
// set CI=true; "false" and "0" let a developer opt out explicitly.
func CIRequiresServer() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv("CI"))) {
	case "", "false", "0":
		return false
	}
	return true
}

func startShared() {
	if url := os.Getenv(EnvURL); url != "" {
		shared.external = true
		shared.srv = Server{
			URL:          url,
			BindDN:       envOr(EnvBindDN, DefaultBindDN),
			BindPassword: envOr(EnvBindPassword, DefaultPassword),
			BaseDN:       envOr(EnvBaseDN, DefaultBaseDN),
		}
		// Fail early and once with a clear message rather than in every test's first operation.
		c, err := shared.srv.Dial()
		if err != nil {
			shared.err = fmt.Errorf("cannot dial and bind as %s: %w", shared.srv.BindDN, err)
			return
		}
		c.Close()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := StartSlapd(ctx, SlapdOptions{})
	if err != nil {
		shared.err = err
		return
	}
	shared.slapd, shared.srv = s, s.Server
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Main runs the package's tests and then stops the shared slapd, which would otherwise outlive
// the test binary on systems without Pdeathsig and always leave its temp dir behind. Use it as
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if shared.slapd != nil {
		if err := shared.slapd.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: stopping the shared slapd: %v\n", err)
		}
	}
	os.Exit(code)
}
