package bridge

import (
	"bytes"
	"encoding/hex"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// The request controls, byte for byte (DER, as RFC 2891 §1.1 and vlv-09 §6.1
// write them), and critical.
func TestSortAndVLVControlEncoding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		c    ldap.Control
		oid  string
		want string
	}{
		// SEQUENCE { SEQUENCE { OCTET STRING "entryUUID" } }
		{"sort", sortControl("entryUUID"), oidSort, "300d300b0409" + hex.EncodeToString([]byte("entryUUID"))},
		// SEQUENCE { 0, 99, [0] { 99901, 0 } }
		{"vlv", vlvControl(99901, 99, nil), oidVLV, "3010020100020163a008020301863d020100"},
		// ... and the contextID
		{"vlv context", vlvControl(1, 0, []byte{1, 2}), oidVLV, "3012020100020100a00602010102010004020102"},
	} {
		s, ok := tc.c.(*ldap.ControlString)
		if !ok || s.ControlType != tc.oid || !s.Criticality {
			t.Errorf("%s: %#v, want a critical %s", tc.name, tc.c, tc.oid)
			continue
		}
		if got := hex.EncodeToString([]byte(s.ControlValue)); got != tc.want {
			t.Errorf("%s: value %s, want %s", tc.name, got, tc.want)
		}
	}
}

// vlvResponseValue encodes a VLV response as a server would.
func vlvResponseValue(target, count, result int64, contextID []byte) []byte {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, target, ""))
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, count, ""))
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, result, ""))
	if contextID != nil {
		p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(contextID), ""))
	}
	return p.Bytes()
}

func TestParseVLVResponse(t *testing.T) {
	t.Parallel()
	ok := []struct {
		name  string
		value []byte
		want  vlvResponse
	}{
		{"no context", vlvResponseValue(1, 100000, 0, nil), vlvResponse{target: 1, count: 100000}},
		// slapd's: an 8-byte pointer as context.
		{
			"context", vlvResponseValue(99901, 100000, 0, []byte("\x00\x38\x10\x08\x24\x7f\x00\x00")),
			vlvResponse{target: 99901, count: 100000, contextID: []byte("\x00\x38\x10\x08\x24\x7f\x00\x00")},
		},
		{"empty result", vlvResponseValue(0, 0, 0, nil), vlvResponse{}},
		{"range error", vlvResponseValue(0, 7, 77, nil), vlvResponse{count: 7, result: 77}},
	}
	for _, tc := range ok {
		got, err := parseVLVResponse(tc.value)
		if err != nil || got.target != tc.want.target || got.count != tc.want.count || got.result != tc.want.result ||
			!bytes.Equal(got.contextID, tc.want.contextID) {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	seq := func(children ...*ber.Packet) []byte {
		p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		for _, c := range children {
			p.AppendChild(c)
		}
		return p.Bytes()
	}
	integer := func(n int64) *ber.Packet {
		return ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, n, "")
	}
	enum := ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(0), "")
	bad := map[string][]byte{
		"empty":            nil,
		"not BER":          {0x30, 0x05, 0x02},
		"not a sequence":   integer(3).Bytes(),
		"two elements":     seq(integer(1), integer(2)),
		"five elements":    seq(integer(1), integer(2), enum, ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "x", ""), integer(5)),
		"negative count":   vlvResponseValue(1, -1, 0, nil),
		"huge count":       vlvResponseValue(1, 1<<40, 0, nil),
		"string as target": seq(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "1", ""), integer(2), enum),
		"integer result":   seq(integer(1), integer(2), integer(0)),
		"empty integer":    {0x30, 0x08, 0x02, 0x00, 0x02, 0x01, 0x01, 0x0a, 0x01, 0x00},
		"nine-byte int":    {0x30, 0x10, 0x02, 0x09, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x01, 0x01, 0x0a, 0x01, 0x00},
		"integer context":  seq(integer(1), integer(2), enum, integer(4)),
		"constructed context": seq(integer(1), integer(2), enum,
			ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagOctetString, nil, "")),
	}
	for name, value := range bad {
		if got, err := parseVLVResponse(value); err == nil {
			t.Errorf("%s: %+v, want an error", name, got)
		}
	}
}

// A response control comes back from go-ldap as a ControlString; a missing
// one is an error, never a count of zero.
func TestFindVLVResponse(t *testing.T) {
	t.Parallel()
	c := &ldap.ControlString{ControlType: oidVLVResponse, ControlValue: string(vlvResponseValue(3, 9, 0, nil))}
	if v, err := findVLVResponse([]ldap.Control{ldap.NewControlPaging(1), c}); err != nil || v.count != 9 || v.target != 3 {
		t.Errorf("found %+v, %v", v, err)
	}
	if _, err := findVLVResponse([]ldap.Control{ldap.NewControlPaging(1)}); err == nil {
		t.Error("no VLV response control: no error")
	}
}

// FuzzParseVLVResponse: any bytes a server sends decode to a response whose
// encoding decodes to the same response, or to an error; never a panic.
func FuzzParseVLVResponse(f *testing.F) {
	f.Add(vlvResponseValue(1, 100000, 0, nil))
	f.Add(vlvResponseValue(99901, 100000, 0, []byte("\x00\x38\x10\x08\x24\x7f\x00\x00")))
	f.Add(vlvResponseValue(0, 7, 77, nil))
	f.Add([]byte{0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00})
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, value []byte) {
		v, err := parseVLVResponse(value)
		if err != nil {
			return
		}
		if v.target < 0 || v.count < 0 || v.result < 0 {
			t.Fatalf("negative field: %+v", v)
		}
		again, err := parseVLVResponse(vlvResponseValue(int64(v.target), int64(v.count), int64(v.result), v.contextID))
		if err != nil || again.target != v.target || again.count != v.count || again.result != v.result ||
			!bytes.Equal(again.contextID, v.contextID) {
			t.Fatalf("round trip: %+v, then %+v, %v", v, again, err)
		}
	})
}
