package ldapmap_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// decode reads a SCIM body as the HTTP layer does (numbers stay json.Number).
func decode(t *testing.T, body string) ldapmap.Resource {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var res ldapmap.Resource
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return res
}

// entraCreateUser is "Create User" of docs/entra-wire-reference.md §1.1, verbatim.
const entraCreateUser = `{
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
    "active": true,
    "emails": [{
        "primary": true,
        "type": "work",
        "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"
    }],
    "meta": {
        "resourceType": "User"
    },
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName"
    },
    "roles": []
}`

// entraCreateUserOld is the older "Example 2. Provision a user" of §1.1: a
// misspelt extension URN, explicit nulls, no name.formatted.
const entraCreateUserOld = `{
   "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
     "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
   "externalId":"jyoung", "userName":"jyoung@testuser.com", "active":true, "addresses":null,
   "displayName":"Joy Young",
   "emails": [{"type":"work", "value":"jyoung@Contoso.com", "primary":true}],
   "meta": {"resourceType":"User"},
   "name":{"familyName":"Young", "givenName":"Joy"},
   "phoneNumbers":null, "preferredLanguage":null, "title":null, "department":null, "manager":null}`

var objectClasses = []string{"top", "person", "organizationalPerson", "inetOrgPerson"}

func TestPlanAdd(t *testing.T) {
	locked := []string{"000001010000Z"}
	for _, tc := range []struct {
		name   string
		body   string
		dn     string
		attrs  map[string][]string // besides objectClass
		sorted []string            // attribute order, when checked
	}{
		{
			"entra create user", entraCreateUser,
			"uid=Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee,ou=people,dc=example,dc=org",
			map[string][]string{
				"cn": {"givenName familyName"}, "employeeNumber": {"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"},
				"givenName": {"givenName"}, "mail": {"Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"},
				"sn": {"familyName"}, "uid": {"Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"},
			},
			[]string{"objectClass", "cn", "employeeNumber", "givenName", "mail", "sn", "uid"},
		},
		{
			"entra create user, old sample with nulls", entraCreateUserOld,
			"uid=jyoung@testuser.com,ou=people,dc=example,dc=org",
			map[string][]string{
				"cn": {"Joy Young"}, "displayName": {"Joy Young"}, "employeeNumber": {"jyoung"},
				"givenName": {"Joy"}, "mail": {"jyoung@Contoso.com"}, "sn": {"Young"}, "uid": {"jyoung@testuser.com"},
			},
			nil,
		},
		{
			"userName only derives cn and sn", `{"userName": "jdoe"}`,
			"uid=jdoe,ou=people,dc=example,dc=org",
			map[string][]string{"cn": {"jdoe"}, "sn": {"jdoe"}, "uid": {"jdoe"}},
			[]string{"objectClass", "cn", "sn", "uid"},
		},
		{
			"cn derived from given and family name", `{"userName": "jdoe", "name": {"givenName": "John", "familyName": "Doe"}}`,
			"uid=jdoe,ou=people,dc=example,dc=org",
			map[string][]string{"cn": {"John Doe"}, "givenName": {"John"}, "sn": {"Doe"}, "uid": {"jdoe"}},
			nil,
		},
		{
			"active false locks", `{"userName": "jdoe", "active": false}`,
			"uid=jdoe,ou=people,dc=example,dc=org",
			map[string][]string{"cn": {"jdoe"}, "sn": {"jdoe"}, "uid": {"jdoe"}, "pwdAccountLockedTime": locked},
			[]string{"objectClass", "cn", "sn", "uid", "pwdAccountLockedTime"},
		},
		{
			"active string False locks", `{"userName": "jdoe", "active": "False"}`,
			"uid=jdoe,ou=people,dc=example,dc=org",
			map[string][]string{"cn": {"jdoe"}, "sn": {"jdoe"}, "uid": {"jdoe"}, "pwdAccountLockedTime": locked},
			nil,
		},
		{
			"active string True", `{"userName": "jdoe", "active": "True"}`,
			"uid=jdoe,ou=people,dc=example,dc=org",
			map[string][]string{"cn": {"jdoe"}, "sn": {"jdoe"}, "uid": {"jdoe"}},
			nil,
		},
		{
			"hostile userName is DN-escaped", `{"userName": "a,dc=evil+cn=x"}`,
			`uid=a\,dc=evil\+cn=x,ou=people,dc=example,dc=org`,
			map[string][]string{"cn": {"a,dc=evil+cn=x"}, "sn": {"a,dc=evil+cn=x"}, "uid": {"a,dc=evil+cn=x"}},
			nil,
		},
		{
			"leading hash and trailing space", `{"userName": "#x "}`,
			`uid=\#x\ ,ou=people,dc=example,dc=org`,
			map[string][]string{"cn": {"#x"}, "sn": {"#x"}, "uid": {"#x "}},
			nil,
		},
		{
			"manager as bare string (Entra)", `{"userName": "jdoe",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "` + bossID + `", "department": "Tech"}}`,
			"uid=jdoe,ou=people,dc=example,dc=org",
			map[string][]string{"cn": {"jdoe"}, "sn": {"jdoe"}, "uid": {"jdoe"}, "manager": {bossDN}, "departmentNumber": {"Tech"}},
			nil,
		},
		{
			"manager as complex value", `{"userName": "jdoe",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "` + bossID + `"}}}`,
			"uid=jdoe,ou=people,dc=example,dc=org",
			map[string][]string{"cn": {"jdoe"}, "sn": {"jdoe"}, "uid": {"jdoe"}, "manager": {bossDN}},
			nil,
		},
		{
			"attribute names in any case", `{"USERNAME": "jdoe", "Emails": [{"Type": "WORK", "Value": "j@x"}]}`,
			"uid=jdoe,ou=people,dc=example,dc=org",
			map[string][]string{"cn": {"jdoe"}, "sn": {"jdoe"}, "uid": {"jdoe"}, "mail": {"j@x"}},
			nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := exampleMap(t, nil)
			req, err := m.PlanAdd(context.Background(), decode(t, tc.body), newResolver())
			if err != nil {
				t.Fatalf("PlanAdd: %v", err)
			}
			if req.DN != tc.dn {
				t.Errorf("DN = %q, want %q", req.DN, tc.dn)
			}
			want := map[string][]string{"objectClass": objectClasses}
			for k, v := range tc.attrs {
				want[k] = v
			}
			if got := attrsOf(req); !reflect.DeepEqual(got, want) {
				t.Errorf("attributes\n got %v\nwant %v", got, want)
			}
			if tc.sorted != nil {
				var names []string
				for _, a := range req.Attributes {
					names = append(names, a.Type)
				}
				if !reflect.DeepEqual(names, tc.sorted) {
					t.Errorf("attribute order %v, want %v", names, tc.sorted)
				}
			}
		})
	}
}

// TestPlanAddDNRoundTrip: whatever the userName, the DN parses back to one
// RDN holding exactly that value under the base DN.
func TestPlanAddDNRoundTrip(t *testing.T) {
	m := exampleMap(t, nil)
	for _, name := range []string{"a,dc=evil+cn=x", `back\slash`, `"quoted"`, "<tag>;x", " lead", "trail ", "#hash", "東京=x", "a\\2cb"} {
		req, err := m.PlanAdd(context.Background(), ldapmap.Resource{"userName": name}, newResolver())
		if err != nil {
			t.Fatalf("PlanAdd(%q): %v", name, err)
		}
		dn, err := ldap.ParseDN(req.DN)
		if err != nil {
			t.Fatalf("DN %q for %q does not parse: %v", req.DN, name, err)
		}
		if len(dn.RDNs) != 4 || len(dn.RDNs[0].Attributes) != 1 {
			t.Fatalf("DN %q for %q: RDN structure changed: %+v", req.DN, name, dn.RDNs)
		}
		if a := dn.RDNs[0].Attributes[0]; a.Type != "uid" || a.Value != name {
			t.Errorf("DN %q for %q: first RDN is %s=%q", req.DN, name, a.Type, a.Value)
		}
		if !m.InBase(req.DN) {
			t.Errorf("DN %q is not under the base DN", req.DN)
		}
	}
}

// A manager id that names no managed user leaves the manager out and writes
// the rest (Entra provisions the manager later and sends it again); the
// resolver hears of it for the log. Any other lookup failure fails the add.
func TestPlanAddUnresolvedManager(t *testing.T) {
	r := newResolver()
	req, err := exampleMap(t, nil).PlanAdd(context.Background(), ldapmap.Resource{
		"userName": "a", "displayName": "A",
		enterURN: map[string]any{"manager": map[string]any{"value": "nobody"}},
	}, r)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, a := range req.Attributes {
		got[strings.ToLower(a.Type)] = true
	}
	if got["manager"] || !got["displayname"] || !got["uid"] {
		t.Errorf("attributes %v: want uid and displayName, no manager", req.Attributes)
	}
	if want := []string{enterURN + ":manager=nobody"}; !reflect.DeepEqual(r.unresolved, want) {
		t.Errorf("unresolved %q, want %q", r.unresolved, want)
	}
	r = newResolver()
	r.err = scimerr.New(scimerr.Unavailable, "directory down")
	_, err = exampleMap(t, nil).PlanAdd(context.Background(), ldapmap.Resource{"userName": "a", enterURN: map[string]any{"manager": "x"}}, r)
	wantKind(t, err, scimerr.Unavailable)
}

func TestPlanAddErrors(t *testing.T) {
	big := strings.Repeat("x", 64<<10+1)
	for _, tc := range []struct {
		name string
		res  ldapmap.Resource
		kind scimerr.Kind
	}{
		{"no userName", ldapmap.Resource{"displayName": "x"}, scimerr.InvalidValue},
		{"NUL in userName", ldapmap.Resource{"userName": "a\x00b"}, scimerr.InvalidValue},
		{"NUL in displayName", ldapmap.Resource{"userName": "a", "displayName": "\x00"}, scimerr.InvalidValue},
		{"value over 64 KiB", ldapmap.Resource{"userName": "a", "displayName": big}, scimerr.InvalidValue},
		{"userName over 64 KiB", ldapmap.Resource{"userName": big}, scimerr.InvalidValue},
		{"active not a boolean", ldapmap.Resource{"userName": "a", "active": "nope"}, scimerr.InvalidValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := exampleMap(t, nil).PlanAdd(context.Background(), tc.res, newResolver())
			wantKind(t, err, tc.kind)
		})
	}
	t.Run("64 KiB exactly is fine", func(t *testing.T) {
		ok := strings.Repeat("x", 64<<10)
		if _, err := exampleMap(t, nil).PlanAdd(context.Background(), ldapmap.Resource{"userName": "a", "displayName": ok}, newResolver()); err != nil {
			t.Fatalf("PlanAdd: %v", err)
		}
	})
	t.Run("resolver failure", func(t *testing.T) {
		boom := errors.New("directory down")
		res := ldapmap.Resource{"userName": "a", enterURN: map[string]any{"manager": bossID}}
		if _, err := exampleMap(t, nil).PlanAdd(context.Background(), res, &fakeResolver{err: boom}); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want %v", err, boom)
		}
	})
}

// directoryEntry is what slapd returns for a user written by the example map,
// with a second mail value the map does not show and the manager's DN spelt
// differently from the resolver's.
func directoryEntry(extra map[string][]string) *ldap.Entry {
	attrs := map[string][]string{
		"objectClass":      objectClasses,
		"entryUUID":        {"1b4e28ba-2fa1-11d2-883f-0016d3cca427"},
		"uid":              {"jdoe"},
		"cn":               {"John Doe"},
		"sn":               {"Doe"},
		"givenName":        {"John"},
		"displayName":      {"Johnny"},
		"mail":             {"jdoe@example.org", "john@alt.example.org"},
		"employeeNumber":   {"ext-1"},
		"telephoneNumber":  {"+1 555 0100"},
		"mobile":           {"+1 555 0199"},
		"l":                {"Paris"},
		"departmentNumber": {"Tech"},
		"manager":          {`UID=O\2CBrien (Boss), ou=People,dc=example,dc=org`},
		"createTimestamp":  {"20260102030405Z"},
		"modifyTimestamp":  {"20260203040506.5Z"},
		"entryCSN":         {"20260203040506.123456Z#000000#000#000000"},
	}
	for k, v := range extra {
		if v == nil {
			delete(attrs, k)
		} else {
			attrs[k] = v
		}
	}
	return ldap.NewEntry("uid=jdoe,ou=people,dc=example,dc=org", attrs)
}

func TestFromEntry(t *testing.T) {
	m := exampleMap(t, nil)
	got, err := m.FromEntry(context.Background(), directoryEntry(nil), newResolver())
	if err != nil {
		t.Fatalf("FromEntry: %v", err)
	}
	want := ldapmap.Resource{
		"id":          "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
		"schemas":     []any{ldapmap.SchemaUser, ldapmap.SchemaEnterprise},
		"userName":    "jdoe",
		"externalId":  "ext-1",
		"displayName": "Johnny",
		"name":        map[string]any{"givenName": "John", "familyName": "Doe", "formatted": "John Doe"},
		"emails":      []any{map[string]any{"type": "work", "value": "jdoe@example.org"}},
		"phoneNumbers": []any{
			map[string]any{"type": "work", "value": "+1 555 0100"},
			map[string]any{"type": "mobile", "value": "+1 555 0199"},
		},
		"addresses": []any{map[string]any{"type": "work", "locality": "Paris"}},
		ldapmap.SchemaEnterprise: map[string]any{
			"department": "Tech",
			// Entra reads manager back as a complex value (docs/entra-wire-reference.md §1.1).
			"manager": map[string]any{"value": bossID},
		},
		"active": true,
		"meta": map[string]any{
			"resourceType": "User",
			"created":      "2026-01-02T03:04:05Z",
			"lastModified": "2026-02-03T04:05:06Z",
			"version":      `W/"20260203040506.123456Z#000000#000#000000"`,
		},
	}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", " ")
		wj, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("FromEntry\n got %s\nwant %s", gj, wj)
	}
}

func TestFromEntryVariants(t *testing.T) {
	m := exampleMap(t, nil)
	t.Run("locked is inactive", func(t *testing.T) {
		res, err := m.FromEntry(context.Background(), directoryEntry(map[string][]string{"pwdAccountLockedTime": {"000001010000Z"}}), newResolver())
		if err != nil || res["active"] != false {
			t.Fatalf("active = %v (err %v), want false", res["active"], err)
		}
	})
	t.Run("manager outside the managed users is left out", func(t *testing.T) {
		e := directoryEntry(map[string][]string{"manager": {"cn=admin,dc=example,dc=org"}, "departmentNumber": nil})
		res, err := m.FromEntry(context.Background(), e, newResolver())
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := res[ldapmap.SchemaEnterprise]; ok {
			t.Errorf("enterprise extension present: %v", res[ldapmap.SchemaEnterprise])
		}
		if s := res["schemas"].([]any); len(s) != 1 {
			t.Errorf("schemas = %v, want only the core schema", s)
		}
	})
	t.Run("resolver failure fails the read", func(t *testing.T) {
		boom := errors.New("directory down")
		if _, err := m.FromEntry(context.Background(), directoryEntry(nil), &fakeResolver{err: boom}); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want %v", err, boom)
		}
	})
	t.Run("AD timestamps and no entryCSN", func(t *testing.T) {
		e := directoryEntry(map[string][]string{"entryCSN": nil, "modifyTimestamp": {"20260203040506.0Z"}})
		res, err := m.FromEntry(context.Background(), e, newResolver())
		if err != nil {
			t.Fatal(err)
		}
		meta := res["meta"].(map[string]any)
		if meta["lastModified"] != "2026-02-03T04:05:06Z" || meta["version"] != `W/"20260203040506.0Z"` {
			t.Errorf("meta = %v", meta)
		}
	})
}
