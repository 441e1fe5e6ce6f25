package bridge_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/daemon"
)

// server.dry_run: every request is answered as it would be, nothing is written.
func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	real := h.user("real")
	gid := h.group("real-group")
	before := h.entry(real).GetAttributeValue("entryCSN")
	d := rebuildWith(t, h, func(c *config.Config) { c.Server.DryRun = true })
	r := d.must(http.StatusCreated, "POST", "/Users", entraCreateUser)
	if r.body["id"] == nil || r.body["userName"] != "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee" {
		t.Errorf("dry-run create answered %s", r.raw)
	}
	p := d.must(http.StatusOK, "PATCH", "/Users/"+real, patchBody(`{"op":"replace","path":"title","value":"Dry"},{"op":"replace","path":"userName","value":"renamed"}`))
	if p.body["title"] != "Dry" || p.body["userName"] != "renamed" {
		t.Errorf("dry-run patch answered %s", p.raw)
	}
	d.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, patchBody(`{"op":"Add","path":"members","value":[{"value":"`+real+`"}]}`))
	d.must(http.StatusNoContent, "DELETE", "/Users/"+real, "")
	if n := h.count("(objectClass=inetOrgPerson)"); n != 1 {
		t.Errorf("%d users in LDAP, want only the real one", n)
	}
	e := h.entry(real)
	if e == nil || e.GetAttributeValue("entryCSN") != before || e.GetAttributeValue("uid") != "real" {
		t.Error("the real user was changed by a dry run")
	}
	wantMembers(t, h.groupEntry(gid), "member", nobody)
}

// preview: the LDIF of what a request would do, with passwords redacted.
func TestPreviewRecordsLDIF(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var mu sync.Mutex
	var out []string
	p := rebuildWith(t, h, nil, daemon.WithDryRunRecorder(func(op, ldif string) {
		mu.Lock()
		out = append(out, ldif)
		mu.Unlock()
	}))
	p.must(http.StatusCreated, "POST", "/Users", `{"userName":"preview","name":{"givenName":"Pre","familyName":"View"},"password":"s3cret"}`)
	got := strings.Join(out, "")
	for _, want := range []string{"dn: uid=preview," + h.NS.People, "changetype: add", "objectClass: inetOrgPerson", "sn: View", "cn: Pre View"} {
		if !strings.Contains(got, want) {
			t.Errorf("preview lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "s3cret") {
		t.Error("password in the preview")
	}
	if h.count("(uid=preview)") != 0 {
		t.Error("preview wrote")
	}
}
