package filter

import (
	"reflect"
	"strings"
	"testing"
)

type pathCase struct {
	name  string
	in    string
	want  Path
	canon string // expected String(); "" means same as in
}

var pathCases = []pathCase{
	{"simple", `userName`, attr("userName"), ""},
	{"sub-attribute", `name.givenName`, sub("name", "givenName"), ""},
	{"multi-valued", `members`, attr("members"), ""},
	{"active", `active`, attr("active"), ""},
	{"surrounding space", "  userName\t", attr("userName"), `userName`},
	{"case kept", `EMAILS[TYPE EQ "work"].VALUE`, vsub("EMAILS", cmp(attr("TYPE"), Eq, "work"), "VALUE"), `EMAILS[TYPE eq "work"].VALUE`},

	// RFC 7644 §3.5.2 PATH = attrPath / valuePath [subAttr].
	{
		"value path", `members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
		vpath("members", eq("value", "2819c223-7f76-453a-919d-413861904646")), "",
	},
	{"value path sub", `emails[type eq "work"].value`, vsub("emails", eq("type", "work"), "value"), ""},
	{
		"value path and", `emails[type eq "work" and primary eq true].value`,
		vsub("emails", and(eq("type", "work"), eq("primary", true)), "value"), "",
	},
	{"value path not", `emails[not (type eq "home")]`, vpath("emails", not(eq("type", "home"))), ""},
	{"value path pr", `addresses[postalCode pr]`, vpath("addresses", pr("postalCode")), ""},
	{"value path number", `x[n ge 10]`, vpath("x", cmp(attr("n"), Ge, num("10"))), ""},
	{"value path spaces", `emails[  type eq "work"  ].value`, vsub("emails", eq("type", "work"), "value"), `emails[type eq "work"].value`},

	// URN paths (RFC 7644 §3.10).
	{"enterprise department", enterprise + `:department`, urnAttr(enterprise, "department"), ""},
	{"enterprise employeeNumber", enterprise + `:employeeNumber`, urnAttr(enterprise, "employeeNumber"), ""},
	{"enterprise manager", enterprise + `:manager`, urnAttr(enterprise, "manager"), ""},
	{"enterprise manager.value", enterprise + `:manager.value`, Path{URN: enterprise, Attr: "manager", SubAttr: "value"}, ""},
	{"core userName", coreUser + `:userName`, urnAttr(coreUser, "userName"), ""},
	{
		"core value path", coreUser + `:emails[type eq "work"].value`,
		Path{URN: coreUser, Attr: "emails", Filter: eq("type", "work"), SubAttr: "value"},
		"",
	},
	{
		"urn upper", `URN:IETF:params:scim:schemas:core:2.0:User:userName`,
		urnAttr("URN:IETF:params:scim:schemas:core:2.0:User", "userName"), "",
	},
	// A path that is only a schema URN has no way to be told apart from
	// URN ":" ATTRNAME; callers that accept extension-wide paths must
	// recognise URN+":"+Attr themselves.
	{"bare extension urn", enterprise, urnAttr("urn:ietf:params:scim:schemas:extension:enterprise:2.0", "User"), ""},

	// $ref (RFC 7643 §2.4).
	{"$ref sub", `members.$ref`, sub("members", "$ref"), ""},
	{"$ref in filter", `members[$ref eq "https://example.com/v2/Users/1"]`, vpath("members", eq("$ref", "https://example.com/v2/Users/1")), ""},
	{"value path $ref", `members[value eq "1"].$ref`, vsub("members", eq("value", "1"), "$ref"), ""},

	// Exactly what Entra ID sends (docs/entra-wire-reference.md §1, §3).
	{"entra email", `emails[type eq "work"].value`, vsub("emails", eq("type", "work"), "value"), ""},
	{"entra email primary", `emails[type eq "work"].primary`, vsub("emails", eq("type", "work"), "primary"), ""},
	{"entra familyName", `name.familyName`, sub("name", "familyName"), ""},
	{"entra nickName", `nickName`, attr("nickName"), ""},
	{
		"entra remove member", `members[value eq "7f4bc1a3-285e-48ae-8202-5accb43efb0e"]`,
		vpath("members", eq("value", "7f4bc1a3-285e-48ae-8202-5accb43efb0e")), "",
	},
	{
		"entra remove member 2021", `members[value eq "16b083c0-f1e8-4544-b6ee-27a28dc98761"]`,
		vpath("members", eq("value", "16b083c0-f1e8-4544-b6ee-27a28dc98761")), "",
	},
	{"entra remove manager", `manager[value eq "manager-id"]`, vpath("manager", eq("value", "manager-id")), ""},
	{"entra address", `addresses[type eq "work"].formatted`, vsub("addresses", eq("type", "work"), "formatted"), ""},
}

func TestParsePath(t *testing.T) {
	for _, tc := range pathCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePath(tc.in)
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParsePath(%q)\n got %#v\nwant %#v", tc.in, got, tc.want)
			}
			canon := tc.canon
			if canon == "" {
				canon = tc.in
			}
			if s := got.String(); s != canon {
				t.Errorf("String() = %q, want %q", s, canon)
			}
			again, err := ParsePath(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip of %q: %#v, %v", got.String(), again, err)
			}
		})
	}
}

var pathErrCases = []errCase{
	{"empty", ``, 0, "empty attribute path"},
	{"blank", `   `, 3, "empty attribute path"},
	{"two words", `user name`, 5, `unexpected "name", expected end of path`},
	{"filter expression", `userName eq "x"`, 9, `unexpected "eq", expected end of path`},
	{"nested value filter", `a[b[c eq 1]]`, 3, "nested value filters are not supported"},
	{"nested in sub", `emails[type eq "work" and x[y pr]]`, 27, "nested value filters are not supported"},
	{"unclosed bracket", `emails[type eq "work"`, 21, `expected "and", "or" or "]"`},
	{"extra bracket", `emails[type eq "work"]]`, 22, `unexpected "]"`},
	{"empty brackets", `emails[]`, 7, "expected an attribute path"},
	{"no operator in filter", `emails[type]`, 11, `expected an operator`},
	{"unquoted in filter", `members[value eq abc]`, 17, "must be quoted"},
	// Bare words are for ?filter= only: a PATCH path names what a write
	// changes, and member ids stay in the RFC's quoted form.
	{"unquoted member id", `members[value eq 2819c223-7f76-453a-919d-413861904646]`, 17, "must be quoted"},
	{"unquoted type", `emails[type eq work].value`, 15, `value "work" must be quoted`},
	{"junk after bracket", `emails[type eq "work"]value`, 22, `after "]"`},
	{"dot without name", `name.`, 5, "missing attribute name"},
	{"leading dot", `.name`, 0, "missing attribute name"},
	{"three levels", `a.b.c`, 0, "more than one sub-attribute"},
	{"filter on sub", `name.givenName[x pr]`, 14, "must follow the attribute name"},
	{"digit first", `1a`, 0, "must start with a letter"},
	{"paren", `a)`, 1, `unexpected ")"`},
	{"bare urn prefix", `urn:userName`, 0, `must be followed by ":"`},
	{"urn trailing colon", enterprise + `:`, len(enterprise) + 1, "missing attribute name"},
	{"old dotted extension", enterprise + `.employeeNumber.x`, len("urn:ietf:params:scim:schemas:extension:enterprise:2.0:"), "more than one sub-attribute"},
	{"quote", `"userName"`, 0, "expected an attribute path"},
	{"NUL", "user\x00Name", 4, "invalid character"},
	{"invalid utf8", "userName\xff", 8, "invalid UTF-8"},
	{"1 MB", strings.Repeat("a", 1<<20), 65536, "longer than the limit"},
	{"deep", "a[" + strings.Repeat("(", 10000), 66, "nested more than 64 levels"},
}

func TestParsePathErrors(t *testing.T) {
	for _, tc := range pathErrCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePath(tc.in)
			if err == nil {
				t.Fatalf("ParsePath(%.60q) = %#v, want error", tc.in, p)
			}
			checkError(t, tc.in, err, tc.pos, tc.msg)
		})
	}
}
