package ldapmap

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// binaryIDs are id attributes AD returns as raw bytes: objectGUID is 16 bytes in
// the little-endian GUID layout and is rendered as the canonical string.
func isGUIDAttr(attr string) bool { return strings.EqualFold(attr, "objectGUID") }

// FormatGUID renders 16 objectGUID bytes as the canonical GUID string: the
// first three fields are little-endian, the last two as stored (matches
// samba-tool and Windows).
func FormatGUID(b []byte) string {
	if len(b) != 16 {
		return ""
	}
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16])
}

// ParseGUID is the inverse of FormatGUID.
func ParseGUID(s string) ([]byte, bool) {
	raw, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(raw) != 16 || len(s) != 36 {
		return nil, false
	}
	b := make([]byte, 16)
	binary.LittleEndian.PutUint32(b[0:4], binary.BigEndian.Uint32(raw[0:4]))
	binary.LittleEndian.PutUint16(b[4:6], binary.BigEndian.Uint16(raw[4:6]))
	binary.LittleEndian.PutUint16(b[6:8], binary.BigEndian.Uint16(raw[6:8]))
	copy(b[8:], raw[8:])
	return b, true
}

// idFilter compares the id attribute; a binary objectGUID is matched on its
// escaped bytes (\b9\fb...), the form AD's filters take.
func (m *Map) idFilter(c *filter.Compare) (string, error) {
	if !isGUIDAttr(m.IDAttr) {
		return compareAttr(m.IDAttr, c)
	}
	switch c.Op {
	case filter.Pr:
		return "(" + m.IDAttr + "=*)", nil
	case filter.Eq, filter.Ne:
	default:
		return "", scimerr.New(scimerr.InvalidFilter, "id supports eq, ne and pr")
	}
	s, _ := c.Value.(string)
	b, ok := ParseGUID(s)
	f := matchNone
	if ok {
		var esc strings.Builder
		for _, x := range b {
			fmt.Fprintf(&esc, "\\%02x", x)
		}
		f = "(" + m.IDAttr + "=" + esc.String() + ")"
	}
	if c.Op == filter.Ne {
		return "(!" + f + ")", nil
	}
	return f, nil
}

// idOf reads the id attribute of an entry as SCIM shows it.
func idOf(e *ldap.Entry, attr string) string {
	if isGUIDAttr(attr) {
		return FormatGUID(e.GetEqualFoldRawAttributeValue(attr))
	}
	return e.GetEqualFoldAttributeValue(attr)
}

// sAMAccountName rules: at most 20 characters (the pre-Windows 2000 logon name)
// and none of " / \ [ ] : ; | = , + * ? < > @ (Microsoft's "User logon name"
// restrictions); a trailing dot is not allowed either.
const samMaxLen = 20

// SAMAccountName derives a logon name from a userName: the part before @,
// illegal characters replaced by '_', cut to 20 characters.
func SAMAccountName(userName string) string {
	if i := strings.LastIndexByte(userName, '@'); i > 0 {
		userName = userName[:i]
	}
	var b strings.Builder
	for _, r := range userName {
		if strings.ContainsRune(`"/\[]:;|=,+*?<>@`, r) || r < 0x20 {
			r = '_'
		}
		b.WriteRune(r)
	}
	s := []rune(b.String())
	if len(s) > samMaxLen {
		s = s[:samMaxLen]
	}
	return strings.TrimRight(string(s), ". ")
}

// SAMCandidate returns the n-th name to try when base is taken: base itself,
// then base cut short with the suffix 2, 3, ... so the result stays within 20
// characters. The sequence is predictable, so an admin can tell which user
// got which name from the log line that reports each collision.
func SAMCandidate(base string, n int) string {
	if n <= 1 {
		return base
	}
	sfx := fmt.Sprint(n)
	r := []rune(base)
	if len(r)+len(sfx) > samMaxLen {
		r = r[:samMaxLen-len(sfx)]
	}
	return string(r) + sfx
}

// UnicodePwd encodes a password as AD's unicodePwd wants it: the password in
// double quotes, UTF-16LE.
func UnicodePwd(pw string) string {
	u := utf16.Encode([]rune(`"` + pw + `"`))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return string(b)
}

// RandomPassword returns a password that satisfies AD's default complexity
// (three of four character classes, at least 7 characters): 24 random
// characters plus one of each class.
func RandomPassword() string {
	const alnum = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	var s strings.Builder
	for _, x := range b {
		s.WriteByte(alnum[int(x)%len(alnum)])
	}
	return s.String() + "aZ9!"
}

// ADCapabilityOID is LDAP_CAP_ACTIVE_DIRECTORY_OID: a DC (Windows or Samba)
// lists it in the root DSE's supportedCapabilities (MS-ADTS 3.1.1.3.4.3.1), so
// a client can tell AD's schema conventions apply whatever ldap.flavor says.
const ADCapabilityOID = "1.2.840.113556.1.4.800"

// adFilledOnAdd are the MUST attributes of AD's top and of its DIT content
// rules that the DC fills in when an add lacks them (MS-ADTS 3.1.1.5.2, "Add
// Operation"), each with how. The subschema tells only of the systemOnly ones
// (instanceType, objectSid: NO-USER-MODIFICATION); objectCategory,
// nTSecurityDescriptor and sAMAccountName a client may set, so nothing
// standard says an add may leave them out, yet it may: on testenv's Samba an
// add of objectClass group with groupType alone gets all five (and the
// preset's groups rely on it for sAMAccountName). The systemOnly two are
// listed as well, so that the answer does not hang on how a DC publishes
// systemOnly.
var adFilledOnAdd = map[string]string{
	"instancetype":         "systemOnly: 4 (writable) for an entry that heads no naming context",
	"objectsid":            "systemOnly: the DC allocates it from its RID pool",
	"objectcategory":       "the structural class's defaultObjectCategory",
	"ntsecuritydescriptor": "the class's defaultSecurityDescriptor and the inherited ACEs",
	"samaccountname":       "a generated name such as $74E3599D-620689D99198F764, for a user or group added without one",
}

// ADFillsOnAdd tells whether an AD DC fills in attr itself when an add omits it,
// so that it need not be configured even though the schema says MUST.
func ADFillsOnAdd(attr string) bool {
	_, ok := adFilledOnAdd[strings.ToLower(attr)]
	return ok
}
