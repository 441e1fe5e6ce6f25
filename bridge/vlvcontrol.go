package bridge

import (
	"errors"
	"fmt"
	"math"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// The server-side sort control (RFC 2891) and the virtual list view controls
// (draft-ietf-ldapext-ldapv3-vlv-09). go-ldap v3.4.15 encodes a sort control
// that is never critical and has none for VLV. Both go out critical here: a
// server that ignored either would answer with every entry, unsorted.
const (
	oidSort        = ldap.ControlTypeServerSideSorting // 1.2.840.113556.1.4.473
	oidVLV         = ldap.ControlTypeVLVRequest        // 2.16.840.1.113730.3.4.9
	oidVLVResponse = ldap.ControlTypeVLVResponse       // 2.16.840.1.113730.3.4.10
)

// sortControl sorts by one attribute, ascending, by its ORDERING rule:
//
//	SortKeyList ::= SEQUENCE OF SEQUENCE {
//	    attributeType   AttributeDescription,
//	    orderingRule    [0] MatchingRuleId OPTIONAL,
//	    reverseOrder    [1] BOOLEAN DEFAULT FALSE }
func sortControl(attr string) ldap.Control {
	key := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "SortKey")
	key.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, attr, "attributeType"))
	keys := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "SortKeyList")
	keys.AppendChild(key)
	return &ldap.ControlString{ControlType: oidSort, Criticality: true, ControlValue: string(keys.Bytes())}
}

// vlvControl asks for the entries at the 1-based positions offset to
// offset+after of the sorted result, by offset with contentCount 0 (the
// offset is then the position itself, not a proportion: vlv-09 §4):
//
//	VirtualListViewRequest ::= SEQUENCE {
//	    beforeCount    INTEGER (0..maxInt),
//	    afterCount     INTEGER (0..maxInt),
//	    target         CHOICE {
//	        byOffset        [0] SEQUENCE {
//	            offset          INTEGER (1 .. maxInt),
//	            contentCount    INTEGER (0 .. maxInt) },
//	        greaterThanOrEqual [1] AssertionValue },
//	    contextID      OCTET STRING OPTIONAL }
//
// contextID continues the result set a previous response named; nil starts
// a new one.
func vlvControl(offset, after int, contextID []byte) ldap.Control {
	byOffset := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "byOffset")
	byOffset.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(offset), "offset"))
	byOffset.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(0), "contentCount"))
	req := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "VirtualListViewRequest")
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(0), "beforeCount"))
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(after), "afterCount"))
	req.AppendChild(byOffset)
	if contextID != nil {
		req.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(contextID), "contextID"))
	}
	return &ldap.ControlString{ControlType: oidVLV, Criticality: true, ControlValue: string(req.Bytes())}
}

// vlvResponse is the server's VLV response control:
//
//	VirtualListViewResponse ::= SEQUENCE {
//	    targetPosition    INTEGER (0 .. maxInt),
//	    contentCount      INTEGER (0 .. maxInt),
//	    virtualListViewResult ENUMERATED { success (0), ... },
//	    contextID         OCTET STRING OPTIONAL }
type vlvResponse struct {
	target, count int
	// result is an LDAP result code: 0, or why the view failed
	// (offsetRangeError 61 in vlv-09, 77 in OpenLDAP's numbering).
	result    int
	contextID []byte
}

var errNoVLVResponse = errors.New("the directory sent no VLV response control")

// findVLVResponse decodes the VLV response among a result's controls.
func findVLVResponse(controls []ldap.Control) (vlvResponse, error) {
	for _, c := range controls {
		if c.GetControlType() != oidVLVResponse {
			continue
		}
		s, ok := c.(*ldap.ControlString)
		if !ok {
			return vlvResponse{}, fmt.Errorf("VLV response control: unexpected %T", c)
		}
		return parseVLVResponse([]byte(s.ControlValue))
	}
	return vlvResponse{}, errNoVLVResponse
}

// parseVLVResponse decodes the value of a VLV response control. It accepts
// nothing else: a malformed control is an error, never a count of zero.
func parseVLVResponse(value []byte) (vlvResponse, error) {
	p, err := ber.DecodePacketErr(value)
	if err != nil {
		return vlvResponse{}, fmt.Errorf("VLV response control: %w", err)
	}
	if p.ClassType != ber.ClassUniversal || p.TagType != ber.TypeConstructed || p.Tag != ber.TagSequence ||
		len(p.Children) < 3 || len(p.Children) > 4 {
		return vlvResponse{}, errors.New("VLV response control: not a SEQUENCE of 3 or 4 elements")
	}
	var r vlvResponse
	fields := []struct {
		tag ber.Tag
		to  *int
	}{{ber.TagInteger, &r.target}, {ber.TagInteger, &r.count}, {ber.TagEnumerated, &r.result}}
	for i, f := range fields {
		if *f.to, err = berInt(p.Children[i], f.tag); err != nil {
			return vlvResponse{}, fmt.Errorf("VLV response control, element %d: %w", i+1, err)
		}
	}
	if len(p.Children) == 4 {
		c := p.Children[3]
		if c.ClassType != ber.ClassUniversal || c.TagType != ber.TypePrimitive || c.Tag != ber.TagOctetString {
			return vlvResponse{}, errors.New("VLV response control: contextID is not an OCTET STRING")
		}
		r.contextID = append([]byte{}, c.ByteValue...)
	}
	return r, nil
}

// berInt reads a primitive universal INTEGER or ENUMERATED that fits a
// non-negative int.
func berInt(p *ber.Packet, tag ber.Tag) (int, error) {
	if p.ClassType != ber.ClassUniversal || p.TagType != ber.TypePrimitive || p.Tag != tag {
		return 0, fmt.Errorf("want a primitive universal tag %d", tag)
	}
	n, err := ber.ParseInt64(p.ByteValue)
	switch {
	case err != nil:
		return 0, err
	case len(p.ByteValue) == 0:
		return 0, errors.New("empty integer")
	case n < 0 || n > math.MaxInt32:
		return 0, fmt.Errorf("%d out of range", n)
	}
	return int(n), nil
}
