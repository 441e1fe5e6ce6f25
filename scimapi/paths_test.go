package scimapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/patch"
)

const routeToken = "scb_route_test"

// echoStore answers every call with a small resource and records what it was
// asked, so a test can see which id and filter reached the store.
type echoStore struct {
	mu     sync.Mutex
	calls  []string // "Get id", "List filter", ...
	bodies []scimapi.Resource
	ops    [][]patch.Operation
}

func (s *echoStore) record(call string, res scimapi.Resource, ops []patch.Operation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
	if res != nil {
		s.bodies = append(s.bodies, res)
	}
	if ops != nil {
		s.ops = append(s.ops, ops)
	}
}

func (s *echoStore) Create(_ context.Context, res scimapi.Resource) (scimapi.Resource, error) {
	s.record("Create", res, nil)
	return scimapi.Resource{"id": "New-ID", "userName": "x"}, nil
}

func (s *echoStore) Get(_ context.Context, id string, _ scimapi.Fields) (scimapi.Resource, error) {
	s.record("Get "+id, nil, nil)
	return scimapi.Resource{"id": id, "userName": "x"}, nil
}

func (s *echoStore) List(_ context.Context, f filter.Expr, _, _ int, _ scimapi.Fields) (int, []scimapi.Resource, error) {
	call := "List"
	if f != nil {
		call += " " + f.String()
	}
	s.record(call, nil, nil)
	return 0, nil, nil
}

func (s *echoStore) Replace(_ context.Context, id string, res scimapi.Resource, _ string) (scimapi.Resource, error) {
	s.record("Replace "+id, res, nil)
	return scimapi.Resource{"id": id, "userName": "x"}, nil
}

func (s *echoStore) Patch(_ context.Context, id string, ops []patch.Operation, _ string) (scimapi.Resource, error) {
	s.record("Patch "+id, nil, ops)
	return nil, nil
}

func (s *echoStore) Delete(_ context.Context, id, _ string) error {
	s.record("Delete "+id, nil, nil)
	return nil
}

func (s *echoStore) lastCall() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) == 0 {
		return ""
	}
	return s.calls[len(s.calls)-1]
}

// observed records what the metrics observer is told.
type observed struct {
	mu   sync.Mutex
	last [2]string // resource, operation
}

func (o *observed) Request(resource, op string, _ int, _ time.Duration, _ string) {
	o.mu.Lock()
	o.last = [2]string{resource, op}
	o.mu.Unlock()
}

func (o *observed) get() [2]string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

type routeServer struct {
	srv           *scimapi.Server
	users, groups *echoStore
	obs           *observed
}

func newRouteServer(t *testing.T, groups bool) *routeServer {
	t.Helper()
	rs := &routeServer{users: &echoStore{}, obs: &observed{}}
	var gs scimapi.ResourceStore
	if groups {
		rs.groups = &echoStore{}
		gs = rs.groups
	}
	rs.srv = scimapi.New(scimapi.Options{
		BasePath:       "/scim/v2",
		MaxBodyBytes:   1 << 10,
		Tokens:         []scimapi.Token{{Name: "test", SHA256: sha256.Sum256([]byte(routeToken))}},
		Log:            zerolog.Nop(),
		UserAttributes: []string{"userName", "name.givenName"},
		Observer:       rs.obs,
	}, rs.users, gs)
	return rs
}

type response struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

func (rs *routeServer) do(t *testing.T, method, target, body string, auth bool) response {
	t.Helper()
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, target, nil)
	} else {
		req = httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Content-Type", scimapi.ContentType)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+routeToken)
	}
	rec := httptest.NewRecorder()
	rs.srv.ServeHTTP(rec, req)
	r := response{code: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if rec.Body.Len() > 0 {
		dec := json.NewDecoder(rec.Body)
		dec.UseNumber()
		if err := dec.Decode(&r.body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %v: %s", method, target, err, r.raw)
		}
	}
	return r
}

// wantSCIMError checks an error answer is a SCIM error body (RFC 7644 §3.12).
func wantSCIMError(t *testing.T, r response, status, scimType string) {
	t.Helper()
	if at(r.body, "schemas.0") != scimapi.SchemaError || at(r.body, "status") != status {
		t.Errorf("not a SCIM %s error: %s", status, r.raw)
	}
	if got := at(r.body, "scimType"); got != scimType {
		t.Errorf("scimType %q, want %q: %s", got, scimType, r.raw)
	}
}

// TestResourcePathsCaseInsensitive: the resource segment after the base path
// is matched ignoring case and the alias /ServiceConfiguration serves the
// service provider configuration. Before, all but the exact spellings were 404.
// Metrics see the canonical name, and the id keeps its case.
func TestResourcePathsCaseInsensitive(t *testing.T) {
	rs := newRouteServer(t, true)
	for _, tc := range []struct {
		method, path, body string
		status             int
		call               string // last call on the users (or groups) store
		groups             bool
		resource, op       string // as the metrics observer sees them
	}{
		{method: "GET", path: "/users", status: 200, call: "List", resource: "Users", op: "list"},
		{method: "GET", path: "/USERS", status: 200, call: "List", resource: "Users", op: "list"},
		{
			method: "GET", path: "/uSeRs?filter=userName+eq+%22Bob%22", status: 200, call: `List userName eq "Bob"`,
			resource: "Users", op: "list",
		},
		{method: "GET", path: "/users/AbC-123", status: 200, call: "Get AbC-123", resource: "Users", op: "get"},
		{method: "GET", path: "/USERS/users", status: 200, call: "Get users", resource: "Users", op: "get"},
		{
			method: "POST", path: "/users", body: `{"userName":"bob"}`, status: 201, call: "Create",
			resource: "Users", op: "create",
		},
		{
			method: "PUT", path: "/Users/AbC", body: `{"userName":"bob"}`, status: 200, call: "Replace AbC",
			resource: "Users", op: "replace",
		},
		{
			method: "PATCH", path: "/users/AbC", body: `{"Operations":[{"op":"remove","path":"title"}]}`, status: 204,
			call: "Patch AbC", resource: "Users", op: "patch",
		},
		{method: "DELETE", path: "/USERS/AbC", status: 204, call: "Delete AbC", resource: "Users", op: "delete"},
		{method: "GET", path: "/groups", status: 200, call: "List", groups: true, resource: "Groups", op: "list"},
		{
			method: "DELETE", path: "/GROUPS/G-1", status: 204, call: "Delete G-1", groups: true,
			resource: "Groups", op: "delete",
		},
		// The flag after the base path, with the resource in the query
		// (fixBaseQuery), combined with a lower-case resource.
		{
			method: "GET", path: "?aadOptscim062020/users?filter=userName+eq+%22x%22", status: 200,
			call: `List userName eq "x"`, resource: "Users", op: "list",
		},
		{method: "GET", path: "/schemas", status: 200, resource: "Schemas", op: "list"},
		{
			method: "GET", path: "/SCHEMAS/urn:ietf:params:scim:schemas:core:2.0:User", status: 200,
			resource: "Schemas", op: "get",
		},
		{
			method: "GET", path: "/schemas/urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Acore%3A2.0%3AUser", status: 200,
			resource: "Schemas", op: "get",
		},
		{method: "GET", path: "/resourcetypes", status: 200, resource: "ResourceTypes", op: "list"},
		{method: "GET", path: "/resourceTypes/user", status: 200, resource: "ResourceTypes", op: "get"},
		{method: "GET", path: "/serviceproviderconfig", status: 200, resource: "ServiceProviderConfig", op: "list"},
		{method: "GET", path: "/serviceConfiguration", status: 200, resource: "ServiceProviderConfig", op: "list"},
		{method: "GET", path: "/SERVICECONFIGURATION", status: 200, resource: "ServiceProviderConfig", op: "list"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := rs.do(t, tc.method, "/scim/v2"+tc.path, tc.body, true)
			if r.code != tc.status {
				t.Fatalf("status %d, want %d: %s", r.code, tc.status, r.raw)
			}
			store := rs.users
			if tc.groups {
				store = rs.groups
			}
			if tc.call != "" {
				if got := store.lastCall(); got != tc.call {
					t.Errorf("store call %q, want %q", got, tc.call)
				}
			}
			if got := rs.obs.get(); got != [2]string{tc.resource, tc.op} {
				t.Errorf("observer saw %v, want [%s %s]", got, tc.resource, tc.op)
			}
			if tc.method == "POST" {
				if loc := r.header.Get("Location"); loc != "http://example.com/scim/v2/Users/New-ID" {
					t.Errorf("Location %q, want the canonical /Users path", loc)
				}
			}
		})
	}
	// The alias serves the same document as the RFC name.
	r := rs.do(t, "GET", "/scim/v2/serviceConfiguration", "", true)
	if at(r.body, "schemas.0") != scimapi.SchemaServiceProviderConfig ||
		at(r.body, "meta.location") != "http://example.com/scim/v2/ServiceProviderConfig" {
		t.Errorf("/serviceConfiguration: %s", r.raw)
	}
}

// TestResourcePathsNotFound: canonicalisation is limited to the resource
// segment; everything else still has to match exactly, and unknown endpoints
// stay 404 (a 405 there would claim the endpoint exists).
func TestResourcePathsNotFound(t *testing.T) {
	rs := newRouteServer(t, true)
	for _, tc := range []struct {
		method, target string
	}{
		{"GET", "/scim/v2/Devices"},
		{"DELETE", "/scim/v2/Devices"},
		{"GET", "/scim/v2/Userz"},
		{"GET", "/scim/v2/Uſers"},                   // U+017F folds to s in Unicode, not in ASCII
		{"GET", "/scim/v2/%55sers"},                 // an escaped letter is not a spelling of Users
		{"GET", "/SCIM/V2/Users"},                   // the base path is the configured one
		{"GET", "/scim/v2/ServiceProviderConfig/x"}, // no item below it
		{"GET", "/scim/v2/serviceConfiguration/x"},
		{"GET", "/Users"},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			r := rs.do(t, tc.method, tc.target, "", true)
			if r.code != http.StatusNotFound {
				t.Fatalf("status %d, want 404: %s", r.code, r.raw)
			}
			wantSCIMError(t, r, "404", "")
			if got := rs.users.lastCall(); got != "" {
				t.Errorf("store called: %s", got)
			}
		})
	}
}

// TestMethodNotAllowed: a method an endpoint does not serve is 405 with a SCIM
// error body and an Allow header, in any case of the resource name; before,
// the group's catch-all route answered 404.
func TestMethodNotAllowed(t *testing.T) {
	rs := newRouteServer(t, true)
	for _, tc := range []struct {
		method, path, allow string
	}{
		{"DELETE", "/Users", "GET, POST"},
		{"PUT", "/users", "GET, POST"},
		{"PATCH", "/Groups", "GET, POST"},
		{"POST", "/Users/abc", "DELETE, GET, PATCH, PUT"},
		{"POST", "/groups/abc", "DELETE, GET, PATCH, PUT"},
		{"HEAD", "/Users", "GET, POST"},
		{"OPTIONS", "/Users/abc", "DELETE, GET, PATCH, PUT"},
		{"POST", "/ServiceProviderConfig", "GET"},
		{"PUT", "/serviceConfiguration", "GET"},
		{"DELETE", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "GET"},
		{"POST", "/resourcetypes", "GET"},
		{"DELETE", "/ResourceTypes/User", "GET"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := rs.do(t, tc.method, "/scim/v2"+tc.path, "", true)
			if r.code != http.StatusMethodNotAllowed {
				t.Fatalf("status %d, want 405: %s", r.code, r.raw)
			}
			if got := r.header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
			if tc.method != "HEAD" { // a HEAD answer has no body
				wantSCIMError(t, r, "405", "")
				if d := at(r.body, "detail"); !strings.Contains(d, tc.method) || !strings.Contains(d, tc.allow) {
					t.Errorf("detail %q should name the method and the allowed ones", d)
				}
			}
		})
	}
	t.Run("needs the token first", func(t *testing.T) {
		r := rs.do(t, "DELETE", "/scim/v2/Users", "", false)
		if r.code != http.StatusUnauthorized || r.header.Get("Allow") != "" {
			t.Errorf("unauthenticated DELETE /Users: %d, Allow %q, want 401 without Allow", r.code, r.header.Get("Allow"))
		}
	})
}

// TestGroupsDisabledAnyCase: with groups off, /groups in any case and with
// any method is the 501 that tells the admin what to change, not a 404 or 405.
func TestGroupsDisabledAnyCase(t *testing.T) {
	rs := newRouteServer(t, false)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/Groups"}, {"GET", "/groups"}, {"POST", "/GROUPS"}, {"PATCH", "/groups/g1"}, {"DELETE", "/Groups/g1"},
	} {
		r := rs.do(t, tc.method, "/scim/v2"+tc.path, "", true)
		if r.code != http.StatusNotImplemented || !strings.Contains(at(r.body, "detail"), "groups.enabled") {
			t.Errorf("%s %s: %d %s, want 501", tc.method, tc.path, r.code, r.raw)
		}
	}
}

// TestCanonicalNameInLogs: the request log and the audit line name the
// resource as the routes spell it, whatever case the client used.
func TestCanonicalNameInLogs(t *testing.T) {
	var buf strings.Builder // the log line is written before ServeHTTP returns
	log := zerolog.New(&buf)
	srv := scimapi.New(scimapi.Options{
		BasePath:     "/scim/v2",
		MaxBodyBytes: 1 << 10,
		Tokens:       []scimapi.Token{{Name: "test", SHA256: sha256.Sum256([]byte(routeToken))}},
		Log:          log,
	}, &echoStore{}, nil)
	req := httptest.NewRequest("POST", "/scim/v2/users", strings.NewReader(`{"userName":"bob"}`))
	req.Header.Set("Authorization", "Bearer "+routeToken)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	out := buf.String()
	for _, want := range []string{`"audit":"scim_write"`, `"resource":"Users"`, `"id":"New-ID"`, `"path":"/scim/v2/Users"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}
