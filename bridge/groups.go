package bridge

import (
	"context"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/patch"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
	"github.com/scimbridge/scimbridge/scimapi/scimreq"
)

// Groups implements the SCIM /Groups use cases. Members are user ids on the
// SCIM side and user DNs (or uids) in LDAP.
type Groups struct {
	dir   Directory
	g     *ldapmap.GroupMap
	users *Users
	gid   *numberAllocator
	log   zerolog.Logger
	// ad: member changes carry the permissive modify control, so adding a
	// present member or removing an absent one is not an error (AD would
	// answer 68 and 53).
	ad bool
}

// Create adds a group with its initial members (POST /Groups). Entra creates
// groups empty and adds members with PATCH (docs/entra-wire-reference.md §1.2).
func (s *Groups) Create(ctx context.Context, res ldapmap.Resource) (_ ldapmap.Resource, err error) {
	ctx = PinRequest(ctx)
	defer atEdge(ctx, &err)
	mv, _ := scimjson.Lookup(res, "members")
	ids, err := ldapmap.MemberIDs(mv)
	if err != nil {
		return nil, err
	}
	vals, err := s.resolveMembers(ctx, ids, true)
	if err != nil {
		return nil, err
	}
	req, err := s.g.PlanAdd(ctx, res, vals)
	if err == nil {
		var later []string
		if s.gid != nil {
			later = []string{"gidNumber"} // taken only when the add goes ahead
		}
		err = s.g.CheckScope(req, later...)
	}
	if err != nil {
		return nil, err
	}
	if s.gid != nil {
		n, err := s.gid.next(ctx)
		if err != nil {
			return nil, err
		}
		req.Attribute("gidNumber", []string{n})
	}
	pr := s.postRead(ctx)
	if pr != nil {
		req.Controls = append(req.Controls, pr)
	}
	err = s.dir.Add(ctx, req)
	s.users.logWrite(ctx, "add", req.DN, attrNames(req.Attributes), err)
	if nameTaken(err) {
		return nil, scimerr.Wrap(scimerr.Uniqueness, err, "a group with this displayName already exists")
	}
	if err != nil {
		return nil, failed("create group", err)
	}
	e, err := s.added(ctx, req.DN, pr)
	if err != nil {
		return nil, err
	}
	return s.render(ctx, e, true)
}

// postRead returns a post-read control asking for what the answer to a
// create renders (the group with its members), nil when the directory would
// not answer it (AD).
func (s *Groups) postRead(ctx context.Context) *postRead {
	if s.ad || !s.dir.Supports(ctx, postReadOID) {
		return nil
	}
	return &postRead{attrs: s.attrs(true)}
}

// added is the group entry an add at dn made, as Users.added: the post-read
// control's entry when it carries the id, else read back by DN, with the
// same residual risk when two clients add the same DN on two servers.
func (s *Groups) added(ctx context.Context, dn string, pr *postRead) (*ldap.Entry, error) {
	if e := written(pr); e != nil && s.g.ID(e) != "" {
		return e, nil
	}
	return s.read(ctx, dn, ldap.ScopeBaseObject, "(objectClass=*)", true)
}

// Get returns one group; the member list is read only when the client wants
// it (Entra always sends excludedAttributes=members).
func (s *Groups) Get(ctx context.Context, id string, fields scimreq.Fields) (_ ldapmap.Resource, err error) {
	ctx = PinRequest(ctx)
	defer atEdge(ctx, &err)
	e, err := s.find(ctx, id, fields.Wants("members"))
	if err != nil {
		return nil, err
	}
	return s.render(ctx, e, fields.Wants("members"))
}

// List runs a filtered, paged list of groups with searchWindow, as Users.List.
func (s *Groups) List(ctx context.Context, fl filter.Expr, startIndex, count int, fields scimreq.Fields) (_ int, _ []ldapmap.Resource, err error) {
	ctx = PinRequest(ctx)
	defer atEdge(ctx, &err)
	f, err := s.g.SearchFilter(ctx, fl, memberResolver{s: s})
	if err != nil {
		return 0, nil, err
	}
	members := fields.Wants("members")
	q := listQuery{base: s.g.BaseDN, filter: f, attrs: s.attrs(members), sortKey: s.g.IDAttr, filtered: fl != nil}
	total, entries, err := searchWindow(ctx, s.dir, q, startIndex, count)
	if err != nil {
		return 0, nil, failed("list groups", err)
	}
	if err := emptyAfterFailover(ctx, fl != nil, total); err != nil {
		return 0, nil, err
	}
	out := make([]ldapmap.Resource, 0, len(entries))
	for _, e := range entries {
		res, err := s.render(ctx, e, members)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, res)
	}
	return total, out, nil
}

// Replace implements PUT: attributes and the whole member list.
func (s *Groups) Replace(ctx context.Context, id string, body ldapmap.Resource, ifMatch string) (_ ldapmap.Resource, err error) {
	ctx = PinRequest(ctx)
	defer atEdge(ctx, &err)
	mv, hasMembers := scimjson.Lookup(body, "members")
	ids, err := ldapmap.MemberIDs(mv)
	if err != nil {
		return nil, err
	}
	mc := &memberChange{replaceOK: true}
	if mc.replace, err = s.resolveMembers(ctx, ids, true); err != nil {
		return nil, err
	}
	if !hasMembers {
		mc = &memberChange{}
	}
	err = s.update(ctx, id, ifMatch, mc, func(before ldapmap.Resource) (ldapmap.Resource, error) {
		after := deepCopy(body)
		after["id"] = before["id"]
		return after, nil
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id, scimreq.Fields{})
}

// Patch implements PATCH. Member operations become add/delete of just those
// values in the same single LDAP modify as the other attributes; the member list
// is never read. It answers 204 (nil resource), as Microsoft recommends for
// group updates (docs/entra-wire-reference.md §1.2).
func (s *Groups) Patch(ctx context.Context, id string, ops []patch.Operation, ifMatch string) (_ ldapmap.Resource, err error) {
	ctx = PinRequest(ctx)
	defer atEdge(ctx, &err)
	ops, err = patch.Expand(ops)
	if err != nil {
		return nil, err
	}
	var attrOps []patch.Operation
	var addIDs, removeIDs, replaceIDs []string
	replace := false
	for _, op := range ops {
		if op.Path == nil || !strings.EqualFold(op.Path.Attr, "members") {
			attrOps = append(attrOps, op)
			continue
		}
		ids, err := memberOpIDs(op)
		if err != nil {
			return nil, err
		}
		switch {
		case op.Op == "add":
			addIDs = append(addIDs, ids...)
		case op.Op == "remove" && ids == nil:
			replace, replaceIDs, addIDs, removeIDs = true, nil, nil, nil // remove all members
		case op.Op == "remove":
			removeIDs = append(removeIDs, ids...)
		default: // replace
			replace, replaceIDs, addIDs, removeIDs = true, ids, nil, nil
		}
	}
	mc := &memberChange{replaceOK: replace}
	if replace {
		ids := append(replaceIDs, addIDs...)
		if mc.replace, err = s.resolveMembers(ctx, ids, true); err != nil {
			return nil, s.missingFirst(ctx, id, err)
		}
	} else {
		if mc.add, err = s.resolveMembers(ctx, addIDs, true); err != nil {
			return nil, s.missingFirst(ctx, id, err)
		}
		if mc.remove, err = s.resolveMembers(ctx, removeIDs, false); err != nil {
			return nil, s.missingFirst(ctx, id, err)
		}
		mc.remove = without(mc.remove, mc.add)
	}
	return nil, s.update(ctx, id, ifMatch, mc, func(before ldapmap.Resource) (ldapmap.Resource, error) {
		after := deepCopy(before)
		if err := patch.Apply(after, attrOps); err != nil {
			return nil, err
		}
		return after, nil
	})
}

// missingFirst answers a PATCH whose members could not be resolved: when the
// group itself is gone that is the answer (404, RFC 7644 §3.12), because Entra
// drops its cached id on a 404 but would retry a 400 about a member forever.
// Members are resolved before the group is read so the success path reads the
// group once; this extra read happens only on the error path.
func (s *Groups) missingFirst(ctx context.Context, id string, memberErr error) error {
	if scimerr.KindOf(memberErr) != scimerr.InvalidValue {
		return memberErr
	}
	if _, err := s.find(ctx, id, false); scimerr.KindOf(err) == scimerr.NotFound {
		return err
	}
	return memberErr
}

// update writes a change of the group's attributes (change turns the group
// as SCIM sees it into the new one) and a member change, on the pipeline
// users share (updateEntry): rename first, then one modify.
func (s *Groups) update(ctx context.Context, id, ifMatch string, mc *memberChange, change func(ldapmap.Resource) (ldapmap.Resource, error)) error {
	checkPlaceholder := s.g.EmptyMember != "" && len(mc.add) > 0
	k := s.kind()
	// placeholder: whether the group read holds the placeholder, when the
	// read could say (findPlaceholder); nil: ask the directory (isMember).
	var placeholder *bool
	if checkPlaceholder && s.dir.Supports(ctx, oidMatchedValues) {
		k.find = func(ctx context.Context, id string) (*ldap.Entry, error) {
			e, has, err := s.findPlaceholder(ctx, id)
			placeholder = &has
			return e, err
		}
	}
	_, err := updateEntry(ctx, k, id, ifMatch, nil, change, func(w Directory, e *ldap.Entry, _ ldapmap.Resource, upd *ldapmap.Update) (struct{}, error) {
		dn := e.DN
		if err := s.claimVersion(ctx, w, e); err != nil {
			return struct{}{}, err
		}
		var err error
		if upd.NewRDN != "" {
			dn, err = s.users.rename(ctx, w, dn, upd.NewRDN)
			if nameTaken(err) {
				return struct{}{}, scimerr.Wrap(scimerr.Uniqueness, err, "another group already has this displayName")
			}
			if err != nil {
				return struct{}{}, failed("rename group", err)
			}
		}
		gw := s.via(w)
		hasPlaceholder := false
		switch {
		case checkPlaceholder && placeholder != nil:
			hasPlaceholder = *placeholder
		case checkPlaceholder:
			if hasPlaceholder, err = gw.isMember(ctx, dn, s.g.EmptyMember); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, gw.modifyMembers(ctx, dn, upd.Changes, mc, hasPlaceholder)
	})
	return err
}

// kind is what the shared write pipeline needs to know of groups; it reads
// a group without its member list.
func (s *Groups) kind() resourceKind {
	return resourceKind{what: "group", m: s.g.Map, dir: s.dir, find: func(ctx context.Context, id string) (*ldap.Entry, error) {
		return s.find(ctx, id, false)
	}}
}

// via is s writing through w: the member writes (modifyMembers) must go
// through the guarded directory of the request too.
func (s *Groups) via(w Directory) *Groups {
	c := *s
	c.dir = w
	return &c
}

// Delete removes the group. Its users are untouched.
func (s *Groups) Delete(ctx context.Context, id, ifMatch string) (err error) {
	ctx = PinRequest(ctx)
	defer atEdge(ctx, &err)
	e, w, err := s.kind().readForWrite(ctx, id, ifMatch)
	if err != nil {
		return err
	}
	if err := s.claimVersion(ctx, w, e); err != nil {
		return err
	}
	return s.users.removeEntry(ctx, w, e.DN, "group")
}

// claimVersion makes If-Match on a group hold without sending the assertion
// with the write itself. slapd's memberof overlay copies a write's controls
// onto the memberOf updates it makes in the members' entries, where the
// group's version assertion fails, silently: a member added, a group renamed
// or deleted that way leaves the members' memberOf wrong. So the assertion
// goes on a first modify that replaces the group's naming attribute with the
// values it has (a write memberof ignores, which moves the version on: of two
// requests with the same If-Match, only one gets past it), and the real writes
// follow without it (guarded.wrote marks the claim done). Without If-Match,
// or on AD (no assertion), nothing is sent.
func (s *Groups) claimVersion(ctx context.Context, w Directory, e *ldap.Entry) error {
	g, ok := w.(*guarded)
	if !ok || g.assert == nil || g.done {
		return nil
	}
	vals := e.GetEqualFoldAttributeValues(s.g.RDN)
	if len(vals) == 0 {
		return nil // not read: the writes keep the assertion
	}
	m := ldap.NewModifyRequest(e.DN, nil)
	m.Replace(s.g.RDN, vals)
	if err := g.Modify(ctx, m); err != nil {
		return failed("claim the group's version (If-Match)", err)
	}
	return nil
}

func (s *Groups) render(ctx context.Context, e *ldap.Entry, members bool) (ldapmap.Resource, error) {
	res, err := s.g.FromEntry(ctx, e, nil)
	if err != nil {
		return nil, err
	}
	if members {
		m, err := s.memberResources(ctx, e)
		if err != nil {
			return nil, err
		}
		res["members"] = m
	}
	return res, nil
}

func (s *Groups) attrs(members bool) []string {
	a := s.g.ReadAttributes()
	if members {
		a = append(a, s.g.MemberAttr)
	}
	return a
}

// find reads the group with SCIM id id; the member list only if members.
func (s *Groups) find(ctx context.Context, id string, members bool) (*ldap.Entry, error) {
	f, err := s.g.SearchFilter(ctx, &filter.Compare{Path: filter.Path{Attr: "id"}, Op: filter.Eq, Value: id}, nil)
	if err != nil {
		return nil, err
	}
	res, err := s.dir.Search(ctx, ldap.NewSearchRequest(s.g.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, 0, false, f, s.attrs(members), nil))
	if err != nil {
		return nil, failed("read group", err)
	}
	if len(res.Entries) == 0 {
		return nil, scimerr.New(scimerr.NotFound, "Group %s not found", id)
	}
	return res.Entries[0], nil
}

// findPlaceholder is find (without the member list) that also tells
// whether the group holds groups.empty_member: the member attribute comes
// back filtered by the matched values control (RFC 3876) to that one value,
// so a member add learns it without another search (isMember), and the
// other members are never sent. The control returns only the values its
// filter items match, so it holds a presence item for each attribute find
// reads. The directory must support the control (slapd does).
func (s *Groups) findPlaceholder(ctx context.Context, id string) (*ldap.Entry, bool, error) {
	f, err := s.g.SearchFilter(ctx, &filter.Compare{Path: filter.Path{Attr: "id"}, Op: filter.Eq, Value: id}, nil)
	if err != nil {
		return nil, false, err
	}
	seq := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "ValuesReturnFilter")
	for _, item := range append([]string{s.g.MemberFilter(s.g.EmptyMember)}, presence(s.attrs(false))...) {
		p, err := ldap.CompileFilter(item)
		if err != nil {
			return nil, false, err
		}
		seq.AppendChild(p)
	}
	ctl := &ldap.ControlString{ControlType: oidMatchedValues, Criticality: true, ControlValue: string(seq.Bytes())}
	res, err := s.dir.Search(ctx, ldap.NewSearchRequest(s.g.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, 0, false, f, s.attrs(true), []ldap.Control{ctl}))
	if err != nil {
		return nil, false, failed("read group", err)
	}
	if len(res.Entries) == 0 {
		return nil, false, scimerr.New(scimerr.NotFound, "Group %s not found", id)
	}
	e := res.Entries[0]
	has := false
	kept := e.Attributes[:0:0]
	for _, a := range e.Attributes {
		if strings.EqualFold(a.Name, s.g.MemberAttr) {
			has = len(a.Values) > 0 // only the placeholder can come back
			continue
		}
		kept = append(kept, a)
	}
	e.Attributes = kept
	return e, has, nil
}

// presence is the presence filter of each attribute.
func presence(attrs []string) []string {
	out := make([]string, len(attrs))
	for i, a := range attrs {
		out[i] = "(" + a + "=*)"
	}
	return out
}

func (s *Groups) read(ctx context.Context, base string, scope int, f string, members bool) (*ldap.Entry, error) {
	res, err := s.dir.Search(ctx, ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 1, 0, false, f,
		s.attrs(members), nil))
	if err != nil {
		return nil, failed("read group", err)
	}
	if len(res.Entries) == 0 {
		return nil, scimerr.New(scimerr.NotFound, "the group entry vanished while the request ran")
	}
	return res.Entries[0], nil
}

// memberOpIDs returns the member ids a PATCH operation on members names: the
// value list (Entra's default dialect removes members this way, with
// "$ref": null), or the ids in members[value eq "..."] (aadOptscim062020).
// nil means "all members" (remove without value or filter).
func memberOpIDs(op patch.Operation) ([]string, error) {
	if op.Path.Filter != nil {
		ids, ok := ldapmap.MemberPathIDs(*op.Path)
		if !ok {
			return nil, scimerr.New(scimerr.InvalidPath, "members filter must be value eq \"<id>\" (or several joined with or)")
		}
		return ids, nil
	}
	if op.Path.SubAttr != "" {
		return nil, scimerr.New(scimerr.InvalidPath, "members.%s cannot be changed", op.Path.SubAttr)
	}
	ids, err := ldapmap.MemberIDs(op.Value)
	if err != nil {
		return nil, err
	}
	if ids == nil && op.Op != "remove" {
		ids = []string{}
	}
	return ids, nil
}

// memberResolver lets group filters on members (members[value eq "id"]) use
// the member value the group stores for that user.
type memberResolver struct {
	s *Groups
}

func (r memberResolver) DNOf(ctx context.Context, id string) (string, error) {
	vals, err := r.s.resolveMembers(ctx, []string{id}, true)
	if scimerr.KindOf(err) == scimerr.InvalidValue {
		return "", scimerr.New(scimerr.NotFound, "no user with id %q", id)
	}
	if err != nil {
		// ldapmap, to which this answers, knows scimerr kinds only.
		return "", classify(err)
	}
	return vals[0], nil
}

func (r memberResolver) IDOf(context.Context, string) (string, error) {
	return "", scimerr.New(scimerr.NotFound, "not a reference")
}

// Unresolved is never called: member filters do not write references.
func (r memberResolver) Unresolved(context.Context, string, string) {}

func without(list, drop []string) []string {
	if len(drop) == 0 {
		return list
	}
	skip := map[string]bool{}
	for _, d := range drop {
		skip[strings.ToLower(d)] = true
	}
	out := list[:0:0]
	for _, v := range list {
		if !skip[strings.ToLower(v)] {
			out = append(out, v)
		}
	}
	return out
}
