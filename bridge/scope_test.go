package bridge_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/internal/apptest"
	"github.com/scimbridge/scimbridge/testenv"
)

// handMade adds entries beside Entra's under the base DNs, as an admin would:
// a user and a privileged group.
func handMade(t *testing.T, h *harness) (userDN, groupDN string) {
	t.Helper()
	userDN, groupDN = "uid=handmade,"+h.NS.People, "cn=ldap-admins,"+h.NS.Groups
	u := ldap.NewAddRequest(userDN, nil)
	u.Attribute("objectClass", []string{"inetOrgPerson"})
	u.Attribute("uid", []string{"handmade"})
	u.Attribute("cn", []string{"Hand Made"})
	u.Attribute("sn", []string{"Made"})
	g := ldap.NewAddRequest(groupDN, nil)
	g.Attribute("objectClass", []string{"groupOfNames"})
	g.Attribute("member", []string{userDN})
	for _, req := range []*ldap.AddRequest{u, g} {
		if err := h.LDAP.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	return userDN, groupDN
}

func entryUUID(t *testing.T, h *harness, dn string) string {
	t.Helper()
	return testenv.Entry(t, h.LDAP, dn, "entryUUID").GetAttributeValue("entryUUID")
}

// With scope filters, SCIM neither sees nor changes hand-made entries under
// the base DNs: not by id, not by filter, not as a member, not as a group.
func TestScopeFilterKeepsHandMadeEntriesOut(t *testing.T) {
	t.Parallel()
	h := newHarness(t, apptest.EntraScope)
	userDN, groupDN := handMade(t, h)
	uid, gid := entryUUID(t, h, userDN), entryUUID(t, h, groupDN)
	csn := func(dn string) string {
		return testenv.Entry(t, h.LDAP, dn, "entryCSN").GetAttributeValue("entryCSN")
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
	wantMembers(t, h.groupEntry(team), "member", h.Cfg.Groups.EmptyMember)
}
