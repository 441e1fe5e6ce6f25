package bridge

import (
	"reflect"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// postReadValue encodes e as the post-read control's value: a
// SearchResultEntry (RFC 4527 §3.2, RFC 4511 §4.5.2).
func postReadValue(e *ldap.Entry) []byte {
	p := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, "entry")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, e.DN, "dn"))
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	for _, a := range e.Attributes {
		pa := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attribute")
		pa.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a.Name, "type"))
		vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "vals")
		for _, v := range a.Values {
			vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, "value"))
		}
		pa.AppendChild(vals)
		attrs.AppendChild(pa)
	}
	p.AppendChild(attrs)
	return p.Bytes()
}

func postReadControls(value []byte) []ldap.Control {
	return []ldap.Control{&ldap.ControlString{ControlType: postReadOID, ControlValue: string(value)}}
}

// The entry in a post-read response comes back as it was sent.
func TestPostReadEntry(t *testing.T) {
	want := &ldap.Entry{DN: "uid=a,ou=people,dc=example,dc=org", Attributes: []*ldap.EntryAttribute{
		{Name: "uid", Values: []string{"a"}, ByteValues: [][]byte{[]byte("a")}},
		{Name: "mail", Values: []string{"a@x", "b@x"}, ByteValues: [][]byte{[]byte("a@x"), []byte("b@x")}},
	}}
	got := postReadEntry(postReadControls(postReadValue(want)))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}
	for name, cs := range map[string][]ldap.Control{
		"no control": nil,
		"not BER":    postReadControls([]byte("not ber")),
		"truncated":  postReadControls(postReadValue(want)[:10]),
	} {
		if e := postReadEntry(cs); e != nil {
			t.Errorf("%s: decoded %+v, want nil (the caller reads the entry instead)", name, e)
		}
	}
}

// Whatever the directory sends in the control, decoding it does not panic,
// and an entry it yields re-encodes to what was decoded.
func FuzzPostReadEntry(f *testing.F) {
	f.Add(postReadValue(&ldap.Entry{DN: "uid=a,dc=x", Attributes: []*ldap.EntryAttribute{{Name: "cn", Values: []string{"A"}}}}))
	f.Add(postReadValue(&ldap.Entry{DN: ""}))
	f.Add([]byte{0x64, 0x03, 0x04, 0x01, 0x61})
	f.Fuzz(func(t *testing.T, value []byte) {
		e := postReadEntry(postReadControls(value))
		if e == nil {
			return
		}
		again := postReadEntry(postReadControls(postReadValue(e)))
		if again == nil || again.DN != e.DN || len(again.Attributes) != len(e.Attributes) {
			t.Fatalf("decoded %+v, re-encoded and decoded %+v", e, again)
		}
	})
}
