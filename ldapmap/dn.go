package ldapmap

import (
	"strings"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
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

// checkName refuses a value that names something (userName, and every RDN
// value, derived ones included) when it is blank or holds a character that
// cannot be seen or that breaks lines: C0 controls (TAB, LF, CR...), DEL,
// C1 controls, bidi embeddings, overrides and isolates, zero-width
// characters and the BOM, and the line and paragraph separators. Such a
// name looks like another one in a console, a log line or an admin's GUI
// ("admin\u202Enimda" shows as "adminadmin"), or splits a log line; ldap.EscapeDN
// would keep the DN well-formed, but not the name honest. A blank one is
// refused here so that the client reads why, not the directory's
// diagnostic about a missing attribute. path names the SCIM attribute.
func checkName(path, v string) error {
	if strings.TrimSpace(v) == "" {
		return scimerr.New(scimerr.InvalidValue, "%s is blank: it names the entry, so it needs a visible character", path)
	}
	if !utf8.ValidString(v) {
		return scimerr.New(scimerr.InvalidValue, "%s is not valid UTF-8", path)
	}
	if r, ok := badNameRune(v); ok {
		return scimerr.New(scimerr.InvalidValue, "%s holds the control or invisible character U+%04X, which a name may not hold", path, r)
	}
	return nil
}

// badNameRune returns the first character of s that checkName refuses.
func badNameRune(s string) (rune, bool) {
	for _, r := range s {
		switch {
		case r < 0x20, r >= 0x7f && r <= 0x9f: // C0 with TAB, LF, CR; DEL; C1
		case r >= 0x200b && r <= 0x200d, r == 0x2060, r == 0xfeff: // zero-width, word joiner, BOM
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
		case r == 0x2028, r == 0x2029: // line and paragraph separators
		default:
			continue
		}
		return r, true
	}
	return 0, false
}

// checkDerivedName checks a derived RDN value (AD's CN=<displayName>) as
// checkName does, naming the mapped SCIM attribute that brought the bad
// character in: the client sent that one, not the RDN.
func (m *Map) checkDerivedName(v string, vals values) error {
	path := m.RDN
	if r, ok := badNameRune(v); ok {
		for _, a := range m.Attrs {
			if strings.ContainsRune(vals.get(a.LDAP), r) {
				path = a.SCIM.String() + " (it names the entry as " + m.RDN + ")"
				break
			}
		}
	}
	return checkName(path, v)
}
