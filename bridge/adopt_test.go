package bridge_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
)

// addLegacy adds a pre-existing user the way sites have them: keyed by the
// mailbox name, with only the attributes an old import wrote.
func addLegacy(t *testing.T, h *harness, uid, mail string) string {
	t.Helper()
	dn := "uid=" + uid + "," + h.NS.People
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "person", "inetOrgPerson"})
	req.Attribute("uid", []string{uid})
	req.Attribute("cn", []string{uid})
	req.Attribute("sn", []string{uid})
	req.Attribute("mail", []string{mail})
	if err := h.LDAP.Add(req); err != nil {
		t.Fatal(err)
	}
	return dn
}

// users.match adopts an existing entry (one match), creates a new one (no
// match) and refuses to guess (ambiguous) — with the local part of Entra's
// userName matched against uid, as at sites keyed by mailbox name.
func TestAdoption(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h = rebuildWith(t, h, func(c *config.Config) {
		c.Users.Match = []config.MatchConfig{{LDAP: "uid", Template: "{{ localpart .uid }}"}, {LDAP: "mail", Template: "{{ .mail }}"}}
	})
	legacy := addLegacy(t, h, "jdoe", "jdoe@old.example")
	r := h.must(http.StatusCreated, "POST", "/Users", `{"userName":"jdoe@example.org","name":{"givenName":"J","familyName":"Doe"},
		"emails":[{"type":"work","value":"jdoe@example.org"}]}`)
	e := h.entry(r.body["id"].(string))
	if e == nil {
		t.Fatal("adopted entry not found by its id")
	}
	if attr(e, "entryUUID")[0] != testenvEntryUUID(t, h, "uid=jdoe@example.org,"+h.NS.People) {
		t.Error("not the same entry")
	}
	if h.count("(objectClass=inetOrgPerson)") != 1 || h.count("(uid=jdoe)") != 0 {
		t.Errorf("adoption should rename the one legacy entry (uid from userName), not add another")
	}
	_ = legacy
	one(t, e, "mail", "jdoe@example.org")
	one(t, e, "sn", "Doe")

	// No match: a new entry.
	h.must(http.StatusCreated, "POST", "/Users", `{"userName":"fresh@example.org"}`)
	if h.count("(uid=fresh@example.org)") != 1 {
		t.Error("new user not created")
	}

	// Ambiguous: two entries carry the mail the second rule looks for.
	addLegacy(t, h, "amb1", "shared@example.org")
	addLegacy(t, h, "amb2", "shared@example.org")
	scimErr(t, h.do("POST", "/Users", `{"userName":"nobody-local@example.org","emails":[{"type":"work","value":"shared@example.org"}]}`),
		http.StatusConflict, "uniqueness")
	if h.count("(uid=nobody-local@example.org)") != 0 {
		t.Error("created a duplicate despite the ambiguous match")
	}
	m, err := h.App.Users().FindMatch(context.Background(), map[string]any{"userName": "amb1@example.org"})
	if err != nil || !m.Adoptable() || m.Rule != 0 {
		t.Errorf("FindMatch amb1: %+v %v", m, err)
	}
}

func testenvEntryUUID(t *testing.T, h *harness, dn string) string {
	t.Helper()
	res, err := h.LDAP.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"entryUUID"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("%s: %v", dn, err)
	}
	return res.Entries[0].GetAttributeValue("entryUUID")
}
