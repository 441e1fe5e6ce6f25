package daemon_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/apptest"
	"github.com/scimbridge/scimbridge/testenv"
)

// validate --online says when a base DN holds entries SCIM can reach but the
// bridge did not create, and, with a scope filter, what it leaves out.
func TestCheckOnlineScope(t *testing.T) {
	t.Parallel()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	c := testenv.Conn(t, srv)
	// The hand-made user is created by the rootdn; the bridge binds as another
	// account (slapd records the creator as creatorsName).
	bridgeDN := "cn=scim-bridge," + ns.DN
	add := ldap.NewAddRequest(bridgeDN, nil)
	add.Attribute("objectClass", []string{"person", "simpleSecurityObject"})
	add.Attribute("cn", []string{"scim-bridge"})
	add.Attribute("sn", []string{"bridge"})
	add.Attribute("userPassword", []string{"bridge-pw"})
	u := ldap.NewAddRequest("uid=handmade,"+ns.People, nil)
	u.Attribute("objectClass", []string{"inetOrgPerson"})
	u.Attribute("uid", []string{"handmade"})
	u.Attribute("cn", []string{"Hand Made"})
	u.Attribute("sn", []string{"Made"})
	for _, req := range []*ldap.AddRequest{add, u} {
		if err := c.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	asBridge := func(mutate func(*config.Config)) func(*config.Config) {
		return func(c *config.Config) {
			c.LDAP.BindDN, c.LDAP.BindPassword = bridgeDN, "bridge-pw"
			if mutate != nil {
				mutate(c)
			}
		}
	}

	_, warns := checkOnline(t, onlineConfig(t, srv, ns, asBridge(nil)))
	if !slices.ContainsFunc(warns, func(w string) bool {
		return strings.HasPrefix(w, "users.base_dn: 1 entries under") && strings.Contains(w, "were not created by")
	}) {
		t.Errorf("no warning about the hand-made user: %q", warns)
	}
	_, warns = checkOnline(t, onlineConfig(t, srv, ns, asBridge(apptest.EntraScope)))
	if !slices.ContainsFunc(warns, func(w string) bool {
		return strings.HasPrefix(w, "users.scope_filter: 1 entries under") && strings.Contains(w, "SCIM cannot see or change them")
	}) || slices.ContainsFunc(warns, func(w string) bool { return strings.HasPrefix(w, "users.base_dn:") }) {
		t.Errorf("with a scope filter: %q", warns)
	}
}
