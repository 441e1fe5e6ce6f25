package scimapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAuthTwoAuthorizationHeaders: a request with two Authorization
// headers is a 400 invalidSyntax whatever they hold, and reaches no store.
// Before, the first header counted and the second was ignored, so what a
// request meant depended on which one a proxy or library kept.
func TestAuthTwoAuthorizationHeaders(t *testing.T) {
	rs := newRouteServer(t, true)
	for name, pair := range map[string][2]string{
		"valid then invalid": {"Bearer " + routeToken, "Bearer nope"},
		"invalid then valid": {"Bearer nope", "Bearer " + routeToken},
		"valid twice":        {"Bearer " + routeToken, "Bearer " + routeToken},
		"valid and Basic":    {"Bearer " + routeToken, "Basic dXNlcjpwYXNz"},
	} {
		t.Run(name, func(t *testing.T) {
			before := rs.users.lastCall()
			req := httptest.NewRequest("DELETE", "/scim/v2/Users/u-"+strings.ReplaceAll(name, " ", "-"), nil)
			req.Header.Add("Authorization", pair[0])
			req.Header.Add("Authorization", pair[1])
			r := serveRaw(t, rs.srv, req)
			if r.code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.code, r.raw)
			}
			wantSCIMError(t, r, "400", "invalidSyntax")
			if d := at(r.body, "detail"); !strings.Contains(d, "more than one Authorization header") {
				t.Errorf("detail %q", d)
			}
			if after := rs.users.lastCall(); after != before {
				t.Errorf("the store was called: %s", after)
			}
		})
	}
	// One header still works.
	if r := rs.do(t, "DELETE", "/scim/v2/Users/one", "", true); r.code != http.StatusNoContent {
		t.Errorf("one Authorization header: %d %s", r.code, r.raw)
	}
}
