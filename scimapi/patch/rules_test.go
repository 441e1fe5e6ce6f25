package patch_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scimapi/patch"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// TestApplyRules covers the readings of RFC 7644 §3.5.2 that Entra and its
// validator rely on (docs/entra-wire-reference.md §3.5 and §7).
func TestApplyRules(t *testing.T) {
	noWork := strings.Replace(sampleUser, `"type": "work"`, `"type": "other"`, 1)
	for _, tc := range []struct {
		name   string
		sample string
		body   string
		want   func(r map[string]any)
	}{
		{
			"filtered replace creates the missing element (§3.5)", noWork,
			body(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@x"}`),
			func(r map[string]any) {
				r["emails"] = append(r["emails"].([]any), map[string]any{"type": "work", "value": "new@x"})
			},
		},
		{
			"filtered add creates the missing element (§3.5)", noWork,
			body(`{"op":"Add","path":"emails[type eq \"work\"].value","value":"new@x"}`),
			func(r map[string]any) {
				r["emails"] = append(r["emails"].([]any), map[string]any{"type": "work", "value": "new@x"})
			},
		},
		{
			"two ops on one filtered element land in one element (§3.5)", noWork, body(
				`{"op":"add","path":"emails[type eq \"work\"].value","value":"new@x"}`,
				`{"op":"add","path":"emails[type eq \"work\"].primary","value":true}`),
			func(r map[string]any) {
				r["emails"] = append(r["emails"].([]any), map[string]any{"type": "work", "value": "new@x", "primary": true})
			},
		},
		{
			"three address sub-attributes land in one element (§3.5)", sampleUser, body(
				`{"op":"add","path":"addresses[type eq \"work\"].formatted","value":"1 Main St"}`,
				`{"op":"add","path":"addresses[type eq \"work\"].locality","value":"Paris"}`,
				`{"op":"add","path":"addresses[type eq \"work\"].region","value":"IDF"}`),
			func(r map[string]any) {
				r["addresses"] = []any{map[string]any{"type": "work", "formatted": "1 Main St", "locality": "Paris", "region": "IDF"}}
			},
		},
		{
			"filtered replace keeps the other emails (§3.5)", sampleUser,
			body(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@x"}`),
			func(r map[string]any) { r["emails"].([]any)[0].(map[string]any)["value"] = "new@x" },
		},
		{
			"filter matches case-insensitively", sampleUser,
			body(`{"op":"replace","path":"EMAILS[TYPE eq \"WORK\"].Value","value":"new@x"}`),
			func(r map[string]any) { r["emails"].([]any)[0].(map[string]any)["value"] = "new@x" },
		},
		{
			"path-less active alone keeps everything else (§7.4)", sampleUser,
			body(`{"op":"replace","value":{"active":false}}`),
			func(r map[string]any) { r["active"] = false },
		},
		{
			"path-less complex value replaces only its sub-attributes", sampleUser,
			body(`{"op":"replace","value":{"name":{"givenName":"G"}}}`),
			func(r map[string]any) { r["name"].(map[string]any)["givenName"] = "G" },
		},
		{
			"path-less extension object", sampleUser,
			body(`{"op":"replace","value":{"` + ent + `":{"department":"Sales"}}}`),
			func(r map[string]any) { ext(r)["department"] = "Sales" },
		},
		{
			"replace with empty string clears (§3.5)", sampleUser,
			body(`{"op":"replace","path":"displayName","value":""}`),
			func(r map[string]any) { delete(r, "displayName") },
		},
		{
			"replace with null clears (§3.5)", sampleUser,
			body(`{"op":"replace","path":"displayName","value":null}`),
			func(r map[string]any) { delete(r, "displayName") },
		},
		{
			"path-less replace with empty and null clears", sampleUser,
			body(`{"op":"replace","value":{"displayName":"","name.givenName":null}}`),
			func(r map[string]any) { delete(r, "displayName"); delete(r["name"].(map[string]any), "givenName") },
		},
		{
			"validator clears the manager with an empty string (§3.5)", sampleUser,
			body(`{"op":"replace","path":"manager","value":""}`),
			func(r map[string]any) { delete(ext(r), "manager") },
		},
		{
			"clearing the manager by URN", sampleUser,
			body(`{"op":"replace","path":"` + ent + `:manager","value":null}`),
			func(r map[string]any) { delete(ext(r), "manager") },
		},
		{
			"remove a sub-attribute", sampleUser, body(`{"op":"remove","path":"name.familyName"}`),
			func(r map[string]any) { delete(r["name"].(map[string]any), "familyName") },
		},
		{
			"remove a filtered element", sampleUser, body(`{"op":"remove","path":"emails[type eq \"home\"]"}`),
			func(r map[string]any) { r["emails"] = r["emails"].([]any)[:1] },
		},
		{
			"remove an absent attribute is a no-op", sampleUser, body(`{"op":"remove","path":"nickName"}`),
			func(r map[string]any) {},
		},
		{
			"members remove with a value list keeps the rest (§3.3)", sampleGroup,
			body(`{"op":"remove","path":"members","value":[{"value":"u2"}]}`),
			func(r map[string]any) { m := r["members"].([]any); r["members"] = []any{m[0], m[2]} },
		},
		{
			"members remove with a filter", sampleGroup, body(`{"op":"remove","path":"members[value eq \"u1091\"]"}`),
			func(r map[string]any) { r["members"] = r["members"].([]any)[1:] },
		},
		{
			"members remove with an or filter", sampleGroup,
			body(`{"op":"remove","path":"members[value eq \"u1091\" or value eq \"u2\"]"}`),
			func(r map[string]any) { r["members"] = r["members"].([]any)[2:] },
		},
		{
			"members remove of the last member removes the attribute", `{"members":[{"value":"a"}]}`,
			body(`{"op":"remove","path":"members","value":[{"value":"a"}]}`),
			func(r map[string]any) { delete(r, "members") },
		},
		{
			"members add is idempotent (§7.14)", sampleGroup,
			body(`{"op":"add","path":"members","value":[{"value":"u2"},{"value":"new"},{"value":"new"}]}`),
			func(r map[string]any) { r["members"] = append(r["members"].([]any), map[string]any{"value": "new"}) },
		},
		{
			"members add keeps members that share a type", `{"members":[{"value":"a","type":"User"}]}`,
			body(`{"op":"add","path":"members","value":[{"value":"b","type":"User"}]}`),
			func(r map[string]any) {
				r["members"] = append(r["members"].([]any), map[string]any{"value": "b", "type": "User"})
			},
		},
		{
			"members add of a single object appends", sampleGroup,
			body(`{"op":"add","path":"members","value":{"value":"new"}}`),
			func(r map[string]any) { r["members"] = append(r["members"].([]any), map[string]any{"value": "new"}) },
		},
		{
			"add of a typed element replaces the element of that type", sampleUser,
			body(`{"op":"add","path":"emails","value":[{"type":"work","value":"w2@x"}]}`),
			func(r map[string]any) { r["emails"].([]any)[0] = map[string]any{"type": "work", "value": "w2@x"} },
		},
		{
			"names keep the client's spelling", `{"UserName":"a"}`, body(`{"op":"replace","path":"userName","value":"b"}`),
			func(r map[string]any) { r["UserName"] = "b" },
		},
		{
			"core URN path", sampleUser,
			body(`{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:displayName","value":"X"}`),
			func(r map[string]any) { r["displayName"] = "X" },
		},
		{
			"remove of the manager with its value list (old dialect)", sampleUser,
			body(`{"op":"Remove","path":"manager","value":[{"value":"mgr-1"}]}`),
			func(r map[string]any) { delete(ext(r), "manager") },
		},
		{
			"remove of a stale manager value keeps the current one", sampleUser,
			body(`{"op":"Remove","path":"manager","value":[{"value":"someone-else"}]}`),
			func(r map[string]any) {},
		},
		{
			"remove of an absent manager adds no empty extension", `{"userName":"a"}`,
			body(`{"op":"remove","path":"manager[value eq \"m\"]"}`),
			func(r map[string]any) {},
		},
		{
			"extension created on demand", `{"userName":"a"}`,
			body(`{"op":"add","path":"` + ent + `:department","value":"D"}`),
			func(r map[string]any) { r[ent] = map[string]any{"department": "D"} },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkApply(t, tc.sample, tc.body, edit(t, tc.sample, tc.want))
		})
	}
}

func TestApplyErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		kind scimerr.Kind
	}{
		{
			"filter that describes no element", body(`{"op":"add","path":"emails[value co \"zzz\"].type","value":"work"}`),
			scimerr.NoTarget,
		},
		{
			"filtered path without sub-attribute needs an object", body(`{"op":"add","path":"emails[type eq \"work\"]","value":"x"}`),
			scimerr.InvalidValue,
		},
		{
			"remove with values lacking value", body(`{"op":"remove","path":"emails","value":[{"display":"x"}]}`),
			scimerr.InvalidValue,
		},
		{"extension key that is not an object", body(`{"op":"replace","value":{"` + ent + `":"x"}}`), scimerr.InvalidValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := patch.Parse([]byte(tc.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = patch.Apply(decodeJSON(t, sampleUser), ops)
			if err == nil || scimerr.KindOf(err) != tc.kind {
				t.Fatalf("Apply: err = %v (kind %d), want kind %d", err, scimerr.KindOf(err), tc.kind)
			}
		})
	}
}
