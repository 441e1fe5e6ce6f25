package bridge_test

import (
	"net/http"
	"testing"
)

// meta.version is a weak ETag from entryCSN; If-Match on PUT/PATCH/DELETE with
// a stale version is 412 and writes nothing (RFC 7644 §3.14).
func TestIfMatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.user("etag")
	v1 := h.must(http.StatusOK, "GET", "/Users/"+id, "").header.Get("ETag")
	if len(v1) < 4 || v1[:3] != `W/"` {
		t.Fatalf("ETag %q is not weak", v1)
	}
	p := h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"title","value":"one"}`), "If-Match", v1)
	v2 := p.header.Get("ETag")
	if v2 == v1 || v2 != path(p.body, "meta", "version") {
		t.Fatalf("version did not change: %q → %q", v1, v2)
	}
	for _, req := range []struct{ method, body string }{
		{"PATCH", patchBody(`{"op":"replace","path":"title","value":"two"}`)},
		{"PUT", `{"userName":"etag","title":"two"}`},
		{"DELETE", ""},
	} {
		scimErr(t, h.do(req.method, "/Users/"+id, req.body, "If-Match", v1), http.StatusPreconditionFailed, "")
	}
	one(t, h.entry(id), "title", "one")
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"title","value":"three"}`), "If-Match", "*")
	h.must(http.StatusNoContent, "DELETE", "/Users/"+id, "", "If-Match", h.must(http.StatusOK, "GET", "/Users/"+id, "").header.Get("ETag"))

	gid := h.group("etag-group")
	gv := h.must(http.StatusOK, "GET", "/Groups/"+gid, "").header.Get("ETag")
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, patchBody(`{"op":"replace","path":"displayName","value":"etag-2"}`), "If-Match", gv)
	scimErr(t, h.do("PATCH", "/Groups/"+gid, patchBody(`{"op":"replace","path":"displayName","value":"etag-3"}`), "If-Match", gv),
		http.StatusPreconditionFailed, "")
	one(t, h.groupEntry(gid), "cn", "etag-2")
}

// Requests with application/json work like application/scim+json, and every
// response is application/scim+json (checked by the harness on every call).
func TestContentTypes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, ct := range []string{"application/json", "application/scim+json", "application/scim+json; charset=utf-8", ""} {
		r := h.do("POST", "/Users", `{"userName":"ct-`+itoa(len(ct))+`"}`, "Content-Type", ct)
		if r.status != http.StatusCreated {
			t.Errorf("Content-Type %q: %d %s", ct, r.status, r.raw)
		}
	}
	r := h.do("GET", "/Users?filter=userName+eq+%22nobody%22", "", "Accept", "text/html")
	if r.status != http.StatusOK {
		t.Errorf("Accept text/html (Test connection sends no scim Accept): %d", r.status)
	}
}
