package config

import (
	"net/url"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// The rules below are the only copies: ldapmap (the schema parser, the
// mapping), bridge (the pool) and the online checks call them, so the offline
// checks, the compiled mapping and the directory checks cannot drift apart.

// IsOID accepts an object identifier as RFC 4512 §1.4 writes one: a
// descriptor (a letter, then letters, digits and hyphens) or a numeric OID
// (dot-separated numbers without leading zeros). Object classes are named so.
func IsOID(s string) bool {
	if s != "" && isDigit(s[0]) {
		return isNumericOID(s)
	}
	return isDescriptor(s)
}

// isNumericOID accepts dot-separated numbers without leading zeros (2.5.6.6).
func isNumericOID(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" || strings.Trim(part, "0123456789") != "" || (len(part) > 1 && part[0] == '0') {
			return false
		}
	}
	return true
}

// isDescriptor accepts a letter, then letters, digits and hyphens
// (inetOrgPerson); not the empty string.
func isDescriptor(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && (i == 0 || !isDigit(c) && c != '-') {
			return false
		}
	}
	return s != ""
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// IsAttrName accepts an attribute description (RFC 4512 §2.5): an OID
// followed by options, each ";" and letters, digits and hyphens
// (userCertificate;binary).
func IsAttrName(s string) bool {
	oid, options, found := strings.Cut(s, ";")
	if !IsOID(oid) {
		return false
	}
	if !found {
		return true
	}
	for _, o := range strings.Split(options, ";") {
		if o == "" || strings.Trim(strings.ToLower(o), "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return false
		}
	}
	return true
}

// Encrypted tells whether every connection to the directory is TLS
// protected: each URL (ldap.url and failover_urls) is ldaps://, or StartTLS
// is on. A URL that does not parse counts as not encrypted.
func (l LDAPConfig) Encrypted() bool {
	for _, raw := range append([]string{l.URL}, l.FailoverURLs...) {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "ldaps" && !l.StartTLS) {
			return false
		}
	}
	return true
}

// The values of users.disable.method.
const (
	DisablePPolicy   = "ppolicy"
	DisableAttribute = "attribute"
	DisableUAC       = "uac"
	DisableNone      = "none"
)

// Problems checks users.disable: a known method, and what method attribute
// needs. Validate reports them, and ldapmap.New too, so that a mapping
// compiled from a configuration that was never loaded refuses the same.
func (d DisableConfig) Problems() Problems {
	var ps Problems
	switch d.Method {
	case DisablePPolicy, DisableNone, DisableUAC:
	case DisableAttribute:
		if !IsAttrName(d.Attribute) {
			ps.Add("users.disable.attribute", "is required with method attribute (e.g. employeeType)")
		}
		if d.DisabledValue == "" {
			ps.Add("users.disable.disabled_value", "is required with method attribute")
		}
	default:
		ps.Add("users.disable.method", "must be %s, %s, %s or %s, got %q",
			DisablePPolicy, DisableAttribute, DisableUAC, DisableNone, d.Method)
	}
	return ps
}

// DN parses dn, or records at path that it is not a valid DN and returns
// nil. ldapmap.New parses base_dn through it as well.
func (ps *Problems) DN(path, dn string) *ldap.DN {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		ps.Add(path, "is not a valid DN: %v", err)
		return nil
	}
	return parsed
}
