// Package filter parses SCIM filters (the ?filter= query parameter, RFC 7644
// §3.4.2.2) and attribute paths (PATCH "path", RFC 7644 §3.5.2, and the
// attribute keys of a mapping) into a small AST.
//
// The package is pure: no I/O, no schema knowledge. Deciding whether an
// attribute exists, is filterable or is multi-valued is the caller's job, so
// that the same parser serves filters, PATCH paths and configuration.
//
// The parser is strict where the RFC is unambiguous and lenient only where
// real clients (notably Microsoft Entra ID) deviate harmlessly: operator and
// keyword case, runs of whitespace, "not(" without a space, a value path
// with a trailing sub-attribute used as a comparison
// (emails[type eq "work"].value eq "x"), and, in Parse only, an unquoted
// word as a string value (userName sw O).
package filter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Path is an attribute path: [URN ":"] Attr ["[" Filter "]"] ["." SubAttr].
//
// It covers attrPath and valuePath of RFC 7644 §3.4.2.2 and the PATCH PATH
// rule "attrPath / valuePath [subAttr]" of RFC 7644 §3.5.2. Examples:
//
//	userName
//	name.givenName
//	emails[type eq "work"].value
//	members[value eq "x"]
//	urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department
//	urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value
//
// Names keep the case they were written in because SCIM attribute names are
// case-insensitive (RFC 7643 §2.1); compare them with strings.EqualFold.
type Path struct {
	// URN is the schema URN prefix as written (RFC 7644 §3.10), "" when
	// absent. Because URNs such as "...:enterprise:2.0:User" contain dots,
	// the attribute name starts after the last ':' before any '['.
	URN string
	// Attr is the attribute name as written.
	Attr string
	// Filter is the value filter inside [...], nil when absent. Attribute
	// paths inside it are relative to Attr (e.g. "type", not "emails.type").
	Filter Expr
	// SubAttr is the sub-attribute name, "" when absent.
	SubAttr string
}

// String returns the canonical text of p; ParsePath(p.String()) yields p
// again for any Path returned by ParsePath or Parse.
func (p Path) String() string {
	var b strings.Builder
	p.write(&b)
	return b.String()
}

func (p Path) write(b *strings.Builder) {
	if p.URN != "" {
		b.WriteString(p.URN)
		b.WriteByte(':')
	}
	b.WriteString(p.Attr)
	if p.Filter != nil {
		b.WriteByte('[')
		writeExpr(b, p.Filter)
		b.WriteByte(']')
	}
	if p.SubAttr != "" {
		b.WriteByte('.')
		b.WriteString(p.SubAttr)
	}
}

// Op is a SCIM attribute operator (RFC 7644 §3.4.2.2, Table 3). Parse
// accepts any case and always stores the lower-case constant.
type Op string

// Attribute operators of RFC 7644 §3.4.2.2.
const (
	Eq Op = "eq" // equal
	Ne Op = "ne" // not equal
	Co Op = "co" // contains
	Sw Op = "sw" // starts with
	Ew Op = "ew" // ends with
	Gt Op = "gt" // greater than
	Ge Op = "ge" // greater than or equal to
	Lt Op = "lt" // less than
	Le Op = "le" // less than or equal to
	Pr Op = "pr" // present (has value); takes no comparison value
)

// ops maps the lower-cased spelling to the operator; RFC 7644 §3.4.2.2 makes
// operators case-insensitive.
var ops = map[string]Op{
	"eq": Eq, "ne": Ne, "co": Co, "sw": Sw, "ew": Ew,
	"gt": Gt, "ge": Ge, "lt": Lt, "le": Le, "pr": Pr,
}

// Expr is a parsed filter: one of *Compare, *And, *Or, *Not, *Has.
//
// The unexported method closes the set so that consumers can switch on the
// concrete types exhaustively.
type Expr interface {
	// String returns canonical filter text that Parse maps back to an
	// equal AST, with only the parentheses the structure needs.
	String() string
	expr()
}

// Compare is an attribute expression "attrPath op value" or "attrPath pr"
// (attrExp in RFC 7644 §3.4.2.2).
//
// Path may carry both a Filter and a SubAttr: RFC 7644 has no such filter
// form, but Entra sends emails[type eq "work"].value eq "x" to match users on
// their work e-mail, so it is accepted here.
type Compare struct {
	Path Path
	Op   Op
	// Value is a string, bool, nil (JSON null) or json.Number; it is nil
	// for Pr. Numbers stay json.Number so no precision is lost before the
	// caller knows the attribute type.
	Value any
}

// And is the logical conjunction "Left and Right" (RFC 7644 §3.4.2.2).
type And struct{ Left, Right Expr }

// Or is the logical disjunction "Left or Right" (RFC 7644 §3.4.2.2).
type Or struct{ Left, Right Expr }

// Not is the negation "not ( X )"; RFC 7644 §3.4.2.2 requires the
// parentheses, so there is no bare "not X".
type Not struct{ X Expr }

// Has is a valuePath used as a filter (RFC 7644 §3.4.2.2), e.g.
// emails[type eq "work" and value co "@example.org"]. It matches when at
// least one value of the multi-valued attribute satisfies Path.Filter.
// Path.Filter is non-nil and Path.SubAttr is "".
type Has struct{ Path Path }

func (*Compare) expr() {}
func (*And) expr()     {}
func (*Or) expr()      {}
func (*Not) expr()     {}
func (*Has) expr()     {}

// String returns canonical filter text; see Expr.
func (c *Compare) String() string { return exprString(c) }

// String returns canonical filter text; see Expr.
func (e *And) String() string { return exprString(e) }

// String returns canonical filter text; see Expr.
func (e *Or) String() string { return exprString(e) }

// String returns canonical filter text; see Expr.
func (e *Not) String() string { return exprString(e) }

// String returns canonical filter text; see Expr.
func (e *Has) String() string { return exprString(e) }

func exprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

// writeExpr uses one builder for the whole tree: a left-nested chain of a few
// thousand "and"s is legal within the input limit, and concatenating per
// level would be quadratic.
func writeExpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *Compare:
		e.Path.write(b)
		b.WriteByte(' ')
		b.WriteString(string(e.Op))
		if e.Op != Pr {
			b.WriteByte(' ')
			writeValue(b, e.Value)
		}
	case *And:
		// "and" is left-associative and binds tighter than "or".
		writeOperand(b, e.Left, isOr(e.Left))
		b.WriteString(" and ")
		writeOperand(b, e.Right, isOr(e.Right) || isAnd(e.Right))
	case *Or:
		writeOperand(b, e.Left, false)
		b.WriteString(" or ")
		writeOperand(b, e.Right, isOr(e.Right))
	case *Not:
		b.WriteString("not (")
		writeExpr(b, e.X)
		b.WriteByte(')')
	case *Has:
		e.Path.write(b)
	case nil:
		b.WriteString("<nil>")
	default:
		fmt.Fprintf(b, "<%T>", e)
	}
}

func writeOperand(b *strings.Builder, e Expr, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	writeExpr(b, e)
	if paren {
		b.WriteByte(')')
	}
}

func isOr(e Expr) bool  { _, ok := e.(*Or); return ok }
func isAnd(e Expr) bool { _, ok := e.(*And); return ok }

// writeValue writes compValue as JSON (RFC 7644 §3.4.2.2 "rules from JSON").
func writeValue(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeQuoted(b, v)
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		b.WriteString(string(v))
	default:
		// Not produced by Parse; best effort for hand-built ASTs.
		if j, err := json.Marshal(v); err == nil {
			b.Write(j)
		} else {
			writeQuoted(b, fmt.Sprint(v))
		}
	}
}

// writeQuoted is a JSON string encoder that, unlike encoding/json, leaves
// <, > and & alone so that String() output stays readable in error details
// and logs.
func writeQuoted(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[r>>4])
				b.WriteByte(hex[r&0xf])
			} else {
				// Invalid UTF-8 arrives here as RuneError and is written as
				// U+FFFD, as encoding/json does.
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// Error is returned by Parse and ParsePath. Pos is a byte offset into Input
// so the SCIM error detail (RFC 7644 §3.12, scimType invalidFilter or
// invalidPath) can point at the offending token.
type Error struct {
	Input string
	Pos   int
	Msg   string
}

// Error returns Msg followed by the offset, e.g. `unknown operator "eqq" at 9`.
func (e *Error) Error() string {
	return e.Msg + " at " + strconv.Itoa(e.Pos)
}

// quoteToken quotes a piece of input for an error message, shortening it so
// that a hostile megabyte token does not end up in a response.
func quoteToken(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}
