package ldapmap

import (
	"encoding/json"

	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// Resource is a SCIM resource as decoded JSON: objects are map[string]any,
// arrays []any, numbers json.Number. Attribute names are matched
// case-insensitively (RFC 7643 §2.1), whatever case the client used.
type Resource = map[string]any

// container returns the object holding the attribute of path p: the resource
// itself for core attributes, the extension object for URN-qualified ones.
func container(res Resource, p filter.Path, create bool) map[string]any {
	if p.URN == "" || scimjson.IsCoreSchema(p.URN) {
		return res
	}
	if v, ok := scimjson.Lookup(res, p.URN); ok {
		if m, ok := v.(map[string]any); ok {
			return m
		}
	}
	if !create {
		return nil
	}
	m := map[string]any{}
	res[scimjson.KeyOf(res, p.URN)] = m
	return m
}

// Value returns the scalar at the mapping path of a in res as the string LDAP
// stores, "" when absent, null or empty. A manager reference yields the id,
// whether it came as a bare string (what Entra sends) or as {"value": id}.
func (a *Attr) Value(res Resource) string {
	c := container(res, a.SCIM, false)
	if c == nil {
		return ""
	}
	v, _ := scimjson.Lookup(c, a.SCIM.Attr)
	switch {
	case a.Ref:
		if m, ok := v.(map[string]any); ok {
			v, _ = scimjson.Lookup(m, "value")
		}
	case a.SCIM.Filter != nil:
		v = typedElement(v, a.SCIM.Filter)
		if m, ok := v.(map[string]any); ok {
			v, _ = scimjson.Lookup(m, a.SCIM.SubAttr)
		} else {
			v = nil
		}
	case a.SCIM.SubAttr != "":
		if m, ok := v.(map[string]any); ok {
			v, _ = scimjson.Lookup(m, a.SCIM.SubAttr)
		} else {
			v = nil
		}
	}
	return scalarString(v)
}

// typedElement returns the element of a multi-valued attribute selected by the
// mapping's value filter, nil if none. RFC 7643 §2.4 lets "type" repeat, but Entra
// requires one element per type (docs/entra-wire-reference.md §1), so the first wins.
// One element sent bare, not in a list, counts: checkTypes accepts it, so it
// must not read as absent (an update would delete the value).
func typedElement(v any, f filter.Expr) any {
	sel, _ := selectorOf(f)
	for _, el := range elements(v) {
		if m, ok := el.(map[string]any); ok && sel.matches(m) {
			return m
		}
	}
	return nil
}

// SetValue writes the LDAP value s into res at a's path, creating containers and
// the typed element as needed. An empty s removes the value.
func (a *Attr) SetValue(res Resource, s string) {
	if s == "" {
		a.clear(res)
		return
	}
	c := container(res, a.SCIM, true)
	key := scimjson.KeyOf(c, a.SCIM.Attr)
	switch {
	case a.Ref:
		c[key] = map[string]any{"value": s}
	case a.SCIM.Filter != nil:
		sel, _ := selectorOf(a.SCIM.Filter)
		list, _ := c[key].([]any)
		el, _ := typedElement(list, a.SCIM.Filter).(map[string]any)
		if el == nil {
			el = sel.seed()
			list = append(list, el)
		}
		el[scimjson.KeyOf(el, a.SCIM.SubAttr)] = s
		c[key] = list
	case a.SCIM.SubAttr != "":
		m, _ := c[key].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		m[scimjson.KeyOf(m, a.SCIM.SubAttr)] = s
		c[key] = m
	default:
		c[key] = s
	}
}

func (a *Attr) clear(res Resource) {
	c := container(res, a.SCIM, false)
	if c == nil {
		return
	}
	key := scimjson.KeyOf(c, a.SCIM.Attr)
	switch {
	case a.SCIM.Filter != nil:
		el, _ := typedElement(c[key], a.SCIM.Filter).(map[string]any)
		if el != nil {
			delete(el, scimjson.KeyOf(el, a.SCIM.SubAttr))
		}
	case a.SCIM.SubAttr != "" && !a.Ref:
		if m, ok := c[key].(map[string]any); ok {
			delete(m, scimjson.KeyOf(m, a.SCIM.SubAttr))
		}
	default:
		delete(c, key)
	}
}

// elements are the values of a multi-valued attribute: its array, or one
// element sent bare (Entra does that in PATCH values); nil for null.
func elements(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	}
	return []any{v}
}

// scalarString renders a JSON scalar the way LDAP stores it. Objects and arrays
// are not scalars: Entra sometimes wraps a single value as [{"value": x}]
// (docs/entra-wire-reference.md §7.6), which is unwrapped here.
func scalarString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		if t {
			return "TRUE"
		}
		return "FALSE"
	case json.Number:
		return t.String()
	case float64:
		return json.Number(formatFloat(t)).String()
	case []any:
		if len(t) == 1 {
			return scalarString(t[0])
		}
	case map[string]any:
		if x, ok := scimjson.Lookup(t, "value"); ok {
			return scalarString(x)
		}
	}
	return ""
}

func formatFloat(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// Active reads the SCIM active attribute: absent → (false, false). Entra's default
// dialect sends the strings "True"/"False" (and admins' mappings "true"/"false"),
// docs/entra-wire-reference.md §3.3 and §4.3; they are accepted wherever a boolean is.
func Active(res Resource) (active, present bool, err error) {
	v, ok := scimjson.Lookup(res, "active")
	if !ok || v == nil {
		return false, false, nil
	}
	b, ok := scimjson.ParseBool(v)
	if !ok {
		return false, false, errBadBool
	}
	return b, true, nil
}
