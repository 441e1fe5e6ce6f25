package ldapmap_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/patch"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// renderChanges prints changes as "replace sn=Doe" / "delete sn", in order.
func renderChanges(cs []ldap.Change) []string {
	var out []string
	for _, c := range cs {
		switch c.Operation {
		case ldap.ReplaceAttribute:
			out = append(out, fmt.Sprintf("replace %s=%s", c.Modification.Type, strings.Join(c.Modification.Vals, "|")))
		case ldap.DeleteAttribute:
			out = append(out, fmt.Sprintf("delete %s%s", c.Modification.Type, strings.Join(c.Modification.Vals, "|")))
		default:
			out = append(out, fmt.Sprintf("op%d %s=%s", c.Operation, c.Modification.Type, strings.Join(c.Modification.Vals, "|")))
		}
	}
	return out
}

// clone copies a resource as the bridge does, through JSON.
func clone(t *testing.T, r ldapmap.Resource) ldapmap.Resource {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, string(b))
}

// planPatch runs a PATCH body the way the bridge does: render the entry, apply
// the operations to a copy, plan the difference.
func planPatch(t *testing.T, m *ldapmap.Map, e *ldap.Entry, body string) (*ldapmap.Update, error) {
	t.Helper()
	r := newResolver()
	before, err := m.FromEntry(context.Background(), e, r)
	if err != nil {
		t.Fatalf("FromEntry: %v", err)
	}
	ops, err := patch.Parse([]byte(body))
	if err != nil {
		t.Fatalf("patch.Parse: %v", err)
	}
	after := clone(t, before)
	if err := patch.Apply(after, ops); err != nil {
		t.Fatalf("patch.Apply: %v", err)
	}
	return m.PlanUpdate(context.Background(), e, before, after, r)
}

func ops(list ...string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(list, ",") + `]}`
}

var locked = map[string][]string{"pwdAccountLockedTime": {"000001010000Z"}}

func TestPlanUpdate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		entry  map[string][]string // changes to directoryEntry
		body   string
		newRDN string
		want   []string
	}{
		{
			name: "entra update multi-valued (§1.1)", body: ops(
				`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"}`,
				`{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}`),
			want: []string{"replace mail=updatedEmail@microsoft.com", "replace sn=updatedFamilyName"},
		},
		{
			name: "entra update single-valued renames (§1.1)", body: ops(
				`{"op":"Replace","path":"userName","value":"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}`),
			newRDN: "uid=5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com",
		},
		{
			name: "hostile rename is escaped", body: ops(`{"op":"replace","path":"userName","value":"a,dc=evil+cn=x"}`),
			newRDN: `uid=a\,dc=evil\+cn=x`,
		},
		{name: "unchanged value writes nothing", body: ops(`{"op":"replace","path":"displayName","value":"Johnny"}`)},
		{
			name: "unchanged email keeps the second mail value",
			body: ops(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"jdoe@example.org"}`,
				`{"op":"replace","path":"name.givenName","value":"Jon"}`),
			want: []string{"replace givenName=Jon"},
		},
		{
			name: "removing familyName re-derives sn", body: ops(`{"op":"remove","path":"name.familyName"}`),
			want: []string{"replace sn=Johnny"},
		},
		{
			name: "removing displayName deletes it", body: ops(`{"op":"Remove","path":"displayName"}`),
			want: []string{"delete displayName"},
		},
		{
			name: "replace with empty string clears", body: ops(`{"op":"replace","path":"title","value":""}`),
			entry: map[string][]string{"title": {"Boss"}}, want: []string{"delete title"},
		},
		{
			name: "entra disable, default dialect (§3.3)", body: ops(`{"op":"Replace","path":"active","value":"False"}`),
			want: []string{"replace pwdAccountLockedTime=000001010000Z"},
		},
		{
			name: "entra disable, flag dialect (§3.3)", body: ops(`{"op":"replace","path":"active","value":false}`),
			want: []string{"replace pwdAccountLockedTime=000001010000Z"},
		},
		{
			name: "enable a locked entry", entry: locked, body: ops(`{"op":"Replace","path":"active","value":"True"}`),
			want: []string{"delete pwdAccountLockedTime000001010000Z"},
		},
		{name: "enable an active entry writes nothing", body: ops(`{"op":"replace","path":"active","value":true}`)},
		{name: "disable a locked entry writes nothing", entry: locked, body: ops(`{"op":"replace","path":"active","value":false}`)},
		{
			name: "entra replace several, flag dialect (§3.3)", body: ops(
				`{"op":"replace","path":"emails[type eq \"work\"].value","value":"TestMhvaes@test.microsoft.com"}`,
				`{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom","name.familyName":"Unua",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}`),
			// employeeNumber of the enterprise extension is not mapped (externalId is).
			want: []string{
				"replace displayName=Bjfe", "replace givenName=Kkom",
				"replace mail=TestMhvaes@test.microsoft.com", "replace sn=Unua",
			},
		},
		{
			name: "entra path-less active with userName (§3.4)", body: ops(
				`{"op":"replace","value":{"active":false,"userName":"someone"}}`),
			newRDN: "uid=someone", want: []string{"replace pwdAccountLockedTime=000001010000Z"},
		},
		{
			name: "entra add department (§3.4)", body: ops(
				`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Tech Infrastructure"}`),
			want: []string{"replace departmentNumber=Tech Infrastructure"},
		},
		{
			name: "entra add manager as bare string (§1.1)", entry: map[string][]string{"manager": nil}, body: ops(
				`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"` + bossID + `"}`),
			want: []string{"replace manager=" + bossDN},
		},
		{
			name: "entra remove manager by value filter (§1.1)", body: ops(
				`{"op":"remove","path":"manager[value eq \"` + bossID + `\"]"}`),
			want: []string{"delete manager"},
		},
		{
			name: "validator clears manager with empty string (§3.5)", body: ops(
				`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":""}`),
			want: []string{"delete manager"},
		},
		{name: "same manager writes nothing", body: ops(
			`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"` + bossID + `"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := exampleMap(t, nil)
			u, err := planPatch(t, m, directoryEntry(tc.entry), tc.body)
			if err != nil {
				t.Fatalf("PlanUpdate: %v", err)
			}
			if u.NewRDN != tc.newRDN {
				t.Errorf("NewRDN = %q, want %q", u.NewRDN, tc.newRDN)
			}
			if got := renderChanges(u.Changes); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("changes\n got %q\nwant %q", got, tc.want)
			}
			if u.Empty() != (tc.newRDN == "" && len(tc.want) == 0) {
				t.Errorf("Empty() = %v", u.Empty())
			}
		})
	}
}

// TestPlanUpdateReplace is a PUT: attributes missing from the body are
// cleared, MUST attributes are derived again, and active is left alone.
func TestPlanUpdateReplace(t *testing.T) {
	m := exampleMap(t, nil)
	e := directoryEntry(locked)
	r := newResolver()
	before, err := m.FromEntry(context.Background(), e, r)
	if err != nil {
		t.Fatal(err)
	}
	after := decode(t, `{"id":"1b4e28ba-2fa1-11d2-883f-0016d3cca427","userName":"jdoe","displayName":"J. Doe",
		"emails":[{"type":"work","value":"jdoe@example.org"}]}`)
	u, err := m.PlanUpdate(context.Background(), e, before, after, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"replace cn=J. Doe", "delete departmentNumber", "replace displayName=J. Doe", "delete employeeNumber",
		"delete givenName", "delete l", "delete manager", "delete mobile", "replace sn=J. Doe", "delete telephoneNumber",
	}
	if got := renderChanges(u.Changes); !reflect.DeepEqual(got, want) {
		t.Errorf("changes\n got %q\nwant %q", got, want)
	}
}

func TestPlanUpdateAttributeDisable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		enabled string
		entry   map[string][]string
		active  string
		want    []string
	}{
		{"disable", "", nil, "false", []string{"replace employeeType=disabled"}},
		{
			"enable removes the value", "",
			map[string][]string{"employeeType": {"DISABLED"}},
			`"True"`,
			[]string{"delete employeeType"},
		},
		{
			"enable writes enabled_value", "enabled",
			map[string][]string{"employeeType": {"disabled"}},
			"true",
			[]string{"replace employeeType=enabled"},
		},
		{"already disabled", "", map[string][]string{"employeeType": {"disabled"}}, "false", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := exampleMap(t, func(u *config.UsersConfig) {
				u.Disable = config.DisableConfig{
					Method: "attribute", Attribute: "employeeType",
					DisabledValue: "disabled", EnabledValue: tc.enabled,
				}
			})
			u, err := planPatch(t, m, directoryEntry(tc.entry), ops(`{"op":"replace","path":"active","value":`+tc.active+`}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := renderChanges(u.Changes); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("changes %q, want %q", got, tc.want)
			}
		})
	}
}

// An update to a manager id that names no managed user writes the rest of
// the request and leaves the stored manager as it is.
func TestPlanUpdateUnresolvedManager(t *testing.T) {
	u, err := planPatch(t, exampleMap(t, nil), directoryEntry(map[string][]string{"manager": {bossDN}}),
		ops(`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"nobody"}`,
			`{"op":"replace","path":"title","value":"Boss"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := renderChanges(u.Changes), []string{"replace title=Boss"}; !reflect.DeepEqual(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
}

func TestPlanUpdateErrors(t *testing.T) {
	big := strings.Repeat("é", 32<<10+1)
	for _, tc := range []struct {
		name string
		body string
		kind scimerr.Kind
	}{
		{"NUL byte", ops(`{"op":"replace","path":"displayName","value":"a\u0000b"}`), scimerr.InvalidValue},
		{"NUL byte in userName", ops(`{"op":"replace","path":"userName","value":"\u0000"}`), scimerr.InvalidValue},
		{"value over 64 KiB", ops(`{"op":"replace","path":"displayName","value":"` + big + `"}`), scimerr.InvalidValue},
		{"userName removed", ops(`{"op":"remove","path":"userName"}`), scimerr.Mutability},
		{"active not a boolean", ops(`{"op":"replace","path":"active","value":"yes"}`), scimerr.InvalidValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := planPatch(t, exampleMap(t, nil), directoryEntry(nil), tc.body)
			wantKind(t, err, tc.kind)
		})
	}
}
