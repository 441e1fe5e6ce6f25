package patch_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scimapi/patch"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// body wraps operations in a PATCH request.
func body(ops ...string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string // Operation.String() of each
	}{
		{
			"capitalised ops (Entra default dialect)", body(
				`{"op":"Add","path":"nickName","value":"Babs"}`,
				`{"op":"Replace","path":"userName","value":"x"}`,
				`{"op":"Remove","path":"members","value":[{"value":"u1091"}]}`),
			[]string{"add nickName", "replace userName", "remove members"},
		},
		{"any case and spaces", body(`{"op":" REPLACE ","path":" title ","value":"x"}`), []string{"replace title"}},
		{"path-less replace", body(`{"op":"replace","value":{"active":false}}`), []string{"replace"}},
		{
			"filtered path", body(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"a@b"}`),
			[]string{`replace emails[type eq "work"].value`},
		},
		{
			"URN path", body(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"271"}`),
			[]string{"add urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"},
		},
		{"no schemas is tolerated", `{"Operations":[{"op":"remove","path":"title"}]}`, []string{"remove title"}},
		{"empty path is no path", body(`{"op":"add","path":"","value":{"title":"x"}}`), []string{"add"}},
		{"member names in any case", `{"OPERATIONS":[{"OP":"Remove","PATH":"title"}]}`, []string{"remove title"}},
		{
			"unknown members ignored", `{"Operations":[{"op":"remove","path":"title","x":1}],"x":[]}`,
			[]string{"remove title"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := patch.Parse([]byte(tc.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var got []string
			for _, op := range ops {
				got = append(got, op.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	ops, err := patch.Parse([]byte(body(
		`{"op":"add","path":"x","value":12345678901234567890}`,
		`{"op":"replace","path":"active","value":"False"}`,
		`{"op":"replace","path":"title","value":null}`)))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := ops[0].Value.(json.Number); !ok || v.String() != "12345678901234567890" {
		t.Errorf("number value = %#v, want json.Number", ops[0].Value)
	}
	if ops[1].Value != "False" {
		t.Errorf("string boolean = %#v, want kept as sent", ops[1].Value)
	}
	if ops[2].Value != nil {
		t.Errorf("null = %#v, want nil", ops[2].Value)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		kind scimerr.Kind
	}{
		{"not JSON", `{"Operations":`, scimerr.InvalidSyntax},
		{"Operations not a list", `{"Operations":{}}`, scimerr.InvalidSyntax},
		{"empty Operations", body(), scimerr.InvalidSyntax},
		{"no Operations", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, scimerr.InvalidSyntax},
		{
			"wrong schema", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"remove","path":"x"}]}`,
			scimerr.InvalidSyntax,
		},
		{"unknown op", body(`{"op":"move","path":"title","value":"x"}`), scimerr.InvalidSyntax},
		{"missing op", body(`{"path":"title","value":"x"}`), scimerr.InvalidSyntax},
		{"bad path", body(`{"op":"replace","path":"emails[type eq \"work\"","value":"x"}`), scimerr.InvalidPath},
		{"bad path characters", body(`{"op":"replace","path":"na me","value":"x"}`), scimerr.InvalidPath},
		{"remove without path", body(`{"op":"remove"}`), scimerr.NoTarget},
		{"remove with empty path", body(`{"op":"Remove","path":"  "}`), scimerr.NoTarget},
		{"path-less add with a string", body(`{"op":"add","value":"x"}`), scimerr.InvalidValue},
		{"path-less replace without value", body(`{"op":"replace"}`), scimerr.InvalidValue},
		{"too many operations", body(strings.Repeat(`{"op":"remove","path":"x"},`, patch.MaxOperations) +
			`{"op":"remove","path":"x"}`), scimerr.TooMany},
		// Wrong JSON types, refused as encoding/json refused them.
		{"body not an object", `[{"op":"remove","path":"x"}]`, scimerr.InvalidSyntax},
		{"operation not an object", `{"Operations":[1]}`, scimerr.InvalidSyntax},
		{"op not a string", body(`{"op":1,"path":"x"}`), scimerr.InvalidSyntax},
		{"path not a string", body(`{"op":"remove","path":["x"]}`), scimerr.InvalidSyntax},
		{"schemas not a list", `{"schemas":"x","Operations":[{"op":"remove","path":"x"}]}`, scimerr.InvalidSyntax},
		{"null body", `null`, scimerr.InvalidSyntax},
		{"null operation", `{"Operations":[null]}`, scimerr.InvalidSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := patch.Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("Parse accepted %s: %v", tc.in, ops)
			}
			if got := scimerr.KindOf(err); got != tc.kind {
				t.Fatalf("error %q has kind %d, want %d", err, got, tc.kind)
			}
		})
	}
}

// TestParseDuplicateKeys: keys that differ only in case at one level, in the
// request, an operation or its value, are invalidSyntax naming both (in byte
// order: the decoded object has no order); before,
// {"op":"add","Op":"remove"} or two spellings of one attribute in a
// path-less value were read in map order.
func TestParseDuplicateKeys(t *testing.T) {
	for _, tc := range []struct {
		name, in, detail string
	}{
		{
			"op twice", body(`{"op":"add","Op":"remove","path":"title","value":"x"}`),
			`keys "Op" and "op" in Operations[0] differ only in case`,
		},
		{
			"path twice", body(`{"op":"remove","path":"title","PATH":"nickName"}`),
			`keys "PATH" and "path" in Operations[0]`,
		},
		{"value twice", body(`{"op":"add","path":"title","value":"x","Value":"y"}`), `keys "Value" and "value"`},
		{
			"Operations twice", `{"Operations":[{"op":"remove","path":"x"}],"operations":[]}`,
			`keys "Operations" and "operations" at the top level`,
		},
		{
			"attribute in a path-less value", body(`{"op":"replace","value":{"userName":"a","UserName":"b"}}`),
			`keys "UserName" and "userName" in Operations[0].value`,
		},
		{
			"sub-attribute", body(`{"op":"replace","value":{"name":{"givenName":"a","givenname":"b"}}}`),
			`keys "givenName" and "givenname" in Operations[0].value.name`,
		},
		{
			"extension attribute", body(`{"op":"replace","value":{"` + ent + `":{"manager":"a","Manager":"b"}}}`),
			`keys "Manager" and "manager" in Operations[0].value.` + ent,
		},
		{
			"in a member list", body(`{"op":"add","path":"members","value":[{"value":"u1"},{"value":"u2","VALUE":"u3"}]}`),
			`keys "VALUE" and "value" in Operations[0].value[1]`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := patch.Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("accepted: %v", ops)
			}
			var se *scimerr.Error
			if !errors.As(err, &se) || se.Kind != scimerr.InvalidSyntax {
				t.Fatalf("error %v, want invalidSyntax", err)
			}
			if !strings.Contains(se.Detail, tc.detail) {
				t.Errorf("detail %q, want it to contain %q", se.Detail, tc.detail)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	ops, err := patch.Parse([]byte(body(`{"op":"replace","value":{
		"name.givenName":"Kkom",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Tech"},
		"name":{"familyName":"Unua"},
		"meta":{"version":"x"}, "id":"other", "schemas":[]}}`)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := patch.Expand(ops)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range out {
		got = append(got, op.String())
	}
	want := []string{
		"replace name.familyName",
		"replace name.givenName",
		"replace urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
		"replace urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Expand\n got %q\nwant %q", got, want)
	}
}

// TestApplyHandBuilt: operations that did not come from Parse fail cleanly.
func TestApplyHandBuilt(t *testing.T) {
	err := patch.Apply(map[string]any{}, []patch.Operation{{Op: "replace", Value: "not an object"}})
	if scimerr.KindOf(err) != scimerr.InvalidValue {
		t.Fatalf("path-less replace with a string: err = %v, want invalidValue", err)
	}
}
