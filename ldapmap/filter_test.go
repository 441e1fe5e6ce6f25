package ldapmap_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

const (
	managed   = "(objectClass=inetOrgPerson)"
	matchNone = "(!(objectClass=*))"
	matchAll  = "(objectClass=*)"
	enterURN  = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

type filterCase struct {
	name string
	in   string
	// want is the translated SCIM filter, without the managed-entries wrapper.
	want string
}

// searchFilterCases run against examples/openldap.yaml (ppolicy disable).
var searchFilterCases = []filterCase{
	// Every operator of RFC 7644 §3.4.2.2 on a plain string attribute.
	{"eq", `userName eq "bjensen"`, `(uid=bjensen)`},
	{"ne", `userName ne "bjensen"`, `(!(uid=bjensen))`},
	{"co", `userName co "jen"`, `(uid=*jen*)`},
	{"sw", `userName sw "bj"`, `(uid=bj*)`},
	{"ew", `userName ew "sen"`, `(uid=*sen)`},
	{"pr", `userName pr`, `(uid=*)`},
	{"gt", `title gt "m"`, `(&(title>=m)(!(title=m)))`},
	{"ge", `title ge "m"`, `(title>=m)`},
	{"lt", `title lt "m"`, `(&(title<=m)(!(title=m)))`},
	{"le", `title le "m"`, `(title<=m)`},
	{"co empty is presence", `userName co ""`, `(uid=*)`},
	{"eq null is absence", `displayName eq null`, `(!(displayName=*))`},
	{"ne null is presence", `displayName ne null`, `(displayName=*)`},
	{"boolean value", `title eq true`, `(title=TRUE)`},
	{"number value", `title eq 42`, `(title=42)`},

	// Logical operators and grouping.
	{"and", `userName eq "a" and title eq "b"`, `(&(uid=a)(title=b))`},
	{"or", `userName eq "a" or title eq "b"`, `(|(uid=a)(title=b))`},
	{"not", `not (userName eq "a")`, `(!(uid=a))`},
	{
		"and binds tighter than or", `userName eq "a" or userName eq "b" and title eq "c"`,
		`(|(uid=a)(&(uid=b)(title=c)))`,
	},
	{
		"parentheses", `(userName eq "a" or userName eq "b") and title eq "c"`,
		`(&(|(uid=a)(uid=b))(title=c))`,
	},
	{
		"nested", `userName eq "a" and (title eq "b" or not (displayName pr))`,
		`(&(uid=a)(|(title=b)(!(displayName=*))))`,
	},

	// Entra's matchers (docs/entra-wire-reference.md §1.1) and the id.
	{
		"entra userName", `userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"`,
		`(uid=Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee)`,
	},
	{
		"entra externalId", `externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`,
		`(employeeNumber=0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef)`,
	},
	{
		"id is the entryUUID", `id eq "5d48a0a8-e9f0-4aa3-8008-000000000000"`,
		`(entryUUID=5d48a0a8-e9f0-4aa3-8008-000000000000)`,
	},
	{"work email with sub-attribute", `emails[type eq "work"].value eq "x@example.org"`, `(mail=x@example.org)`},
	{"email type with no mapping", `emails[type eq "home"].value eq "x@example.org"`, matchNone},
	{"emails.value", `emails.value eq "x@example.org"`, `(mail=x@example.org)`},
	{"emails alone compares value", `emails eq "x@example.org"`, `(mail=x@example.org)`},
	{
		"phoneNumbers.value covers every typed mapping", `phoneNumbers.value eq "123"`,
		`(|(telephoneNumber=123)(mobile=123))`,
	},
	{"phoneNumbers alone", `phoneNumbers eq "123"`, `(|(telephoneNumber=123)(mobile=123))`},
	{"value filter used as a filter", `emails[type eq "work" and value co "@x"]`, `(&(mail=*)(mail=*@x*))`},
	{"value filter on a type without mapping", `emails[type eq "home" and value co "@x"]`, matchNone},
	{"value filter selects one of two mappings", `phoneNumbers[type eq "mobile"]`, `(mobile=*)`},
	{
		"value filter on another mapped sub-attribute", `addresses[type eq "work" and locality eq "Paris"]`,
		`(&(l=*)(l=Paris))`,
	},

	// A value filter needs an element that satisfies it (RFC 7644 §3.4.2.2):
	// not inside the brackets never matches entries without the element.
	{"not type inside a value filter", `emails[not (type eq "work")]`, `(&(mail=*)(!(mail=*)))`},
	{"not another type inside a value filter", `emails[not (type eq "home")]`, `(mail=*)`},
	{"not value inside a value filter", `emails[not (value eq "a@x")]`, `(&(mail=*)(!(mail=a@x)))`},
	{"ne inside a value filter", `emails[value ne "a@x"]`, `(&(mail=*)(!(mail=a@x)))`},
	{"value filter alone", `emails[value eq "a@x"]`, `(&(mail=*)(mail=a@x))`},
	{"not around a value filter", `not (emails[not (value eq "a@x")])`, `(!(&(mail=*)(!(mail=a@x))))`},
	{"or with an unmapped type", `emails[type eq "home" or value eq "a@x"]`, `(&(mail=*)(mail=a@x))`},
	{
		"not type across two typed mappings", `phoneNumbers[not (type eq "work")]`,
		`(|(&(telephoneNumber=*)(!(telephoneNumber=*)))(mobile=*))`,
	},
	{"type ne", `phoneNumbers[type ne "work"]`, `(mobile=*)`},
	{"not of an unmapped sub-attribute", `emails[not (display eq "x")]`, `(mail=*)`},
	{"sub-attribute", `name.givenName eq "Barbara"`, `(givenName=Barbara)`},
	{
		"enterprise attribute by URN", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Tech"`,
		`(departmentNumber=Tech)`,
	},
	{"enterprise attribute unqualified", `department eq "Tech"`, `(departmentNumber=Tech)`},
	{"core URN", `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`, `(uid=a)`},

	// Attribute names and operators are case-insensitive (RFC 7643 §2.1).
	{"USERNAME", `USERNAME eq "a"`, `(uid=a)`},
	{"operator case", `userName EQ "a"`, `(uid=a)`},
	{"EMAILS filter case", `EMAILS[TYPE EQ "WORK"].VALUE eq "a"`, `(mail=a)`},
	{"ID", `ID eq "x"`, `(entryUUID=x)`},

	// active through ppolicy.
	{"active eq true", `active eq true`, `(!(pwdAccountLockedTime=000001010000Z))`},
	{"active eq false", `active eq false`, `(pwdAccountLockedTime=000001010000Z)`},
	{"active eq string False", `active eq "False"`, `(pwdAccountLockedTime=000001010000Z)`},
	{"active eq string True", `active eq "True"`, `(!(pwdAccountLockedTime=000001010000Z))`},
	{"active ne true", `active ne true`, `(pwdAccountLockedTime=000001010000Z)`},
	{"active pr", `active pr`, matchAll},

	// Attributes the map does not hold are absent from every entry.
	{"unmapped eq", `nickName eq "Babs"`, matchNone},
	{"unmapped ne", `nickName ne "Babs"`, matchAll},
	{"unmapped pr", `nickName pr`, matchNone},
	{"unmapped co", `nickName co "a"`, matchNone},
	{"unmapped eq null", `nickName eq null`, matchAll},
	{"unmapped ne null", `nickName ne null`, matchNone},
	{"not unmapped", `not (nickName eq "Babs")`, `(!` + matchNone + `)`},

	// meta timestamps are the directory's operational attributes.
	{
		"lastModified gt", `meta.lastModified gt "2026-01-01T00:00:00Z"`,
		`(&(modifyTimestamp>=20260101000000Z)(!(modifyTimestamp=20260101000000Z)))`,
	},
	{"created ge with offset", `meta.created ge "2026-01-01T01:00:00+01:00"`, `(createTimestamp>=20260101000000Z)`},
	{"lastModified pr", `meta.lastModified pr`, `(modifyTimestamp=*)`},
	{"meta.version is not filterable", `meta.version eq "x"`, matchNone},

	// The manager reference compares the resolved DN, escaped.
	{
		"manager eq id", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "` + bossID + `"`,
		`(manager=uid=o\5c2cbrien \28boss\29,ou=people,dc=example,dc=org)`,
	},
	{
		"manager.value eq id", `manager.value eq "` + bossID + `"`,
		`(manager=uid=o\5c2cbrien \28boss\29,ou=people,dc=example,dc=org)`,
	},
	{
		"manager ne id", `manager ne "` + bossID + `"`,
		`(!(manager=uid=o\5c2cbrien \28boss\29,ou=people,dc=example,dc=org))`,
	},
	{"manager unknown id", `manager eq "nobody"`, matchNone},
	{"manager pr", `manager pr`, `(manager=*)`},
	{"manager eq null", `manager eq null`, `(!(manager=*))`},
	{
		"entra manager probe", `id eq "54D382A4" and manager eq "` + bossID + `"`,
		`(&(entryUUID=54D382A4)(manager=uid=o\5c2cbrien \28boss\29,ou=people,dc=example,dc=org))`,
	},

	// Hostile values are escaped once (RFC 4515): never wildcards or structure.
	{"injection", `userName eq "*)(uid=*"`, `(uid=\2a\29\28uid=\2a)`},
	{"injection in co", `userName co "*)(|(uid=*"`, `(uid=*\2a\29\28|\28uid=\2a*)`},
	{"star", `userName sw "*"`, `(uid=\2a*)`},
	{"backslash", `userName eq "a\\b"`, `(uid=a\5cb)`},
	{"escaped escape", `userName eq "\\2a"`, `(uid=\5c2a)`},
	{"open paren", `userName eq "("`, `(uid=\28)`},
	{"dn injection is a plain value", `userName eq ",dc=evil"`, `(uid=,dc=evil)`},
	{"unicode", `userName eq "José 東京"`, `(uid=Jos\c3\a9 \e6\9d\b1\e4\ba\ac)`},
	{"injection in value filter", `emails[type eq "work" and value eq "*)(x=*"]`, `(&(mail=*)(mail=\2a\29\28x=\2a))`},
	{"injection in meta-less mapped path", `emails[type eq "work"].value co ")("`, `(mail=*\29\28*)`},
}

func TestSearchFilter(t *testing.T) {
	m := exampleMap(t, nil)
	r := newResolver()
	for _, tc := range searchFilterCases {
		t.Run(tc.name, func(t *testing.T) {
			checkSearchFilter(t, m, r, tc.in, tc.want)
		})
	}
}

func checkSearchFilter(t *testing.T, m *ldapmap.Map, r ldapmap.Resolver, in, want string) {
	t.Helper()
	e, err := filter.Parse(in)
	if err != nil {
		t.Fatalf("filter.Parse(%q): %v", in, err)
	}
	got, err := m.SearchFilter(context.Background(), e, r)
	if err != nil {
		t.Fatalf("SearchFilter(%q): %v", in, err)
	}
	if want = "(&" + managed + want + ")"; got != want {
		t.Errorf("SearchFilter(%q)\n got %s\nwant %s", in, got, want)
	}
	if _, err := ldap.CompileFilter(got); err != nil {
		t.Errorf("SearchFilter(%q) = %s does not compile: %v", in, got, err)
	}
}

func TestSearchFilterNil(t *testing.T) {
	m := exampleMap(t, nil)
	got, err := m.SearchFilter(context.Background(), nil, newResolver())
	if err != nil || got != managed {
		t.Fatalf("SearchFilter(nil) = %q, %v; want %q", got, err, managed)
	}
}

// TestSearchFilterEmails has two typed e-mail mappings: emails.value and
// emails eq must look in both.
func TestSearchFilterEmails(t *testing.T) {
	m := exampleMap(t, func(u *config.UsersConfig) {
		u.Attributes = append(u.Attributes, config.AttributeMapping{SCIM: `emails[type eq "home"].value`, LDAP: "otherMailbox"})
	})
	r := newResolver()
	for _, tc := range []filterCase{
		{"emails.value", `emails.value eq "x@example.org"`, `(|(mail=x@example.org)(otherMailbox=x@example.org))`},
		{"emails", `emails eq "x@example.org"`, `(|(mail=x@example.org)(otherMailbox=x@example.org))`},
		{"emails.value co", `emails.value co "@example"`, `(|(mail=*@example*)(otherMailbox=*@example*))`},
		{"work only", `emails[type eq "work"].value eq "x"`, `(mail=x)`},
		{"home only", `emails[type eq "home"].value eq "x"`, `(otherMailbox=x)`},
		{"has work", `emails[type eq "work" and value co "@x"]`, `(&(mail=*)(mail=*@x*))`},
		{"either element", `emails[value co "@x"]`, `(|(&(mail=*)(mail=*@x*))(&(otherMailbox=*)(otherMailbox=*@x*)))`},
		{
			"not work: the home address", `emails[not (type eq "work")]`,
			`(|(&(mail=*)(!(mail=*)))(otherMailbox=*))`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) { checkSearchFilter(t, m, r, tc.in, tc.want) })
	}
}

func TestSearchFilterActive(t *testing.T) {
	attr := func(u *config.UsersConfig) {
		u.Disable = config.DisableConfig{Method: "attribute", Attribute: "employeeType", DisabledValue: "disabled*"}
	}
	none := func(u *config.UsersConfig) { u.Disable = config.DisableConfig{Method: "none"} }
	for _, tc := range []struct {
		name   string
		mutate func(*config.UsersConfig)
		in     string
		want   string
	}{
		{"attribute eq true", attr, `active eq true`, `(!(employeeType=disabled\2a))`},
		{"attribute eq false", attr, `active eq false`, `(employeeType=disabled\2a)`},
		{"attribute eq False string", attr, `active eq "False"`, `(employeeType=disabled\2a)`},
		{"attribute ne false", attr, `active ne false`, `(!(employeeType=disabled\2a))`},
		{"none eq true", none, `active eq true`, matchAll},
		{"none eq false", none, `active eq "false"`, matchNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkSearchFilter(t, exampleMap(t, tc.mutate), newResolver(), tc.in, tc.want)
		})
	}
}

func TestSearchFilterErrors(t *testing.T) {
	m := exampleMap(t, nil)
	for _, tc := range []struct{ name, in string }{
		{"NUL byte in value", `userName eq "a\u0000b"`},
		{"NUL byte in co", `userName co "\u0000"`},
		{"NUL byte in value filter", `emails[type eq "work" and value eq "\u0000"]`},
		{"active not a boolean", `active eq "maybe"`},
		{"active gt", `active gt true`},
		{"meta not a date", `meta.lastModified gt "yesterday"`},
		{"meta null", `meta.created gt null`},
		{"manager co", `manager co "x"`},
		{"null with gt", `title gt null`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := filter.Parse(tc.in)
			if err != nil {
				t.Fatalf("filter.Parse(%q): %v", tc.in, err)
			}
			got, err := m.SearchFilter(context.Background(), e, newResolver())
			if err == nil {
				t.Fatalf("SearchFilter(%q) = %q, want an error", tc.in, got)
			}
			wantKind(t, err, scimerr.InvalidFilter)
		})
	}
}

// TestSearchFilterRawNUL: a raw NUL byte never reaches LDAP, whichever layer
// refuses it.
func TestSearchFilterRawNUL(t *testing.T) {
	in := "userName eq \"a\x00b\""
	e, err := filter.Parse(in)
	if err != nil {
		return // refused by the parser: fine
	}
	if got, err := exampleMap(t, nil).SearchFilter(context.Background(), e, newResolver()); err == nil {
		t.Fatalf("SearchFilter(%q) = %q, want an error", in, got)
	}
}

func TestSearchFilterResolverFailure(t *testing.T) {
	m := exampleMap(t, nil)
	boom := errors.New("directory down")
	e, err := filter.Parse(`manager eq "` + bossID + `"`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.SearchFilter(context.Background(), e, &fakeResolver{err: boom}); !errors.Is(err, boom) {
		t.Fatalf("SearchFilter with a failing resolver: err = %v, want %v", err, boom)
	}
}

// TestSearchFilterElementOfSeveralMappings: an element mapped to several LDAP
// attributes exists when any of them has a value.
func TestSearchFilterElementOfSeveralMappings(t *testing.T) {
	m := exampleMap(t, func(u *config.UsersConfig) {
		u.Attributes = append(u.Attributes, config.AttributeMapping{SCIM: `addresses[type eq "work"].postalCode`, LDAP: "postalCode"})
	})
	r := newResolver()
	for _, tc := range []filterCase{
		{"element present", `addresses[type eq "work"]`, `(|(l=*)(postalCode=*))`},
		{"not inside", `addresses[not (locality eq "Paris")]`, `(&(|(l=*)(postalCode=*))(!(l=Paris)))`},
		{
			"sub-attribute of the other mapping", `addresses[type eq "work" and postalCode eq "75001"]`,
			`(&(|(l=*)(postalCode=*))(postalCode=75001))`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) { checkSearchFilter(t, m, r, tc.in, tc.want) })
	}
}

// TestGroupSearchFilterMembers: members pr means a real member, never the
// placeholder an empty groupOfNames holds (groups.empty_member).
func TestGroupSearchFilterMembers(t *testing.T) {
	const real = `(&(member=*)(!(member=cn=nobody,dc=example,dc=org)))`
	boss := `(member=uid=o\5c2cbrien \28boss\29,ou=people,dc=example,dc=org)`
	for _, tc := range []struct {
		name, in, want string
		memberUID      bool
	}{
		{"members pr", `members pr`, real, false},
		{"not members pr", `not (members pr)`, `(!` + real + `)`, false},
		{"members.value pr", `members.value pr`, real, false},
		{"members pr and displayName", `members pr and displayName eq "team"`, `(&` + real + `(cn=team))`, false},
		{"members eq id", `members eq "` + bossID + `"`, boss, false},
		{"members value filter", `members[value eq "` + bossID + `"]`, boss, false},
		{"memberUid groups have no placeholder", `members pr`, `(memberUid=*)`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := exampleConfig(t)
			if tc.memberUID {
				cfg.Groups.MemberAttribute, cfg.Groups.EmptyMember = "memberUid", ""
			}
			g, err := ldapmap.NewGroups(cfg.Groups)
			if err != nil {
				t.Fatal(err)
			}
			e, err := filter.Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := g.SearchFilter(context.Background(), e, newResolver())
			if err != nil {
				t.Fatal(err)
			}
			if want := "(&" + g.Managed + tc.want + ")"; got != want {
				t.Errorf("SearchFilter(%q)\n got %s\nwant %s", tc.in, got, want)
			}
			if _, err := ldap.CompileFilter(got); err != nil {
				t.Errorf("%s does not compile: %v", got, err)
			}
		})
	}
}
