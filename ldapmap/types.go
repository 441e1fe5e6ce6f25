package ldapmap

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// A value of the wrong JSON type for its SCIM attribute (RFC 7643 §2.3, §4)
// is refused with invalidValue naming its path, before anything is planned.
// Attr.Value reads whatever it cannot read as "", and an update writes ""
// as a delete: without this check "emails": "x@example.org" or
// "title": ["a", "b"] would remove the stored value and answer 200, and a
// create would drop it silently.
//
// The shapes accepted beyond RFC 7643's types, each because a real client
// sends it and nothing is lost reading it:
//   - a string attribute takes a number too, stored as its decimal text
//     (RFC 7643 wants a string; the text is the client's own);
//   - a single value may come wrapped, as {"value": x} or [x] (Entra's
//     [{"$ref": null, "value": x}], docs/entra-wire-reference.md §7.6);
//   - booleans (primary; active is Active's) take "True"/"False" in any
//     case (§7.1);
//   - the manager is a bare id or {"value": id} (§7.5);
//   - a multi-valued attribute takes one element sent bare, not in a list
//     (Entra's PATCH values);
//   - null, and [] for any attribute, mean "no value" (RFC 7644 §3.5.2).
//
// Refused: a list of several values for a single-valued attribute, an object
// without "value" where a value is wanted, a non-object where an object is,
// and a boolean where a string is (its text, "TRUE", would be the bridge's
// invention). userName takes a string only: it names the entry and is
// Entra's matching key, and a POST with anything else is refused (scimapi),
// so a PATCH must not set it either. Custom extension attributes declare no
// type, so any single value goes. Attributes the schema does not know are
// ignored, as documented for unmapped attributes; the ones RFC 7643 defines
// are checked even when unmapped: the type is known, and the check costs a
// look-up.

// valueKind is what one value of an attribute must be.
type valueKind int

const (
	kindString valueKind = iota
	kindBool
	kindAny // custom extension attributes: any single value
)

// checkTypes refuses res when a value has the wrong type for its attribute.
func (m *Map) checkTypes(res Resource) error {
	if m.Kind == "Group" {
		for _, k := range sortedKeys(res) {
			if name, ok := canonical(groupSimple, k); ok {
				if err := checkSingle(name, res[k], kindString); err != nil {
					return err
				}
			}
		}
		return m.checkCustomTypes(res)
	}
	for _, k := range sortedKeys(res) {
		v := res[k]
		if strings.EqualFold(k, "userName") {
			if _, ok := v.(string); !ok && v != nil {
				return scimerr.New(scimerr.InvalidValue, "userName takes a string, not %s", describe(v))
			}
			continue
		}
		if strings.EqualFold(k, SchemaEnterprise) {
			if err := checkExtension(SchemaEnterprise, v); err != nil {
				return err
			}
			ext, _ := v.(map[string]any)
			for _, ek := range sortedKeys(ext) {
				if err := m.checkAttr(SchemaEnterprise+":", userSchema[lower(SchemaEnterprise)], ek, ext[ek]); err != nil {
					return err
				}
			}
			continue
		}
		if err := m.checkAttr("", userSchema[""], k, v); err != nil {
			return err
		}
	}
	return m.checkCustomTypes(res)
}

// groupSimple are the Group attributes that hold one string (RFC 7643 §4.2;
// externalId from §3.1). members are MemberIDs' to check.
var groupSimple = map[string][]string{"displayName": nil, "externalId": nil}

// checkAttr checks the value of key when schema knows it.
func (m *Map) checkAttr(prefix string, schema map[string][]string, key string, v any) error {
	name, ok := canonical(schema, key)
	if !ok {
		return nil
	}
	path := prefix + name
	subs := schema[name]
	switch {
	case subs == nil, name == "manager":
		return checkSingle(path, v, kindString)
	case name == "name":
		return checkObject(path, v, subs)
	}
	return m.checkMulti(path, name, v, subs)
}

// checkCustomTypes checks the mapped attributes of custom extensions: their
// extension must be an object, and each holds a single value.
func (m *Map) checkCustomTypes(res Resource) error {
	for _, a := range m.Attrs {
		if a.SCIM.URN == "" || scimjson.IsCoreSchema(a.SCIM.URN) || strings.EqualFold(a.SCIM.URN, SchemaEnterprise) {
			continue
		}
		ext, _ := scimjson.Lookup(res, a.SCIM.URN)
		if err := checkExtension(a.SCIM.URN, ext); err != nil {
			return err
		}
		obj, _ := ext.(map[string]any)
		if v, ok := scimjson.Lookup(obj, a.SCIM.Attr); ok {
			if err := checkSingle(a.SCIM.String(), v, kindAny); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkExtension refuses an extension that is not an object: container
// would not find its attributes, and an update would delete them all.
func checkExtension(urn string, v any) error {
	if _, ok := v.(map[string]any); ok || v == nil {
		return nil
	}
	return scimerr.New(scimerr.InvalidValue, "%s is a schema extension and takes an object, not %s", urn, describe(v))
}

// checkObject checks a single complex attribute (name): an object whose
// known sub-attributes each hold one string.
func checkObject(path string, v any, subs []string) error {
	if l, ok := v.([]any); ok && len(l) == 0 {
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok && v != nil {
		return scimerr.New(scimerr.InvalidValue, "%s is complex and takes an object such as {%q: ...}, not %s",
			path, subs[0], describe(v))
	}
	for _, k := range sortedKeys(obj) {
		if sub, ok := canonicalIn(subs, k); ok {
			if err := checkSingle(path+"."+sub, obj[k], kindString); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkMulti checks a multi-valued attribute: a list of objects (or one sent
// bare) whose known sub-attributes hold one value each. Roles, when
// users.roles reads them, may also be bare values (see Values).
func (m *Map) checkMulti(path, name string, v any, subs []string) error {
	bareValues := name == "roles" && m.Roles != nil
	list, isList := v.([]any)
	if !isList {
		list = elements(v)
	}
	for i, el := range list {
		switch t := el.(type) {
		case nil:
		case map[string]any:
			if err := checkElement(path, t, subs); err != nil {
				return err
			}
		default:
			if bareValues {
				if err := checkSingle(path, t, kindString); err != nil {
					return err
				}
				continue
			}
			what := "not " + describe(v)
			if isList {
				what = fmt.Sprintf("but element %d is %s", i+1, describe(el))
			}
			return scimerr.New(scimerr.InvalidValue, `%s is multi-valued and takes a list of objects such as [{"type": "work", "value": ...}], %s`,
				path, what)
		}
	}
	return nil
}

// checkElement checks the known sub-attributes of one element, naming it by
// its type when it has one: emails[type eq "work"].value.
func checkElement(path string, el map[string]any, subs []string) error {
	if t, ok := scimjson.Lookup(el, "type"); ok {
		if s, ok := t.(string); ok && s != "" && len(s) <= maxPathType {
			path += fmt.Sprintf("[type eq %q]", s)
		}
	}
	for _, k := range sortedKeys(el) {
		sub, ok := canonicalIn(subs, k)
		if !ok {
			continue
		}
		kind := kindString
		if sub == "primary" {
			kind = kindBool
		}
		if err := checkSingle(path+"."+sub, el[k], kind); err != nil {
			return err
		}
	}
	return nil
}

// maxPathType bounds the type shown in an error path: the detail must not
// echo a hostile megabyte back.
const maxPathType = 32

// checkSingle checks one value of kind k at path.
func checkSingle(path string, v any, k valueKind) error {
	bad := single(v, k)
	if bad == "" {
		return nil
	}
	switch k {
	case kindBool:
		return scimerr.New(scimerr.InvalidValue, `%s takes a boolean (true, false, "True" or "False"), not %s`, path, bad)
	case kindAny:
		return scimerr.New(scimerr.InvalidValue, "%s takes a single value, not %s", path, bad)
	}
	return scimerr.New(scimerr.InvalidValue, `%s takes a string (or one value as {"value": ...}), not %s`, path, bad)
}

// single tells what keeps v from being one value of kind k ("" if nothing).
// It accepts exactly what scalarString (kindString, kindAny) or
// scimjson.ParseBool (kindBool) reads.
func single(v any, k valueKind) string {
	if bad, ok := singleScalar(v, k); ok {
		return bad
	}
	// One value may also come wrapped, as a one-element list or as
	// {"value": ...}; never so for a boolean.
	switch t := v.(type) {
	case []any:
		switch {
		case len(t) == 0:
			return ""
		case len(t) == 1 && k != kindBool:
			return single(t[0], k)
		}
	case map[string]any:
		if x, ok := scimjson.Lookup(t, "value"); ok && k != kindBool {
			return single(x, k)
		}
	}
	return describe(v)
}

// singleScalar is single for a JSON scalar (null, string, boolean, number);
// scalar is false for anything else.
func singleScalar(v any, k valueKind) (bad string, scalar bool) {
	switch t := v.(type) {
	case nil:
	case string:
		if _, ok := scimjson.ParseBool(t); k == kindBool && !ok {
			return "a string other than true or false", true
		}
	case bool:
		if k == kindString {
			return "a boolean", true
		}
	case json.Number, float64:
		if k == kindBool {
			return "a number", true
		}
	default:
		return "", false
	}
	return "", true
}

// describe names the JSON type of v for a message; values are never echoed,
// they may be personal or huge.
func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		if len(t) == 1 {
			return "a list holding " + describe(t[0])
		}
		return fmt.Sprintf("a list of %d values", len(t))
	case map[string]any:
		if _, ok := scimjson.Lookup(t, "value"); ok {
			return "an object"
		}
		return `an object without "value"`
	}
	return fmt.Sprintf("%T", v)
}

// canonical finds name in schema case-insensitively (RFC 7643 §2.1) and
// returns the schema's spelling.
func canonical(schema map[string][]string, name string) (string, bool) {
	if _, ok := schema[name]; ok {
		return name, true
	}
	for k := range schema {
		if strings.EqualFold(k, name) {
			return k, true
		}
	}
	return "", false
}

func canonicalIn(list []string, name string) (string, bool) {
	for _, s := range list {
		if strings.EqualFold(s, name) {
			return s, true
		}
	}
	return "", false
}

// sortedKeys makes the first of several bad values the same on every request.
func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
