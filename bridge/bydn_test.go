package bridge_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/apptest"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/testenv"
)

// impostor adds, straight to LDAP, a managed user at dn that the bridge has
// never seen.
func impostor(t *testing.T, h *harness, dn string) {
	t.Helper()
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "inetOrgPerson"})
	add.Attribute("cn", []string{"Impostor"})
	add.Attribute("sn", []string{"Impostor"})
	if err := h.LDAP.Add(add); err != nil {
		t.Fatal(err)
	}
}

// untouched fails the test when the entry at dn was written to since it
// was added: the bridge wrote the wrong entry.
func untouched(t *testing.T, h *harness, dn string) {
	t.Helper()
	e := testEntry(h, dn)
	if e == nil {
		t.Fatalf("%s was deleted", dn)
	}
	if title := e.GetAttributeValue("title"); title != "" || e.GetAttributeValue("sn") != "Impostor" {
		t.Errorf("%s was written to: title %q, sn %q", dn, title, e.GetAttributeValue("sn"))
	}
}

var patchTitle = patchBody(`{"op":"Replace","path":"title","value":"Boss"}`)

// A write by cached DN (issue 13) carries the assertion that the entry
// there is still the one with that id. Renamed behind the bridge's back,
// with another user added at its old DN: the PATCH fails its assertion,
// looks the user up, and writes the renamed entry; the newcomer is not
// touched. The next PATCH goes to the new DN straight away.
func TestWriteByCachedDNFollowsARename(t *testing.T) {
	t.Parallel()
	h, log := countedBridge(t, newHarness(t, nil))
	id := h.user("alice")
	oldDN := h.entry(id).DN
	if err := h.LDAP.ModifyDN(ldap.NewModifyDNRequest(oldDN, "uid=alice2", true, "")); err != nil {
		t.Fatal(err)
	}
	impostor(t, h, oldDN)
	log.take()
	r := h.must(http.StatusOK, "PATCH", "/Users/"+id, patchTitle)
	if r.body["userName"] != "alice2" || r.body["title"] != "Boss" {
		t.Errorf("answer: %s", r.raw)
	}
	if got, want := log.take(), []string{
		"modify user +assert(&(&(objectClass=<v>)(entryUUID=<v>))(&(!(title=<v>))(cn=*)(sn=*))) +postread U",
		"search sub people U", "modify user +postread U",
	}; !slices.Equal(got, want) {
		t.Errorf("LDAP operations\n got  %q\n want %q", got, want)
	}
	one(t, h.entry(id), "title", "Boss")
	one(t, h.entry(id), "uid", "alice2")
	untouched(t, h, oldDN)

	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"title","value":"Chief"}`))
	if got := log.take(); len(got) != 1 {
		t.Errorf("second PATCH: %q, want the one modify by the new DN", got)
	}
	one(t, h.entry(id), "title", "Chief")
	untouched(t, h, oldDN)

	// A PATCH that changes nothing fails its assertion and writes nothing:
	// the version stays.
	before := h.must(http.StatusOK, "GET", "/Users/"+id, "").header.Get("ETag")
	if after := h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"title","value":"Chief"}`)).header.Get("ETag"); after != before {
		t.Errorf("a PATCH to the same value changed the version: %s → %s", before, after)
	}

	// DELETE by the cached DN deletes the user, not the newcomer.
	h.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
	if h.entry(id) != nil {
		t.Error("the user is still there")
	}
	untouched(t, h, oldDN)
}

// Deleted and replaced by another entry at the same DN: PATCH and DELETE by
// the old id answer 404 and leave the newcomer alone.
func TestWriteByCachedDNAfterDeleteAndRecreate(t *testing.T) {
	t.Parallel()
	h, _ := countedBridge(t, newHarness(t, nil))
	id := h.user("bob")
	dn := h.entry(id).DN
	if err := h.LDAP.Del(ldap.NewDelRequest(dn, nil)); err != nil {
		t.Fatal(err)
	}
	impostor(t, h, dn)
	scimErr(t, h.do("PATCH", "/Users/"+id, patchTitle), http.StatusNotFound, "")
	untouched(t, h, dn)

	id2 := h.user("carol")
	dn2 := h.entry(id2).DN
	if err := h.LDAP.Del(ldap.NewDelRequest(dn2, nil)); err != nil {
		t.Fatal(err)
	}
	impostor(t, h, dn2)
	scimErr(t, h.do("DELETE", "/Users/"+id2, ""), http.StatusNotFound, "")
	untouched(t, h, dn2)
}

// Taken out of the bridge's scope behind its back (users.scope_filter): the
// entry is no longer managed, and a write by its cached DN fails like a
// search by id would find nothing.
func TestWriteByCachedDNOutOfScope(t *testing.T) {
	t.Parallel()
	h, _ := countedBridge(t, newHarness(t, apptest.EntraScope))
	id := h.user("dave")
	dn := h.entry(id).DN
	m := ldap.NewModifyRequest(dn, nil)
	m.Replace("businessCategory", []string{"hr"})
	if err := h.LDAP.Modify(m); err != nil {
		t.Fatal(err)
	}
	scimErr(t, h.do("PATCH", "/Users/"+id, patchTitle), http.StatusNotFound, "")
	scimErr(t, h.do("DELETE", "/Users/"+id, ""), http.StatusNotFound, "")
	e := testEntry(h, dn)
	if e == nil || e.GetAttributeValue("title") != "" {
		t.Errorf("the entry out of scope was written to: %v", e)
	}
}

// opKinds keeps of each logged operation what it is and where, without the
// attribute list, and whether it carries a control.
func opKinds(ops []string) []string {
	out := make([]string, len(ops))
	for i, op := range ops {
		if a, b, ok := strings.Cut(op, " ["); ok {
			_, rest, _ := strings.Cut(b, "]")
			op = a + rest
		}
		out[i] = op
	}
	return out
}

// AD has neither the assertion nor the post-read control: the bridge does
// not send them (Samba would refuse a critical control it does not know) and
// keeps the read path: look the user up, write, read it back; the DELETE
// looks it up as well (and on AD may need the tree delete the read path
// has).
func TestADWritesKeepTheReadPath(t *testing.T) {
	t.Parallel()
	h, log := countedBridge(t, adHarness(t, nil))
	name := adUnique(t, "rp")
	id := h.must(http.StatusCreated, "POST", "/Users", `{"userName":"`+name+`@`+testenv.ADDomain+`","active":true}`).body["id"].(string)
	for _, c := range []struct {
		method, body string
		status       int
		want         []string
	}{
		{"PATCH", patchTitle, http.StatusOK, []string{"search sub people", "modify user", "search base user"}},
		{"PATCH", patchBody(`{"op":"Replace","path":"active","value":"False"}`), http.StatusOK, []string{"search sub people", "modify user", "search base user"}},
		// The user leaves its groups before the entry goes (Users.Delete).
		{"DELETE", "", http.StatusNoContent, []string{"search sub people", "paged sub groups", "delete user"}},
	} {
		log.take()
		h.must(c.status, c.method, "/Users/"+id, c.body)
		if got := opKinds(log.take()); !slices.Equal(got, c.want) {
			t.Errorf("%s %s: LDAP operations\n got  %q\n want %q", c.method, c.body, got, c.want)
		}
	}
}

// withoutPostRead is a directory that lists no post-read control.
type withoutPostRead struct{ *opLog }

func (d withoutPostRead) Supports(ctx context.Context, oid string) bool {
	return oid != "1.3.6.1.1.13.2" && d.opLog.Supports(ctx, oid)
}

// A directory with the assertion control but without post-read: the write
// by cached DN goes ahead, and the answer comes from a read of the entry.
func TestWriteByCachedDNWithoutPostRead(t *testing.T) {
	t.Parallel()
	first := newHarness(t, nil)
	log := &opLog{people: first.NS.People, groups: first.NS.Groups}
	h := rebuildWith(t, first, nil, daemon.WithDirectory(func(d bridge.Directory) bridge.Directory {
		log.Directory = d
		return withoutPostRead{log}
	}))
	id := h.user("erin")
	log.take()
	r := h.must(http.StatusOK, "PATCH", "/Users/"+id, patchTitle)
	if r.body["title"] != "Boss" || r.body["userName"] != "erin" {
		t.Errorf("answer: %s", r.raw)
	}
	if got, want := log.take(), []string{
		"modify user +assert(&(&(objectClass=<v>)(entryUUID=<v>))(&(!(title=<v>))(cn=*)(sn=*)))", "search base user U",
	}; !slices.Equal(got, want) {
		t.Errorf("LDAP operations\n got  %q\n want %q", got, want)
	}
}
