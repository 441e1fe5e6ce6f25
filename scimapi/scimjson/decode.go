package scimjson

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// Decode reads the next JSON value from dec as encoding/json decodes into an
// any (objects map[string]any, arrays []any, and json.Number when dec has
// UseNumber), and refuses an object that has two keys equal but for case
// (RFC 7643 §2.1 makes attribute names case-insensitive): which of
// "UserName" and "userName" a map lookup finds depends on Go's map order,
// so such a body could be read differently from one request to the next.
//
// An exactly repeated key is left to encoding/json, which keeps the last:
// that reading is the same on every request. Catching it too would need a
// token-by-token decoder, measured at 3.2x the time of encoding/json on
// Entra's create body (59 µs against 19 µs); decoding then walking takes
// 1.3x (24 µs, medians of 6 runs of BenchmarkDecode).
//
// A duplicate is a scimerr InvalidSyntax error naming the keys and where
// they are. Other errors are returned as dec gives them: *json.SyntaxError,
// io.ErrUnexpectedEOF, or the reader's own (an *http.MaxBytesError passes
// through for a 413); the caller words those.
func Decode(dec *json.Decoder) (any, error) {
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if err := checkKeys(v); err != nil {
		if d, ok := err.(*dupError); ok {
			return nil, d.scimError()
		}
		return nil, err
	}
	return v, nil
}

// checkKeys walks a decoded value for objects with keys equal but for case.
// encoding/json bounds the nesting, and so this recursion.
func checkKeys(v any) error {
	switch t := v.(type) {
	case map[string]any:
		var keys keySet
		for key, x := range t {
			if prev, dup := keys.add(key); dup {
				// Map order is random: name the pair in a stable order.
				return &dupError{first: min(prev, key), second: max(prev, key)}
			}
			if err := checkKeys(x); err != nil {
				return within(err, keySegment(key))
			}
		}
	case []any:
		for i, x := range t {
			if err := checkKeys(x); err != nil {
				return within(err, "["+strconv.Itoa(i)+"]")
			}
		}
	}
	return nil
}

// dupError is a duplicate key; the path to its object is collected on the
// way back up, so a body without duplicates pays nothing for it.
type dupError struct {
	first, second string
	path          []string // innermost first
}

func (e *dupError) Error() string { return e.scimError().Detail }

// within adds seg, the step from the parent to the failing value, to a
// duplicate's path; other errors pass unchanged.
func within(err error, seg string) error {
	if d, ok := err.(*dupError); ok {
		d.path = append(d.path, seg)
	}
	return err
}

// keySegment writes a key as a path step: .name, or ["a b"] when it has
// characters that would make the path unreadable.
func keySegment(key string) string {
	plain := key != "" && strings.IndexFunc(key, func(r rune) bool {
		return !(r == '_' || r == '-' || r == ':' || r == '.' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r))
	}) < 0
	if plain && len(key) <= maxKeyShown {
		return "." + key
	}
	return "[" + quoteKey(key) + "]"
}

func (e *dupError) scimError() *scimerr.Error {
	where := "at the top level of the body"
	if len(e.path) > 0 {
		// Outermost first, and only the first levels of a deep one.
		var b strings.Builder
		last := max(len(e.path)-maxStepsShown, 0)
		for i := len(e.path) - 1; i >= last; i-- {
			b.WriteString(e.path[i])
		}
		if last > 0 {
			b.WriteString("...")
		}
		where = "in " + strings.TrimPrefix(b.String(), ".")
	}
	if e.first == e.second {
		return scimerr.New(scimerr.InvalidSyntax, "duplicate key %s %s", quoteKey(e.first), where)
	}
	return scimerr.New(scimerr.InvalidSyntax, "keys %s and %s %s differ only in case; attribute names are "+
		"case-insensitive (RFC 7643 §2.1), so send one of them", quoteKey(e.first), quoteKey(e.second), where)
}

// An error detail shows at most maxKeyShown bytes of a key and
// maxStepsShown steps of a path, so that a hostile body (a megabyte key, or
// a duplicate 10,000 levels down) is not sent back whole.
const (
	maxKeyShown   = 64
	maxStepsShown = 16
)

// quoteKey quotes a key for an error detail, shortened to maxKeyShown.
func quoteKey(k string) string {
	if len(k) <= maxKeyShown {
		return strconv.Quote(k)
	}
	cut := maxKeyShown
	for cut > 0 && !utf8.RuneStart(k[cut]) {
		cut--
	}
	return strconv.Quote(k[:cut]) + "..."
}

// keySet finds keys equal under strings.EqualFold, the comparison Lookup
// and KeyOf use. Objects are small (a SCIM resource has a few dozen keys at
// most), so up to smallSet keys are compared one by one without allocating
// a map; beyond that, a map on the folded key keeps a hostile body with
// 100,000 keys in one object linear.
type keySet struct {
	list   []string
	folded map[string]string
}

const smallSet = 16

// add records key and, if an equal key was seen before, returns it.
func (s *keySet) add(key string) (string, bool) {
	if s.folded == nil {
		for _, k := range s.list {
			if strings.EqualFold(k, key) {
				return k, true
			}
		}
		s.list = append(s.list, key)
		if len(s.list) <= smallSet {
			return "", false
		}
		s.folded = make(map[string]string, 2*smallSet)
		for _, k := range s.list {
			s.folded[foldKey(k)] = k
		}
		s.list = nil
		return "", false
	}
	f := foldKey(key)
	if prev, ok := s.folded[f]; ok {
		return prev, true
	}
	s.folded[f] = key
	return "", false
}

// foldKey maps every rune to the smallest rune of its case-folding orbit
// (unicode.SimpleFold), so foldKey(a) == foldKey(b) exactly when
// strings.EqualFold(a, b): "userName", "USERNAME" and "uſername" (U+017F,
// which folds to s) all meet.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}
