package patch_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scimapi/patch"
)

const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// sampleUser is a user as ldapmap renders it: the manager is complex and lives
// in the enterprise extension, as Entra reads it back (docs/entra-wire-reference.md §1.1).
const sampleUser = `{
	"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "` + ent + `"],
	"id": "6764549bef60420686bc",
	"externalId": "6c75de36-30fa-4d2d-a196-6bdcdb6b6539",
	"userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
	"displayName": "Joy Young",
	"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
	"active": true,
	"emails": [
		{"value": "work@testuser.com", "type": "work", "primary": true},
		{"value": "home@example.org", "type": "home"}
	],
	"` + ent + `": {"department": "Tech", "manager": {"value": "mgr-1"}},
	"meta": {"resourceType": "User"}
}`

const sampleGroup = `{
	"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
	"id": "ac56b4e5-e079-46d0-810e-85ddbd223b09",
	"displayName": "Group1",
	"members": [{"value": "u1091"}, {"value": "u2"}, {"value": "16b083c0-f1e8-4544-b6ee-27a28dc98761"}]
}`

func decodeJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

// edit returns the decoded sample with fn applied, to state expectations as
// "the sample, except…".
func edit(t *testing.T, sample string, fn func(r map[string]any)) map[string]any {
	r := decodeJSON(t, sample)
	fn(r)
	return r
}

func ext(r map[string]any) map[string]any { return r[ent].(map[string]any) }

func TestApplyEntra(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sample string
		body   string
		want   func(r map[string]any)
	}{
		{
			"§1.1 update user, multi-valued properties", sampleUser, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [
				{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
				{"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}]}`,
			func(r map[string]any) {
				r["emails"].([]any)[0].(map[string]any)["value"] = "updatedEmail@microsoft.com"
				r["name"].(map[string]any)["familyName"] = "updatedFamilyName"
			},
		},
		{
			"§1.1 update user, single-valued properties", sampleUser, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]}`,
			func(r map[string]any) { r["userName"] = "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com" },
		},
		{
			"§1.1 disable user", sampleUser, `{
			"Operations": [{"op": "Replace", "path": "active", "value": false}],
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`,
			func(r map[string]any) { r["active"] = false },
		},
		{
			"§1.1 manager example 5, array of $ref and value", sampleUser, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op":"Add","path":"manager","value":[{
				"$ref":"http://.../scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
				"value":"00aa00aa-bb11-cc22-dd33-44ee44ee44ee"}]}]}`,
			func(r map[string]any) {
				ext(r)["manager"] = []any{map[string]any{
					"$ref": "http://.../scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee", "value": "00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
				}}
			},
		},
		{
			"§1.1 manager as bare string, default dialect", sampleUser, `{
			"Operations": [{"op": "Add", "path": "` + ent + `:manager", "value": "271"}],
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`,
			func(r map[string]any) { ext(r)["manager"] = "271" },
		},
		{
			"§1.1 manager as bare string, flag dialect", sampleUser, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "add", "path": "` + ent + `:manager", "value": "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}]}`,
			func(r map[string]any) { ext(r)["manager"] = "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2" },
		},
		{
			"§1.1 manager removal by value filter, complex manager", sampleUser,
			body(`{"op": "remove", "path": "manager[value eq \"mgr-1\"]"}`),
			func(r map[string]any) { delete(ext(r), "manager") },
		},
		{
			"§1.1 manager removal by value filter, bare string manager",
			strings.Replace(sampleUser, `{"value": "mgr-1"}`, `"mgr-1"`, 1),
			body(`{"op": "remove", "path": "manager[value eq \"mgr-1\"]"}`),
			func(r map[string]any) { delete(ext(r), "manager") },
		},
		{
			"§1.1 manager removal of another manager keeps this one", sampleUser,
			body(`{"op": "remove", "path": "manager[value eq \"someone-else\"]"}`),
			func(r map[string]any) {},
		},
		{
			"§3.3 disable users, without flag", sampleUser, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}`,
			// Kept as sent: ldapmap.Active reads "False" as false.
			func(r map[string]any) { r["active"] = "False" },
		},
		{
			"§3.3 disable users, with flag", sampleUser, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "replace", "path": "active", "value": false}]}`,
			func(r map[string]any) { r["active"] = false },
		},
		{
			"§3.3 add a single-value string attribute, without flag", sampleUser, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "Add", "path": "nickName", "value": "Babs"}]}`,
			func(r map[string]any) { r["nickName"] = "Babs" },
		},
		{
			"§3.3 add a single-value string attribute, with flag", sampleUser, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "add", "path": "nickName", "value": "Babs"}]}`,
			func(r map[string]any) { r["nickName"] = "Babs" },
		},
		{
			"§3.3 replace multiple attributes, without flag", sampleUser, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [
				{"op": "Replace", "path": "displayName", "value": "Pvlo"},
				{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com"},
				{"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
				{"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
				{"op": "Replace", "path": "externalId", "value": "Eqpj"},
				{"op": "Replace", "path": "` + ent + `:employeeNumber", "value": "Eqpj"}]}`,
			func(r map[string]any) {
				r["displayName"] = "Pvlo"
				r["emails"].([]any)[0].(map[string]any)["value"] = "TestBcwqnm@test.microsoft.com"
				r["name"].(map[string]any)["givenName"] = "Gtfd"
				r["name"].(map[string]any)["familyName"] = "Pkqf"
				r["externalId"] = "Eqpj"
				ext(r)["employeeNumber"] = "Eqpj"
			},
		},
		{
			"§3.3 replace multiple attributes, with flag (dotted and URN keys)", sampleUser, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [
				{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com"},
				{"op": "replace", "value": {
					"displayName": "Bjfe",
					"name.givenName": "Kkom",
					"name.familyName": "Unua",
					"` + ent + `:employeeNumber": "Aklq"}}]}`,
			func(r map[string]any) {
				r["emails"].([]any)[0].(map[string]any)["value"] = "TestMhvaes@test.microsoft.com"
				r["displayName"] = "Bjfe"
				r["name"].(map[string]any)["givenName"] = "Kkom"
				r["name"].(map[string]any)["familyName"] = "Unua"
				ext(r)["employeeNumber"] = "Aklq"
			},
		},
		{
			"§3.3 remove a group member, without flag", sampleGroup, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "Remove", "path": "members", "value": [{"value": "u1091"}]}]}`,
			func(r map[string]any) { r["members"] = r["members"].([]any)[1:] },
		},
		{
			"§3.3 remove group members, without flag, several with $ref null", sampleGroup, body(
				`{"op": "Remove", "path": "members", "value": [{"value": "u1091", "$ref": null}, {"value": "u2", "$ref": null}]}`),
			func(r map[string]any) { r["members"] = r["members"].([]any)[2:] },
		},
		{
			"§3.3 remove a group member, with flag", sampleGroup, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "remove", "path": "members[value eq \"u2\"]"}]}`,
			func(r map[string]any) { m := r["members"].([]any); r["members"] = []any{m[0], m[2]} },
		},
		{
			"§3.4 remove a group member, with flag", sampleGroup, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "remove", "path": "members[value eq \"16b083c0-f1e8-4544-b6ee-27a28dc98761\"]"}]}`,
			func(r map[string]any) { r["members"] = r["members"].([]any)[:2] },
		},
		{
			"§3.4 add a group member, with flag", sampleGroup, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "add", "path": "members", "value": [{"value": "10263a6910a84ef9a581dd9b8dcc0eae"}]}]}`,
			func(r map[string]any) {
				r["members"] = append(r["members"].([]any), map[string]any{"value": "10263a6910a84ef9a581dd9b8dcc0eae"})
			},
		},
		{
			"§3.4 replace email, primary, and path-less active with userName", sampleUser, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [
				{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "someone@contoso.com"},
				{"op": "replace", "path": "emails[type eq \"work\"].primary", "value": true},
				{"op": "replace", "value": {"active": false, "userName": "someone"}}]}`,
			func(r map[string]any) {
				r["emails"].([]any)[0].(map[string]any)["value"] = "someone@contoso.com"
				r["active"] = false
				r["userName"] = "someone"
			},
		},
		{
			"§3.4 disable user, with flag", sampleUser, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "replace", "path": "active", "value": false}]}`,
			func(r map[string]any) { r["active"] = false },
		},
		{
			"§3.4 add department, with flag", sampleUser, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [{"op": "add", "path": "` + ent + `:department", "value": "Tech Infrastructure"}]}`,
			func(r map[string]any) { ext(r)["department"] = "Tech Infrastructure" },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkApply(t, tc.sample, tc.body, edit(t, tc.sample, tc.want))
		})
	}
}

func checkApply(t *testing.T, sample, in string, want map[string]any) {
	t.Helper()
	ops, err := patch.Parse([]byte(in))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := decodeJSON(t, sample)
	if err := patch.Apply(got, ops); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("after Apply\n got %s\nwant %s", g, w)
	}
}
