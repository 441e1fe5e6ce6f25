package bridge_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/testenv"
)

// entraScope is the recommended layout: Entra's entries carry
// businessCategory=entra, set by a constant on every new entry, and the scope
// filters keep SCIM to them.
func entraScope(c *config.Config) {
	c.Users.ScopeFilter = "(businessCategory=entra)"
	c.Users.Derive = append(c.Users.Derive, config.DeriveConfig{LDAP: "businessCategory", Template: "entra"})
	c.Groups.ScopeFilter = "(businessCategory=entra)"
	c.Groups.Constants = append(c.Groups.Constants, config.ConstantConfig{LDAP: "businessCategory", Value: "entra"})
}

// handMade adds entries beside Entra's under the base DNs, as an admin would:
// a user and a privileged group.
func handMade(t *testing.T, h *harness) (userDN, groupDN string) {
	t.Helper()
	userDN, groupDN = "uid=handmade,"+h.ns.People, "cn=ldap-admins,"+h.ns.Groups
	u := ldap.NewAddRequest(userDN, nil)
	u.Attribute("objectClass", []string{"inetOrgPerson"})
	u.Attribute("uid", []string{"handmade"})
	u.Attribute("cn", []string{"Hand Made"})
	u.Attribute("sn", []string{"Made"})
	g := ldap.NewAddRequest(groupDN, nil)
	g.Attribute("objectClass", []string{"groupOfNames"})
	g.Attribute("member", []string{userDN})
	for _, req := range []*ldap.AddRequest{u, g} {
		if err := h.ldap.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	return userDN, groupDN
}

func entryUUID(t *testing.T, h *harness, dn string) string {
	t.Helper()
	return testenv.Entry(t, h.ldap, dn, "entryUUID").GetAttributeValue("entryUUID")
}

// With scope filters, SCIM neither sees nor changes hand-made entries under
// the base DNs: not by id, not by filter, not as a member, not as a group.
func TestScopeFilterKeepsHandMadeEntriesOut(t *testing.T) {
	h := newHarness(t, entraScope)
	userDN, groupDN := handMade(t, h)
	uid, gid := entryUUID(t, h, userDN), entryUUID(t, h, groupDN)
	csn := func(dn string) string {
		return testenv.Entry(t, h.ldap, dn, "entryCSN").GetAttributeValue("entryCSN")
	}
	userCSN, groupCSN := csn(userDN), csn(groupDN)

	mine := h.user("entra-user")
	one(t, h.entry(mine), "businessCategory", "entra")
	team := h.group("team")

	scimErr(t, h.do("GET", "/Users/"+uid, ""), http.StatusNotFound, "")
	scimErr(t, h.do("PATCH", "/Users/"+uid, patchBody(`{"op":"replace","path":"title","value":"pwned"}`)), http.StatusNotFound, "")
	scimErr(t, h.do("DELETE", "/Users/"+uid, ""), http.StatusNotFound, "")
	q := h.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(`userName eq "handmade"`), "")
	if q.body["totalResults"] != jsonNumber(0) {
		t.Errorf("a hand-made user is listed: %s", q.raw)
	}
	all := h.must(http.StatusOK, "GET", "/Users", "")
	if all.body["totalResults"] != jsonNumber(1) {
		t.Errorf("list sees %v users, want only Entra's one", all.body["totalResults"])
	}
	// A hand-made user cannot be made a member; a hand-made group cannot be changed.
	scimErr(t, h.do("PATCH", "/Groups/"+team, patchBody(`{"op":"add","path":"members","value":[{"value":"`+uid+`"}]}`)),
		http.StatusBadRequest, "invalidValue")
	scimErr(t, h.do("PATCH", "/Groups/"+gid, patchBody(`{"op":"add","path":"members","value":[{"value":"`+mine+`"}]}`)),
		http.StatusNotFound, "")
	g := h.must(http.StatusOK, "GET", "/Groups?filter="+url.QueryEscape(`displayName eq "ldap-admins"`)+"&excludedAttributes=members", "")
	if g.body["totalResults"] != jsonNumber(0) {
		t.Errorf("a hand-made group is listed: %s", g.raw)
	}
	// A POST with the hand-made user's name does not take it over.
	scimErr(t, h.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"handmade",
		"name":{"givenName":"E","familyName":"Vil"}}`), http.StatusConflict, "uniqueness")

	if csn(userDN) != userCSN || csn(groupDN) != groupCSN {
		t.Error("a hand-made entry was written to")
	}
	wantMembers(t, h.groupEntry(team), "member", h.cfg.Groups.EmptyMember)
}

// validate --online says when a base DN holds entries SCIM can reach but the
// bridge did not create, and, with a scope filter, what it leaves out.
func TestCheckOnlineScope(t *testing.T) {
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
	_, warns = checkOnline(t, onlineConfig(t, srv, ns, asBridge(entraScope)))
	if !slices.ContainsFunc(warns, func(w string) bool {
		return strings.HasPrefix(w, "users.scope_filter: 1 entries under") && strings.Contains(w, "SCIM cannot see or change them")
	}) || slices.ContainsFunc(warns, func(w string) bool { return strings.HasPrefix(w, "users.base_dn:") }) {
		t.Errorf("with a scope filter: %q", warns)
	}
}
