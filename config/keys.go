package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// The known keys are read from Config's koanf tags by reflection, the way the
// decoder reads them, so a field added to a struct is a known key (with its
// own did-you-mean) without a list to keep in step.

var (
	configType      = reflect.TypeFor[Config]()
	durationType    = reflect.TypeFor[time.Duration]()
	timeType        = reflect.TypeFor[time.Time]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// keyField is one key a section takes: its name in the file and its Go type.
type keyField struct {
	name string
	typ  reflect.Type
}

// keysOf lists the keys of struct type t in field order. It follows
// mapstructure: an untagged field is known by its Go name, a field tagged
// ",squash" lends its keys to t, and a ",remain" field takes any key (open).
func keysOf(t reflect.Type) (keys []keyField, open bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("koanf"), ",")
		optList := strings.Split(opts, ",")
		ft := derefType(f.Type)
		if slices.Contains(optList, "squash") && ft.Kind() == reflect.Struct {
			inner, innerOpen := keysOf(ft)
			keys = append(keys, inner...)
			open = open || innerOpen
			continue
		}
		if slices.Contains(optList, "remain") {
			open = true
			continue
		}
		if name == "" {
			name = f.Name
		}
		keys = append(keys, keyField{name: name, typ: f.Type})
	}
	return keys, open
}

// findKey matches a key from the file against the known ones: exactly, else
// case-insensitively, as the decoder does (so `Users:` is not "unknown").
func findKey(keys []keyField, key string) (keyField, bool) {
	for _, k := range keys {
		if k.name == key {
			return k, true
		}
	}
	for _, k := range keys {
		if strings.EqualFold(k.name, key) {
			return k, true
		}
	}
	return keyField{}, false
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// isLeaf tells whether t is decoded from a single value although it may be a
// struct (time.Time) or a number (time.Duration): its insides are not keys.
func isLeaf(t reflect.Type) bool {
	return t == durationType || t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)
}

// unknownKey is a key the configuration does not take.
type unknownKey struct {
	path  string   // users.atributes, users.attributes[2].ldapp
	known []string // the keys taken at that level
}

// findUnknown walks the value v that will be decoded into type t and lists
// every key t does not take, at any depth: in sections, in list elements and
// in maps of sections. A value of the wrong shape is left to the decoder,
// which reports it with its path.
func findUnknown(t reflect.Type, v any, path string, out *[]unknownKey) {
	t = derefType(t)
	if v == nil || isLeaf(t) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if m, ok := v.(map[string]any); ok {
			findUnknownFields(t, m, path, out)
		}
	case reflect.Slice, reflect.Array:
		switch s := v.(type) {
		case []any:
			for i, e := range s {
				findUnknown(t.Elem(), e, path+"["+strconv.Itoa(i)+"]", out)
			}
		case map[string]any:
			// The weakly typed decoder lifts a single mapping into a
			// one-element list: check it as that element.
			findUnknown(t.Elem(), s, path+"[0]", out)
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for _, key := range sortedKeys(m) {
				findUnknown(t.Elem(), m[key], joinPath(path, key), out)
			}
		}
	}
}

// findUnknownFields lists the keys of m that struct t has no field for, and
// walks into those it has. A struct that takes any key (open, a ",remain"
// field) has no unknown keys of its own.
func findUnknownFields(t reflect.Type, m map[string]any, path string, out *[]unknownKey) {
	keys, open := keysOf(t)
	for _, key := range sortedKeys(m) {
		k, ok := findKey(keys, key)
		switch {
		case ok:
			findUnknown(k.typ, m[key], joinPath(path, key), out)
		case !open:
			names := make([]string, len(keys))
			for i, k := range keys {
				names[i] = k.name
			}
			*out = append(*out, unknownKey{path: joinPath(path, key), known: names})
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// parentPath is users.attributes[2] for users.attributes[2].ldapp, and ""
// for a top-level key.
func parentPath(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

func lastKey(path string) string { return path[strings.LastIndexByte(path, '.')+1:] }

// unknownMsg says what is wrong with an unknown key, with the closest known
// key as a did-you-mean, else the keys taken at that level. meant is the
// suggested key ("" without one).
func unknownMsg(u unknownKey) (msg, meant string) {
	key := lastKey(u.path)
	if best := closest(key, u.known); best != "" {
		return fmt.Sprintf("unknown key; did you mean %q?", best), best
	}
	return "unknown key; the keys here are " + strings.Join(u.known, ", "), ""
}

// Suggest is "; did you mean \"attributes\"?" for a near miss of one of
// known, else "". It is the rule of ldapmap's suggestions (an edit distance
// below 3, ignoring case), here because ldapmap imports config and not the
// other way round.
func Suggest(got string, known []string) string {
	if best := closest(got, known); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

// closest is the known name nearest to got, "" when none is within an edit
// distance of 2: further off, a suggestion is more often wrong than right.
func closest(got string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(got), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes (keys are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// valueAt finds the value at a problem path in the merged configuration,
// matching keys as the decoder does.
func valueAt(root map[string]any, path string) (any, bool) {
	var v any = root
	for _, seg := range splitPath(path) {
		switch t := v.(type) {
		case map[string]any:
			next, ok := t[seg]
			if !ok {
				for k, val := range t {
					if strings.EqualFold(k, seg) {
						next, ok = val, true
						break
					}
				}
			}
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(strings.Trim(seg, "[]"))
			if !strings.HasPrefix(seg, "[") || err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// typeAt is the Go type a path decodes into, false if no key has that path.
func typeAt(path string) (reflect.Type, bool) {
	t := configType
	for _, seg := range splitPath(path) {
		t = derefType(t)
		switch {
		case strings.HasPrefix(seg, "["):
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return nil, false
			}
			t = t.Elem()
		case t.Kind() == reflect.Struct && !isLeaf(t):
			keys, _ := keysOf(t)
			k, ok := findKey(keys, seg)
			if !ok {
				return nil, false
			}
			t = k.typ
		case t.Kind() == reflect.Map:
			t = t.Elem()
		default:
			return nil, false
		}
	}
	return derefType(t), true
}

// expected names what a value of type t is written as.
func expected(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration such as 30s or 5m"
	case t == timeType:
		return "a time such as 2026-12-31T00:00:00Z (RFC 3339)"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a single value"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping of keys to values"
	}
	return t.String()
}

// describe shows a value from the file in a message.
func describe(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(t)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprint(v)
}

// decodeProblems turns the decoder's errors into problems at their paths.
// The decoder goes on after a bad value (leaving that field zero), so every
// bad value is in err. An error without a path stays a plain error.
func decodeProblems(err error, merged map[string]any) ([]Problem, []error) {
	var ps []Problem
	var other []error
	var walk func(error)
	walk = func(e error) {
		var de *mapstructure.DecodeError
		switch t := e.(type) {
		case *mapstructure.DecodeError:
			de = t
		case interface{ Unwrap() []error }:
			for _, x := range t.Unwrap() {
				walk(x)
			}
			return
		case interface{ Unwrap() error }:
			walk(t.Unwrap())
			return
		default:
			other = append(other, e)
			return
		}
		msg := de.Unwrap().Error()
		typ, tok := typeAt(de.Name())
		v, vok := valueAt(merged, de.Name())
		if tok && vok {
			msg = fmt.Sprintf("must be %s, got %s", expected(typ), describe(v))
		}
		ps = append(ps, Problem{Path: de.Name(), Msg: msg, Covers: de.Name()})
	}
	if err != nil {
		walk(err)
	}
	return ps, other
}

// DropFollowOns removes from err the problems that only repeat another one:
// those at or under the path a problem Covers (the key a misspelt key stands
// for, a value of the wrong type), other than the covering problems
// themselves. Load applies it to its own problems; a caller that adds
// problems of its own (the mapping check) applies it to the whole list.
func DropFollowOns(err error) error {
	if err == nil {
		return nil
	}
	covered := Covered(err)
	var out []error
	eachJoined(err, func(e error) {
		var p Problem
		if errors.As(e, &p) && p.Covers == "" && underAny(p.Path, covered) {
			return
		}
		out = append(out, e)
	})
	return errors.Join(out...)
}

func dropFollowOns(ps Problems) Problems {
	var covered []string
	for _, p := range ps {
		if p.Covers != "" {
			covered = append(covered, p.Covers)
		}
	}
	out := ps[:0:0]
	for _, p := range ps {
		if p.Covers == "" && underAny(p.Path, covered) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// Covered lists the paths that problems in err cover (see Problem.Covers).
func Covered(err error) []string {
	var out []string
	eachJoined(err, func(e error) {
		var p Problem
		if errors.As(e, &p) && p.Covers != "" {
			out = append(out, p.Covers)
		}
	})
	return out
}

// eachJoined calls fn for every error joined in err, depth first: problems
// arrive as errors.Join lists, possibly nested (a caller joins its own).
func eachJoined(err error, fn func(error)) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, x := range j.Unwrap() {
			eachJoined(x, fn)
		}
		return
	}
	fn(err)
}

// underAny tells whether path is one of paths or lies below one of them.
func underAny(path string, paths []string) bool {
	for _, c := range paths {
		if path == c || strings.HasPrefix(path, c+".") || strings.HasPrefix(path, c+"[") {
			return true
		}
	}
	return false
}
