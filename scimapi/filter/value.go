package filter

import (
	"encoding/json"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// looksLikeValue reports whether a compValue starts at p.pos; only used to
// explain why "title pr "x"" fails.
func (p *parser) looksLikeValue() bool {
	if p.eof() {
		return false
	}
	if p.in[p.pos] == '"' {
		return true
	}
	w := strings.ToLower(p.wordAt(p.pos))
	return w == "true" || w == "false" || w == "null" || isJSONNumber(w)
}

// parseValue parses compValue = false / null / true / number / string
// (RFC 7644 §3.4.2.2, JSON rules of RFC 7159), with p.pos at a non-delimiter
// or '"'. With p.bare, any other word is a string (parseBare).
func (p *parser) parseValue() (any, error) {
	if p.in[p.pos] == '"' {
		return p.parseString()
	}
	start := p.pos
	w := p.wordAt(p.pos)
	switch strings.ToLower(w) {
	case "true":
		p.pos += len(w)
		return true, nil
	case "false":
		p.pos += len(w)
		return false, nil
	case "null":
		p.pos += len(w)
		return nil, nil
	}
	if isJSONNumber(w) {
		p.pos += len(w)
		return json.Number(w), nil
	}
	if isNumberLike(w) {
		// 01, +1, 1.2.3, 2015-10-10: a mistyped number or a string? Either
		// reading could be wrong, so neither is taken, also with p.bare.
		return nil, p.errorf(start, "invalid number %s; quote it if it is a string", quoteToken(w))
	}
	if p.bare {
		return p.parseBare()
	}
	return nil, p.errorf(start,
		"value %s must be quoted: string values are JSON strings in double quotes (RFC 7644 §3.4.2.2)",
		quoteToken(w))
}

// isNumberLike reports whether w is made of number characters only and
// starts like a number, so that it reads as an attempt at one.
func isNumberLike(w string) bool {
	return w != "" && strings.IndexByte("0123456789+-.", w[0]) >= 0 && strings.Trim(w, "0123456789.eE+-") == ""
}

// parseBare parses an unquoted string value, with p.pos at its first byte.
// The word ends at whitespace, ')' or ']', so `userName eq bjensen and
// title pr`, `(userName eq bjensen)` and `emails[type eq work]` read as
// meant. What a bare word cannot say unambiguously is refused, to be quoted:
//   - a quote, '(' or '[' inside it (`a"b`, `f(x)`): where would it end?
//   - the keywords and, or, not (`userName eq and title pr` lacks a value);
//   - control characters, which a JSON string must escape too;
//   - a second word (`name.formatted eq Barbara Jensen`).
func (p *parser) parseBare() (string, error) {
	start := p.pos
	end := start
	for end < len(p.in) && !isSpace(p.in[end]) && p.in[end] != ')' && p.in[end] != ']' {
		end++
	}
	w := p.in[start:end]
	if err := p.checkBare(w, start); err != nil {
		return "", err
	}
	p.pos = end
	next := p.pos
	for next < len(p.in) && isSpace(p.in[next]) {
		next++
	}
	if next == len(p.in) || p.in[next] == ')' || p.in[next] == ']' {
		return w, nil
	}
	if k := p.wordAt(next); strings.EqualFold(k, "and") || strings.EqualFold(k, "or") {
		return w, nil
	}
	save := p.pos
	p.pos = next
	tok := p.token()
	p.pos = save
	return "", p.errorf(next, "unexpected %s after value %s: quote a value that contains spaces", tok, quoteToken(w))
}

// checkBare refuses the bare word w (at start) when it holds what only a
// quoted string can say: a quote or an opening bracket, a control character,
// or the whole of a keyword.
func (p *parser) checkBare(w string, start int) error {
	if i := strings.IndexAny(w, `"([`); i >= 0 {
		return p.errorf(start+i, "value %s must be quoted: an unquoted value cannot contain %q",
			quoteToken(w), w[i])
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 0x20 {
			return p.errorf(start+i, "control character %q in value must be escaped in a quoted string",
				rune(w[i]))
		}
	}
	for _, kw := range []string{"and", "or", "not"} {
		if strings.EqualFold(w, kw) {
			return p.errorf(start, "value %s must be quoted: unquoted it is the keyword %q", quoteToken(w), kw)
		}
	}
	return nil
}

// parseString decodes a JSON string (RFC 7159 §7) with p.pos at the opening
// quote. Lone surrogate escapes become U+FFFD, as in encoding/json.
func (p *parser) parseString() (string, error) {
	start := p.pos
	p.pos++
	// Fast path: no escapes, return a substring of the input.
	for i := p.pos; i < len(p.in); i++ {
		c := p.in[i]
		if c == '"' {
			s := p.in[p.pos:i]
			p.pos = i + 1
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	var b strings.Builder
	for {
		if p.eof() {
			return "", p.errorf(start, "unterminated string")
		}
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c < 0x20:
			return "", p.errorf(p.pos, "control character %q in string must be escaped", rune(c))
		case c == '\\':
			if err := p.parseEscape(&b); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
}

// parseEscape decodes the escape at p.pos (a backslash) into b.
func (p *parser) parseEscape(b *strings.Builder) error {
	esc := p.pos
	if esc+1 >= len(p.in) {
		return p.errorf(esc, "unterminated string")
	}
	p.pos += 2
	c := p.in[esc+1]
	if d, ok := simpleEscapes[c]; ok {
		b.WriteByte(d)
		return nil
	}
	if c != 'u' {
		r, _ := utf8.DecodeRuneInString(p.in[esc+1:])
		return p.errorf(esc, "invalid escape \\%c in string", r)
	}
	r, ok := hex4(p.in, p.pos)
	if !ok {
		return p.errorf(esc, `invalid \u escape in string`)
	}
	p.pos += 4
	if utf16.IsSurrogate(r) {
		r = p.lowSurrogate(r)
	}
	b.WriteRune(r)
	return nil
}

// simpleEscapes are JSON's one-character escapes (RFC 7159 §7), by the
// character after the backslash.
var simpleEscapes = map[byte]byte{
	'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t',
}

// lowSurrogate completes the high surrogate hi with a \uXXXX escape at p.pos
// that holds its low half, and consumes it; a lone surrogate is U+FFFD, as in
// encoding/json.
func (p *parser) lowSurrogate(hi rune) rune {
	if p.pos+1 >= len(p.in) || p.in[p.pos] != '\\' || p.in[p.pos+1] != 'u' {
		return utf8.RuneError
	}
	lo, ok := hex4(p.in, p.pos+2)
	if !ok {
		return utf8.RuneError
	}
	d := utf16.DecodeRune(hi, lo)
	if d != utf8.RuneError {
		p.pos += 6
	}
	return d
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// isJSONNumber reports whether s matches the RFC 7159 §6 number grammar:
// -? (0 / [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?, consumed part by part.
func isJSONNumber(s string) bool {
	rest, ok := jsonInt(strings.TrimPrefix(s, "-"))
	if ok {
		rest, ok = jsonFrac(rest)
	}
	if ok {
		rest, ok = jsonExp(rest)
	}
	return ok && rest == ""
}

// jsonInt consumes int = "0" / [1-9][0-9]*, returning what follows.
func jsonInt(s string) (rest string, ok bool) {
	if strings.HasPrefix(s, "0") {
		return s[1:], true
	}
	return digits(s)
}

// jsonFrac consumes an optional fraction, "." and digits.
func jsonFrac(s string) (rest string, ok bool) {
	if r, found := strings.CutPrefix(s, "."); found {
		return digits(r)
	}
	return s, true
}

// jsonExp consumes an optional exponent, e or E, a sign and digits.
func jsonExp(s string) (rest string, ok bool) {
	if s == "" || (s[0] != 'e' && s[0] != 'E') {
		return s, true
	}
	s = s[1:]
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	return digits(s)
}

// digits consumes one or more decimal digits.
func digits(s string) (rest string, ok bool) {
	rest = strings.TrimLeft(s, "0123456789")
	return rest, len(rest) < len(s)
}
