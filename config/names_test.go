package config_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
)

func TestNameRules(t *testing.T) {
	for _, tc := range []struct {
		name      string
		oid, attr bool
	}{
		{"mail", true, true},
		{"msDS-cloudExtensionAttribute1", true, true},
		{"2.5.4.3", true, true},
		{"0", true, true},
		{"userCertificate;binary", false, true},
		{"cn;lang-en;x-1", false, true},
		{"", false, false},
		{"1abc", false, false},
		{"01.2", false, false},
		{"1..2", false, false},
		{"-cn", false, false},
		{"a.b", false, false},
		{"employee type", false, false},
		{"uid_number", false, false},
		{"cn;", false, false},
		{"cn;;x", false, false},
		{"cn;a=b", false, false},
		{";binary", false, false},
	} {
		if got := config.IsOID(tc.name); got != tc.oid {
			t.Errorf("IsOID(%q) = %v, want %v", tc.name, got, tc.oid)
		}
		if got := config.IsAttrName(tc.name); got != tc.attr {
			t.Errorf("IsAttrName(%q) = %v, want %v", tc.name, got, tc.attr)
		}
	}
}

func TestEncrypted(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  config.LDAPConfig
		want bool
	}{
		{"ldaps", config.LDAPConfig{URL: "ldaps://dc1:636"}, true},
		{"starttls", config.LDAPConfig{URL: "ldap://dc1", StartTLS: true}, true},
		{"plain", config.LDAPConfig{URL: "ldap://dc1"}, false},
		{"plain failover", config.LDAPConfig{URL: "ldaps://dc1", FailoverURLs: []string{"ldap://dc2"}}, false},
		{"ldaps failover", config.LDAPConfig{URL: "ldaps://dc1", FailoverURLs: []string{"ldaps://dc2"}}, true},
		{"unparsable", config.LDAPConfig{URL: "ldaps://dc1:x y", StartTLS: true}, false},
	} {
		if got := tc.cfg.Encrypted(); got != tc.want {
			t.Errorf("%s: Encrypted() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDisableProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    config.DisableConfig
		want []string // "path: message part"
	}{
		{"ppolicy", config.DisableConfig{Method: "ppolicy"}, nil},
		{"uac", config.DisableConfig{Method: "uac"}, nil},
		{"none", config.DisableConfig{Method: "none"}, nil},
		{"attribute", config.DisableConfig{Method: "attribute", Attribute: "employeeType", DisabledValue: "x"}, nil},
		{
			"attribute without value",
			config.DisableConfig{Method: "attribute", Attribute: "employeeType"},
			[]string{"users.disable.disabled_value: is required"},
		},
		{
			"attribute badly named",
			config.DisableConfig{Method: "attribute", Attribute: "employee type", DisabledValue: "x"},
			[]string{"users.disable.attribute: is required"},
		},
		{
			"unknown",
			config.DisableConfig{Method: "lock"},
			[]string{`users.disable.method: must be ppolicy, attribute, uac or none, got "lock"`},
		},
		{"empty", config.DisableConfig{}, []string{`users.disable.method: must be`}},
	} {
		ps := tc.d.Problems()
		if len(ps) != len(tc.want) {
			t.Errorf("%s: %v, want %d problems", tc.name, ps, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.HasPrefix(ps[i].Error(), w) {
				t.Errorf("%s: %q, want %q...", tc.name, ps[i].Error(), w)
			}
		}
	}
}

func TestProblemsDN(t *testing.T) {
	for _, tc := range []struct {
		dn   string
		want string // the problem; "": none
	}{
		{"ou=people,dc=example,dc=org", ""},
		{`cn=o\2cbrien,dc=example,dc=org`, ""},
		{"ou=people,,dc=example", "users.base_dn: is not a valid DN: "},
		{"people", "users.base_dn: is not a valid DN: "},
	} {
		var ps config.Problems
		dn := ps.DN("users.base_dn", tc.dn)
		switch {
		case tc.want == "" && (len(ps) != 0 || dn == nil):
			t.Errorf("%q: %v, %v", tc.dn, dn, ps)
		case tc.want != "" && (len(ps) != 1 || dn != nil || !strings.HasPrefix(ps[0].Error(), tc.want)):
			t.Errorf("%q: %v, %v; want %q", tc.dn, dn, ps, tc.want)
		}
	}
}
