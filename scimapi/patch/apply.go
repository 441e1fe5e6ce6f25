package patch

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// Apply applies the operations, in order, to res (decoded JSON). It implements
// RFC 7644 §3.5.2 with Entra's readings where the RFC allows several:
//   - add/replace on emails[type eq "work"].value creates the element when no
//     element matches, and later operations on the same filter land in the same
//     element (docs/entra-wire-reference.md §3.5);
//   - a value of "" or null in add/replace clears the target (how Entra and its
//     validator clear attributes, docs/entra-wire-reference.md §3.5);
//   - remove on a multi-valued attribute with a value list removes just those
//     elements (Entra's default-dialect member removal, docs/entra-wire-reference.md §3.3),
//     never the whole attribute.
func Apply(res map[string]any, ops []Operation) error {
	ops, err := Expand(ops)
	if err != nil {
		return err
	}
	for _, op := range ops {
		if err := applyOne(res, op); err != nil {
			return err
		}
	}
	return nil
}

func applyOne(res map[string]any, op Operation) error {
	p := *op.Path
	c := containerFor(res, p, op.Op != "remove")
	if c == nil {
		return nil
	}
	key := scimjson.KeyOf(c, p.Attr)
	clear := op.Op == "remove" || isEmpty(op.Value)
	switch {
	case p.Filter != nil:
		return applyFiltered(c, key, p, op, clear)
	case p.SubAttr != "":
		parent, _ := c[key].(map[string]any)
		if clear {
			if parent != nil {
				delete(parent, scimjson.KeyOf(parent, p.SubAttr))
			}
			return nil
		}
		if parent == nil {
			parent = map[string]any{}
			c[key] = parent
		}
		parent[scimjson.KeyOf(parent, p.SubAttr)] = op.Value
		return nil
	}
	switch {
	case op.Op == "remove" && op.Value != nil:
		return removeValues(c, key, op.Value)
	case clear:
		delete(c, key)
	case op.Op == "add":
		c[key] = merge(c[key], op.Value, containsFold(refAttrs, p.Attr))
	default:
		c[key] = op.Value
	}
	return nil
}

// containerFor returns the object that holds p's attribute.
func containerFor(res map[string]any, p filter.Path, create bool) map[string]any {
	if scimjson.IsCoreSchema(p.URN) {
		return res
	}
	if p.URN == "" {
		return unqualifiedContainer(res, p.Attr, create)
	}
	key := scimjson.KeyOf(res, p.URN)
	if m, ok := res[key].(map[string]any); ok {
		return m
	}
	if !create {
		return nil
	}
	m := map[string]any{}
	res[key] = m
	return m
}

// unqualifiedContainer finds the object holding an attribute named without its
// schema URN. RFC 7644 §3.10 allows omitting the URN of core attributes only,
// but Entra removes the manager with the bare path manager[value eq "id"]
// (docs/entra-wire-reference.md §1.1), so an enterprise attribute name finds the extension.
func unqualifiedContainer(res map[string]any, attr string, create bool) map[string]any {
	if _, ok := scimjson.Lookup(res, attr); ok || !scimjson.IsEnterpriseAttr(attr) {
		return res
	}
	key := scimjson.KeyOf(res, scimjson.SchemaEnterpriseUser)
	m, ok := res[key].(map[string]any)
	if !ok {
		if !create {
			return nil // a remove must not leave an empty extension behind
		}
		m = map[string]any{}
		res[key] = m
	}
	return m
}

// refAttrs are the multi-valued attributes whose elements are references
// (RFC 7643 §4.1.2 groups, §4.2 members): the value identifies an element, and
// "type" (User or Group) is shared by many.
var refAttrs = []string{"members", "groups"}

// merge implements add on an existing value: arrays gain the new elements
// (an element equal to one present, or with the same "type" for typed
// attributes, replaces it, so a retried add is idempotent); anything else is
// replaced. byValue says elements are identified by value only (refAttrs).
func merge(old, add any, byValue bool) any {
	oldList, ok1 := old.([]any)
	addList, ok2 := add.([]any)
	if ok1 && !ok2 && add != nil {
		// One element sent bare instead of in an array: it is added, not
		// written over the whole list (RFC 7644 §3.5.2.1 adds to a
		// multi-valued attribute).
		addList, ok2 = []any{add}, true
	}
	if !ok1 || !ok2 {
		return add
	}
	out := append([]any(nil), oldList...)
	for _, a := range addList {
		replaced := false
		for i, o := range out {
			if sameElement(o, a, byValue) {
				out[i] = a
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, a)
		}
	}
	return out
}

func sameElement(a, b any, byValue bool) bool {
	am, ok1 := a.(map[string]any)
	bm, ok2 := b.(map[string]any)
	if !ok1 || !ok2 {
		return fmt.Sprint(a) == fmt.Sprint(b)
	}
	if at, ok := scimjson.Lookup(am, "type"); ok && !byValue {
		bt, _ := scimjson.Lookup(bm, "type")
		return strings.EqualFold(str(at), str(bt))
	}
	av, _ := scimjson.Lookup(am, "value")
	bv, _ := scimjson.Lookup(bm, "value")
	return av != nil && str(av) == str(bv)
}

// removeValues removes the elements whose "value" matches one of vals.
func removeValues(c map[string]any, key string, vals any) error {
	list, isList := c[key].([]any)
	if !isList {
		// A single value (the manager, complex or a bare id) goes only when it
		// is one of vals: a stale removal must not drop the current one.
		list = []any{c[key]}
	}
	want := map[string]bool{}
	items, ok := vals.([]any)
	if !ok {
		items = []any{vals}
	}
	for _, it := range items {
		v := it
		if m, ok := it.(map[string]any); ok {
			v, _ = scimjson.Lookup(m, "value")
		}
		if v == nil {
			return scimerr.New(scimerr.InvalidValue, "remove: each value needs a \"value\"")
		}
		want[str(v)] = true
	}
	out := list[:0]
	for _, el := range list {
		v := el
		if m, ok := el.(map[string]any); ok {
			v, _ = scimjson.Lookup(m, "value")
		}
		if !want[str(v)] {
			out = append(out, el)
		}
	}
	switch {
	case len(out) == 0:
		delete(c, key)
	case isList:
		c[key] = out
	}
	return nil
}

// applyFiltered handles attr[filter] and attr[filter].sub paths. A single
// complex attribute (manager[value eq "x"]) is treated as a one-element list.
func applyFiltered(c map[string]any, key string, p filter.Path, op Operation, clear bool) error {
	list, single := asList(c[key], p)
	list, matched := matchElements(list, p, clear)
	if clear {
		for _, m := range matched {
			delete(m, scimjson.KeyOf(m, p.SubAttr))
		}
	} else {
		var err error
		if list, err = setMatched(list, matched, p, op.Value); err != nil {
			return err
		}
	}
	switch {
	case len(list) == 0:
		delete(c, key)
	case single:
		c[key] = list[0]
	default:
		c[key] = list
	}
	return nil
}

// asList is the attribute value v as a list of elements; single tells that v
// was one complex value, to be stored back as one. Entra's manager may come
// as a bare id string, which is read as {"value": id}.
func asList(v any, p filter.Path) (list []any, single bool) {
	switch v := v.(type) {
	case []any:
		return v, false
	case map[string]any:
		return []any{v}, true
	case string:
		if strings.EqualFold(p.Attr, "manager") {
			return []any{map[string]any{"value": v}}, true
		}
	}
	return nil, false
}

// matchElements finds the elements of list that p's filter matches. A remove
// (clear) of whole elements drops them from the returned list; otherwise every
// element stays and the matched ones are returned to be changed in place.
func matchElements(list []any, p filter.Path, clear bool) (keep []any, matched []map[string]any) {
	keep = list[:0:0]
	for _, el := range list {
		m, ok := el.(map[string]any)
		if ok && Match(p.Filter, m) {
			if clear && p.SubAttr == "" {
				continue // remove the element
			}
			matched = append(matched, m)
		}
		keep = append(keep, el)
	}
	return keep, matched
}

// setMatched writes value into the matched elements (into their sub-attribute
// p.SubAttr, or merged into them when the path names the elements), first
// creating the element the filter describes when none matched
// (docs/entra-wire-reference.md §3.5). It returns the list with that element.
func setMatched(list []any, matched []map[string]any, p filter.Path, value any) ([]any, error) {
	if len(matched) == 0 {
		el := seed(p.Filter)
		if el == nil {
			return nil, scimerr.New(scimerr.NoTarget, "%s matches no value and cannot create one", p.String())
		}
		list = append(list, el)
		matched = []map[string]any{el}
	}
	for _, m := range matched {
		if p.SubAttr != "" {
			m[scimjson.KeyOf(m, p.SubAttr)] = value
			continue
		}
		obj, ok := value.(map[string]any)
		if !ok {
			return nil, scimerr.New(scimerr.InvalidValue, "%s needs an object value", p.String())
		}
		for k, v := range obj {
			m[scimjson.KeyOf(m, k)] = v
		}
	}
	return list, nil
}

// seed builds the element a filter describes, {"type": "work"} for
// type eq "work", to create it when no element matches. Only equality
// conjunctions describe an element.
func seed(e filter.Expr) map[string]any {
	switch t := e.(type) {
	case *filter.Compare:
		if t.Op != filter.Eq || t.Path.SubAttr != "" || t.Path.Filter != nil {
			return nil
		}
		return map[string]any{t.Path.Attr: t.Value}
	case *filter.And:
		l, r := seed(t.Left), seed(t.Right)
		if l == nil || r == nil {
			return nil
		}
		for k, v := range r {
			l[k] = v
		}
		return l
	}
	return nil
}

// Match evaluates a value filter against one element of a multi-valued
// attribute. Strings compare case-insensitively: the sub-attributes used in
// value filters (type, value of emails and members ids) are caseExact=false in
// RFC 7643 §4.1.2, except member values, which are ids we generate in lower case.
func Match(e filter.Expr, el map[string]any) bool {
	switch t := e.(type) {
	case *filter.And:
		return Match(t.Left, el) && Match(t.Right, el)
	case *filter.Or:
		return Match(t.Left, el) || Match(t.Right, el)
	case *filter.Not:
		return !Match(t.X, el)
	case *filter.Compare:
		return matchCompare(t, el)
	}
	return false
}

// matchCompare evaluates one comparison against el. An absent sub-attribute
// matches only ne (and fails pr).
func matchCompare(c *filter.Compare, el map[string]any) bool {
	v, ok := scimjson.Lookup(el, c.Path.Attr)
	a, b := strings.ToLower(str(v)), strings.ToLower(str(c.Value))
	switch c.Op {
	case filter.Pr:
		return ok && !isEmpty(v)
	case filter.Ne:
		return !ok || a != b
	}
	cmp, known := stringOps[c.Op]
	return ok && known && cmp(a, b)
}

// stringOps compare a present (lower-cased) value a with the filter's b.
// Order comparisons are lexical: the sub-attributes a value filter tests are
// strings.
var stringOps = map[filter.Op]func(a, b string) bool{
	filter.Eq: func(a, b string) bool { return a == b },
	filter.Co: strings.Contains,
	filter.Sw: strings.HasPrefix,
	filter.Ew: strings.HasSuffix,
	filter.Gt: func(a, b string) bool { return a > b },
	filter.Ge: func(a, b string) bool { return a >= b },
	filter.Lt: func(a, b string) bool { return a < b },
	filter.Le: func(a, b string) bool { return a <= b },
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	}
	return false
}

func str(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		if t {
			return "true"
		}
		return "false"
	}
	return fmt.Sprint(v)
}
