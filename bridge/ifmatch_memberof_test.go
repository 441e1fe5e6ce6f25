package bridge_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// A group write with If-Match keeps the members' memberOf right. slapd's
// memberof overlay copies a write's controls onto its memberOf updates of the
// members, where the group's version assertion fails silently; so the bridge
// asserts the version on a first, member-free modify (claimVersion) and
// writes the members after it.
func TestIfMatchGroupWritesKeepMemberOf(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	uid := h.user("mo-member")
	gid := h.group("mo-group")
	memberOf := func() []string {
		var out []string
		for _, v := range attr(h.entry(uid), "memberOf") {
			out = append(out, strings.ToLower(v))
		}
		return out
	}
	etag := func() string { return h.must(http.StatusOK, "GET", "/Groups/"+gid, "").header.Get("ETag") }

	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid,
		patchBody(`{"op":"add","path":"members","value":[{"value":"`+uid+`"}]}`), "If-Match", etag())
	dn := strings.ToLower(h.groupEntry(gid).DN)
	if got := memberOf(); !slices.Contains(got, dn) {
		t.Fatalf("after a member add with If-Match, memberOf is %v, want it to hold %s", got, dn)
	}

	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid,
		patchBody(`{"op":"replace","path":"displayName","value":"mo-renamed"}`), "If-Match", etag())
	renamed := strings.ToLower(h.groupEntry(gid).DN)
	if got := memberOf(); !slices.Contains(got, renamed) || slices.Contains(got, dn) {
		t.Fatalf("after a rename with If-Match, memberOf is %v, want %s instead of %s", got, renamed, dn)
	}

	// A stale version still loses, and writes nothing.
	stale := etag()
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, patchBody(`{"op":"replace","path":"externalId","value":"x"}`))
	h.must(http.StatusPreconditionFailed, "DELETE", "/Groups/"+gid, "", "If-Match", stale)
	if h.groupEntry(gid) == nil {
		t.Fatal("a DELETE with a stale If-Match deleted the group")
	}

	h.must(http.StatusNoContent, "DELETE", "/Groups/"+gid, "", "If-Match", etag())
	if got := memberOf(); slices.Contains(got, renamed) {
		t.Fatalf("after a DELETE with If-Match, memberOf still holds the group: %v", got)
	}
}
