package ldapmap

import (
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// RDNString returns the escaped RDN "attr=value" for a new entry name. This and
// filter.go are the only places that put client values into LDAP strings.
func (m *Map) RDNString(value string) string {
	return m.RDN + "=" + ldap.EscapeDN(value)
}

// DN returns the DN of a new entry whose RDN attribute has value.
func (m *Map) DN(value string) string {
	return m.RDNString(value) + "," + m.BaseDN
}

// InBase tells whether dn lies at or below the mapping's base DN, so that a
// reference (manager) never points outside the managed subtree.
func (m *Map) InBase(dn string) bool {
	parsed, err := ldap.ParseDN(dn)
	if err != nil || m.baseDN == nil {
		return false
	}
	return m.baseDN.AncestorOfFold(parsed) || m.baseDN.EqualFold(parsed)
}

// InSubtree tells whether dn is base or lies below it; false when either is
// not a DN.
func InSubtree(dn, base string) bool {
	d, err1 := ldap.ParseDN(dn)
	b, err2 := ldap.ParseDN(base)
	return err1 == nil && err2 == nil && (b.AncestorOfFold(d) || b.EqualFold(d))
}

// SameDN compares two DNs as LDAP does (case-insensitive attribute types and
// values for the usual string attributes).
func SameDN(a, b string) bool {
	pa, err1 := ldap.ParseDN(a)
	pb, err2 := ldap.ParseDN(b)
	if err1 != nil || err2 != nil {
		return strings.EqualFold(a, b)
	}
	return pa.EqualFold(pb)
}
