package patch_test

import (
	"encoding/json"
	"testing"

	"github.com/scimbridge/scimbridge/scimapi/patch"
)

// FuzzPatch: any body either fails to parse or applies to a user and a group
// without panicking, leaving JSON that still encodes.
func FuzzPatch(f *testing.F) {
	for _, s := range []string{
		body(`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"}`,
			`{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}`),
		body(`{"op":"Replace","path":"active","value":"False"}`),
		body(`{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom","` + ent + `:employeeNumber":"Aklq"}}`),
		body(`{"op":"replace","value":{"active":false,"userName":"someone"}}`),
		body(`{"op":"Remove","path":"members","value":[{"value":"u1091","$ref":null}]}`),
		body(`{"op":"remove","path":"members[value eq \"u2\" or value eq \"u1091\"]"}`),
		body(`{"op":"add","path":"members","value":[{"value":"x"},{"value":"x"}]}`),
		body(`{"op":"Add","path":"` + ent + `:manager","value":"271"}`),
		body(`{"op":"remove","path":"manager[value eq \"mgr-1\"]"}`),
		body(`{"op":"replace","path":"manager","value":""}`),
		body(`{"op":"Add","path":"manager","value":[{"$ref":"http://x/Users/1","value":"1"}]}`),
		body(`{"op":"add","path":"addresses[type eq \"work\" and primary eq true].locality","value":"Paris"}`),
		body(`{"op":"add","path":"emails[not (type eq \"work\")]","value":{"value":1.5e3}}`),
		body(`{"op":"replace","value":{"` + ent + `":{"manager":{"value":"m"}},"name":{"givenName":"G"}}}`),
		body(`{"op":"remove","path":"name.givenName"}`, `{"op":"add","path":"name","value":"flat"}`,
			`{"op":"add","path":"name.familyName","value":"F"}`),
		`{"Operations":[{"op":"add","path":"emails","value":{"type":"work"}}]}`,
		`not json`,
		// Keys that differ only in case: refused at any level.
		body(`{"op":"add","Op":"remove","path":"title","value":"x"}`),
		body(`{"op":"replace","value":{"name":{"givenName":"a","GivenName":"b"}}}`),
		`{"OPERATIONS":[{"OP":"Remove","PATH":"title"}],"SCHEMAS":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`,
		`{"Operations":[null,{"op":"remove","path":"x"}]}`, `null`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ops, err := patch.Parse(b)
		if err != nil {
			return
		}
		for _, sample := range []string{sampleUser, sampleGroup} {
			res := decodeJSON(t, sample)
			if err := patch.Apply(res, ops); err != nil {
				continue
			}
			if _, err := json.Marshal(res); err != nil {
				t.Fatalf("result of %q does not encode: %v", b, err)
			}
		}
	})
}
