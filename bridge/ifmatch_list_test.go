package bridge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// If-Match with a list of entity-tags (RFC 9110 §13.1.1), in one field or
// several: the write goes ahead when any of them is the current version, and
// is 412 when none is. Before, a list never matched and of several fields
// only the first counted.
func TestIfMatchList(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.user("etag-list")
	v := h.must(http.StatusOK, "GET", "/Users/"+id, "").header.Get("ETag")
	p := h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"title","value":"one"}`),
		"If-Match", `W/"stale", `+v)
	v2 := p.header.Get("ETag")
	scimErr(t, h.do("PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"title","value":"two"}`),
		"If-Match", `W/"stale", `+v), http.StatusPreconditionFailed, "")
	one(t, h.entry(id), "title", "one")

	// Several If-Match fields, the current version in the second.
	send := func(method, path, body string, ifMatch ...string) *httptest.ResponseRecorder {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req := httptest.NewRequest(method, "http://bridge.test/scim/v2"+path, rd)
		req.Header.Set("Authorization", "Bearer "+h.Token)
		for _, m := range ifMatch {
			req.Header.Add("If-Match", m)
		}
		w := httptest.NewRecorder()
		h.App.Handler().ServeHTTP(w, req)
		return w
	}
	if w := send("PUT", "/Users/"+id, `{"userName":"etag-list","title":"three"}`, `W/"stale"`, `W/"older"`); w.Code != http.StatusPreconditionFailed {
		t.Errorf("PUT with two stale fields: %d %s", w.Code, w.Body)
	}
	if w := send("DELETE", "/Users/"+id, "", `W/"stale"`, v2); w.Code != http.StatusNoContent {
		t.Errorf("DELETE with the version in the second field: %d %s", w.Code, w.Body)
	}
	gid := h.group("etag-list-group")
	gv := h.must(http.StatusOK, "GET", "/Groups/"+gid, "").header.Get("ETag")
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, patchBody(`{"op":"replace","path":"displayName","value":"etag-list-2"}`),
		"If-Match", `W/"a", W/"b", `+gv)
	scimErr(t, h.do("DELETE", "/Groups/"+gid, "", "If-Match", `W/"a", `+gv), http.StatusPreconditionFailed, "")
}
