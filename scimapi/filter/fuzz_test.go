package filter

import (
	"errors"
	"reflect"
	"testing"
)

// bareSeeds are bare-word values at their edges, beyond the table cases:
// where a word ends, what may follow it, and near-literals.
var bareSeeds = []string{
	`a eq b]`, `a eq b)`, `a[b eq c]]`, `(a eq b))`, `a eq b\`, `a eq b\"`, `a eq "b" c`, `a eq b"`,
	`a eq TRUE1`, `a eq nulls`, `a eq -1x`, `a eq 1e5x`, `a eq 0x10`, `a eq \u0041`, `a eq é]`,
	"a eq b\tand c eq d\nor e eq f", `a eq b and(c eq d)`, `x[a eq b or a eq c].d eq e`,
	`a eq b andc eq d`, `a eq :`, `a eq .`, `a eq urn:x:y`, `a[b eq c d]`, `not(a eq b)`,
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in)
	}
	for _, s := range bareSeeds {
		f.Add(s)
	}
	for _, tc := range parseErrCases {
		if len(tc.in) <= 4096 { // keep the seed corpus small
			f.Add(tc.in)
		}
	}
	for _, tc := range pathCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			checkFuzzError(t, s, err)
			return
		}
		out := e.String()
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String() %q fails: %v", s, out, err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("Parse(%q).String() = %q reparses differently:\n got %#v\nwant %#v", s, out, again, e)
		}
		if out2 := again.String(); out2 != out {
			t.Fatalf("String() not canonical: %q then %q", out, out2)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, tc := range pathCases {
		f.Add(tc.in)
	}
	for _, tc := range pathErrCases {
		if len(tc.in) <= 4096 {
			f.Add(tc.in)
		}
	}
	for _, tc := range parseCases {
		f.Add(tc.in)
	}
	for _, s := range bareSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			checkFuzzError(t, s, err)
			return
		}
		out := p.String()
		again, err := ParsePath(out)
		if err != nil {
			t.Fatalf("ParsePath(%q) ok, but its String() %q fails: %v", s, out, err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("ParsePath(%q).String() = %q reparses differently:\n got %#v\nwant %#v", s, out, again, p)
		}
		if out2 := again.String(); out2 != out {
			t.Fatalf("String() not canonical: %q then %q", out, out2)
		}
	})
}

// checkFuzzError asserts the error contract callers rely on to build a SCIM
// error detail: always *Error, pointing inside (or just past) the input.
func checkFuzzError(t *testing.T, s string, err error) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error for %q is %T, want *Error", s, err)
	}
	if pe.Pos < 0 || pe.Pos > len(s) || pe.Msg == "" || pe.Input != s {
		t.Fatalf("bad *Error for %q: %+v", s, pe)
	}
}
