package bridge_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/testenv"
)

// Other tools put entries below users and groups (a phone's device entry, an
// Exchange mailbox's ActiveSync container), and a plain LDAP delete of an
// entry with children fails with notAllowedOnNonLeaf (66). A SCIM DELETE of
// such a user or group used to answer 500.

// addChild puts an entry of the given class below parent, as another tool
// would, and returns its DN.
func addChild(t *testing.T, h *harness, parent, class string) string {
	t.Helper()
	dn := "cn=below," + parent
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{class})
	req.Attribute("cn", []string{"below"})
	if err := h.LDAP.Add(req); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
	return dn
}

// OpenLDAP has no tree delete, and what another tool put below the entry is
// not the bridge's to delete: 409 that says why, and nothing is deleted.
func TestDeleteEntryWithChildrenIs409(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	uid := h.user("has-device")
	gid := h.group("has-child")
	for _, c := range []struct {
		path  string
		entry func() *ldap.Entry
	}{
		{"/Users/" + uid, func() *ldap.Entry { return h.entry(uid) }},
		{"/Groups/" + gid, func() *ldap.Entry { return h.groupEntry(gid) }},
	} {
		child := addChild(t, h, c.entry().DN, "device")
		r := h.do("DELETE", c.path, "")
		scimErr(t, r, http.StatusConflict, "")
		if d, _ := r.body["detail"].(string); !strings.Contains(d, "entries below it") || strings.Contains(d, "ou=") {
			t.Errorf("DELETE %s: detail %q does not say why, or names a DN", c.path, d)
		}
		if c.entry() == nil || testEntry(h, child) == nil {
			t.Fatalf("DELETE %s: something was deleted", c.path)
		}
		h.must(http.StatusOK, "GET", c.path, "")
		// With the child gone, the same DELETE works.
		if err := h.LDAP.Del(ldap.NewDelRequest(child, nil)); err != nil {
			t.Fatal(err)
		}
		h.must(http.StatusNoContent, "DELETE", c.path, "")
		if c.entry() != nil {
			t.Errorf("DELETE %s: still there", c.path)
		}
	}
}

// AD deletes the entry with everything below it (the tree-delete control),
// as an admin deleting the user in ADUC would.
func TestADDeleteEntryWithChildrenTreeDelete(t *testing.T) {
	t.Parallel()
	h := adHarness(t, nil)
	uid := h.must(http.StatusCreated, "POST", "/Users", `{"userName":"`+adUnique(t, "tree")+`@`+testenv.ADDomain+`"}`).body["id"].(string)
	gid := h.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"`+adUnique(t, "tree")+`"}`).body["id"].(string)
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, patchBody(`{"op":"add","path":"members","value":[{"value":"`+uid+`"}]}`))
	for _, c := range []struct {
		path  string
		entry func() *ldap.Entry
	}{
		{"/Users/" + uid, func() *ldap.Entry { return h.entry(uid) }},
		{"/Groups/" + gid, func() *ldap.Entry { return h.groupEntry(gid) }},
	} {
		// classStore is one of the classes AD's schema allows below both a
		// user and a group (possSuperiors); organizationalUnit and contact
		// are not.
		child := addChild(t, h, c.entry().DN, "classStore")
		h.must(http.StatusNoContent, "DELETE", c.path, "")
		if c.entry() != nil {
			t.Errorf("DELETE %s: still there", c.path)
		}
		if testEntry(h, child) != nil {
			t.Errorf("DELETE %s: the child %s is still there", c.path, child)
		}
		h.must(http.StatusNotFound, "GET", c.path, "")
	}
}
