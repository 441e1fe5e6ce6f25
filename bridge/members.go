package bridge

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// memberRetries bounds how often modifyMembers looks the values up again
// after the directory refused an add of a present or a delete of an absent
// value.
const memberRetries = 3

// memberChange is what one request does to a group's members. Values are
// already resolved (DNs, or uids for memberUid).
type memberChange struct {
	add, remove []string
	// replace, when set, is the whole new member list.
	replace   []string
	replaceOK bool
}

// memberChanges turns the change into LDAP modifications of the member
// attribute only: never a read of the member list, whatever the group's size.
// hasPlaceholder says whether the group holds the empty-member placeholder now.
func (s *Groups) memberChanges(mc *memberChange, hasPlaceholder bool) []ldap.Change {
	attr := s.g.MemberAttr
	var out []ldap.Change
	if mc.replaceOK {
		vals := mc.replace
		if len(vals) == 0 {
			if s.g.EmptyMember == "" {
				return []ldap.Change{{Operation: ldap.DeleteAttribute, Modification: ldap.PartialAttribute{Type: attr, Vals: []string{}}}}
			}
			vals = []string{s.g.EmptyMember}
		}
		return []ldap.Change{{Operation: ldap.ReplaceAttribute, Modification: ldap.PartialAttribute{Type: attr, Vals: vals}}}
	}
	if len(mc.add) > 0 {
		out = append(out, ldap.Change{Operation: ldap.AddAttribute, Modification: ldap.PartialAttribute{Type: attr, Vals: mc.add}})
		if hasPlaceholder {
			out = append(out, ldap.Change{
				Operation:    ldap.DeleteAttribute,
				Modification: ldap.PartialAttribute{Type: attr, Vals: []string{s.g.EmptyMember}},
			})
		}
	}
	if len(mc.remove) > 0 {
		out = append(out, ldap.Change{Operation: ldap.DeleteAttribute, Modification: ldap.PartialAttribute{Type: attr, Vals: mc.remove}})
	}
	return out
}

// modifyMembers writes attribute changes and member changes to a group in one
// LDAP modify. Entra retries and re-sends members that are already there
// (docs/entra-wire-reference.md §1.2), and OpenLDAP refuses a whole modify when one added value
// exists (20) or one removed value is absent (16): only then does it look the
// values up, one cheap "is X a member" search each, and retry with what is left.
// Removing the last member of a group that requires one (65) retries with the
// placeholder added. The values can change again between a look-up and the
// retry (slapd's refint removes a deleted user's DN in the background), so
// this repeats a few times before an error stands.
func (s *Groups) modifyMembers(ctx context.Context, dn string, attrs []ldap.Change, mc *memberChange, hasPlaceholder bool) error {
	w := &memberWrite{s: s, dn: dn, attrs: attrs, mc: mc, hasPlaceholder: hasPlaceholder}
	changes := w.changes()
	if len(changes) == 0 {
		return nil
	}
	err := s.modify(ctx, dn, changes)
	// A replace is not retried: it names the whole list, so no present or
	// absent value refuses it, and stillToDo keeps adds and removes only.
	for try := 0; err != nil && try < memberRetries && !w.mc.replaceOK; try++ {
		if err := w.adjust(ctx, err); err != nil {
			return err
		}
		if changes = w.changes(); len(changes) == 0 {
			return nil
		}
		err = s.modify(ctx, dn, changes)
	}
	return failed("modify group", err)
}

// memberWrite is the state of one modifyMembers between its tries: what is
// still to be done, and what is known of the group's placeholder.
type memberWrite struct {
	s     *Groups
	dn    string
	attrs []ldap.Change
	mc    *memberChange
	// hasPlaceholder: the group holds the empty-member placeholder now.
	hasPlaceholder bool
	// addPlaceholder: the directory refused to remove the last member, so the
	// placeholder goes in with the removal.
	addPlaceholder bool
}

// changes is the one modify the next try sends: the attribute changes, then
// the member changes.
func (w *memberWrite) changes() []ldap.Change {
	changes := append(append([]ldap.Change(nil), w.attrs...), w.s.memberChanges(w.mc, w.hasPlaceholder)...)
	if w.addPlaceholder && !w.hasPlaceholder {
		changes = append(changes, ldap.Change{
			Operation:    ldap.AddAttribute,
			Modification: ldap.PartialAttribute{Type: w.s.g.MemberAttr, Vals: []string{w.s.g.EmptyMember}},
		})
	}
	return changes
}

// adjust learns from a refused modify what the next try must send. It
// returns an error when no retry can help.
func (w *memberWrite) adjust(ctx context.Context, err error) error {
	switch {
	case memberClash(err):
		return w.lookUp(ctx)
	case classViolated(err) && w.s.g.EmptyMember != "" && len(w.mc.remove) > 0 && len(w.mc.add) == 0:
		w.addPlaceholder = true
		return nil
	}
	return failed("modify group", err)
}

// lookUp keeps the member changes still to do and, when the placeholder is
// part of the write, whether the group holds it now.
func (w *memberWrite) lookUp(ctx context.Context) error {
	mc, err := w.s.stillToDo(ctx, w.dn, w.mc)
	if err != nil {
		return err
	}
	w.mc = mc
	if w.hasPlaceholder || w.addPlaceholder {
		if w.hasPlaceholder, err = w.s.isMember(ctx, w.dn, w.s.g.EmptyMember); err != nil {
			return err
		}
	}
	return nil
}

// stillToDo keeps of mc the adds of values that are not members and the
// removes of values that are, asking the directory which of them the group
// holds: one search per memberChunk values, not one per value, so re-adding
// 10,000 members present already costs 50 searches.
func (s *Groups) stillToDo(ctx context.Context, dn string, mc *memberChange) (*memberChange, error) {
	present, err := s.presentValues(ctx, dn, append(append([]string(nil), mc.add...), mc.remove...))
	if err != nil {
		return nil, err
	}
	fixed := &memberChange{}
	for _, v := range mc.add {
		if !present[s.memberKey(v)] {
			fixed.add = append(fixed.add, v)
		}
	}
	for _, v := range mc.remove {
		if present[s.memberKey(v)] {
			fixed.remove = append(fixed.remove, v)
		}
	}
	return fixed, nil
}

// oidMatchedValues is the values return filter control (RFC 3876): the
// search returns only the attribute values that match it, so the group's
// other members are never sent. slapd supports it; AD does not, but AD's
// member modifies carry the permissive-modify control and never need this.
const oidMatchedValues = "1.2.826.0.1.3344810.2.3"

// presentValues returns which of vals the group at dn holds, by memberKey.
func (s *Groups) presentValues(ctx context.Context, dn string, vals []string) (map[string]bool, error) {
	present := map[string]bool{}
	for start := 0; start < len(vals); start += memberChunk {
		chunk := vals[start:min(start+memberChunk, len(vals))]
		seq := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "ValuesReturnFilter")
		var f strings.Builder
		f.WriteString("(|")
		for _, v := range chunk {
			item := s.g.MemberFilter(v)
			p, err := ldap.CompileFilter(item)
			if err != nil {
				return nil, err
			}
			seq.AppendChild(p)
			f.WriteString(item)
		}
		f.WriteString(")")
		ctl := &ldap.ControlString{ControlType: oidMatchedValues, Criticality: true, ControlValue: string(seq.Bytes())}
		res, err := s.dir.Search(ctx, ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0,
			false, f.String(), []string{s.g.MemberAttr}, []ldap.Control{ctl}))
		if controlUnsupported(err) {
			return s.presentOneByOne(ctx, dn, vals)
		}
		if noSuchEntry(err) {
			return nil, scimerr.Wrap(scimerr.NotFound, err, "the group entry vanished while the request ran")
		}
		if err != nil {
			return nil, failed("read group", err)
		}
		for _, e := range res.Entries {
			for _, v := range e.GetEqualFoldAttributeValues(s.g.MemberAttr) {
				present[s.memberKey(v)] = true
			}
		}
	}
	return present, nil
}

// presentOneByOne is presentValues for a directory without the values
// return filter: one "is X a member" search per value.
func (s *Groups) presentOneByOne(ctx context.Context, dn string, vals []string) (map[string]bool, error) {
	present := map[string]bool{}
	for _, v := range vals {
		ok, err := s.isMember(ctx, dn, v)
		if err != nil {
			return nil, err
		}
		present[s.memberKey(v)] = ok
	}
	return present, nil
}

// memberKey compares member values as the directory does: DNs by their
// parsed form, case-insensitively; memberUid values case-insensitively.
func (s *Groups) memberKey(v string) string {
	if !s.g.ByUID {
		if d, err := ldap.ParseDN(v); err == nil {
			return strings.ToLower(d.String())
		}
	}
	return strings.ToLower(v)
}

func (s *Groups) modify(ctx context.Context, dn string, changes []ldap.Change) error {
	var controls []ldap.Control
	if s.ad {
		controls = append(controls, &ldap.ControlString{ControlType: ldap.ControlTypeMicrosoftPermissiveModify})
	}
	req := ldap.NewModifyRequest(dn, controls)
	req.Changes = changes
	err := s.dir.Modify(ctx, req)
	names := make([]string, len(changes))
	for i, c := range changes {
		names[i] = c.Modification.Type
	}
	s.users.logWrite(ctx, "modify", dn, names, err)
	return err
}

// isMember asks the directory whether v is a member of the group at dn: a base
// search with an equality filter, answered from the index without sending the
// member list (docs/directory-lab.md: 0.13 ms on 1k members, 0.31 ms on 50k).
func (s *Groups) isMember(ctx context.Context, dn, v string) (bool, error) {
	res, err := s.dir.Search(ctx, ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		s.g.MemberFilter(v), []string{"1.1"}, nil))
	if noSuchEntry(err) {
		return false, scimerr.Wrap(scimerr.NotFound, err, "the group entry vanished while the request ran")
	}
	if err != nil {
		return false, failed("read group", err)
	}
	return len(res.Entries) > 0, nil
}

// MaxMemberValues caps the member values one request may add, remove or
// replace (each list on its own): Entra sends a few hundred at most, and the
// cap bounds the time a request holds a connection (BenchmarkGroupMemberBulk:
// 10,000 members in one PATCH are answered within the write timeout).
const MaxMemberValues = 10000

// memberChunk bounds the ids in one LDAP search and the values in one
// membership look-up: slapd tests each candidate entry against the whole OR
// filter, so one search over n ids costs n², while chunks keep it linear
// (10,000 ids in one filter took 59 s). 50 measured faster than 100 and 200
// on 1,000 and 10,000 members (BenchmarkGroupMemberBulk).
const memberChunk = 50

// resolveMembers turns member ids into member values (DNs, or uids for
// memberUid), one search per memberChunk ids. strict reports unknown ids as
// invalidValue (an add must not half-apply); otherwise unknown ids are
// dropped (removing a member that no longer exists is a no-op).
func (s *Groups) resolveMembers(ctx context.Context, ids []string, strict bool) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > MaxMemberValues {
		return nil, scimerr.New(scimerr.TooMany, "members: %d values in one request; at most %d are accepted "+
			"(send them in several requests)", len(ids), MaxMemberValues)
	}
	um := s.users.m
	uniq := make(map[string]bool, len(ids))
	var order []string
	for _, id := range ids {
		if !uniq[id] {
			uniq[id] = true
			order = append(order, id)
		}
	}
	attrs := []string{um.IDAttr}
	uidAttr := ""
	if s.g.ByUID {
		// memberUid holds the users' naming attribute value (uid).
		uidAttr = um.RDN
		attrs = append(attrs, uidAttr)
	}
	found := make(map[string]string, len(order))
	for start := 0; start < len(order); start += memberChunk {
		chunk := order[start:min(start+memberChunk, len(order))]
		parts := make([]string, 0, len(chunk))
		for _, id := range chunk {
			f, err := um.SearchFilter(ctx, &filter.Compare{Path: filter.Path{Attr: "id"}, Op: filter.Eq, Value: id}, nil)
			if err != nil {
				return nil, err
			}
			parts = append(parts, f)
		}
		req := ldap.NewSearchRequest(um.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"(|"+strings.Join(parts, "")+")", attrs, nil)
		_, err := s.dir.SearchPaged(ctx, req, anyPage, func(e *ldap.Entry) bool {
			v := e.DN
			if s.g.ByUID {
				v = e.GetEqualFoldAttributeValue(uidAttr)
			}
			found[um.ID(e)] = v
			return true
		})
		if err != nil {
			return nil, failed("resolve members", err)
		}
	}
	out := make([]string, 0, len(order))
	for _, id := range order {
		v, ok := found[id]
		if !ok {
			if strict {
				what := fmt.Sprintf("members: no user with id %q", id)
				if err := missingSinceSwitch(ctx, what, nil); err != nil {
					return nil, err
				}
				return nil, scimerr.New(scimerr.InvalidValue, "%s", what)
			}
			continue
		}
		out = append(out, v)
	}
	sortStrings(out)
	return out, nil
}

// memberResources renders the members of group entry e as SCIM members. For DN
// members one search of the users carrying memberOf=<group> finds all ids at
// once; members it misses (no memberOf overlay, entries outside users.base_dn)
// are looked up one by one.
func (s *Groups) memberResources(ctx context.Context, e *ldap.Entry) ([]any, error) {
	vals, err := s.memberValues(ctx, e)
	if err != nil {
		return nil, err
	}
	// The placeholder is never shown: a group that holds nothing else (a
	// new group, as Entra creates them) costs no search.
	vals = slices.DeleteFunc(slices.Clone(vals), s.g.IsPlaceholder)
	byVal, err := s.membersByValue(ctx, e.DN, vals)
	if err != nil {
		return nil, failed("read members", err)
	}
	out := make([]any, 0, len(vals))
	r := s.users.resolver()
	for _, v := range vals {
		m, ok, err := s.memberFor(ctx, r, byVal, v)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, m.resource())
		}
	}
	return out, nil
}

// groupMember is one member as a group's SCIM members list shows it.
type groupMember struct{ id, display string }

// resource is m as an element of the SCIM members attribute.
func (m groupMember) resource() map[string]any {
	el := map[string]any{"value": m.id, "type": "User"}
	if m.display != "" {
		el["display"] = m.display
	}
	return el
}

// uidsPerSearch bounds how many memberUid values one search asks for, so
// that a large group's filter is split into searches of a modest size.
const uidsPerSearch = 200

// membersByValue finds the managed users among the member values vals, keyed
// by memberLookupKey, in as few searches as it can: one memberOf search for DN
// members, one search per uidsPerSearch values for memberUid.
func (s *Groups) membersByValue(ctx context.Context, groupDN string, vals []string) (map[string]groupMember, error) {
	byVal := map[string]groupMember{}
	if !s.g.ByUID {
		if len(vals) == 0 {
			return byVal, nil
		}
		return byVal, s.collectMembers(ctx, byVal, "(memberOf="+ldap.EscapeFilter(groupDN)+")")
	}
	rdn := s.users.m.RDN
	for i := 0; i < len(vals); i += uidsPerSearch {
		var parts []string
		for _, v := range vals[i:min(i+uidsPerSearch, len(vals))] {
			parts = append(parts, "("+rdn+"="+ldap.EscapeFilter(v)+")")
		}
		if err := s.collectMembers(ctx, byVal, "(|"+strings.Join(parts, "")+")"); err != nil {
			return nil, err
		}
	}
	return byVal, nil
}

// collectMembers adds to byVal the managed users that filter f finds.
func (s *Groups) collectMembers(ctx context.Context, byVal map[string]groupMember, f string) error {
	um := s.users.m
	display := um.DisplayAttr()
	attrs := []string{um.IDAttr, um.RDN}
	if display != "" {
		attrs = append(attrs, display)
	}
	req := ldap.NewSearchRequest(um.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(&"+um.Managed+f+")", attrs, nil)
	_, err := s.dir.SearchPaged(ctx, req, anyPage, func(u *ldap.Entry) bool {
		k := u.DN
		if s.g.ByUID {
			k = u.GetEqualFoldAttributeValue(um.RDN)
		}
		byVal[s.memberLookupKey(k)] = groupMember{um.ID(u), u.GetEqualFoldAttributeValue(display)}
		return true
	})
	return err
}

// memberLookupKey is the key of member value v in membersByValue's map: a
// normalised, lower-cased DN, or a memberUid value as it is written.
func (s *Groups) memberLookupKey(v string) string {
	if s.g.ByUID {
		return v
	}
	if dn, err := ldap.ParseDN(v); err == nil {
		return strings.ToLower(dn.String())
	}
	return strings.ToLower(v)
}

// memberFor returns the member value v stands for; false when it is not
// shown (the placeholder, or not a managed user). A DN the search missed is
// looked up on its own.
func (s *Groups) memberFor(ctx context.Context, r *resolver, byVal map[string]groupMember, v string) (groupMember, bool, error) {
	if s.g.IsPlaceholder(v) {
		return groupMember{}, false, nil
	}
	if m, ok := byVal[s.memberLookupKey(v)]; ok {
		return m, true, nil
	}
	if s.g.ByUID {
		return groupMember{}, false, nil
	}
	id, err := r.IDOf(ctx, v)
	if scimerr.KindOf(err) == scimerr.NotFound {
		return groupMember{}, false, nil // not a managed user (e.g. a nested group): not shown
	}
	if err != nil {
		return groupMember{}, false, err
	}
	return groupMember{id: id}, true, nil
}

func sortStrings(s []string) { sort.Strings(s) }
