package filter

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Helpers keep the expected ASTs readable.

func attr(name string) Path             { return Path{Attr: name} }
func sub(name, subAttr string) Path     { return Path{Attr: name, SubAttr: subAttr} }
func urnAttr(urn, name string) Path     { return Path{URN: urn, Attr: name} }
func vpath(name string, f Expr) Path    { return Path{Attr: name, Filter: f} }
func cmp(p Path, op Op, v any) *Compare { return &Compare{Path: p, Op: op, Value: v} }
func eq(name string, v any) *Compare    { return cmp(attr(name), Eq, v) }
func pr(name string) *Compare           { return cmp(attr(name), Pr, nil) }
func and(l, r Expr) *And                { return &And{Left: l, Right: r} }
func or(l, r Expr) *Or                  { return &Or{Left: l, Right: r} }
func not(x Expr) *Not                   { return &Not{X: x} }
func has(name string, f Expr) *Has      { return &Has{Path: vpath(name, f)} }
func num(s string) json.Number          { return json.Number(s) }
func vsub(name string, f Expr, s string) Path {
	return Path{Attr: name, Filter: f, SubAttr: s}
}

const (
	enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	coreUser   = "urn:ietf:params:scim:schemas:core:2.0:User"
)

type parseCase struct {
	name  string
	in    string
	want  Expr
	canon string // expected String(); "" means same as in
}

var parseCases = []parseCase{
	// Every operator (RFC 7644 §3.4.2.2 Table 3).
	{"eq", `userName eq "bjensen"`, eq("userName", "bjensen"), ""},
	{"ne", `userType ne "Employee"`, cmp(attr("userType"), Ne, "Employee"), ""},
	{"co", `name.familyName co "O'Malley"`, cmp(sub("name", "familyName"), Co, "O'Malley"), ""},
	{"sw", `userName sw "J"`, cmp(attr("userName"), Sw, "J"), ""},
	{"ew", `userName ew "son"`, cmp(attr("userName"), Ew, "son"), ""},
	{"gt", `meta.lastModified gt "2011-05-13T04:42:34Z"`, cmp(sub("meta", "lastModified"), Gt, "2011-05-13T04:42:34Z"), ""},
	{"ge", `meta.lastModified ge "2011-05-13T04:42:34Z"`, cmp(sub("meta", "lastModified"), Ge, "2011-05-13T04:42:34Z"), ""},
	{"lt", `meta.lastModified lt "2011-05-13T04:42:34Z"`, cmp(sub("meta", "lastModified"), Lt, "2011-05-13T04:42:34Z"), ""},
	{"le", `meta.lastModified le "2011-05-13T04:42:34Z"`, cmp(sub("meta", "lastModified"), Le, "2011-05-13T04:42:34Z"), ""},
	{"pr", `title pr`, pr("title"), ""},

	// Case-insensitive operators, keywords and literals.
	{"op upper", `userName EQ "x"`, eq("userName", "x"), `userName eq "x"`},
	{"op mixed", `userName Sw "x"`, cmp(attr("userName"), Sw, "x"), `userName sw "x"`},
	{"pr upper", `title PR`, pr("title"), `title pr`},
	{"and mixed", `a pr And b pr`, and(pr("a"), pr("b")), `a pr and b pr`},
	{"or upper", `a pr OR b pr`, or(pr("a"), pr("b")), `a pr or b pr`},
	{"not upper", `NOT (a pr)`, not(pr("a")), `not (a pr)`},
	{"true upper", `active eq TRUE`, eq("active", true), `active eq true`},
	{"false mixed", `active eq False`, eq("active", false), `active eq false`},
	{"null mixed", `title eq Null`, eq("title", nil), `title eq null`},

	// Values.
	{"true", `active eq true`, eq("active", true), ""},
	{"false", `active eq false`, eq("active", false), ""},
	{"null", `title eq null`, eq("title", nil), ""},
	{"int", `x eq 42`, eq("x", num("42")), ""},
	{"zero", `x eq 0`, eq("x", num("0")), ""},
	{"negative", `x gt -1`, cmp(attr("x"), Gt, num("-1")), ""},
	{"fraction", `x lt 1.5`, cmp(attr("x"), Lt, num("1.5")), ""},
	{"exponent", `x le -0.5E-3`, cmp(attr("x"), Le, num("-0.5E-3")), ""},
	{"big int kept exact", `x eq 123456789012345678901234567890`, eq("x", num("123456789012345678901234567890")), ""},
	{"empty string", `title eq ""`, eq("title", ""), ""},
	{"escaped quote", `title eq "a\"b"`, eq("title", `a"b`), ""},
	{"escaped backslash", `title eq "a\\b"`, eq("title", `a\b`), ""},
	{"unicode escape", `title eq "Jos\u00e9"`, eq("title", "José"), `title eq "José"`},
	{"raw utf8", `title eq "José 日本"`, eq("title", "José 日本"), ""},
	{"short escapes", `title eq "\/\b\f\n\r\t"`, eq("title", "/\b\f\n\r\t"), `title eq "/\b\f\n\r\t"`},
	{"surrogate pair", `title eq "\ud83d\ude00"`, eq("title", "😀"), `title eq "😀"`},
	{"lone surrogate", `title eq "\ud83dx"`, eq("title", "\uFFFDx"), "title eq \"\uFFFDx\""},
	{"escaped NUL", `title eq "a\u0000b"`, eq("title", "a\x00b"), ""},
	{
		"uri value", `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
		eq("schemas", enterprise), "",
	},

	// Precedence: not > and > or; and/or are left-associative.
	{"and binds tighter (right)", `a pr or b pr and c pr`, or(pr("a"), and(pr("b"), pr("c"))), ""},
	{"and binds tighter (left)", `a pr and b pr or c pr`, or(and(pr("a"), pr("b")), pr("c")), ""},
	{"and left-assoc", `a pr and b pr and c pr`, and(and(pr("a"), pr("b")), pr("c")), ""},
	{"or left-assoc", `a pr or b pr or c pr`, or(or(pr("a"), pr("b")), pr("c")), ""},
	{"not binds tighter", `not (a pr) and b pr`, and(not(pr("a")), pr("b")), ""},
	{"not over or", `not (a pr or b pr)`, not(or(pr("a"), pr("b"))), ""},
	{"not in or", `a pr or not (b pr)`, or(pr("a"), not(pr("b"))), ""},
	{"double not", `not (not (a pr))`, not(not(pr("a"))), ""},

	// Parentheses.
	{"group changes precedence", `(a pr or b pr) and c pr`, and(or(pr("a"), pr("b")), pr("c")), ""},
	{"group right and", `a pr and (b pr and c pr)`, and(pr("a"), and(pr("b"), pr("c"))), ""},
	{"group right or", `a pr or (b pr or c pr)`, or(pr("a"), or(pr("b"), pr("c"))), ""},
	{"group right or in and", `a pr and (b pr or c pr)`, and(pr("a"), or(pr("b"), pr("c"))), ""},
	{"redundant group", `((a pr))`, pr("a"), `a pr`},
	{"redundant and group", `(a pr and b pr) or c pr`, or(and(pr("a"), pr("b")), pr("c")), `a pr and b pr or c pr`},
	{"not without space", `not(a pr)`, not(pr("a")), `not (a pr)`},
	{"keyword before paren", `a pr and(b pr)`, and(pr("a"), pr("b")), `a pr and b pr`},

	// Whitespace leniency.
	{"runs of spaces", `  userName   eq    "x"  `, eq("userName", "x"), `userName eq "x"`},
	{"tabs and newlines", "a pr\tand\r\nb eq\t1", and(pr("a"), eq("b", num("1"))), `a pr and b eq 1`},
	{"space in parens", `( a pr )`, pr("a"), `a pr`},
	{"space in brackets", `emails[ type eq "work" ]`, has("emails", eq("type", "work")), `emails[type eq "work"]`},
	{"no space before string", `userName eq"x"`, eq("userName", "x"), `userName eq "x"`},

	// Value paths in filters.
	{"value path", `emails[type eq "work"]`, has("emails", eq("type", "work")), ""},
	{
		"value path complex", `emails[type eq "work" and value co "@example.com"]`,
		has("emails", and(eq("type", "work"), cmp(attr("value"), Co, "@example.com"))), "",
	},
	{
		"value path or value path", `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		or(has("emails", and(eq("type", "work"), cmp(attr("value"), Co, "@example.com"))),
			has("ims", and(eq("type", "xmpp"), cmp(attr("value"), Co, "@foo.com")))), "",
	},
	{
		"value path and attr", `userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		and(eq("userType", "Employee"), has("emails", and(eq("type", "work"), cmp(attr("value"), Co, "@example.com")))), "",
	},
	{"value path with not", `emails[not (type eq "work")]`, has("emails", not(eq("type", "work"))), ""},
	{
		"value path with parens", `emails[(type eq "a" or type eq "b") and primary eq true]`,
		has("emails", and(or(eq("type", "a"), eq("type", "b")), eq("primary", true))), `emails[(type eq "a" or type eq "b") and primary eq true]`,
	},
	{
		"value path sub compare", `emails[type eq "work"].primary eq true`,
		cmp(vsub("emails", eq("type", "work"), "primary"), Eq, true), "",
	},
	{
		"value path sub pr", `emails[type eq "work"].value pr`,
		cmp(vsub("emails", eq("type", "work"), "value"), Pr, nil), "",
	},
	{"value path in parens", `(members[value eq "x"])`, has("members", eq("value", "x")), `members[value eq "x"]`},

	// URN paths (RFC 7644 §3.10).
	{"core urn", `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, cmp(urnAttr(coreUser, "userName"), Sw, "J"), ""},
	{
		"enterprise department", enterprise + `:department eq "Tech Infrastructure"`,
		cmp(urnAttr(enterprise, "department"), Eq, "Tech Infrastructure"), "",
	},
	{"enterprise employeeNumber", enterprise + `:employeeNumber eq "Eqpj"`, cmp(urnAttr(enterprise, "employeeNumber"), Eq, "Eqpj"), ""},
	{
		"enterprise manager.value", enterprise + `:manager.value eq "x"`,
		cmp(Path{URN: enterprise, Attr: "manager", SubAttr: "value"}, Eq, "x"), "",
	},
	{
		"core name.givenName", coreUser + `:name.givenName eq "x"`,
		cmp(Path{URN: coreUser, Attr: "name", SubAttr: "givenName"}, Eq, "x"), "",
	},
	{
		"upper-case URN prefix", `URN:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`,
		eq("userName", "x").withURN("URN:ietf:params:scim:schemas:core:2.0:User"), "",
	},
	{
		"custom extension", `urn:ietf:params:scim:schemas:extension:Contoso:2.0:User:badge-id pr`,
		cmp(urnAttr("urn:ietf:params:scim:schemas:extension:Contoso:2.0:User", "badge-id"), Pr, nil), "",
	},
	{
		"urn inside value filter", `emails[` + coreUser + `:type eq "work"]`,
		has("emails", cmp(urnAttr(coreUser, "type"), Eq, "work")), "",
	},

	// $ref (RFC 7643 §2.4).
	{"$ref sub-attribute", `members.$ref eq "https://example.com/v2/Users/1"`, eq("members", "https://example.com/v2/Users/1").withSub("$ref"), ""},
	{"$ref in value filter", `members[$ref eq "x"]`, has("members", eq("$ref", "x")), ""},
	{"$Ref mixed case", `manager.$Ref pr`, cmp(sub("manager", "$Ref"), Pr, nil), ""},

	// Keywords are legal attribute names where no keyword is expected.
	{"attr named not", `not eq "x"`, eq("not", "x"), ""},
	{"attr named and", `a pr and and eq 1`, and(pr("a"), eq("and", num("1"))), ""},
	{"attr names with digits", `x-1_b2 eq 1`, eq("x-1_b2", num("1")), ""},

	// Exactly what Entra ID sends (docs/entra-wire-reference.md §1, §2, §3).
	{
		"entra userName", `userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"`,
		eq("userName", "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"), "",
	},
	{
		"entra test connection", `userName eq "7d420df3-9995-4831-a406-ecf8166f5f6a"`,
		eq("userName", "7d420df3-9995-4831-a406-ecf8166f5f6a"), "",
	},
	{"entra zero results", `userName eq "non-existent user"`, eq("userName", "non-existent user"), ""},
	{
		"entra externalId", `externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`,
		eq("externalId", "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"), "",
	},
	{"entra externalId old", `externalId eq "johnwong"`, eq("externalId", "johnwong"), ""},
	{"entra displayName", `displayName eq "displayName"`, eq("displayName", "displayName"), ""},
	{
		"entra work email", `emails[type eq "work"].value eq "user@contoso.com"`,
		cmp(vsub("emails", eq("type", "work"), "value"), Eq, "user@contoso.com"), "",
	},
	{
		"entra manager probe", `id eq "54D382A4-2050-4C03-94D1-E769F1D15682" and manager eq "2819c223-7f76-453a-919d-413861904646"`,
		and(eq("id", "54D382A4-2050-4C03-94D1-E769F1D15682"), eq("manager", "2819c223-7f76-453a-919d-413861904646")), "",
	},
	{
		"entra member value path", `members[value eq "7f4bc1a3-285e-48ae-8202-5accb43efb0e"]`,
		has("members", eq("value", "7f4bc1a3-285e-48ae-8202-5accb43efb0e")), "",
	},

	// Bare words are strings, as if quoted; String() quotes them. true,
	// false, null and JSON numbers keep their JSON meaning (see above).
	{"bare initial", `userName sw O`, cmp(attr("userName"), Sw, "O"), `userName sw "O"`},
	{
		"bare sub-attribute", `name.familyName eq Employee`, cmp(sub("name", "familyName"), Eq, "Employee"),
		`name.familyName eq "Employee"`,
	},
	{
		"bare timestamp", `meta.created gt 2015-10-10T14:38:21.86-07:00`,
		cmp(sub("meta", "created"), Gt, "2015-10-10T14:38:21.86-07:00"), `meta.created gt "2015-10-10T14:38:21.86-07:00"`,
	},
	{"bare word", `externalId eq jyoung`, eq("externalId", "jyoung"), `externalId eq "jyoung"`},
	{
		"bare guid", `id eq 54D382A4-2050-4C03-94D1-E769F1D15682`, eq("id", "54D382A4-2050-4C03-94D1-E769F1D15682"),
		`id eq "54D382A4-2050-4C03-94D1-E769F1D15682"`,
	},
	{"bare NaN is no number", `x eq NaN`, eq("x", "NaN"), `x eq "NaN"`},
	{"bare e is no number", `x eq e`, eq("x", "e"), `x eq "e"`},
	{"bare near-literal", `x eq trueish`, eq("x", "trueish"), `x eq "trueish"`},
	{"bare operator word", `x eq eq`, eq("x", "eq"), `x eq "eq"`},
	{"bare star", `userName eq *`, eq("userName", "*"), `userName eq "*"`},
	{
		"bare email", `emails.value co @example.com`, cmp(sub("emails", "value"), Co, "@example.com"),
		`emails.value co "@example.com"`,
	},
	{"bare non-ascii and backslash", `title eq José\x`, eq("title", `José\x`), `title eq "José\\x"`},
	{
		"bare then and", `userName eq bjensen and title pr`, and(eq("userName", "bjensen"), pr("title")),
		`userName eq "bjensen" and title pr`,
	},
	{
		"bare then OR", "userName eq bjensen\tOR userName eq jsmith", or(eq("userName", "bjensen"), eq("userName", "jsmith")),
		`userName eq "bjensen" or userName eq "jsmith"`,
	},
	{
		"bare then or(", `userName eq bjensen or(title pr)`, or(eq("userName", "bjensen"), pr("title")),
		`userName eq "bjensen" or title pr`,
	},
	{"bare in parens", `(userName eq bjensen)`, eq("userName", "bjensen"), `userName eq "bjensen"`},
	{
		"bare before paren", `not (userName eq bjensen) and a pr`, and(not(eq("userName", "bjensen")), pr("a")),
		`not (userName eq "bjensen") and a pr`,
	},
	{"bare in value filter", `emails[type eq work]`, has("emails", eq("type", "work")), `emails[type eq "work"]`},
	{
		"bare in value filter and after", `emails[type eq work].value eq a@b.c`,
		cmp(vsub("emails", eq("type", "work"), "value"), Eq, "a@b.c"), `emails[type eq "work"].value eq "a@b.c"`,
	},
	{
		"bare and quoted", `userName eq "x" and name.familyName eq Jensen`,
		and(eq("userName", "x"), cmp(sub("name", "familyName"), Eq, "Jensen")),
		`userName eq "x" and name.familyName eq "Jensen"`,
	},

	// RFC 7644 §3.4.2.2 examples not covered above.
	{"rfc title and userType", `title pr and userType eq "Employee"`, and(pr("title"), eq("userType", "Employee")), ""},
	{
		"rfc grouped or", `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		and(eq("userType", "Employee"), or(cmp(attr("emails"), Co, "example.com"), cmp(sub("emails", "value"), Co, "example.org"))), "",
	},
	{
		"rfc not grouped", `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		and(cmp(attr("userType"), Ne, "Employee"), not(or(cmp(attr("emails"), Co, "example.com"), cmp(sub("emails", "value"), Co, "example.org")))), "",
	},
	{
		"rfc redundant group", `userType eq "Employee" and (emails.type eq "work")`,
		and(eq("userType", "Employee"), eq("emails", "work").withSub("type")), `userType eq "Employee" and emails.type eq "work"`,
	},
}

func (c *Compare) withURN(urn string) *Compare { c.Path.URN = urn; return c }
func (c *Compare) withSub(s string) *Compare   { c.Path.SubAttr = s; return c }

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%q)\n got %#v\nwant %#v", tc.in, got, tc.want)
			}
			canon := tc.canon
			if canon == "" {
				canon = tc.in
			}
			if s := got.String(); s != canon {
				t.Errorf("String() = %q, want %q", s, canon)
			}
			assertRoundTrip(t, got)
		})
	}
}

func assertRoundTrip(t *testing.T, e Expr) {
	t.Helper()
	s := e.String()
	again, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(String()) of %q: %v", s, err)
	}
	if !reflect.DeepEqual(again, e) {
		t.Fatalf("round trip of %q\n got %#v\nwant %#v", s, again, e)
	}
}

type errCase struct {
	name string
	in   string
	pos  int
	msg  string // substring of Msg
}

var parseErrCases = []errCase{
	{"empty", ``, 0, "empty filter"},
	{"blank", "  \t", 3, "empty filter"},
	{"unknown operator", `userName eqq "x"`, 9, `unknown operator "eqq"`},
	{"unknown operator symbol", `userName = "x"`, 9, `unknown operator "="`},
	{"missing operator", `userName`, 8, `missing operator after "userName"`},
	{"missing operator before string", `userName "x"`, 9, `expected an operator`},
	{"missing value", `userName eq`, 11, `operator "eq" requires a value`},
	{"missing value before paren", `(userName eq)`, 12, `requires a value`},
	{"missing value before and", `a eq and b pr`, 5, `must be quoted`},
	{"pr with value", `title pr "x"`, 9, `operator "pr" takes no value`},
	{"pr with number", `title pr 1`, 9, `operator "pr" takes no value`},
	{"unterminated string", `userName eq "x`, 12, "unterminated string"},
	{"unterminated escaped quote", `userName eq "x\"`, 12, "unterminated string"},
	{"unterminated backslash", `userName eq "x\`, 14, "unterminated string"},
	{"invalid escape", `userName eq "a\x"`, 14, `invalid escape \x`},
	{"short unicode escape", `userName eq "\u12"`, 13, `invalid \u escape`},
	{"raw tab in string", "userName eq \"a\tb\"", 14, "control character"},
	{"trailing garbage", `userName eq "x" garbage`, 16, `unexpected "garbage", expected "and", "or" or end of filter`},
	{"trailing paren", `userName eq "x")`, 15, `unexpected ")"`},
	{"two expressions", `a pr b pr`, 5, `unexpected "b"`},
	{"unclosed paren", `(userName eq "x"`, 16, `unexpected end of input, expected "and", "or" or ")"`},
	{"dangling and", `a eq "x" and`, 12, "unexpected end of input, expected an attribute expression"},
	{"empty parens", `()`, 1, `unexpected ")", expected an attribute path`},
	{"value first", `"x" eq userName`, 0, `unexpected "\"", expected an attribute path`},
	{"bracket first", `[type eq 1]`, 0, `expected an attribute path`},
	{"bad number", `x eq 1.2.3`, 5, `invalid number "1.2.3"`},
	{"leading zero", `x eq 01`, 5, `invalid number`},
	{"leading plus", `x eq +1`, 5, `invalid number`},
	{"leading dot", `x eq .5`, 5, `invalid number`},
	{"bare minus", `x eq -`, 5, `invalid number`},
	{"bare date is number-like", `meta.created gt 2015-10-10`, 16, `invalid number "2015-10-10"; quote it if it is a string`},
	{"bare digits and dashes", `id eq 12345678-1234`, 6, `invalid number`},

	// Bare words that cannot be read unambiguously.
	{"bare with quote", `a eq a"b`, 6, `value "a\"b" must be quoted: an unquoted value cannot contain '"'`},
	{"bare with paren", `a eq f(x)`, 6, `cannot contain '('`},
	{"bare with bracket", `a eq x[1]`, 6, `cannot contain '['`},
	{"bare and", `a eq and`, 5, `value "and" must be quoted: unquoted it is the keyword "and"`},
	{"bare OR", `a eq OR b pr`, 5, `keyword "or"`},
	{"bare not", `a eq not (b pr)`, 5, `keyword "not"`},
	{
		"bare two words", `name.formatted eq Barbara Jensen`, 26,
		`unexpected "Jensen" after value "Barbara": quote a value that contains spaces`,
	},
	{"bare then string", `a eq x "y"`, 7, `unexpected "\"" after value "x"`},
	{"bare in group two words", `(a eq x y)`, 8, `after value "x"`},
	{"bare control character", "a eq x\x01y", 6, `control character '\x01' in value`},
	{"bare unclosed value filter", `emails[type eq work`, 19, `expected "and", "or" or "]"`},
	{"bare after pr", `title pr x`, 9, `unexpected "x", expected "and", "or" or end of filter`},
	{"not without parens", `not a eq 1`, 0, `"not" must be followed by "("`},
	{"nested value filter", `a[b[c eq 1]]`, 3, "nested value filters are not supported"},
	{"unclosed value filter", `emails[type eq "work"`, 21, `expected "and", "or" or "]"`},
	{"empty value filter", `emails[]`, 7, `expected an attribute path`},
	{"compare value path", `emails[type eq "work"] eq "x"`, 23, `cannot apply "eq" to value filter emails`},
	{"junk after bracket", `emails[type eq "work"]value eq "x"`, 22, `unexpected "value" after "]"`},
	{"empty sub after bracket", `emails[type eq "work"]. eq "x"`, 23, "missing attribute name"},
	{"two subs after bracket", `emails[type eq "work"].value.x eq "x"`, 22, "more than one sub-attribute"},
	{"two subs", `name.givenName.x eq 1`, 0, "more than one sub-attribute"},
	{"filter after sub", `name.givenName[type eq 1]`, 14, `value filter must follow the attribute name`},
	{"space before bracket", `emails [type eq "work"]`, 7, `unexpected "[" after "emails", expected an operator`},
	{"digit first", `1abc eq 1`, 0, `invalid attribute name "1abc": must start with a letter`},
	{"dollar inside", `ab$c eq 1`, 2, `invalid character '$' in attribute name "ab$c"`},
	{"dollar not ref", `$refx eq 1`, 0, `must start with a letter`},
	{"non-ascii name", `nöme eq 1`, 1, `invalid character 'ö'`},
	{"bare urn", `urn: eq 1`, 0, `must be followed by ":" and an attribute name`},
	{"urn without attr colon", `urn:ietf eq 1`, 0, `must be followed by ":"`},
	{"urn empty part", `urn:a::b eq 1`, 6, "empty part in schema URN"},
	{"urn missing attr", `urn:a:b: eq 1`, 8, "missing attribute name"},
	{"urn bad attr", `urn:a:b:1x eq 1`, 8, "must start with a letter"},
	{"urn bad char", `urn:a?b:c eq 1`, 5, `invalid character '?' in schema URN`},
	{"space in path", `user name eq 1`, 5, `unknown operator "name"`},

	// Hostile input.
	{"ldap injection", `*)(uid=*`, 0, `invalid attribute name "*"`},
	{"ldap filter", `(&(uid=*))`, 1, `invalid attribute name "&"`},
	{"ldap injection in value", `userName eq *)(uid=*`, 13, `unexpected ")"`},
	{"NUL in name", "user\x00Name eq \"x\"", 4, `invalid character '\x00'`},
	{"NUL in string", "userName eq \"a\x00b\"", 14, "control character '\\x00' in string"},
	{"NUL alone", "\x00", 0, "must start with a letter"},
	{"invalid utf8 in string", "userName eq \"\xff\"", 13, "invalid UTF-8 byte 0xff"},
	{"invalid utf8 in name", "user\xc3Name pr", 4, "invalid UTF-8"},
	{"1 MB", `userName eq "` + strings.Repeat("a", 1<<20) + `"`, 65536, "longer than the limit of 65536"},
	{"10000 parens", strings.Repeat("(", 10000) + "a pr" + strings.Repeat(")", 10000), 64, "nested more than 64 levels"},
	{"10000 unclosed parens", strings.Repeat("(", 10000), 64, "nested more than 64 levels"},
	{"10000 nots", strings.Repeat("not (", 10000) + "a pr" + strings.Repeat(")", 10000), 64*5 + 4, "nested more than 64 levels"},
	{"65 parens", strings.Repeat("(", 65) + "a pr" + strings.Repeat(")", 65), 64, "nested more than 64 levels"},
	{"deep parens in value filter", "x[" + strings.Repeat("(", 65) + "a pr" + strings.Repeat(")", 65) + "]", 66, "nested more than 64 levels"},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range parseErrCases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%.60q) = %v, want error", tc.in, e)
			}
			checkError(t, tc.in, err, tc.pos, tc.msg)
		})
	}
}

func checkError(t *testing.T, in string, err error, pos int, msg string) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is %T, want *Error", err, err)
	}
	if pe.Input != in {
		t.Errorf("Error.Input = %.60q, want the input", pe.Input)
	}
	if pe.Pos != pos {
		t.Errorf("Error.Pos = %d, want %d (%v)", pe.Pos, pos, err)
	}
	if !strings.Contains(pe.Msg, msg) {
		t.Errorf("Error.Msg = %q, want it to contain %q", pe.Msg, msg)
	}
	if len(pe.Msg) > 300 {
		t.Errorf("Error.Msg is %d bytes; hostile input must not be echoed in full", len(pe.Msg))
	}
}

func TestErrorString(t *testing.T) {
	_, err := Parse(`userName eqq "x"`)
	if got, want := err.Error(), `unknown operator "eqq" at 9`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestParseLimits(t *testing.T) {
	// The limits are inclusive: 64 levels and 64 KiB still parse.
	deep := strings.Repeat("(", 64) + "a pr" + strings.Repeat(")", 64)
	if _, err := Parse(deep); err != nil {
		t.Errorf("64 nested parens: %v", err)
	}
	deepNot := strings.Repeat("not (", 64) + "a pr" + strings.Repeat(")", 64)
	e, err := Parse(deepNot)
	if err != nil {
		t.Fatalf("64 nested nots: %v", err)
	}
	assertRoundTrip(t, e)

	prefix, suffix := `userName eq "`, `"`
	exact := prefix + strings.Repeat("a", maxInput-len(prefix)-len(suffix)) + suffix
	if _, err := Parse(exact); err != nil {
		t.Errorf("exactly 64 KiB: %v", err)
	}
	if _, err := Parse(exact + " "); err == nil {
		t.Errorf("64 KiB + 1: want error")
	}

	// A long flat chain is iterative, not recursive, and must round-trip.
	chain := strings.Repeat(`a eq 1 and `, 5000) + `a eq 1`
	e, err = Parse(chain)
	if err != nil {
		t.Fatalf("long chain: %v", err)
	}
	if e.String() != chain {
		t.Errorf("long chain did not print back verbatim")
	}
	assertRoundTrip(t, e)
}

// TestStringHandBuilt covers ASTs that Parse never yields but callers may
// build (e.g. to log a rewritten filter).
func TestStringHandBuilt(t *testing.T) {
	tests := []struct {
		e    Expr
		want string
	}{
		{eq("x", 3), `x eq 3`},
		{eq("x", 1.5), `x eq 1.5`},
		{eq("x", "a\x01<&>"), `x eq "a\u0001<&>"`},
		{eq("x", "bad\xffutf8"), "x eq \"bad\uFFFDutf8\""},
		{and(or(pr("a"), pr("b")), or(pr("c"), pr("d"))), `(a pr or b pr) and (c pr or d pr)`},
		{or(and(pr("a"), pr("b")), and(pr("c"), pr("d"))), `a pr and b pr or c pr and d pr`},
		{and(pr("a"), nil), `a pr and <nil>`},
	}
	for _, tc := range tests {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}
