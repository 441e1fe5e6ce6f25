package bridge

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"
)

// dryRun is a Directory that reads from the real directory and performs no
// writes: each write is logged (and handed to record, for `scimbridge
// preview`) and remembered for the rest of the request, so that the request
// still answers as it would (a create reads back the entry it "added").
// server.dry_run uses it for a first trial against a production directory.
type dryRun struct {
	Directory
	log    zerolog.Logger
	record func(op string, ldif string)
}

type overlayKey struct{}

// overlay holds the entries a dry-run request "wrote", by lower-cased DN; nil
// means deleted.
type overlay struct {
	mu      sync.Mutex
	entries map[string]*ldap.Entry
}

// withOverlay gives a request its own memory of dry-run writes.
func withOverlay(ctx context.Context) context.Context {
	return context.WithValue(ctx, overlayKey{}, &overlay{entries: map[string]*ldap.Entry{}})
}

func overlayOf(ctx context.Context) *overlay {
	o, _ := ctx.Value(overlayKey{}).(*overlay)
	if o == nil {
		o = &overlay{entries: map[string]*ldap.Entry{}}
	}
	return o
}

func dnKey(dn string) string {
	if p, err := ldap.ParseDN(dn); err == nil {
		return strings.ToLower(p.String())
	}
	return strings.ToLower(dn)
}

func (d *dryRun) note(ctx context.Context, op, ldif string) {
	d.log.Info().Str("request_id", RequestID(ctx)).Str("ldap_op", op).Str("ldif", ldif).Msg("dry run: not written")
	if d.record != nil {
		d.record(op, ldif)
	}
}

// Search answers base searches of entries written in this request from the
// overlay; everything else goes to the directory.
func (d *dryRun) Search(ctx context.Context, req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	if req.Scope == ldap.ScopeBaseObject {
		o := overlayOf(ctx)
		o.mu.Lock()
		e, ok := o.entries[dnKey(req.BaseDN)]
		o.mu.Unlock()
		if ok {
			if e == nil {
				return nil, ldap.NewError(ldap.LDAPResultNoSuchObject, fmt.Errorf("dry run: deleted in this request"))
			}
			return &ldap.SearchResult{Entries: []*ldap.Entry{e}}, nil
		}
	}
	return d.Directory.Search(ctx, req)
}

// Add pretends to add the entry, with the operational attributes a directory
// would add (a random entryUUID, timestamps).
func (d *dryRun) Add(ctx context.Context, req *ldap.AddRequest) error {
	d.note(ctx, "add", addLDIF(req))
	attrs := map[string][]string{}
	for _, a := range req.Attributes {
		attrs[a.Type] = a.Vals
	}
	now := time.Now().UTC().Format("20060102150405Z")
	attrs["entryUUID"] = []string{randomUUID()}
	attrs["createTimestamp"], attrs["modifyTimestamp"] = []string{now}, []string{now}
	attrs["entryCSN"] = []string{now + "#dryrun"}
	o := overlayOf(ctx)
	o.mu.Lock()
	o.entries[dnKey(req.DN)] = ldap.NewEntry(req.DN, attrs)
	o.mu.Unlock()
	return nil
}

// Modify pretends to modify, applying the changes to the entry as read.
func (d *dryRun) Modify(ctx context.Context, req *ldap.ModifyRequest) error {
	d.note(ctx, "modify", modifyLDIF(req))
	e, err := d.current(ctx, req.DN)
	if err != nil {
		return err
	}
	attrs := map[string][]string{}
	for _, a := range e.Attributes {
		attrs[strings.ToLower(a.Name)] = a.Values
	}
	for _, c := range req.Changes {
		k := strings.ToLower(c.Modification.Type)
		switch c.Operation {
		case ldap.AddAttribute:
			attrs[k] = append(attrs[k], c.Modification.Vals...)
		case ldap.ReplaceAttribute:
			attrs[k] = c.Modification.Vals
		case ldap.DeleteAttribute:
			if len(c.Modification.Vals) == 0 {
				delete(attrs, k)
			} else {
				attrs[k] = without(attrs[k], c.Modification.Vals)
			}
		}
	}
	o := overlayOf(ctx)
	o.mu.Lock()
	o.entries[dnKey(req.DN)] = ldap.NewEntry(req.DN, attrs)
	o.mu.Unlock()
	return nil
}

// ModifyDN pretends to rename.
func (d *dryRun) ModifyDN(ctx context.Context, req *ldap.ModifyDNRequest) error {
	d.note(ctx, "modrdn", fmt.Sprintf("dn: %s\nchangetype: modrdn\nnewrdn: %s\ndeleteoldrdn: 1\n", req.DN, req.NewRDN))
	e, err := d.current(ctx, req.DN)
	if err != nil {
		return err
	}
	parent := parentDN(req.DN)
	if req.NewSuperior != "" {
		parent = req.NewSuperior
	}
	attrs := map[string][]string{}
	for _, a := range e.Attributes {
		attrs[strings.ToLower(a.Name)] = a.Values
	}
	// deleteOldRDN: the naming value is replaced by the new one.
	if rdn, err := ldap.ParseDN(req.NewRDN); err == nil && len(rdn.RDNs) == 1 {
		for _, av := range rdn.RDNs[0].Attributes {
			attrs[strings.ToLower(av.Type)] = []string{av.Value}
		}
	}
	newDN := req.NewRDN + "," + parent
	o := overlayOf(ctx)
	o.mu.Lock()
	o.entries[dnKey(req.DN)] = nil
	o.entries[dnKey(newDN)] = ldap.NewEntry(newDN, attrs)
	o.mu.Unlock()
	return nil
}

// Del pretends to delete.
func (d *dryRun) Del(ctx context.Context, req *ldap.DelRequest) error {
	d.note(ctx, "delete", "dn: "+req.DN+"\nchangetype: delete\n")
	o := overlayOf(ctx)
	o.mu.Lock()
	o.entries[dnKey(req.DN)] = nil
	o.mu.Unlock()
	return nil
}

// current is the entry as this request sees it: written here, or read.
func (d *dryRun) current(ctx context.Context, dn string) (*ldap.Entry, error) {
	res, err := d.Search(ctx, ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"*", "+"}, nil))
	if err != nil {
		return nil, err
	}
	if len(res.Entries) == 0 {
		return nil, ldap.NewError(ldap.LDAPResultNoSuchObject, fmt.Errorf("dry run: %s not found", dn))
	}
	return res.Entries[0], nil
}

// secretAttrs never appear in dry-run output.
var secretAttrs = map[string]bool{"unicodepwd": true, "userpassword": true}

func ldifValues(b *strings.Builder, attr string, vals []string) {
	for _, v := range vals {
		if secretAttrs[strings.ToLower(attr)] {
			v = "<redacted>"
		}
		fmt.Fprintf(b, "%s: %s\n", attr, v)
	}
}

func addLDIF(req *ldap.AddRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nchangetype: add\n", req.DN)
	attrs := append([]ldap.Attribute(nil), req.Attributes...)
	sort.SliceStable(attrs, func(i, j int) bool {
		return strings.EqualFold(attrs[i].Type, "objectClass") && !strings.EqualFold(attrs[j].Type, "objectClass")
	})
	for _, a := range attrs {
		ldifValues(&b, a.Type, a.Vals)
	}
	return b.String()
}

func modifyLDIF(req *ldap.ModifyRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nchangetype: modify\n", req.DN)
	for i, c := range req.Changes {
		if i > 0 {
			b.WriteString("-\n")
		}
		op := map[uint]string{ldap.AddAttribute: "add", ldap.DeleteAttribute: "delete", ldap.ReplaceAttribute: "replace"}[c.Operation]
		fmt.Fprintf(&b, "%s: %s\n", op, c.Modification.Type)
		ldifValues(&b, c.Modification.Type, c.Modification.Vals)
	}
	return b.String()
}

func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
