package bridge

import (
	"fmt"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// The controls a write can carry to save the bridge a search, and which it
// sends only to a directory that lists them in its root DSE's
// supportedControl (Directory.Supports): slapd does, AD does not.
const (
	// postReadOID is the post-read control (RFC 4527 §3.2): the answer to a
	// write carries the entry as the write left it.
	postReadOID = "1.3.6.1.1.13.2"
	// assertionOID is the LDAP assertion control (RFC 4528).
	assertionOID = "1.3.6.1.1.12"
)

// postRead is the post-read request control with room for its answer: the
// pool fills entry from the response control of the write that carried it
// (Pool.Modify, Pool.Add). entry stays nil when no answer came: a directory
// that ignored the control (it is not critical, so the write goes ahead
// regardless), a dry run, or a wrapper that did not pass the write on. The
// caller then reads the entry as before.
//
// go-ldap v3.4.15 returns a write's response controls for a modify only
// (ModifyWithResult); our copy adds AddWithResult for the add
// (internal/third_party/ldap/PATCHES.md). A rename and a delete cannot carry
// it.
type postRead struct {
	attrs []string
	entry *ldap.Entry
}

var _ ldap.Control = (*postRead)(nil)

// GetControlType is the control's OID.
func (c *postRead) GetControlType() string { return postReadOID }

// Encode is the control as sent: not critical, its value the
// AttributeSelection (RFC 4511 §4.5.1.8) of the entry to return.
func (c *postRead) Encode() *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Control")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, postReadOID, "Control Type (Post-Read)"))
	sel := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "AttributeSelection")
	for _, a := range c.attrs {
		sel.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "Attribute"))
	}
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(sel.Bytes()), "Control Value"))
	return p
}

// String describes the control for go-ldap's debug output.
func (c *postRead) String() string {
	return fmt.Sprintf("Control Type: Post-Read (%q) Attributes: %s", postReadOID, strings.Join(c.attrs, ","))
}

// postReadIn returns the post-read control among cs, nil if none.
func postReadIn(cs []ldap.Control) *postRead {
	for _, c := range cs {
		if pr, ok := c.(*postRead); ok {
			return pr
		}
	}
	return nil
}

// postReadEntry decodes the entry of a post-read response control among cs
// (RFC 4527 §3.2: a SearchResultEntry), nil if there is none or it does not
// decode: the caller then reads the entry instead.
func postReadEntry(cs []ldap.Control) *ldap.Entry {
	c, ok := ldap.FindControl(cs, postReadOID).(*ldap.ControlString)
	if !ok {
		return nil
	}
	p, err := ber.DecodePacketErr([]byte(c.ControlValue))
	if err != nil || len(p.Children) != 2 {
		return nil
	}
	dn, ok := p.Children[0].Value.(string)
	if !ok {
		return nil
	}
	e := &ldap.Entry{DN: dn}
	for _, a := range p.Children[1].Children {
		if len(a.Children) != 2 {
			return nil
		}
		name, ok := a.Children[0].Value.(string)
		if !ok {
			return nil
		}
		attr := &ldap.EntryAttribute{Name: name}
		for _, v := range a.Children[1].Children {
			b := v.Data.Bytes()
			attr.Values = append(attr.Values, string(b))
			attr.ByteValues = append(attr.ByteValues, b)
		}
		e.Attributes = append(e.Attributes, attr)
	}
	return e
}
