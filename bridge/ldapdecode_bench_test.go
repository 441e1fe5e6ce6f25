package bridge_test

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// BenchmarkDecodeSearchEntry measures go-ldap's wire decoding (asn1-ber's
// ReadPacket, what go-ldap's reader goroutine runs for every message) in
// isolation, on a search result entry the size of a user as the bridge reads
// it: about 20 attributes. A heap profile of a PATCH run put ~45% of the
// bridge's allocations here (issue 13), hence the patch in
// internal/third_party/asn1-ber; compare with -benchmem against upstream by
// dropping the replace directive in go.mod.
func BenchmarkDecodeSearchEntry(b *testing.B) {
	wire := searchEntryWire(20)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	r := bytes.NewReader(wire)
	br := bufio.NewReader(r)
	for b.Loop() {
		r.Reset(wire)
		br.Reset(r)
		if _, err := ber.ReadPacket(br); err != nil {
			b.Fatal(err)
		}
	}
}

// searchEntryWire encodes an LDAPMessage holding a SearchResultEntry
// (RFC 4511 §4.5.2) with n single-valued attributes.
func searchEntryWire(n int) []byte {
	msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAPMessage")
	msg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(42), "MessageID"))
	entry := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, "SearchResultEntry")
	entry.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString,
		"uid=user1234,ou=people,dc=example,dc=org", "objectName"))
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	for i := 0; i < n; i++ {
		attr := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "PartialAttribute")
		attr.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, fmt.Sprintf("attribute%d", i), "type"))
		vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "vals")
		vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, fmt.Sprintf("value of attribute %d", i), "value"))
		attr.AppendChild(vals)
		attrs.AppendChild(attr)
	}
	entry.AppendChild(attrs)
	msg.AppendChild(entry)
	return msg.Bytes()
}
