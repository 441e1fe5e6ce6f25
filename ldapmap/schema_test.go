package ldapmap_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/ldapmap"
)

// Descriptions as testenv's slapd (OpenLDAP 2.5, core + cosine + inetorgperson +
// nis schema, ppolicy and memberof overlays) returns them from cn=Subschema.
var (
	ocTop             = `( 2.5.6.0 NAME 'top' DESC 'top of the superclass chain' ABSTRACT MUST objectClass )`
	ocExtensible      = `( 1.3.6.1.4.1.1466.101.120.111 NAME 'extensibleObject' DESC 'RFC4512: extensible object' SUP top AUXILIARY )`
	ocPerson          = `( 2.5.6.6 NAME 'person' DESC 'RFC2256: a person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( userPassword $ telephoneNumber $ seeAlso $ description ) )`
	ocOrgPerson       = `( 2.5.6.7 NAME 'organizationalPerson' DESC 'RFC2256: an organizational person' SUP person STRUCTURAL MAY ( title $ x121Address $ registeredAddress $ destinationIndicator $ preferredDeliveryMethod $ telexNumber $ teletexTerminalIdentifier $ telephoneNumber $ internationaliSDNNumber $ facsimileTelephoneNumber $ street $ postOfficeBox $ postalCode $ postalAddress $ physicalDeliveryOfficeName $ ou $ st $ l ) )`
	ocInetOrgPerson   = `( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' DESC 'RFC2798: Internet Organizational Person' SUP organizationalPerson STRUCTURAL MAY ( audio $ businessCategory $ carLicense $ departmentNumber $ displayName $ employeeNumber $ employeeType $ givenName $ homePhone $ homePostalAddress $ initials $ jpegPhoto $ labeledURI $ mail $ manager $ mobile $ o $ pager $ photo $ roomNumber $ secretary $ uid $ userCertificate $ x500uniqueIdentifier $ preferredLanguage $ userSMIMECertificate $ userPKCS12 ) )`
	ocGroupOfNames    = `( 2.5.6.9 NAME 'groupOfNames' DESC 'RFC2256: a group of names (DNs)' SUP top STRUCTURAL MUST ( member $ cn ) MAY ( businessCategory $ seeAlso $ owner $ ou $ o $ description ) )`
	ocPosixGroup      = `( 1.3.6.1.1.1.2.2 NAME 'posixGroup' DESC 'Abstraction of a group of accounts' SUP top STRUCTURAL MUST ( cn $ gidNumber ) MAY ( userPassword $ memberUid $ description ) )`
	ocPosixAccount    = `( 1.3.6.1.1.1.2.0 NAME 'posixAccount' DESC 'Abstraction of an account with POSIX attributes' SUP top AUXILIARY MUST ( cn $ uid $ uidNumber $ gidNumber $ homeDirectory ) MAY ( userPassword $ loginShell $ gecos $ description ) )`
	atObjectClass     = `( 2.5.4.0 NAME 'objectClass' DESC 'RFC4512: object classes of the entity' EQUALITY objectIdentifierMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )`
	atName            = `( 2.5.4.41 NAME 'name' DESC 'RFC4519: common supertype of name attributes' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )`
	atCN              = `( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name(s) for which the entity is known by' SUP name )`
	atSN              = `( 2.5.4.4 NAME ( 'sn' 'surname' ) DESC 'RFC2256: last (family) name(s) for which the entity is known by' SUP name )`
	atUID             = `( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) DESC 'RFC4519: user identifier' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{256} )`
	atMail            = `( 0.9.2342.19200300.100.1.3 NAME ( 'mail' 'rfc822Mailbox' ) DESC 'RFC1274: RFC822 Mailbox' EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} )`
	atMember          = `( 2.5.4.31 NAME 'member' DESC 'RFC2256: member of a group' SUP distinguishedName )`
	atGIDNumber       = `( 1.3.6.1.1.1.1.1 NAME 'gidNumber' DESC 'RFC2307: An integer uniquely identifying a group in an administrative domain' EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )`
	atEntryUUID       = `( 1.3.6.1.1.16.4 NAME 'entryUUID' DESC 'UUID of the entry' EQUALITY UUIDMatch ORDERING UUIDOrderingMatch SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )`
	atPwdLockedTime   = `( 1.3.6.1.4.1.42.2.27.8.1.17 NAME 'pwdAccountLockedTime' DESC 'The time an user account was locked' EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE USAGE directoryOperation )`
	atMemberOf        = `( 1.2.840.113556.1.2.102 NAME 'memberOf' DESC 'Group that the entry belongs to' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 NO-USER-MODIFICATION USAGE dSAOperation X-ORIGIN 'iPlanet Delegated Administrator' )`
	atDisplayName     = `( 2.16.840.1.113730.3.1.241 NAME 'displayName' DESC 'RFC2798: preferred name to be used when displaying entries' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )`
	atDescription     = `( 2.5.4.13 NAME 'description' DESC 'RFC4519: descriptive information' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{1024} )`
	atMemberUID       = `( 1.3.6.1.1.1.1.12 NAME 'memberUid' EQUALITY caseExactIA5Match SUBSTR caseExactIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )`
	realClasses       = []string{ocTop, ocExtensible, ocPerson, ocOrgPerson, ocInetOrgPerson, ocGroupOfNames, ocPosixGroup, ocPosixAccount}
	realAttributeDefs = []string{atObjectClass, atName, atCN, atSN, atUID, atMail, atMember, atGIDNumber, atEntryUUID,
		atPwdLockedTime, atMemberOf, atDisplayName, atDescription, atMemberUID}
)

func TestParseObjectClass(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ldapmap.ObjectClass
	}{
		{ocTop, ldapmap.ObjectClass{OID: "2.5.6.0", Names: []string{"top"}, Kind: ldapmap.Abstract, Must: []string{"objectClass"}}},
		{ocExtensible, ldapmap.ObjectClass{OID: "1.3.6.1.4.1.1466.101.120.111", Names: []string{"extensibleObject"},
			Sup: []string{"top"}, Kind: ldapmap.Auxiliary}},
		{ocPerson, ldapmap.ObjectClass{OID: "2.5.6.6", Names: []string{"person"}, Sup: []string{"top"},
			Must: []string{"sn", "cn"}, May: []string{"userPassword", "telephoneNumber", "seeAlso", "description"}}},
		{ocGroupOfNames, ldapmap.ObjectClass{OID: "2.5.6.9", Names: []string{"groupOfNames"}, Sup: []string{"top"},
			Must: []string{"member", "cn"}, May: []string{"businessCategory", "seeAlso", "owner", "ou", "o", "description"}}},
		{ocPosixGroup, ldapmap.ObjectClass{OID: "1.3.6.1.1.1.2.2", Names: []string{"posixGroup"}, Sup: []string{"top"},
			Must: []string{"cn", "gidNumber"}, May: []string{"userPassword", "memberUid", "description"}}},
		// Shapes seen elsewhere: no blanks inside parentheses (Active
		// Directory), several SUPs, no NAME, a quoted OID, lower-case keywords.
		{`(1.2.3 NAME 'x' SUP (top$person) AUXILIARY MUST (cn$sn))`, ldapmap.ObjectClass{OID: "1.2.3", Names: []string{"x"},
			Sup: []string{"top", "person"}, Kind: ldapmap.Auxiliary, Must: []string{"cn", "sn"}}},
		{`( 1.2.4 )`, ldapmap.ObjectClass{OID: "1.2.4"}},
		{`( '1.2.5' name 'y' may description x-origin ( 'a' 'b' ) )`, ldapmap.ObjectClass{OID: "1.2.5", Names: []string{"y"},
			May: []string{"description"}}},
	} {
		got, err := ldapmap.ParseObjectClass(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, *got, tc.want)
		}
	}
	inet, err := ldapmap.ParseObjectClass(ocInetOrgPerson)
	if err != nil || inet.Name() != "inetOrgPerson" || inet.Sup[0] != "organizationalPerson" || len(inet.May) != 27 ||
		inet.May[13] != "mail" || inet.Kind != ldapmap.Structural {
		t.Errorf("inetOrgPerson: %+v, %v", inet, err)
	}
}

func TestParseAttributeType(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ldapmap.AttributeType
	}{
		{atUID, ldapmap.AttributeType{OID: "0.9.2342.19200300.100.1.1", Names: []string{"uid", "userid"},
			Syntax: "1.3.6.1.4.1.1466.115.121.1.15"}},
		{atMail, ldapmap.AttributeType{OID: "0.9.2342.19200300.100.1.3", Names: []string{"mail", "rfc822Mailbox"},
			Syntax: "1.3.6.1.4.1.1466.115.121.1.26"}},
		{atCN, ldapmap.AttributeType{OID: "2.5.4.3", Names: []string{"cn", "commonName"}, Sup: "name"}},
		{atEntryUUID, ldapmap.AttributeType{OID: "1.3.6.1.1.16.4", Names: []string{"entryUUID"}, Syntax: "1.3.6.1.1.16.1",
			SingleValue: true, NoUserModification: true, Usage: "directoryOperation"}},
		{atPwdLockedTime, ldapmap.AttributeType{OID: "1.3.6.1.4.1.42.2.27.8.1.17", Names: []string{"pwdAccountLockedTime"},
			Syntax: "1.3.6.1.4.1.1466.115.121.1.24", SingleValue: true, Usage: "directoryOperation"}},
		{atMemberOf, ldapmap.AttributeType{OID: "1.2.840.113556.1.2.102", Names: []string{"memberOf"},
			Syntax: "1.3.6.1.4.1.1466.115.121.1.12", NoUserModification: true, Usage: "dSAOperation"}},
		{`( 1.2.6 NAME 'q' DESC 'it\27s a back\5Cslash' )`, ldapmap.AttributeType{OID: "1.2.6", Names: []string{"q"}}},
	} {
		got, err := ldapmap.ParseAttributeType(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, *got, tc.want)
		}
	}
	uuid, _ := ldapmap.ParseAttributeType(atEntryUUID)
	mail, _ := ldapmap.ParseAttributeType(atMail)
	if !uuid.Operational() || mail.Operational() {
		t.Error("Operational: entryUUID is, mail is not")
	}
}

func TestParseDescriptionErrors(t *testing.T) {
	for _, in := range []string{
		``,
		`1.2.3 NAME 'x'`,
		`( )`,
		`( 1.2.3 NAME 'x'`,
		`( 1.2.3 NAME 'x )`,
		`( 1.2.3 NAME )`,
		`( 1.2.3 NAME 'x' NAME 'y' )`,
		`( 1.2.3 MUST ( cn $ ( sn ) ) )`,
		`( 1.2.3 MUST ( cn $ sn )`,
		`( 1.2.3 'x' )`,
		`( 1.2.3 NAME '1abc' )`,
		`( 1.2.3 NAME 'a b' )`,
		`( 1.2.3 MAY ( cn $ 'bad name' ) )`,
		`( 1.2.3 STRUCTURAL AUXILIARY )`,
		`( 01.2 NAME 'x' )`,
		`( 1..2 NAME 'x' )`,
		`( 1.2.3 NAME 'x' ) trailing`,
		`( 1.2.3 MUST $ )`,
	} {
		if oc, err := ldapmap.ParseObjectClass(in); err == nil {
			t.Errorf("ParseObjectClass(%q) = %+v, want an error", in, oc)
		}
	}
	if at, err := ldapmap.ParseAttributeType(`( 1.2.3 NAME 'x' SUP ( a $ b ) )`); err == nil {
		t.Errorf("two SUPs of an attribute type: %+v", at)
	}
}

func realSchema(t testing.TB) *ldapmap.Schema {
	t.Helper()
	s, err := ldapmap.NewSchema(realAttributeDefs, realClasses)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSchemaLookups(t *testing.T) {
	s := realSchema(t)
	for _, name := range []string{"cn", "CN", "commonName", "2.5.4.3", "cn;lang-de"} {
		if at := s.Attribute(name); at == nil || at.OID != "2.5.4.3" {
			t.Errorf("Attribute(%q) = %+v", name, at)
		}
	}
	if s.Attribute("mial") != nil || s.Class("inetOrgPersn") != nil {
		t.Error("typos found")
	}
	if oc := s.Class("INETORGPERSON"); oc == nil || oc.Name() != "inetOrgPerson" {
		t.Errorf("Class: %+v", oc)
	}
	if got := s.SuggestAttribute("mial"); got != `; did you mean "mail"?` {
		t.Errorf("SuggestAttribute(mial) = %q", got)
	}
	if got := s.SuggestClass("inetOrgPersn"); got != `; did you mean "inetOrgPerson"?` {
		t.Errorf("SuggestClass = %q", got)
	}
	if got := s.SuggestAttribute("somethingElse"); got != "" {
		t.Errorf("far-off name got suggestion %q", got)
	}
	// A broken description is skipped and reported; the rest is usable.
	s2, err := ldapmap.NewSchema([]string{atMail, "( broken"}, []string{ocTop, "garbage"})
	if err == nil || s2.Attribute("mail") == nil || s2.Class("top") == nil {
		t.Errorf("NewSchema with broken values: %v", err)
	}
}

func TestSchemaAllowsAndRequires(t *testing.T) {
	s := realSchema(t)
	classes := func(names ...string) []*ldapmap.ObjectClass {
		var out []*ldapmap.ObjectClass
		for _, n := range names {
			out = append(out, s.Class(n))
		}
		return out
	}
	users := classes("top", "person", "organizationalPerson", "inetOrgPerson")
	for _, tc := range []struct {
		classes []*ldapmap.ObjectClass
		attr    string
		want    bool
	}{
		{users, "mail", true},
		{users, "sn", true},
		{users, "surname", true},
		{users, "gidNumber", false},
		{classes("person"), "mail", false},
		{classes("inetOrgPerson"), "description", true}, // MAY of person, through the SUP chain
		{classes("inetOrgPerson", "extensibleObject"), "gidNumber", true},
		{classes("posixGroup"), "gidNumber", true},
		{classes("groupOfNames"), "memberUid", false},
	} {
		if got := s.Allows(tc.classes, s.Attribute(tc.attr)); got != tc.want {
			t.Errorf("Allows(%v, %s) = %v", len(tc.classes), tc.attr, got)
		}
	}
	if got := s.AllowedBy(s.Attribute("gidNumber")); !reflect.DeepEqual(got, []string{"posixAccount", "posixGroup"}) {
		t.Errorf("AllowedBy(gidNumber) = %v", got)
	}
	req := func(cs []*ldapmap.ObjectClass) string {
		var out []string
		for _, r := range s.Requires(cs) {
			out = append(out, r.Attr+"<"+r.Class)
		}
		return strings.Join(out, " ")
	}
	if got := req(users); got != "sn<person cn<person" {
		t.Errorf("Requires(users) = %s", got)
	}
	if got := req(classes("inetOrgPerson", "posixAccount")); got != "sn<person cn<person uid<posixAccount uidNumber<posixAccount gidNumber<posixAccount homeDirectory<posixAccount" {
		t.Errorf("Requires(inetOrgPerson, posixAccount) = %s", got)
	}
	if got := req(classes("groupOfNames")); got != "member<groupOfNames cn<groupOfNames" {
		t.Errorf("Requires(groupOfNames) = %s", got)
	}
	// A SUP cycle (a broken schema) must not hang the walk.
	loop, _ := ldapmap.NewSchema(nil, []string{`( 1.1 NAME 'a' SUP b MUST cn )`, `( 1.2 NAME 'b' SUP a MUST sn )`})
	if got := len(loop.Requires([]*ldapmap.ObjectClass{loop.Class("a")})); got != 2 {
		t.Errorf("cycle: %d required", got)
	}
}

// FuzzParseSchemaDescription: no input panics the parsers, and what they
// accept survives a round trip through its RFC 4512 form.
func FuzzParseSchemaDescription(f *testing.F) {
	for _, s := range append(append([]string{}, realClasses...), realAttributeDefs...) {
		f.Add(s)
	}
	f.Add(`(1.2.3 NAME 'x' SUP (top$person) AUXILIARY MUST (cn$sn))`)
	f.Add(`( 1.2.6 NAME 'q' DESC 'it\27s' SYNTAX '1.2{3' USAGE 'a\5Cb' )`)
	f.Fuzz(func(t *testing.T, s string) {
		if oc, err := ldapmap.ParseObjectClass(s); err == nil {
			again, err := ldapmap.ParseObjectClass(renderClass(oc))
			if err != nil || !reflect.DeepEqual(normClass(*oc), normClass(*again)) {
				t.Fatalf("%q → %q → %+v, %v; want %+v", s, renderClass(oc), again, err, oc)
			}
		}
		if at, err := ldapmap.ParseAttributeType(s); err == nil {
			again, err := ldapmap.ParseAttributeType(renderAttr(at))
			if err != nil || !reflect.DeepEqual(normAttr(*at), normAttr(*again)) {
				t.Fatalf("%q → %q → %+v, %v; want %+v", s, renderAttr(at), again, err, at)
			}
		}
		_, _ = ldapmap.NewSchema([]string{s}, []string{s})
	})
}

func renderClass(oc *ldapmap.ObjectClass) string {
	var b strings.Builder
	b.WriteString("( " + oc.OID)
	names(&b, oc.Names)
	oids(&b, "SUP", oc.Sup)
	b.WriteString([]string{" STRUCTURAL", " AUXILIARY", " ABSTRACT"}[oc.Kind])
	oids(&b, "MUST", oc.Must)
	oids(&b, "MAY", oc.May)
	b.WriteString(" )")
	return b.String()
}

func renderAttr(at *ldapmap.AttributeType) string {
	var b strings.Builder
	b.WriteString("( " + at.OID)
	names(&b, at.Names)
	if at.Sup != "" {
		b.WriteString(" SUP " + at.Sup)
	}
	b.WriteString(" SYNTAX " + quote(at.Syntax))
	if at.SingleValue {
		b.WriteString(" SINGLE-VALUE")
	}
	if at.NoUserModification {
		b.WriteString(" NO-USER-MODIFICATION")
	}
	b.WriteString(" USAGE " + quote(at.Usage) + " )")
	return b.String()
}

func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\5C`, `'`, `\27`).Replace(s) + "'"
}

func names(b *strings.Builder, list []string) {
	if len(list) > 0 {
		b.WriteString(" NAME ( '" + strings.Join(list, "' '") + "' )")
	}
}

func oids(b *strings.Builder, kw string, list []string) {
	if len(list) > 0 {
		b.WriteString(" " + kw + " ( " + strings.Join(list, " $ ") + " )")
	}
}

func normClass(oc ldapmap.ObjectClass) ldapmap.ObjectClass {
	for _, l := range []*[]string{&oc.Names, &oc.Sup, &oc.Must, &oc.May} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return oc
}

func normAttr(at ldapmap.AttributeType) ldapmap.AttributeType {
	if len(at.Names) == 0 {
		at.Names = nil
	}
	return at
}
