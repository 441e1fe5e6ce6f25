package scimjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

func decodeString(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	return Decode(dec)
}

const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// TestDecodeDuplicateKeys: keys equal but for case at one level are an
// invalidSyntax error naming both and where they are; before, the body was
// accepted and which one counted depended on map order.
func TestDecodeDuplicateKeys(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		detail   string // exact
	}{
		{
			"top level", `{"userName":"a","UserName":"b"}`,
			`keys "UserName" and "userName" at the top level of the body differ only in case; ` +
				`attribute names are case-insensitive (RFC 7643 §2.1), so send one of them`,
		},
		{
			"in name", `{"userName":"a","name":{"givenName":"x","GIVENNAME":"y"}}`,
			`keys "GIVENNAME" and "givenName" in name differ only in case; ` +
				`attribute names are case-insensitive (RFC 7643 §2.1), so send one of them`,
		},
		{
			"in enterprise extension", `{"userName":"a","` + ent + `":{"department":"x","Department":"y"}}`,
			`keys "Department" and "department" in ` + ent + ` differ only in case; ` +
				`attribute names are case-insensitive (RFC 7643 §2.1), so send one of them`,
		},
		{
			"in an array element", `{"emails":[{"value":"a"},{"value":"b","Value":"c"}]}`,
			`keys "Value" and "value" in emails[1] differ only in case; ` +
				`attribute names are case-insensitive (RFC 7643 §2.1), so send one of them`,
		},
		{
			"in a PATCH value", `{"Operations":[{"op":"replace","value":{"name":{"familyName":"a","familyname":"b"}}}]}`,
			`keys "familyName" and "familyname" in Operations[0].value.name differ only in case; ` +
				`attribute names are case-insensitive (RFC 7643 §2.1), so send one of them`,
		},
		{
			"PATCH member names", `{"Operations":[{"op":"add","Op":"remove","path":"title"}]}`,
			`keys "Op" and "op" in Operations[0] differ only in case; ` +
				`attribute names are case-insensitive (RFC 7643 §2.1), so send one of them`,
		},
		{"odd key in path", `{"a b":{"x":1,"X":2}}`, `keys "X" and "x" in ["a b"] differ only in case; ` +
			`attribute names are case-insensitive (RFC 7643 §2.1), so send one of them`},
		{
			"Unicode folding, as strings.EqualFold", `{"uſerName":"a","userName":"b"}`,
			`keys "userName" and "uſerName" at the top level of the body differ only in case; ` +
				`attribute names are case-insensitive (RFC 7643 §2.1), so send one of them`,
		},
		{
			"Kelvin sign", `{"k":1,"K":2}`,
			`keys "K" and "k" at the top level of the body differ only in case; ` +
				`attribute names are case-insensitive (RFC 7643 §2.1), so send one of them`,
		},
		{
			"after many keys (map mode)", `{` + manyKeys(40) + `,"K39":1}`,
			`keys "K39" and "k39" at the top level of the body differ only in case; ` +
				`attribute names are case-insensitive (RFC 7643 §2.1), so send one of them`,
		},
		{
			"long key shortened", `{"` + strings.Repeat("a", 100) + `":1,"` + strings.Repeat("A", 100) + `":2}`,
			`keys "` + strings.Repeat("A", 64) + `"... and "` + strings.Repeat("a", 64) + `"... at the top level of the body ` +
				`differ only in case; attribute names are case-insensitive (RFC 7643 §2.1), so send one of them`,
		},
		{
			"deep path shortened", strings.Repeat(`[`, 20) + `{"a":1,"A":2}` + strings.Repeat(`]`, 20),
			`keys "A" and "a" in ` + strings.Repeat("[0]", 16) + `... differ only in case; ` +
				`attribute names are case-insensitive (RFC 7643 §2.1), so send one of them`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := decodeString(tc.in)
			if err == nil {
				t.Fatalf("accepted: %v", v)
			}
			var se *scimerr.Error
			if !errors.As(err, &se) || se.Kind != scimerr.InvalidSyntax {
				t.Fatalf("error %v (%T), want scimerr InvalidSyntax", err, err)
			}
			if se.Detail != tc.detail {
				t.Errorf("detail\n got %s\nwant %s", se.Detail, tc.detail)
			}
		})
	}
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	return b.String()
}

// TestDecodeLikeEncodingJSON: apart from duplicates, Decode gives what
// encoding/json's Decode into an any gives, numbers as json.Number, and
// fails where it fails.
func TestDecodeLikeEncodingJSON(t *testing.T) {
	for _, in := range decodeSeeds {
		t.Run(in, func(t *testing.T) { compareWithEncodingJSON(t, []byte(in)) })
	}
}

var decodeSeeds = []string{
	`{}`, `[]`, `null`, `true`, `"x"`, `12345678901234567890`, `-1.5e-300`,
	`{"userName":"bjensen","name":{"givenName":"B","familyName":"J"},"emails":[{"value":"a@b","primary":true}]}`,
	`{"a":{"b":{"c":[1,[2,[3,{}]]]}}}`, `{"a":null,"b":[null]}`, `{"":1,"A":2,"a ":3}`,
	`{"name":{"x":1},"Name2":{"x":2}}`, // equal keys in different objects are fine
	`{"a":"\u00e9","\u00e9":1}`, `{"a":1}   `, ` {"a":1}`,
	// Malformed: both must fail.
	``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a":1 "b":2}`, `{1:2}`, `{"a"::1}`,
	`{"a":1]`, `[}`, `{"NAme":"","nAme"0`, `{"a":tru}`, `"abc`, `{"a":"\x"}`, `[01]`, `{,}`, `[,1]`, `{"a":1}}`, `}`, `]`,
}

func compareWithEncodingJSON(t *testing.T, in []byte) {
	t.Helper()
	got, err := decodeString(string(in))
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var want any
	wantErr := dec.Decode(&want)
	var se *scimerr.Error
	switch {
	case err != nil && errors.As(err, &se):
		// A duplicate is reported where it is found, so encoding/json may
		// accept the body or fail on something after it; nesting beyond its
		// limit it refuses too.
		if se.Kind != scimerr.InvalidSyntax || (strings.Contains(se.Detail, "nested") && wantErr == nil) {
			t.Fatalf("%q: %v, encoding/json: %v", in, err, wantErr)
		}
	case (err == nil) != (wantErr == nil):
		t.Fatalf("%q: Decode error %v, encoding/json error %v", in, err, wantErr)
	case err == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("%q: Decode %#v, encoding/json %#v", in, got, want)
	}
}

// FuzzDecode: Decode agrees with encoding/json on every input but those with
// duplicate keys, and never panics.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"userName":"a","UserName":"b"}`))
	f.Add([]byte(`{"Operations":[{"op":"add","value":{"a":1,"A":2}}]}`))
	f.Fuzz(func(t *testing.T, in []byte) { compareWithEncodingJSON(t, in) })
}

// TestDecodeReadErrors: the reader's error comes back as is, so the caller
// still answers an *http.MaxBytesError with 413 rather than 400.
func TestDecodeReadErrors(t *testing.T) {
	for _, body := range []string{
		`{"userName":"` + strings.Repeat("a", 100) + `"}`,
		`{"a":[` + strings.Repeat(`1,`, 100) + `1]}`,
		`{` + manyKeys(50) + `}`,
	} {
		r := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader(body)), 40)
		dec := json.NewDecoder(r)
		dec.UseNumber()
		_, err := Decode(dec)
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			t.Errorf("%.30s...: error %v (%T), want *http.MaxBytesError", body, err, err)
		}
	}
}

// TestDecodeExactRepeat: an exactly repeated key is read as encoding/json
// reads it (the last one counts), the same on every request.
func TestDecodeExactRepeat(t *testing.T) {
	v, err := decodeString(`{"userName":"a","title":"x","userName":"b"}`)
	if err != nil {
		t.Fatal(err)
	}
	if m := v.(map[string]any); m["userName"] != "b" || m["title"] != "x" {
		t.Errorf("got %v, want the last userName", m)
	}
}

// TestFoldKey: foldKey meets exactly where strings.EqualFold does, which is
// what Lookup and KeyOf use, so the map mode of keySet finds the same
// duplicates as the list mode.
func TestFoldKey(t *testing.T) {
	samples := []string{
		"a", "A", "k", "K", "\u212a", "s", "S", "\u017f", "ß", "ẞ", "σ", "Σ", "ς",
		"ǅ", "ǆ", "Ǆ", "µ", "μ", "Μ", "i", "I", "İ", "ı", "\ufffd", "1", "$", "é", "É",
	}
	for _, a := range samples {
		for _, b := range samples {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Errorf("%q vs %q: foldKey equal %v, EqualFold %v", a, b, got, want)
			}
		}
	}
}

// BenchmarkDecode compares Decode with encoding/json's Decode into an any
// on a typical Entra user body: Decode runs on every POST, PUT and PATCH.
func BenchmarkDecode(b *testing.B) {
	body := []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + ent + `"],
		"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
		"active":true,"displayName":"Test User","title":"Engineer","preferredLanguage":"en-US",
		"emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b@testuser.com"}],
		"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},
		"addresses":[{"type":"work","streetAddress":"1 Main St","locality":"Redmond","postalCode":"98052","country":"US"}],
		"phoneNumbers":[{"type":"work","value":"+1 425 555 0100"},{"type":"mobile","value":"+1 425 555 0101"}],
		"` + ent + `":{"employeeNumber":"701984","department":"Tech Infrastructure","manager":{"value":"271"}}}`)
	b.Run("scimjson.Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if _, err := Decode(dec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
