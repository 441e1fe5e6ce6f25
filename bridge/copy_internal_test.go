package bridge

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// deepCopy must give what the JSON round trip it replaced gave, and a copy
// that shares nothing with the original.
func TestDeepCopy(t *testing.T) {
	for _, body := range []string{
		`{}`,
		`{"userName":"a","active":true,"n":12.50,"emails":[{"type":"work","value":"a@x","primary":true}],"name":{"givenName":"A"},"x":null}`,
		`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"id"}},"roles":[],"members":[{"value":"1"},{"value":"2"}]}`,
	} {
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		var orig map[string]any
		if err := dec.Decode(&orig); err != nil {
			t.Fatal(err)
		}
		got := deepCopy(orig)
		if !reflect.DeepEqual(got, orig) {
			t.Errorf("%s: copy %v differs from %v", body, got, orig)
		}
		mutate(got)
		again := map[string]any{}
		dec = json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		_ = dec.Decode(&again)
		if !reflect.DeepEqual(orig, again) {
			t.Errorf("%s: changing the copy changed the original: %v", body, orig)
		}
	}
	// Typed Go values a caller put in come out as decoded JSON would.
	got := deepCopy(map[string]any{"ids": []string{"a"}, "n": 3})
	want := map[string]any{"ids": []any{"a"}, "n": json.Number("3")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("typed values: got %#v, want %#v", got, want)
	}
}

func mutate(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			mutate(e)
			t[k+"!"] = "added"
		}
	case []any:
		for i, e := range t {
			mutate(e)
			t[i] = "changed"
		}
	}
}
