// Package scimjson holds the few rules for reading SCIM resources kept as
// decoded JSON (map[string]any) that every layer needs: attribute names are
// case-insensitive (RFC 7643 §2.1) and Entra sends booleans as strings.
package scimjson

import "strings"

// Lookup returns the value of key in obj, matching the name case-insensitively.
func Lookup(obj map[string]any, key string) (any, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// KeyOf returns the spelling obj already uses for key, or key itself, so a
// write replaces the client's "UserName" instead of adding "userName" beside it.
func KeyOf(obj map[string]any, key string) string {
	if _, ok := obj[key]; ok {
		return key
	}
	for k := range obj {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return key
}

// ParseBool accepts a JSON boolean or the strings true/false in any case:
// Entra's default dialect sends "True"/"False" (docs/entra-wire-reference.md §7.1) and admins'
// edited mappings "true"/"false".
func ParseBool(v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// Schema URNs of RFC 7643 §8.7.1 and §4.3, shared so each is written once.
const (
	SchemaUser           = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// EnterpriseAttrs are the attributes of the enterprise User extension
// (RFC 7643 §4.3). Entra sometimes names them without their URN.
var EnterpriseAttrs = []string{"employeeNumber", "costCenter", "organization", "division", "department", "manager"}

// IsCoreSchema tells whether urn is a core schema, whose attributes live at
// the top of the resource rather than in an extension object.
func IsCoreSchema(urn string) bool {
	return strings.EqualFold(urn, SchemaUser) || strings.EqualFold(urn, SchemaGroup)
}

// IsEnterpriseAttr tells whether name is an enterprise extension attribute.
func IsEnterpriseAttr(name string) bool {
	for _, a := range EnterpriseAttrs {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}
