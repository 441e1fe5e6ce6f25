package ldapmap_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/patch"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// customURN is a custom extension: its attributes declare no type.
const customURN = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"

// typedMap is the example map plus a custom extension attribute and roles
// read by users.roles when roles is set.
func typedMap(t *testing.T, roles bool) *ldapmap.Map {
	return exampleMap(t, func(u *config.UsersConfig) {
		u.Attributes = append(u.Attributes, config.AttributeMapping{SCIM: customURN + ":badge", LDAP: "carLicense"})
		if roles {
			u.Roles = config.RolesConfig{Attribute: "businessCategory"}
		}
	})
}

// wantInvalid fails unless err is invalidValue and its detail names path.
func wantInvalid(t *testing.T, err error, path string) {
	t.Helper()
	wantKind(t, err, scimerr.InvalidValue)
	if d := err.(*scimerr.Error).Detail; !strings.Contains(d, path) {
		t.Errorf("detail %q does not name %s", d, path)
	}
}

// wrongTypes are bodies with one value of the wrong JSON type, each with the
// path the error must name; they run as POST and PUT bodies and, as PATCH,
// as a path-less replace of the same attributes.
var wrongTypes = []struct{ name, attrs, path string }{
	{"emails as a string", `"emails": "x@example.org"`, "emails"},
	{"emails as a number", `"emails": 5`, "emails"},
	{"email element as a string", `"emails": ["x@example.org"]`, "emails"},
	{"second email element as a list", `"emails": [{"type": "work", "value": "a@x"}, ["b@x"]]`, "emails"},
	{"email value as a list", `"emails": [{"type": "work", "value": ["a@x", "b@x"]}]`, `emails[type eq "work"].value`},
	{"email value as an object", `"emails": [{"type": "work", "value": {"a": "b"}}]`, `emails[type eq "work"].value`},
	{"email primary not a boolean", `"emails": [{"type": "work", "value": "a@x", "primary": "yes"}]`, `emails[type eq "work"].primary`},
	{"email primary as a number", `"emails": [{"type": "work", "value": "a@x", "primary": 1}]`, `emails[type eq "work"].primary`},
	{"email type as an object", `"emails": [{"type": {"a": "b"}, "value": "a@x"}]`, "emails.type"},
	{"title as a list", `"title": ["a", "b"]`, "title"},
	{"title as a boolean", `"title": true`, "title"},
	{"title as an object without value", `"title": {"a": "b"}`, "title"},
	{"title wrapped list of two", `"title": [{"value": "a"}, {"value": "b"}]`, "title"},
	{"title wrapping a list", `"title": {"value": ["a", "b"]}`, "title"},
	{"name as a string", `"name": "First Last"`, "name"},
	{"name as a list", `"name": [{"givenName": "a"}]`, "name"},
	{"givenName as an object", `"name": {"givenName": {"a": "b"}}`, "name.givenName"},
	{"familyName as a list", `"name": {"familyName": ["a", "b"]}`, "name.familyName"},
	{"displayName as an object", `"displayName": {"first": "a"}`, "displayName"},
	{"externalId as a list", `"externalId": ["a", "b"]`, "externalId"},
	{"phoneNumbers as a string", `"phoneNumbers": "+1 555"`, "phoneNumbers"},
	{"addresses locality as a list", `"addresses": [{"type": "work", "locality": ["a", "b"]}]`, `addresses[type eq "work"].locality`},
	{"department as a list", `"` + enterURN + `": {"department": ["a", "b"]}`, enterURN + ":department"},
	{"department as a boolean", `"` + enterURN + `": {"department": false}`, enterURN + ":department"},
	{"manager as a list of two", `"` + enterURN + `": {"manager": ["a", "b"]}`, enterURN + ":manager"},
	{"manager as an object without value", `"` + enterURN + `": {"manager": {"id": "a"}}`, enterURN + ":manager"},
	{"enterprise extension as a string", `"` + enterURN + `": "x"`, enterURN},
	{"custom extension as a list", `"` + customURN + `": ["x"]`, customURN},
	{"custom attribute as a list of two", `"` + customURN + `": {"badge": ["a", "b"]}`, customURN + ":badge"},
	{"custom attribute as an object", `"` + customURN + `": {"badge": {"a": "b"}}`, customURN + ":badge"},
	{"unmapped nickName as an object", `"nickName": {"a": "b"}`, "nickName"},
	{"unmapped ims as a string", `"ims": "x"`, "ims"},
	{"unmapped costCenter as a list", `"` + enterURN + `": {"costCenter": ["a", "b"]}`, enterURN + ":costCenter"},
	{"roles without users.roles as strings", `"roles": ["Admin"]`, "roles"},
	{"attribute names in any case", `"TITLE": ["a", "b"]`, "title"},
}

func TestPlanAddWrongTypes(t *testing.T) {
	m := typedMap(t, false)
	for _, tc := range wrongTypes {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.PlanAdd(context.Background(), decode(t, `{"userName": "jdoe", `+tc.attrs+`}`), newResolver())
			wantInvalid(t, err, tc.path)
		})
	}
}

func TestPlanUpdateWrongTypes(t *testing.T) {
	m := typedMap(t, false)
	for _, tc := range wrongTypes {
		t.Run("PUT "+tc.name, func(t *testing.T) {
			e := directoryEntry(nil)
			before, err := m.FromEntry(context.Background(), e, newResolver())
			if err != nil {
				t.Fatal(err)
			}
			after := decode(t, `{"id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "userName": "jdoe", `+tc.attrs+`}`)
			_, err = m.PlanUpdate(context.Background(), e, before, after, newResolver())
			wantInvalid(t, err, tc.path)
		})
		t.Run("PATCH "+tc.name, func(t *testing.T) {
			wantInvalid(t, tryPatch(t, m, ops(`{"op": "replace", "value": {`+tc.attrs+`}}`)), tc.path)
		})
	}
}

// tryPatch is planPatch's error, or patch.Apply's: a path-less replace of an
// extension with a non-object is refused there already.
func tryPatch(t *testing.T, m *ldapmap.Map, body string) error {
	t.Helper()
	e := directoryEntry(nil)
	before, err := m.FromEntry(context.Background(), e, newResolver())
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := patch.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	after := clone(t, before)
	if err := patch.Apply(after, parsed); err != nil {
		return err
	}
	_, err = m.PlanUpdate(context.Background(), e, before, after, newResolver())
	return err
}

// The PATCH forms of issue 11: each would have deleted the stored value.
func TestPatchWrongTypes(t *testing.T) {
	m := typedMap(t, false)
	for _, tc := range []struct{ name, op, path string }{
		{"emails as a string", `{"op":"replace","path":"emails","value":"x@example.org"}`, "emails"},
		{"add an email as a string", `{"op":"add","path":"emails","value":"x@example.org"}`, "emails"},
		{"title as a list", `{"op":"replace","path":"title","value":["a","b"]}`, "title"},
		{"name as a string", `{"op":"replace","path":"name","value":"First Last"}`, "name"},
		{"displayName as an object", `{"op":"Replace","path":"displayName","value":{"a":"b"}}`, "displayName"},
		{"userName as a number", `{"op":"replace","path":"userName","value":42}`, "userName"},
		{"userName as an object", `{"op":"replace","path":"userName","value":{"value":"other"}}`, "userName"},
		{"userName as a list", `{"op":"replace","path":"userName","value":["other"]}`, "userName"},
		{
			"work email as a list", `{"op":"replace","path":"emails[type eq \"work\"].value","value":["a@x","b@x"]}`,
			`emails[type eq "work"].value`,
		},
		{
			"work email primary", `{"op":"replace","path":"emails[type eq \"work\"].primary","value":"maybe"}`,
			`emails[type eq "work"].primary`,
		},
		{"givenName as an object", `{"op":"replace","path":"name.givenName","value":{"a":"b"}}`, "name.givenName"},
		{"department as a list", `{"op":"add","path":"` + enterURN + `:department","value":["a","b"]}`, enterURN + ":department"},
		{"manager as a list of two", `{"op":"add","path":"manager","value":[{"value":"a"},{"value":"b"}]}`, enterURN + ":manager"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := planPatch(t, m, directoryEntry(nil), ops(tc.op))
			wantInvalid(t, err, tc.path)
		})
	}
}

// Entra's and lenient clients' shapes are read, not refused, and null and []
// still clear.
func TestLenientShapes(t *testing.T) {
	t.Run("create", func(t *testing.T) {
		req, err := typedMap(t, true).PlanAdd(context.Background(), decode(t, `{"userName": "jdoe", "active": "False", "externalId": 12345,
			"title": [{"$ref": null, "value": "Wrapped"}], "displayName": {"value": "Object"}, "nickName": 7,
			"name": {"givenName": ["Given"], "familyName": null}, "addresses": [],
			"emails": [{"type": "work", "value": "j@x", "primary": "True"}, null],
			"phoneNumbers": {"type": "mobile", "value": "+1 555 0199"},
			"roles": ["Admin", {"value": "Reader", "primary": "false"}],
			"`+enterURN+`": {"manager": "`+bossID+`", "department": 42},
			"`+customURN+`": {"badge": true}}`), newResolver())
		if err != nil {
			t.Fatalf("PlanAdd: %v", err)
		}
		got := attrsOf(req)
		for attr, want := range map[string]string{
			"employeeNumber": "12345", "title": "Wrapped", "displayName": "Object",
			"givenName": "Given", "mail": "j@x", "mobile": "+1 555 0199", "manager": bossDN, "departmentNumber": "42",
			"carLicense": "TRUE",
		} {
			if v := got[attr]; len(v) != 1 || v[0] != want {
				t.Errorf("%s = %q, want %q", attr, v, want)
			}
		}
		if v := got["businessCategory"]; !reflect.DeepEqual(v, []string{"Admin", "Reader"}) {
			t.Errorf("roles %q", v)
		}
	})
	m := typedMap(t, false)
	for _, tc := range []struct {
		name, op string
		want     []string
	}{
		{
			"email element sent bare", `{"op":"Replace","path":"emails","value":{"type":"work","value":"bare@x"}}`,
			[]string{"replace mail=bare@x"},
		},
		{"manager as a reference list", `{"op":"Add","path":"manager","value":[{"$ref":"http://x/Users/` + bossID + `","value":"` + bossID + `"}]}`, nil},
		{"title wrapped", `{"op":"replace","path":"title","value":{"value":"Boss"}}`, []string{"replace title=Boss"}},
		{"displayName as a number", `{"op":"replace","path":"displayName","value":1.5}`, []string{"replace displayName=1.5"}},
		{"primary as a string", `{"op":"replace","path":"emails[type eq \"work\"].primary","value":"False"}`, nil},
		{"title null clears", `{"op":"replace","path":"displayName","value":null}`, []string{"delete displayName"}},
		{
			"[] clears a multi-valued attribute", `{"op":"replace","path":"phoneNumbers","value":[]}`,
			[]string{"delete mobile", "delete telephoneNumber"},
		},
		{"[] clears a simple attribute", `{"op":"replace","path":"displayName","value":[]}`, []string{"delete displayName"}},
		{"[] clears name", `{"op":"replace","path":"name","value":[]}`, []string{"replace cn=Johnny", "delete givenName", "replace sn=Johnny"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := planPatch(t, m, directoryEntry(nil), ops(tc.op))
			if err != nil {
				t.Fatalf("PlanUpdate: %v", err)
			}
			if got := renderChanges(u.Changes); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("changes\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func exampleGroups(t *testing.T) *ldapmap.GroupMap {
	t.Helper()
	g, err := ldapmap.NewGroups(exampleConfig(t).Groups)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func groupEntry() *ldap.Entry {
	return ldap.NewEntry("cn=team,ou=groups,dc=example,dc=org", map[string][]string{
		"objectClass": {"top", "groupOfNames"}, "entryUUID": {"7f4bc1a3-285e-48ae-8202-5accb43efb0e"},
		"cn": {"team"}, "description": {"ext-1"}, "member": {"cn=nobody,dc=example,dc=org"},
	})
}

func TestGroupWrongTypes(t *testing.T) {
	g := exampleGroups(t)
	for _, tc := range []struct{ name, attrs, path string }{
		{"displayName as a list", `"displayName": ["a", "b"]`, "displayName"},
		{"displayName as a boolean", `"displayName": true`, "displayName"},
		{"externalId as an object", `"externalId": {"a": "b"}`, "externalId"},
		{"externalId as a list", `"EXTERNALID": ["a", "b"]`, "externalId"},
	} {
		t.Run("POST "+tc.name, func(t *testing.T) {
			res := decode(t, `{"displayName": "team", `+tc.attrs+`}`)
			_, err := g.PlanAdd(context.Background(), res, nil)
			wantInvalid(t, err, tc.path)
		})
		t.Run("PATCH "+tc.name, func(t *testing.T) {
			e := groupEntry()
			before, err := g.FromEntry(context.Background(), e, nil)
			if err != nil {
				t.Fatal(err)
			}
			after := clone(t, before)
			for k, v := range decode(t, `{`+tc.attrs+`}`) {
				after[k] = v
			}
			_, err = g.PlanUpdate(context.Background(), e, before, after, nil)
			wantInvalid(t, err, tc.path)
		})
	}
	// Members are MemberIDs' to check; a wrapped displayName is read.
	req, err := g.PlanAdd(context.Background(), decode(t, `{"displayName": [{"value": "team"}], "externalId": 7, "members": "ignored here"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := attrsOf(req); got["cn"][0] != "team" || got["description"][0] != "7" {
		t.Errorf("attributes %v", got)
	}
}
