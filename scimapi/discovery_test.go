package scimapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/patch"
)

const (
	discoToken = "scb_discovery_test"
	coreUser   = "urn:ietf:params:scim:schemas:core:2.0:User"
	coreGroup  = "urn:ietf:params:scim:schemas:core:2.0:Group"
	acmeUser   = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
)

// failStore fails every call and counts it: the discovery endpoints must
// never reach a store (and so never LDAP).
type failStore struct{ calls *atomic.Int32 }

var errStore = errors.New("discovery must not call the store")

func (f failStore) Create(context.Context, scimapi.Resource) (scimapi.Resource, error) {
	f.calls.Add(1)
	return nil, errStore
}

func (f failStore) Get(context.Context, string, scimapi.Fields) (scimapi.Resource, error) {
	f.calls.Add(1)
	return nil, errStore
}

func (f failStore) List(context.Context, filter.Expr, int, int, scimapi.Fields) (int, []scimapi.Resource, error) {
	f.calls.Add(1)
	return 0, nil, errStore
}

func (f failStore) Replace(context.Context, string, scimapi.Resource, string) (scimapi.Resource, error) {
	f.calls.Add(1)
	return nil, errStore
}

func (f failStore) Patch(context.Context, string, []patch.Operation, string) (scimapi.Resource, error) {
	f.calls.Add(1)
	return nil, errStore
}

func (f failStore) Delete(context.Context, string, string) error {
	f.calls.Add(1)
	return errStore
}

var _ scimapi.ResourceStore = failStore{}

// discoSetup is one mapping the discovery endpoints are generated from.
type discoSetup struct {
	users, groups []string
	groupsEnabled bool
}

var (
	// full maps core, enterprise and custom attributes, with groups on.
	full = discoSetup{
		users: []string{
			"userName", "externalId", "displayName", "name.givenName", "name.familyName",
			`emails[type eq "work"].value`,
			scimapi.SchemaEnterpriseUser + ":employeeNumber",
			scimapi.SchemaEnterpriseUser + ":manager",
			acmeUser + ":badge",
		},
		groups:        []string{"displayName", "externalId"},
		groupsEnabled: true,
	}
	// minimal maps core attributes only, with groups off.
	minimal = discoSetup{users: []string{"userName", "displayName"}}
)

func newDiscoServer(t *testing.T, s discoSetup) (*scimapi.Server, *atomic.Int32) {
	t.Helper()
	calls := &atomic.Int32{}
	var groups scimapi.ResourceStore
	if s.groupsEnabled {
		groups = failStore{calls}
	}
	srv := scimapi.New(scimapi.Options{
		BasePath:        "/scim/v2",
		MaxBodyBytes:    1 << 20,
		Tokens:          []scimapi.Token{{Name: "test", SHA256: sha256.Sum256([]byte(discoToken))}},
		MaxCount:        250,
		Log:             zerolog.Nop(),
		UserAttributes:  s.users,
		GroupAttributes: s.groups,
	}, failStore{calls}, groups)
	return srv, calls
}

func TestDiscoveryEndpoints(t *testing.T) {
	servers := map[*discoSetup]*scimapi.Server{}
	counters := map[*discoSetup]*atomic.Int32{}
	for _, s := range []*discoSetup{&full, &minimal} {
		servers[s], counters[s] = newDiscoServer(t, *s)
	}
	tests := []struct {
		name   string
		setup  *discoSetup
		path   string
		noAuth bool
		status int
		check  func(t *testing.T, body map[string]any)
	}{
		{
			name: "ServiceProviderConfig", setup: &full, path: "/ServiceProviderConfig", status: 200,
			check: func(t *testing.T, b map[string]any) {
				want := map[string]string{
					"schemas.0":                           scimapi.SchemaServiceProviderConfig,
					"patch.supported":                     "true",
					"bulk.supported":                      "false",
					"bulk.maxOperations":                  "0",
					"bulk.maxPayloadSize":                 "0",
					"filter.supported":                    "true",
					"filter.maxResults":                   "250",
					"changePassword.supported":            "false",
					"sort.supported":                      "false",
					"etag.supported":                      "true",
					"authenticationSchemes.0.type":        "oauthbearertoken",
					"authenticationSchemes.0.name":        "OAuth Bearer Token",
					"authenticationSchemes.0.specUri":     "https://www.rfc-editor.org/info/rfc6750",
					"authenticationSchemes.0.primary":     "true",
					"authenticationSchemes.0.description": "Authentication scheme using the OAuth Bearer Token Standard",
					"meta.resourceType":                   "ServiceProviderConfig",
					"meta.location":                       "http://example.com/scim/v2/ServiceProviderConfig",
				}
				for path, v := range want {
					if got := at(b, path); got != v {
						t.Errorf("%s = %q, want %q", path, got, v)
					}
				}
			},
		},
		{
			name: "ServiceProviderConfig with filter", setup: &full, path: `/ServiceProviderConfig?filter=id+pr`,
			status: 403,
		},
		{
			name: "ResourceTypes with groups and enterprise", setup: &full, path: "/ResourceTypes", status: 200,
			check: func(t *testing.T, b map[string]any) {
				wantList(t, b, 2)
				if got := ids(b["Resources"]); !slices.Equal(got, []string{"User", "Group"}) {
					t.Errorf("resource types %v, want [User Group]", got)
				}
				if got := at(b, "Resources.0.schemaExtensions.0.schema"); got != scimapi.SchemaEnterpriseUser {
					t.Errorf("User extension 0 = %q, want the enterprise extension", got)
				}
				if got := at(b, "Resources.0.schemaExtensions.0.required"); got != "false" {
					t.Errorf("enterprise required = %q, want false", got)
				}
				if got := at(b, "Resources.0.schemaExtensions.1.schema"); got != acmeUser {
					t.Errorf("User extension 1 = %q, want %s", got, acmeUser)
				}
			},
		},
		{
			name: "ResourceTypes without groups or enterprise", setup: &minimal, path: "/ResourceTypes", status: 200,
			check: func(t *testing.T, b map[string]any) {
				wantList(t, b, 1)
				if _, ok := at2(b, "Resources.0.schemaExtensions"); ok {
					t.Errorf("schemaExtensions present with no extension mapped: %v", b)
				}
			},
		},
		{
			name: "ResourceTypes/User", setup: &full, path: "/ResourceTypes/User", status: 200,
			check: func(t *testing.T, b map[string]any) {
				for path, v := range map[string]string{
					"schemas.0": scimapi.SchemaResourceType, "id": "User", "name": "User", "endpoint": "/Users",
					"schema": coreUser, "meta.resourceType": "ResourceType",
					"meta.location": "http://example.com/scim/v2/ResourceTypes/User",
				} {
					if got := at(b, path); got != v {
						t.Errorf("%s = %q, want %q", path, got, v)
					}
				}
			},
		},
		{
			name: "ResourceTypes/Group", setup: &full, path: "/ResourceTypes/Group", status: 200,
			check: func(t *testing.T, b map[string]any) {
				if at(b, "endpoint") != "/Groups" || at(b, "schema") != coreGroup {
					t.Errorf("Group resource type: %v", b)
				}
			},
		},
		{name: "ResourceTypes/Group with groups disabled", setup: &minimal, path: "/ResourceTypes/Group", status: 404},
		{name: "ResourceTypes unknown", setup: &full, path: "/ResourceTypes/Device", status: 404},
		{
			name: "Schemas", setup: &full, path: "/Schemas", status: 200,
			check: func(t *testing.T, b map[string]any) {
				wantList(t, b, 4)
				want := []string{coreUser, scimapi.SchemaEnterpriseUser, coreGroup, acmeUser}
				if got := ids(b["Resources"]); !slices.Equal(got, want) {
					t.Errorf("schemas %v, want %v", got, want)
				}
			},
		},
		{
			name: "Schemas without groups or enterprise", setup: &minimal, path: "/Schemas", status: 200,
			check: func(t *testing.T, b map[string]any) {
				wantList(t, b, 1)
				if got := ids(b["Resources"]); !slices.Equal(got, []string{coreUser}) {
					t.Errorf("schemas %v, want only the core User", got)
				}
			},
		},
		{
			name: "Schemas/core User", setup: &full, path: "/Schemas/" + coreUser, status: 200,
			check: func(t *testing.T, b map[string]any) {
				if at(b, "schemas.0") != scimapi.SchemaSchema || at(b, "meta.resourceType") != "Schema" ||
					at(b, "meta.location") != "http://example.com/scim/v2/Schemas/"+coreUser {
					t.Errorf("schema envelope: %v", b)
				}
				wantAttrs(t, b, []string{"userName", "name", "displayName", "active", "emails", "groups"})
				user := attr(b, "userName")
				if user["required"] != true || user["uniqueness"] != "server" || user["caseExact"] != false {
					t.Errorf("userName characteristics: %v", user)
				}
				wantSubs(t, attr(b, "emails"), []string{"value", "type"})
				wantSubs(t, attr(b, "name"), []string{"familyName", "givenName"})
				wantSubs(t, attr(b, "groups"), []string{"value", "$ref", "display", "type"})
				if g := attr(b, "groups"); g["mutability"] != "readOnly" || g["multiValued"] != true {
					t.Errorf("groups characteristics: %v", g)
				}
				if attr(b, "emails")["multiValued"] != true || attr(b, "name")["multiValued"] != false {
					t.Error("emails must be multi-valued, name single-valued")
				}
			},
		},
		{
			name: "Schemas/core User without groups", setup: &minimal, path: "/Schemas/" + coreUser, status: 200,
			check: func(t *testing.T, b map[string]any) {
				wantAttrs(t, b, []string{"userName", "displayName", "active"})
			},
		},
		{
			name: "Schemas/enterprise User", setup: &full, path: "/Schemas/" + scimapi.SchemaEnterpriseUser, status: 200,
			check: func(t *testing.T, b map[string]any) {
				wantAttrs(t, b, []string{"employeeNumber", "manager"})
				m := attr(b, "manager")
				wantSubs(t, m, []string{"value", "$ref"})
				if at(m, "subAttributes.1.referenceTypes.0") != "User" {
					t.Errorf("manager.$ref must reference User: %v", m)
				}
			},
		},
		{
			name: "Schemas/enterprise User colons encoded", setup: &full,
			path: "/Schemas/" + strings.ReplaceAll(scimapi.SchemaEnterpriseUser, ":", "%3A"), status: 200,
		},
		{
			name: "Schemas/enterprise User not mapped", setup: &minimal,
			path: "/Schemas/" + scimapi.SchemaEnterpriseUser, status: 404,
		},
		{
			name: "Schemas/core Group", setup: &full, path: "/Schemas/" + coreGroup, status: 200,
			check: func(t *testing.T, b map[string]any) {
				wantAttrs(t, b, []string{"displayName", "members"})
				wantSubs(t, attr(b, "members"), []string{"value", "$ref", "display", "type"})
				if attr(b, "members")["multiValued"] != true {
					t.Error("members must be multi-valued")
				}
			},
		},
		{name: "Schemas/core Group with groups disabled", setup: &minimal, path: "/Schemas/" + coreGroup, status: 404},
		{
			name: "Schemas/custom extension", setup: &full, path: "/Schemas/" + acmeUser, status: 200,
			check: func(t *testing.T, b map[string]any) {
				wantAttrs(t, b, []string{"badge"})
				if a := attr(b, "badge"); a["type"] != "string" || a["multiValued"] != false {
					t.Errorf("badge: %v", a)
				}
			},
		},
		{
			name: "Schemas unknown", setup: &full, path: "/Schemas/urn:example:nope", status: 404,
			check: func(t *testing.T, b map[string]any) {
				if at(b, "schemas.0") != scimapi.SchemaError || at(b, "status") != "404" {
					t.Errorf("not a SCIM error: %v", b)
				}
			},
		},
	}
	// Every endpoint is behind the bearer token.
	for _, p := range []string{
		"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/User", "/Schemas",
		"/Schemas/" + coreUser,
	} {
		tests = append(tests, struct {
			name   string
			setup  *discoSetup
			path   string
			noAuth bool
			status int
			check  func(t *testing.T, body map[string]any)
		}{name: "unauthenticated " + p, setup: &full, path: p, noAuth: true, status: 401})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // the servers are shared: -race checks the discovery data is read-only
			req := httptest.NewRequest(http.MethodGet, "/scim/v2"+tt.path, nil)
			if !tt.noAuth {
				req.Header.Set("Authorization", "Bearer "+discoToken)
			}
			rec := httptest.NewRecorder()
			servers[tt.setup].ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != scimapi.ContentType {
				t.Errorf("Content-Type %q, want %q", ct, scimapi.ContentType)
			}
			var body any
			dec := json.NewDecoder(rec.Body)
			dec.UseNumber()
			if err := dec.Decode(&body); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if p := findNull(body, "$"); p != "" {
				t.Errorf("null value at %s", p)
			}
			if tt.check != nil {
				tt.check(t, body.(map[string]any))
			}
		})
	}
	t.Cleanup(func() {
		for s, c := range counters {
			if n := c.Load(); n != 0 {
				t.Errorf("setup %v: the store was called %d times", s.users, n)
			}
		}
	})
}

// TestDiscoverySchemaCharacteristics checks every attribute definition served
// against RFC 7643 §7: all characteristics present, camelCase keywords from the
// allowed sets, sub-attributes exactly on complex attributes.
func TestDiscoverySchemaCharacteristics(t *testing.T) {
	srv, _ := newDiscoServer(t, full)
	req := httptest.NewRequest(http.MethodGet, "/scim/v2/Schemas", nil)
	req.Header.Set("Authorization", "Bearer "+discoToken)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	allowed := map[string][]string{
		"type":       {"string", "boolean", "decimal", "integer", "dateTime", "reference", "complex", "binary"},
		"mutability": {"readOnly", "readWrite", "immutable", "writeOnly"},
		"returned":   {"always", "never", "default", "request"},
		"uniqueness": {"none", "server", "global"},
	}
	var check func(where string, list []any, depth int)
	check = func(where string, list []any, depth int) {
		seen := map[string]bool{}
		for _, el := range list {
			a := el.(map[string]any)
			name, _ := a["name"].(string)
			w := where + "." + name
			if name == "" || seen[strings.ToLower(name)] {
				t.Errorf("%s: empty or duplicate name", w)
			}
			seen[strings.ToLower(name)] = true
			for key, vals := range allowed {
				if v, _ := a[key].(string); !slices.Contains(vals, v) {
					t.Errorf("%s: %s = %v, want one of %v", w, key, a[key], vals)
				}
			}
			for _, key := range []string{"multiValued", "required", "caseExact"} {
				if _, ok := a[key].(bool); !ok {
					t.Errorf("%s: %s missing or not a boolean", w, key)
				}
			}
			subs, hasSubs := a["subAttributes"].([]any)
			switch {
			case a["type"] == "complex" && (!hasSubs || len(subs) == 0):
				t.Errorf("%s: complex without subAttributes", w)
			case a["type"] != "complex" && hasSubs:
				t.Errorf("%s: subAttributes on a %v attribute", w, a["type"])
			case hasSubs && depth > 0:
				t.Errorf("%s: complex sub-attribute (RFC 7643 §2.3.8 forbids nesting)", w)
			case hasSubs:
				check(w, subs, depth+1)
			}
			if _, ok := a["referenceTypes"]; ok != (a["type"] == "reference") {
				t.Errorf("%s: referenceTypes must be given exactly on references", w)
			}
		}
	}
	for _, r := range body["Resources"].([]any) {
		s := r.(map[string]any)
		attrs, _ := s["attributes"].([]any)
		if len(attrs) == 0 {
			t.Errorf("%v: no attributes", s["id"])
		}
		for _, a := range attrs {
			if n := a.(map[string]any)["name"]; n == "id" || n == "externalId" || n == "meta" {
				t.Errorf("%v lists the common attribute %v (RFC 7643 §8.7.1 does not)", s["id"], n)
			}
		}
		check(fmt.Sprint(s["id"]), attrs, 0)
	}
}

// TestDiscoveryUnmappedAttribute checks that the generated schema follows the
// mapping: the same attribute appears when mapped and not otherwise.
func TestDiscoveryUnmappedAttribute(t *testing.T) {
	tests := []struct {
		name      string
		users     []string
		schema    string
		want, not []string
	}{
		{
			name: "title mapped", users: []string{"userName", "title"}, schema: coreUser,
			want: []string{"userName", "title", "active"}, not: []string{"phoneNumbers", "nickName"},
		},
		{
			name: "title unmapped", users: []string{"userName"}, schema: coreUser,
			want: []string{"userName", "active"}, not: []string{"title", "displayName"},
		},
		{
			name: "phone by type", users: []string{"userName", `phoneNumbers[type eq "mobile"].value`}, schema: coreUser,
			want: []string{"phoneNumbers"}, not: []string{"emails", "addresses"},
		},
		{
			name: "core URN qualified", users: []string{coreUser + ":userName", coreUser + ":locale"}, schema: coreUser,
			want: []string{"userName", "locale"}, not: []string{"timezone"},
		},
		{
			name: "enterprise department only", users: []string{"userName", scimapi.SchemaEnterpriseUser + ":department"},
			schema: scimapi.SchemaEnterpriseUser, want: []string{"department"}, not: []string{"manager", "costCenter"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := newDiscoServer(t, discoSetup{users: tt.users})
			req := httptest.NewRequest(http.MethodGet, "/scim/v2/Schemas/"+tt.schema, nil)
			req.Header.Set("Authorization", "Bearer "+discoToken)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			got := names(body["attributes"])
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("%s missing from %v", w, got)
				}
			}
			for _, n := range tt.not {
				if slices.Contains(got, n) {
					t.Errorf("%s listed but not mapped: %v", n, got)
				}
			}
			if calls.Load() != 0 {
				t.Error("the store was called")
			}
		})
	}
}

// findNull returns the path of the first null in v, "" if none.
func findNull(v any, path string) string {
	switch t := v.(type) {
	case nil:
		return path
	case map[string]any:
		for k, el := range t {
			if p := findNull(el, path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, el := range t {
			if p := findNull(el, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

// at2 follows a dotted path of keys and list indexes ("Resources.0.id").
func at2(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = t[k]; !ok {
				return nil, false
			}
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// at is at2 rendered as text, "" when absent.
func at(v any, path string) string {
	x, ok := at2(v, path)
	if !ok {
		return ""
	}
	return fmt.Sprint(x)
}

func wantList(t *testing.T, b map[string]any, n int) {
	t.Helper()
	want := fmt.Sprint(n)
	if at(b, "schemas.0") != scimapi.SchemaListResponse || at(b, "totalResults") != want ||
		at(b, "itemsPerPage") != want || at(b, "startIndex") != "1" {
		t.Errorf("ListResponse of %d expected: %v", n, b)
	}
}

func ids(list any) []string {
	var out []string
	l, _ := list.([]any)
	for _, el := range l {
		out = append(out, at(el, "id"))
	}
	return out
}

func names(list any) []string {
	var out []string
	l, _ := list.([]any)
	for _, el := range l {
		out = append(out, at(el, "name"))
	}
	return out
}

func attr(schema map[string]any, name string) map[string]any {
	l, _ := schema["attributes"].([]any)
	for _, el := range l {
		if m, ok := el.(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	return map[string]any{}
}

func wantAttrs(t *testing.T, schema map[string]any, want []string) {
	t.Helper()
	if got := names(schema["attributes"]); !slices.Equal(got, want) {
		t.Errorf("attributes %v, want %v", got, want)
	}
}

func wantSubs(t *testing.T, a map[string]any, want []string) {
	t.Helper()
	if got := names(a["subAttributes"]); !slices.Equal(got, want) {
		t.Errorf("%v sub-attributes %v, want %v", a["name"], got, want)
	}
}
