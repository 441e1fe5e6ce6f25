package bridge_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/testenv"
)

// The bridge talks to slapd over LDAPS and over StartTLS, verifying the server
// against a test CA; without the CA it refuses the server.
func TestLDAPOverTLS(t *testing.T) {
	t.Parallel()
	slapd, err := testenv.StartSlapd(context.Background(), testenv.SlapdOptions{TLS: true})
	if err != nil {
		if testenv.CIRequiresServer() {
			t.Fatal(err)
		}
		t.Skipf("no slapd (would fail under CI=true): %v", err)
	}
	t.Cleanup(func() { _ = slapd.Stop() })
	h := newHarness(t, nil)
	modes := []struct {
		name     string
		mutate   func(c *config.LDAPConfig)
		wantCode int
	}{
		{"ldaps", func(c *config.LDAPConfig) { c.URL, c.TLS.CAFile = slapd.LDAPSURL, slapd.CAFile }, http.StatusCreated},
		{"starttls", func(c *config.LDAPConfig) { c.URL, c.StartTLS, c.TLS.CAFile = slapd.URL, true, slapd.CAFile }, http.StatusCreated},
		{"ldaps without the CA", func(c *config.LDAPConfig) { c.URL = slapd.LDAPSURL }, http.StatusServiceUnavailable},
		{"starttls without the CA", func(c *config.LDAPConfig) { c.URL, c.StartTLS = slapd.URL, true }, http.StatusServiceUnavailable},
		{"ldaps insecure_skip_verify", func(c *config.LDAPConfig) {
			c.URL, c.TLS.InsecureSkipVerify = slapd.LDAPSURL, true
		}, http.StatusCreated},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			hm := rebuildWith(t, h, func(c *config.Config) {
				c.LDAP.URL, c.LDAP.BindPassword, c.LDAP.StartTLS, c.LDAP.TLS = "", slapd.BindPassword, false, config.TLSConfig{}
				m.mutate(&c.LDAP)
				c.Users.BaseDN, c.Groups.BaseDN = "ou=people,"+slapd.BaseDN, "ou=groups,"+slapd.BaseDN
			})
			r := hm.do("POST", "/Users", `{"userName":"tls-`+itoa(len(m.name))+`"}`)
			if r.status != m.wantCode {
				t.Fatalf("%d, want %d: %s", r.status, m.wantCode, r.raw)
			}
			if m.wantCode == http.StatusCreated && !hm.App.Pool().Encrypted() {
				t.Error("pool does not report an encrypted connection")
			}
		})
	}
}
