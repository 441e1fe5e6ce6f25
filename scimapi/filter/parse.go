package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

const (
	// maxInput bounds the work a single request can cause; real filters and
	// paths are a few hundred bytes at most.
	maxInput = 64 << 10
	// maxDepth bounds recursion so hostile input such as 10000 '(' yields an
	// Error instead of exhausting the stack.
	maxDepth = 64
)

// Parse parses a whole SCIM filter, the ?filter= parameter of RFC 7644
// §3.4.2.2 (after URL decoding).
//
// Precedence follows RFC 7644 §3.4.2.2: grouping, then "not", then "and",
// then "or"; "and" and "or" are left-associative. Operators, "and", "or",
// "not" and the literals true/false/null are case-insensitive.
//
// Values are JSON (RFC 7159), with one leniency: a bare word such as
// `userName sw O` or `meta.created gt 2015-10-10T14:38:21.86-07:00` is the
// string it spells, as if quoted (see parseBare for what is refused): some
// clients, and people typing filters by hand, write them so. ParsePath does
// not take bare words. On failure the error is an *Error.
func Parse(s string) (Expr, error) {
	if err := checkInput(s); err != nil {
		return nil, err
	}
	p := &parser{in: s, bare: true}
	p.skipSpace()
	if p.eof() {
		return nil, p.errorf(p.pos, "empty filter")
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.unexpected(`"and", "or" or end of filter`)
	}
	return e, nil
}

// ParsePath parses an attribute path: a PATCH operation's "path" (RFC 7644
// §3.5.2, PATH = attrPath / valuePath [subAttr]) or an attribute key of a
// mapping. Surrounding whitespace is ignored. Nested value filters
// (a[b[c eq 1]]) are rejected, as RFC 7644 §3.4.2.2 does not allow them. On
// failure the error is an *Error.
func ParsePath(s string) (Path, error) {
	if err := checkInput(s); err != nil {
		return Path{}, err
	}
	p := &parser{in: s}
	p.skipSpace()
	if p.eof() {
		return Path{}, p.errorf(p.pos, "empty attribute path")
	}
	path, err := p.parsePath(true)
	if err != nil {
		return Path{}, err
	}
	p.skipSpace()
	if !p.eof() {
		return Path{}, p.unexpected("end of path")
	}
	return path, nil
}

func checkInput(s string) error {
	if len(s) > maxInput {
		return &Error{
			Input: s, Pos: maxInput,
			Msg: fmt.Sprintf("input is %d bytes, longer than the limit of %d", len(s), maxInput),
		}
	}
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return &Error{Input: s, Pos: i, Msg: fmt.Sprintf("invalid UTF-8 byte 0x%02x", s[i])}
	}
	return nil
}

type parser struct {
	in    string
	pos   int
	depth int  // open '(' levels
	inVal bool // inside a value filter's [...]
	// bare accepts an unquoted word as a string value (Parse only): a PATCH
	// path or a mapping key is written by a program or an admin's config,
	// where the RFC form is no burden and ambiguity would cost a wrong write.
	bare bool
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return &Error{Input: p.in, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) eof() bool { return p.pos >= len(p.in) }

// isSpace is deliberately broader than the single SP of the ABNF: filters
// typed by hand or wrapped by tools contain tabs and newlines.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// isDelim ends a word. Everything else, including control characters, is
// kept in the word so that the error names the whole bad token.
func isDelim(c byte) bool {
	return isSpace(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '"'
}

func (p *parser) skipSpace() {
	for p.pos < len(p.in) && isSpace(p.in[p.pos]) {
		p.pos++
	}
}

// wordAt returns the word starting at i without consuming it.
func (p *parser) wordAt(i int) string {
	j := i
	for j < len(p.in) && !isDelim(p.in[j]) {
		j++
	}
	return p.in[i:j]
}

func (p *parser) scanWord() string {
	w := p.wordAt(p.pos)
	p.pos += len(w)
	return w
}

// token describes what is at p.pos for an error message.
func (p *parser) token() string {
	if p.eof() {
		return "end of input"
	}
	if w := p.wordAt(p.pos); w != "" {
		return quoteToken(w)
	}
	return quoteToken(p.in[p.pos : p.pos+1])
}

func (p *parser) unexpected(want string) error {
	return p.errorf(p.pos, "unexpected %s, expected %s", p.token(), want)
}

// keyword consumes the word at p.pos if it equals kw in any case.
func (p *parser) keyword(kw string) bool {
	if w := p.wordAt(p.pos); strings.EqualFold(w, kw) {
		p.pos += len(w)
		return true
	}
	return false
}

// parseOr: or-expr = and-expr *("or" and-expr).
func (p *parser) parseOr() (Expr, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipSpace()
		if !p.keyword("or") {
			p.pos = save
			return left, nil
		}
		p.skipSpace()
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &Or{Left: left, Right: right}
	}
}

// parseAnd: and-expr = unary *("and" unary).
func (p *parser) parseAnd() (Expr, error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipSpace()
		if !p.keyword("and") {
			p.pos = save
			return left, nil
		}
		p.skipSpace()
		right, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		left = &And{Left: left, Right: right}
	}
}

// parseUnary: unary = "not" "(" or-expr ")" / "(" or-expr ")" / attrExp.
func (p *parser) parseUnary() (Expr, error) {
	p.skipSpace()
	if p.eof() {
		return nil, p.errorf(p.pos, "unexpected end of input, expected an attribute expression")
	}
	if p.in[p.pos] == '(' {
		return p.parseGroup()
	}
	// "not" is only a keyword when a '(' follows; otherwise it is a legal
	// attribute name (RFC 7643 §2.1). The space is optional because the RFC
	// ABNF has none while its examples do (RFC errata 7319).
	if w := p.wordAt(p.pos); strings.EqualFold(w, "not") {
		i := p.pos + len(w)
		for i < len(p.in) && isSpace(p.in[i]) {
			i++
		}
		if i < len(p.in) && p.in[i] == '(' {
			p.pos = i
			x, err := p.parseGroup()
			if err != nil {
				return nil, err
			}
			return &Not{X: x}, nil
		}
	}
	return p.parseAttrExp()
}

// parseGroup parses "(" or-expr ")" with p.pos at the '('.
func (p *parser) parseGroup() (Expr, error) {
	if p.depth >= maxDepth {
		return nil, p.errorf(p.pos, "filter is nested more than %d levels deep", maxDepth)
	}
	p.depth++
	p.pos++
	p.skipSpace()
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() || p.in[p.pos] != ')' {
		return nil, p.unexpected(`"and", "or" or ")"`)
	}
	p.pos++
	p.depth--
	return x, nil
}

// parseAttrExp: attrExp = attrPath "pr" / attrPath compareOp compValue, or a
// valuePath standing alone (Has).
func (p *parser) parseAttrExp() (Expr, error) {
	path, err := p.parsePath(!p.inVal)
	if err != nil {
		return nil, err
	}
	afterPath := p.pos
	p.skipSpace()
	opPos := p.pos
	w := p.wordAt(p.pos)
	op, isOp := ops[strings.ToLower(w)]

	if path.Filter != nil && path.SubAttr == "" {
		if isOp {
			return nil, p.errorf(opPos,
				"cannot apply %q to value filter %s: name a sub-attribute, e.g. %s[...].value",
				w, path.Attr, path.Attr)
		}
		p.pos = afterPath
		return &Has{Path: path}, nil
	}
	if !isOp {
		return nil, p.operatorError(path, w, afterPath)
	}
	p.pos += len(w)
	if op == Pr {
		return p.parsePresent(path)
	}
	p.skipSpace()
	if p.eof() || (p.in[p.pos] != '"' && isDelim(p.in[p.pos])) {
		return nil, p.errorf(p.pos, "operator %s requires a value", quoteToken(w))
	}
	v, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	return &Compare{Path: path, Op: op, Value: v}, nil
}

// operatorError explains why the word w at p.pos, after path (which ends at
// afterPath), is not an operator: there is none, or it is unknown, or path
// was the keyword "not" without its parenthesis.
func (p *parser) operatorError(path Path, w string, afterPath int) error {
	switch {
	case w == "" && p.eof():
		return p.errorf(p.pos, "missing operator after %s", quoteToken(path.String()))
	case w == "":
		return p.errorf(p.pos, "unexpected %s after %s, expected an operator", p.token(), quoteToken(path.String()))
	case path.URN == "" && path.SubAttr == "" && path.Filter == nil && strings.EqualFold(path.Attr, "not"):
		return p.errorf(afterPath-len(path.Attr), `"not" must be followed by "(" (RFC 7644 §3.4.2.2)`)
	}
	return p.errorf(p.pos, "unknown operator %s", quoteToken(w))
}

// parsePresent finishes "path pr", with p.pos after "pr": a value after it is
// refused, to say that pr takes none.
func (p *parser) parsePresent(path Path) (Expr, error) {
	save := p.pos
	p.skipSpace()
	if p.looksLikeValue() {
		return nil, p.errorf(p.pos, `operator "pr" takes no value`)
	}
	p.pos = save
	return &Compare{Path: path, Op: Pr}, nil
}

// parsePath parses [URN ":"] ATTRNAME ["." ATTRNAME] ["[" valFilter "]" ["." ATTRNAME]].
// allowFilter is false inside a value filter, where RFC 7644 §3.4.2.2 has no
// valuePath.
func (p *parser) parsePath(allowFilter bool) (Path, error) {
	path, err := p.parseAttrPath()
	if err != nil || p.eof() || p.in[p.pos] != '[' {
		return path, err
	}
	if !allowFilter {
		return Path{}, p.errorf(p.pos, "nested value filters are not supported")
	}
	if path.SubAttr != "" {
		return Path{}, p.errorf(p.pos, "a value filter must follow the attribute name, not sub-attribute %s",
			quoteToken(path.SubAttr))
	}
	if path.Filter, err = p.parseValueFilter(); err != nil {
		return Path{}, err
	}
	if path.SubAttr, err = p.parseSubAttrAfterFilter(); err != nil {
		return Path{}, err
	}
	return path, nil
}

// parseAttrPath parses attrPath = [URN ":"] ATTRNAME ["." ATTRNAME].
func (p *parser) parseAttrPath() (Path, error) {
	start := p.pos
	head := p.scanWord()
	if head == "" {
		return Path{}, p.errorf(start, "unexpected %s, expected an attribute path", p.token())
	}
	var path Path
	rest, restPos := head, start
	if len(head) >= 4 && strings.EqualFold(head[:4], "urn:") {
		i := strings.LastIndexByte(head, ':')
		if i == 3 {
			return Path{}, p.errorf(start, "schema URN %s must be followed by \":\" and an attribute name", quoteToken(head))
		}
		if err := p.checkURN(head[:i], start); err != nil {
			return Path{}, err
		}
		path.URN = head[:i]
		rest, restPos = head[i+1:], start+i+1
	}
	attr, sub, hasSub := strings.Cut(rest, ".")
	if err := p.checkName(attr, restPos); err != nil {
		return Path{}, err
	}
	path.Attr = attr
	if !hasSub {
		return path, nil
	}
	if strings.Contains(sub, ".") {
		return Path{}, p.errorf(restPos, "attribute path %s has more than one sub-attribute", quoteToken(rest))
	}
	if err := p.checkName(sub, restPos+len(attr)+1); err != nil {
		return Path{}, err
	}
	path.SubAttr = sub
	return path, nil
}

// parseValueFilter parses "[" valFilter "]" with p.pos at the '['.
func (p *parser) parseValueFilter() (Expr, error) {
	p.pos++
	p.inVal = true
	p.skipSpace()
	f, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() || p.in[p.pos] != ']' {
		return nil, p.unexpected(`"and", "or" or "]"`)
	}
	p.pos++
	p.inVal = false
	return f, nil
}

// parseSubAttrAfterFilter parses the optional "." ATTRNAME after a value
// filter's ']'; "" when there is none.
func (p *parser) parseSubAttrAfterFilter() (string, error) {
	if p.eof() || isDelim(p.in[p.pos]) {
		return "", nil
	}
	if p.in[p.pos] != '.' {
		return "", p.errorf(p.pos, "unexpected %s after \"]\", expected \".\" and a sub-attribute", p.token())
	}
	dot := p.pos
	w := p.scanWord()
	if strings.Contains(w[1:], ".") {
		return "", p.errorf(dot, "attribute path has more than one sub-attribute after \"]\"")
	}
	if err := p.checkName(w[1:], dot+1); err != nil {
		return "", err
	}
	return w[1:], nil
}

// checkName enforces ATTRNAME = ALPHA *(nameChar) (RFC 7643 §2.1, RFC 7644
// §3.4.2.2), plus "$ref", the conventional reference sub-attribute of
// RFC 7643 §2.4 that the ABNF forgot.
func (p *parser) checkName(s string, pos int) error {
	if s == "" {
		return p.errorf(pos, "missing attribute name")
	}
	if strings.EqualFold(s, "$ref") {
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !alpha {
			return p.errorf(pos, "invalid attribute name %s: must start with a letter", quoteToken(s))
		}
		if !alpha && !(c >= '0' && c <= '9') && c != '-' && c != '_' {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return p.errorf(pos+i, "invalid character %q in attribute name %s", r, quoteToken(s))
		}
	}
	return nil
}

// checkURN accepts the characters of an RFC 8141 name (NSS pchar) with
// non-empty ':'-separated parts; '?' and '#' start URN components that have
// no place in a schema id.
func (p *parser) checkURN(s string, pos int) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~%!$&'*+,;=@/", c) >= 0:
		case c == ':':
			if i+1 == len(s) || s[i+1] == ':' {
				return p.errorf(pos+i+1, "empty part in schema URN %s", quoteToken(s))
			}
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			return p.errorf(pos+i, "invalid character %q in schema URN %s", r, quoteToken(s))
		}
	}
	return nil
}
