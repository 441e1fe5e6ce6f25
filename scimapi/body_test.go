package scimapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scimapi"
)

const entUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// TestWriteBodyDuplicateKeys: a POST, PUT or PATCH body with two keys that
// differ only in case at one level is a 400 invalidSyntax naming both,
// before anything reaches the store. Before, it was accepted and which key
// counted depended on Go's map order.
func TestWriteBodyDuplicateKeys(t *testing.T) {
	rs := newRouteServer(t, true)
	patchBody := func(ops string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
	}
	for _, tc := range []struct {
		name, method, path, body string
		keys                     []string // named in the detail
	}{
		{"POST top level", "POST", "/Users", `{"UserName":"a","userName":"b"}`, []string{`"UserName"`, `"userName"`}},
		{
			"POST in name", "POST", "/Users", `{"userName":"a","name":{"givenName":"x","GivenName":"y"}}`,
			[]string{`"givenName"`, `"GivenName"`, "in name"},
		},
		{
			"POST in enterprise extension", "POST", "/Users",
			`{"userName":"a","` + entUser + `":{"employeeNumber":"1","EmployeeNumber":"2"}}`,
			[]string{`"employeeNumber"`, `"EmployeeNumber"`, "in " + entUser},
		},
		{
			"POST in emails element", "POST", "/Users", `{"userName":"a","emails":[{"value":"a@b","VALUE":"c@d"}]}`,
			[]string{`"value"`, `"VALUE"`, "in emails[0]"},
		},
		{
			"PUT top level", "PUT", "/Users/u1", `{"userName":"a","active":true,"Active":false}`,
			[]string{`"active"`, `"Active"`},
		},
		{
			"POST group", "POST", "/Groups", `{"displayName":"a","DisplayName":"b"}`,
			[]string{`"displayName"`, `"DisplayName"`},
		},
		{
			"PATCH operation members", "PATCH", "/Users/u1", patchBody(`{"op":"add","Op":"remove","path":"title","value":"x"}`),
			[]string{`"op"`, `"Op"`, "in Operations[0]"},
		},
		{
			"PATCH path-less value", "PATCH", "/Users/u1",
			patchBody(`{"op":"replace","value":{"active":false,"Active":true}}`),
			[]string{`"active"`, `"Active"`, "in Operations[0].value"},
		},
		{
			"PATCH nested value", "PATCH", "/Users/u1",
			patchBody(`{"op":"replace","value":{"name":{"familyName":"a","FamilyName":"b"}}}`),
			[]string{`"familyName"`, `"FamilyName"`, "in Operations[0].value.name"},
		},
		{
			"PATCH enterprise value", "PATCH", "/Users/u1",
			patchBody(`{"op":"replace","value":{"` + entUser + `":{"department":"a","DEPARTMENT":"b"}}}`),
			[]string{`"department"`, `"DEPARTMENT"`},
		},
		{
			"PATCH top level", "PATCH", "/Groups/g1",
			`{"Operations":[{"op":"remove","path":"members"}],"operations":[{"op":"add","path":"x","value":"y"}]}`,
			[]string{`"Operations"`, `"operations"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := rs.users.lastCall() + rs.groups.lastCall()
			r := rs.do(t, tc.method, "/scim/v2"+tc.path, tc.body, true)
			if r.code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.code, r.raw)
			}
			wantSCIMError(t, r, "400", "invalidSyntax")
			for _, k := range tc.keys {
				if d := at(r.body, "detail"); !strings.Contains(d, k) {
					t.Errorf("detail %q does not name %s", d, k)
				}
			}
			if after := rs.users.lastCall() + rs.groups.lastCall(); after != before {
				t.Errorf("the store was called: %s", after)
			}
		})
	}
}

// TestWriteBodyStillDecoded: bodies without duplicates decode as before:
// equal keys in different objects are fine and numbers stay json.Number.
func TestWriteBodyStillDecoded(t *testing.T) {
	rs := newRouteServer(t, true)
	r := rs.do(t, "POST", "/scim/v2/Users",
		`{"userName":"a","displayName":"d","name":{"displayName":"n"},"x":12345678901234567890}`, true)
	if r.code != http.StatusCreated {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	got := rs.users.bodies[len(rs.users.bodies)-1]
	if n, ok := got["x"].(json.Number); !ok || n.String() != "12345678901234567890" {
		t.Errorf("x = %#v, want json.Number", got["x"])
	}
	r = rs.do(t, "PATCH", "/scim/v2/Users/u1",
		`{"Operations":[{"op":"replace","value":{"name":{"givenName":"g"},"givenName":"h","n":1.5}}]}`, true)
	if r.code != http.StatusNoContent {
		t.Fatalf("PATCH status %d: %s", r.code, r.raw)
	}
	ops := rs.users.ops[len(rs.users.ops)-1]
	if v := ops[0].Value.(map[string]any)["n"]; v != json.Number("1.5") {
		t.Errorf("PATCH n = %#v, want json.Number", v)
	}
	for _, body := range []string{`{"userName":"a"} x`, `{"userName":"a"`, `["userName"]`, ``} {
		r := rs.do(t, "POST", "/scim/v2/Users", body, true)
		if r.code != http.StatusBadRequest {
			t.Errorf("%q: status %d, want 400", body, r.code)
		}
		wantSCIMError(t, r, "400", "invalidSyntax")
	}
}

// TestWriteBodyTooLarge: a body over server.max_body_bytes without a
// Content-Length is cut by http.MaxBytesReader while it is decoded; that
// error must still be 413, not a 400 for broken JSON.
func TestWriteBodyTooLarge(t *testing.T) {
	rs := newRouteServer(t, true) // MaxBodyBytes: 1 KiB
	big := `{"userName":"a","title":"` + strings.Repeat("x", 2000) + `","Title":"y"}`
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/scim/v2/Users", big},
		{"PUT", "/scim/v2/Users/u1", big},
		{"PATCH", "/scim/v2/Users/u1", `{"Operations":[{"op":"replace","value":` + big + `}]}`},
	} {
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		req.ContentLength = -1 // chunked: only the reader can tell
		req.Header.Set("Authorization", "Bearer "+routeToken)
		rec := httptest.NewRecorder()
		rs.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), scimapi.SchemaError) {
			t.Errorf("%s %s: %d %s, want 413", tc.method, tc.path, rec.Code, rec.Body)
		}
	}
}

// TestFilterBareWordsHTTP: ?filter= takes a bare word as a string (the store
// gets the quoted form); an ambiguous one is 400 invalidFilter.
func TestFilterBareWordsHTTP(t *testing.T) {
	rs := newRouteServer(t, true)
	for _, tc := range []struct {
		filter string
		status int
		call   string
	}{
		{`userName sw O`, 200, `List userName sw "O"`},
		{`name.familyName eq Employee and active eq TRUE`, 200, `List name.familyName eq "Employee" and active eq true`},
		{`meta.created gt 2015-10-10T14:38:21.86-07:00`, 200, `List meta.created gt "2015-10-10T14:38:21.86-07:00"`},
		{`x eq 42`, 200, `List x eq 42`},
		{`userName eq a"b`, 400, ""},
		{`name.formatted eq Barbara Jensen`, 400, ""},
		{`userName eq and`, 400, ""},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			r := rs.do(t, "GET", "/scim/v2/Users?filter="+url.QueryEscape(tc.filter), "", true)
			if r.code != tc.status {
				t.Fatalf("status %d, want %d: %s", r.code, tc.status, r.raw)
			}
			if tc.status == 400 {
				wantSCIMError(t, r, "400", "invalidFilter")
				return
			}
			if got := rs.users.lastCall(); got != tc.call {
				t.Errorf("store call %q, want %q", got, tc.call)
			}
		})
	}
	// PATCH paths stay strict: a member id must be quoted.
	r := rs.do(t, "PATCH", "/scim/v2/Groups/g1",
		`{"Operations":[{"op":"remove","path":"members[value eq 2819c223-7f76-453a-919d-413861904646]"}]}`, true)
	if r.code != http.StatusBadRequest || rs.groups.lastCall() != "" {
		t.Fatalf("unquoted member id in a PATCH path: %d %s, want 400 and no store call", r.code, r.raw)
	}
	wantSCIMError(t, r, "400", "invalidPath")
}
