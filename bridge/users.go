// Package bridge holds the use cases that join the SCIM side (scimapi) to the
// directory (ldapmap + an LDAP connection pool): create, read, list, replace,
// patch, soft delete and hard delete. It keeps no state of its own: every
// answer comes from the directory, so several bridges can serve one directory.
package bridge

import (
	"context"
	"strings"
	"sync"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/patch"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
	"github.com/scimbridge/scimbridge/scimapi/scimreq"
)

// Directory is what the bridge needs from LDAP; *Pool implements it.
type Directory interface {
	Search(ctx context.Context, req *ldap.SearchRequest) (*ldap.SearchResult, error)
	// SearchPaged pages through a search on one connection, calling each per
	// entry until it returns false; it reports whether every entry was seen.
	// pageSize 0 means ldap.page_size, and no page is larger than that.
	SearchPaged(ctx context.Context, req *ldap.SearchRequest, pageSize uint32, each func(*ldap.Entry) bool) (bool, error)
	Add(ctx context.Context, req *ldap.AddRequest) error
	Modify(ctx context.Context, req *ldap.ModifyRequest) error
	ModifyDN(ctx context.Context, req *ldap.ModifyDNRequest) error
	Del(ctx context.Context, req *ldap.DelRequest) error
	// Supports tells whether the directory supports the control with OID
	// oid (its root DSE lists it), so that writes may carry it.
	Supports(ctx context.Context, oid string) bool
}

var _ Directory = (*Pool)(nil)

// Users implements the SCIM /Users use cases.
type Users struct {
	dir Directory
	m   *ldapmap.Map
	log zerolog.Logger
	// groups is set when groups are enabled: users then show their groups, join
	// users.default_groups, and leave their groups when deleted.
	groups        *Groups
	defaultGroups []string
	// uidNumbers allocates uidNumber for new users (users.uid_number).
	uidNumbers *numberAllocator
	// ad switches on Active Directory's rules: name collisions on CN and
	// sAMAccountName are resolved, not refused.
	ad bool
	// dns remembers where users were seen, for writes by cached DN
	// (bydn.go); made on first use (cache).
	dnsOnce sync.Once
	dns     *dnCache
}

// Get returns one user by SCIM id.
func (u *Users) Get(ctx context.Context, id string, fields scimreq.Fields) (_ ldapmap.Resource, err error) {
	ctx = PinRequest(ctx)
	defer atEdge(ctx, &err)
	e, err := u.find(ctx, id)
	if err != nil {
		return nil, err
	}
	return u.render(ctx, e, u.resolver(), fields)
}

// noGroups renders a user without its read-only groups attribute.
var noGroups = scimreq.Fields{Excluded: []string{"groups"}}

// render is FromEntry plus the read-only groups attribute, which costs one
// search of the groups (by member value, so it works with or without memberOf)
// and is only done for single reads that want it.
func (u *Users) render(ctx context.Context, e *ldap.Entry, r *resolver, fields scimreq.Fields) (ldapmap.Resource, error) {
	res, err := u.m.FromEntry(ctx, e, r)
	if err != nil || u.groups == nil || !fields.Wants("groups") {
		return res, err
	}
	gs, err := u.groups.groupsOf(ctx, u.memberValue(e))
	if err != nil {
		return nil, err
	}
	if len(gs) > 0 {
		res["groups"] = gs
	}
	return res, nil
}

// memberValue is what a group stores for this user: its DN, or its uid for
// memberUid groups.
func (u *Users) memberValue(e *ldap.Entry) string {
	if u.groups != nil && u.groups.g.ByUID {
		return e.GetEqualFoldAttributeValue(u.m.RDN)
	}
	return e.DN
}

// List runs a filtered, paged list (RFC 7644 §3.4.2; startIndex is 1-based,
// count 0 asks for totalResults only) with searchWindow: one sorted search for
// the page and its count where the directory offers it, else a paged search and,
// when the page ends before the matches do, a count that transfers no attributes.
func (u *Users) List(ctx context.Context, fl filter.Expr, startIndex, count int, _ scimreq.Fields) (total int, out []ldapmap.Resource, err error) {
	ctx = PinRequest(ctx)
	defer atEdge(ctx, &err)
	r := u.resolver()
	f, err := u.m.SearchFilter(ctx, fl, r)
	if err != nil {
		return 0, nil, err
	}
	q := listQuery{base: u.m.BaseDN, filter: f, attrs: u.m.ReadAttributes(), sortKey: u.m.IDAttr, filtered: fl != nil}
	total, entries, err := searchWindow(ctx, u.dir, q, startIndex, count)
	if err != nil {
		return 0, nil, failed("list users", err)
	}
	if err := emptyAfterFailover(ctx, fl != nil, total); err != nil {
		return 0, nil, err
	}
	u.seen(entries...)
	for _, e := range entries {
		res, err := u.m.FromEntry(ctx, e, r)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, res)
	}
	return total, out, nil
}

// Replace implements PUT: the body replaces every mapped attribute; an absent
// attribute is cleared. active is left alone when the body omits it.
func (u *Users) Replace(ctx context.Context, id string, body ldapmap.Resource, ifMatch string) (_ ldapmap.Resource, err error) {
	ctx = PinRequest(ctx)
	defer atEdge(ctx, &err)
	return u.update(ctx, id, ifMatch, u.resolver(), func(before ldapmap.Resource) (ldapmap.Resource, error) {
		after := deepCopy(body)
		after["id"] = before["id"]
		return after, nil
	})
}

// Patch implements PATCH: the operations are applied to the user as SCIM sees
// it, and only the attributes that changed are written, in one LDAP modify.
// A PATCH that needs nothing of the entry goes to its cached DN without a
// search (patchByDN). Either way it answers 200 with the user as the write
// left it (RFC 7644 §3.5.2 allows 204 too): Entra's samples show the
// resource, and the golden exchanges expect it; the post-read control makes
// it part of the modify's own answer where the directory has it.
func (u *Users) Patch(ctx context.Context, id string, ops []patch.Operation, ifMatch string) (_ ldapmap.Resource, err error) {
	ctx = PinRequest(ctx)
	defer atEdge(ctx, &err)
	if u.m.Roles != nil {
		if ops, err = unwrapRoleOps(ops); err != nil {
			return nil, err
		}
	}
	r := u.resolver()
	if res, done, err := u.patchByDN(ctx, id, ops, ifMatch, r); done {
		return res, err
	}
	return u.update(ctx, id, ifMatch, r, func(before ldapmap.Resource) (ldapmap.Resource, error) {
		after := deepCopy(before)
		if err := patch.Apply(after, ops); err != nil {
			return nil, err
		}
		return after, nil
	})
}

// update runs a PUT or PATCH on the read path (updateEntry). The modify
// carries the post-read control where the directory has it, so the answer
// needs no read after the write.
func (u *Users) update(ctx context.Context, id, ifMatch string, r *resolver, change func(ldapmap.Resource) (ldapmap.Resource, error)) (ldapmap.Resource, error) {
	return updateEntry(ctx, u.kind(), id, ifMatch, r, change, func(w Directory, e *ldap.Entry, before ldapmap.Resource, upd *ldapmap.Update) (ldapmap.Resource, error) {
		if upd.Empty() {
			return before, nil
		}
		pr := u.postRead(ctx)
		dn, err := u.applyVia(ctx, w, e.DN, upd, pr)
		if err != nil {
			return nil, err
		}
		ne := written(pr)
		if ne == nil {
			if ne, err = u.readDN(ctx, dn); err != nil {
				return nil, err
			}
		}
		u.seen(ne)
		if u.groups != nil && upd.NewRDN != "" {
			if err := u.groups.renameMember(ctx, u.memberValue(e), u.memberValue(ne)); err != nil {
				return nil, err
			}
		}
		if u.m.Roles != nil {
			u.logUnknownRoles(ctx, dn, upd.Roles)
		}
		if len(upd.JoinGroups)+len(upd.LeaveGroups) > 0 {
			if err := u.changeRoleGroups(ctx, ne, upd.JoinGroups, upd.LeaveGroups); err != nil {
				return nil, err
			}
			if u.m.Roles.Attr == "" {
				if ne, err = u.readDN(ctx, dn); err != nil { // roles are read from memberOf
					return nil, err
				}
			}
		}
		// The write's answer leaves out groups (read-only, one more search per
		// request); GET /Users/{id} shows them.
		return u.render(ctx, ne, r, noGroups)
	})
}

// kind is what the shared write pipeline needs to know of users.
func (u *Users) kind() resourceKind {
	return resourceKind{what: "user", m: u.m, dir: u.dir, find: u.find}
}

// resourceKind is what the write pipeline that users and groups share
// (readForWrite, updateEntry) needs to know of one of them.
type resourceKind struct {
	what string // "user" or "group", for messages
	m    *ldapmap.Map
	dir  Directory
	find func(ctx context.Context, id string) (*ldap.Entry, error)
}

// maxReplans bounds how often updateEntry reads and plans an update again
// because the entry changed between its read and its first write.
const maxReplans = 2

// updateEntry is the one update pipeline of users and groups (PUT and
// PATCH): read the entry and answer If-Match (readForWrite), apply change to
// the resource as SCIM sees it, plan the LDAP writes, then let write do them
// through the guarded directory, which makes If-Match and the first write
// one atomic step, and answer.
//
// The plan deletes only values the read found. When the first write finds
// one gone (noSuchAttribute) before anything was written, someone changed
// the entry in between: the request is read, checked and planned again, as if
// it had come after that change. This is what keeps a lockout written meanwhile
// when an enable deletes the bridge's own lock value.
func updateEntry[T any](ctx context.Context, k resourceKind, id, ifMatch string, r ldapmap.Resolver,
	change func(before ldapmap.Resource) (ldapmap.Resource, error),
	write func(w Directory, e *ldap.Entry, before ldapmap.Resource, upd *ldapmap.Update) (T, error),
) (T, error) {
	var zero T
	for replan := 0; ; replan++ {
		e, w, err := k.readForWrite(ctx, id, ifMatch)
		if err != nil {
			return zero, err
		}
		before, err := k.m.FromEntry(ctx, e, r)
		if err != nil {
			return zero, err
		}
		after, err := change(before)
		if err != nil {
			return zero, err
		}
		if v, _ := scimjson.Lookup(after, "id"); v != before["id"] {
			return zero, scimerr.New(scimerr.Mutability, "id is read-only")
		}
		upd, err := k.m.PlanUpdate(ctx, e, before, after, r)
		if err != nil {
			return zero, err
		}
		out, err := write(w, e, before, upd)
		if replan < maxReplans && !w.done && valueGone(err) {
			continue
		}
		return out, err
	}
}

// readForWrite reads the entry a PUT, PATCH or DELETE names and answers
// If-Match (RFC 7644 §3.14). The directory it returns is the one to write the
// entry through: it carries the version that was checked into the write.
func (k resourceKind) readForWrite(ctx context.Context, id, ifMatch string) (*ldap.Entry, *guarded, error) {
	e, err := k.find(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := checkVersion(ifMatch, e, k.what); err != nil {
		return nil, nil, err
	}
	return e, &guarded{Directory: k.dir, dn: e.DN, assert: assertion(versionAssertion(ifMatch, e))}, nil
}

// versionAssertion is the filter that holds while the entry is still at the
// version it was read at, "" when there is nothing to assert: the client
// named no version (no If-Match, or "*"), or the directory keeps no entryCSN
// (AD, which has no assertion control either).
func versionAssertion(ifMatch string, e *ldap.Entry) string {
	csn := e.GetEqualFoldAttributeValue("entryCSN")
	if ifMatch == "" || ifMatch == "*" || csn == "" {
		return ""
	}
	return "(entryCSN=" + ldap.EscapeFilter(csn) + ")"
}

// guarded is the directory as one request's writes see it. Its writes to the
// entry the request read carry the assertion control (slapd checks it in the
// write itself, RFC 4528) until one of them succeeds; from then on the
// entry's version is the request's own. So a write by anyone else between
// the version check and the request's write makes that write fail with
// assertionFailed (answered 412) instead of being overwritten, or deleted.
// Checking the version only before the write let 3 to 20 of 20 concurrent
// group PATCHes or PUTs with one If-Match through on slapd, and a DELETE
// with a stale ETag delete what a PATCH had just written. AD has no
// assertion control (docs/directory-lab.md): there the check in readForWrite
// is all there is, one round trip before the write.
//
// A guarded belongs to one request, whose writes are sequential.
type guarded struct {
	Directory
	dn     string
	assert []ldap.Control // nil: nothing to assert
	// done: a write to the entry succeeded.
	done bool
}

// controls adds the assertion to a write to dn while it is due.
func (g *guarded) controls(dn string, cs []ldap.Control) []ldap.Control {
	if g.done || g.assert == nil || !strings.EqualFold(dn, g.dn) {
		return cs
	}
	return append(append([]ldap.Control(nil), cs...), g.assert...)
}

func (g *guarded) wrote(dn string, err error) error {
	if err == nil && strings.EqualFold(dn, g.dn) {
		g.done = true
	}
	return err
}

func (g *guarded) Modify(ctx context.Context, req *ldap.ModifyRequest) error {
	req.Controls = g.controls(req.DN, req.Controls)
	return g.wrote(req.DN, g.Directory.Modify(ctx, req))
}

func (g *guarded) ModifyDN(ctx context.Context, req *ldap.ModifyDNRequest) error {
	req.Controls = g.controls(req.DN, req.Controls)
	return g.wrote(req.DN, g.Directory.ModifyDN(ctx, req))
}

func (g *guarded) Del(ctx context.Context, req *ldap.DelRequest) error {
	req.Controls = g.controls(req.DN, req.Controls)
	return g.wrote(req.DN, g.Directory.Del(ctx, req))
}

// apply writes an update to the entry at dn (see applyVia), for writes
// outside updateEntry; upd.Assert, when set, guards its first write.
func (u *Users) apply(ctx context.Context, dn string, upd *ldapmap.Update) (string, error) {
	return u.applyVia(ctx, &guarded{Directory: u.dir, dn: dn, assert: assertion(upd.Assert)}, dn, upd, nil)
}

// applyVia writes an update through w: the rename first, so that a name
// collision fails before anything is written, then one modify, which carries
// pr when it is not nil. It returns the entry's new DN.
func (u *Users) applyVia(ctx context.Context, w Directory, dn string, upd *ldapmap.Update, pr *postRead) (string, error) {
	if upd.NewRDN != "" {
		renamed, err := u.rename(ctx, w, dn, upd.NewRDN)
		if nameTaken(err) {
			return "", scimerr.Wrap(scimerr.Uniqueness, err, "another user already has this userName")
		}
		if err != nil {
			return "", failed("rename user", err)
		}
		dn = renamed
	}
	if len(upd.Changes) > 0 {
		req := ldap.NewModifyRequest(dn, nil)
		if pr != nil {
			req.Controls = []ldap.Control{pr}
		}
		req.Changes = upd.Changes
		err := w.Modify(ctx, req)
		u.logWrite(ctx, "modify", dn, upd.Attributes(), err)
		if err != nil {
			return "", failed("modify user", err)
		}
	}
	return dn, nil
}

// rename gives the entry at dn (a user or a group) the RDN newRDN through w
// and returns its new DN; the error is the directory's, for the caller to
// name (a taken name means another user, or another group).
func (u *Users) rename(ctx context.Context, w Directory, dn, newRDN string) (string, error) {
	err := w.ModifyDN(ctx, ldap.NewModifyDNRequest(dn, newRDN, true, ""))
	u.logWrite(ctx, "modrdn", dn, []string{newRDN}, err)
	if err != nil {
		return "", err
	}
	return newRDN + "," + parentDN(dn), nil
}

// checkVersion answers If-Match (RFC 7644 §3.14): "" and "*" match anything,
// otherwise the entry's current version must be one the client lists (a list
// of entity-tags, as scimreq.ETagMatches reads it). The detail does not
// quote the header, which may be a long list.
func checkVersion(ifMatch string, e *ldap.Entry, what string) error {
	if scimreq.ETagMatches(ifMatch, ldapmap.Version(e)) {
		return nil
	}
	return scimerr.New(scimerr.PreconditionFailed, "the %s changed since the version given in If-Match", what)
}

// assertion returns the control that makes a write fail with assertionFailed
// (122, answered 412) unless the entry matches f; nil for no filter.
func assertion(f string) []ldap.Control {
	if f == "" {
		return nil
	}
	p, err := ldap.CompileFilter(f)
	if err != nil {
		return nil
	}
	return []ldap.Control{&ldap.ControlString{ControlType: assertionOID, Criticality: true, ControlValue: string(p.Bytes())}}
}

// Delete implements DELETE according to users.delete.mode; a plain delete
// goes to the cached DN without a search where it can (deleteByDN).
func (u *Users) Delete(ctx context.Context, id, ifMatch string) (err error) {
	ctx = PinRequest(ctx)
	defer atEdge(ctx, &err)
	done, in, err := u.deleteByDN(ctx, id, ifMatch)
	if done {
		return err
	}
	e, w, err := u.kind().readForWrite(ctx, id, ifMatch)
	if err != nil {
		return err
	}
	defer u.cache().drop(id) // deleted, renamed or moved: the next write looks it up
	switch u.m.Delete.Mode {
	case "disable", "anonymize":
		upd := &ldapmap.Update{Changes: u.m.Disable.Changes(e, false)}
		if u.m.Delete.Mode == "anonymize" {
			if upd, err = u.m.PlanAnonymize(e); err != nil {
				return err
			}
		}
		// A deleted user holds no role, whatever the mode.
		upd.Changes = append(upd.Changes, u.m.ClearRoles(e)...)
		// Modify first, rename after: a refused modify then leaves the entry
		// untouched instead of renamed but not anonymized. The role groups are
		// left in between, while the member value is still the old DN.
		dn, err := u.applyVia(ctx, w, e.DN, &ldapmap.Update{Changes: upd.Changes}, nil)
		if err == nil {
			err = u.leaveAllRoleGroups(ctx, e)
		}
		if err == nil && upd.NewRDN != "" {
			dn, err = u.applyVia(ctx, w, dn, &ldapmap.Update{NewRDN: upd.NewRDN}, nil)
		}
		if err != nil || u.m.Delete.MoveTo == "" {
			return err
		}
		// Park the entry in e.g. OU=Disabled Users. AD requires deleteOldRDN.
		rdn, _ := splitDN(dn)
		err = w.ModifyDN(ctx, ldap.NewModifyDNRequest(dn, rdn, true, u.m.Delete.MoveTo))
		u.logWrite(ctx, "move", dn, []string{u.m.Delete.MoveTo}, err)
		return failed("move deleted user", err)
	}
	return u.leaveAndRemove(ctx, w, e, in)
}

// leaveAndRemove deletes a user's entry (users.delete.mode delete).
func (u *Users) leaveAndRemove(ctx context.Context, w *guarded, e *ldap.Entry, in *groupsAt) error {
	// The user leaves its groups before the entry goes, by writes of the
	// bridge's own. OpenLDAP's refint overlay would remove member DNs too,
	// but in the background and on each server apart (its changes are not
	// replicated): a provider killed right after a delete kept the member
	// for good while its peer dropped it. Leaving first also means that a
	// delete that fails midway leaves an entry Entra's retry can find.
	// Role groups may lie outside groups.base_dn.
	if err := u.leaveAllRoleGroups(ctx, e); err != nil {
		return err
	}
	if u.groups != nil {
		v := u.memberValue(e)
		var dns []string
		if in != nil && in.member == v {
			dns = in.dns // found by deleteByDN a moment ago, at the DN the user still has
		} else if found, err := u.groups.groupDNsWith(ctx, v); err == nil {
			dns = found
		} else {
			return err
		}
		if err := u.groups.leave(ctx, v, dns); err != nil {
			return err
		}
	}
	return u.removeEntry(ctx, w, e.DN, "user")
}

// treeDelete is AD's tree-delete control: the delete takes the entry with
// everything below it.
var treeDelete = &ldap.ControlString{ControlType: ldap.ControlTypeMicrosoftTreeDelete, Criticality: true}

// removeEntry deletes the entry of a user (users.delete.mode: delete) or a
// group through w. Other tools create entries below users and groups (a
// phone's device entry, Exchange's ActiveSync container below a mailbox
// user), and a plain delete of an entry with children fails with
// notAllowedOnNonLeaf (66). On AD the bridge then deletes the subtree, as an
// admin deleting the user in the console does; the plain delete comes first
// because it needs no right to delete subtrees. OpenLDAP has no tree delete,
// and deleting entries that other tools own one by one is not the bridge's
// call: the client learns why (409, see classify) and an admin decides.
func (u *Users) removeEntry(ctx context.Context, w Directory, dn, what string) error {
	err := w.Del(ctx, ldap.NewDelRequest(dn, nil))
	u.logWrite(ctx, "delete", dn, nil, err)
	if u.ad && hasChildren(err) {
		terr := w.Del(ctx, ldap.NewDelRequest(dn, []ldap.Control{treeDelete}))
		u.logWrite(ctx, "tree-delete", dn, nil, terr)
		// A refused tree delete (the bind account lacks the Delete Subtree
		// right, or an object below is protected from deletion) does not
		// go away on a retry, which 503 for 53 would ask for: the client
		// hears what the plain delete said, the log line above has why.
		if !refused(terr) {
			err = terr
		}
	}
	return failed("delete "+what, err)
}

// find returns the managed entry with SCIM id id.
func (u *Users) find(ctx context.Context, id string) (*ldap.Entry, error) {
	f, err := u.m.SearchFilter(ctx, &filter.Compare{Path: filter.Path{Attr: "id"}, Op: filter.Eq, Value: id}, nil)
	if err != nil {
		return nil, err
	}
	res, err := u.dir.Search(ctx, ldap.NewSearchRequest(u.m.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, 0, false, f, u.m.ReadAttributes(), nil))
	if err != nil {
		return nil, failed("read user", err)
	}
	if len(res.Entries) == 0 {
		return nil, scimerr.New(scimerr.NotFound, "User %s not found", id)
	}
	u.seen(res.Entries[0])
	return res.Entries[0], nil
}

func (u *Users) readDN(ctx context.Context, dn string) (*ldap.Entry, error) {
	res, err := u.dir.Search(ctx, ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", u.m.ReadAttributes(), nil))
	if err != nil {
		return nil, failed("read user", err)
	}
	if len(res.Entries) == 0 {
		return nil, scimerr.New(scimerr.NotFound, "the user entry vanished while the request ran")
	}
	return res.Entries[0], nil
}

func (u *Users) logWrite(ctx context.Context, op, dn string, attrs []string, err error) {
	if err != nil && byCachedDN(ctx) && !ConnectionLost(err) {
		// Nothing was written and the request looks the entry up: the
		// write it then makes is the one logged and audited.
		u.log.Debug().Err(err).Str("request_id", RequestID(ctx)).Str("ldap_op", op).Str("dn", dn).
			Msg("write by cached DN not done: looking the entry up")
		return
	}
	ev := u.log.Info()
	if err != nil {
		ev = u.log.Warn().Err(err)
		if le := (*ldap.Error)(nil); asLDAP(err, &le) {
			ev = ev.Uint16("ldap_code", le.ResultCode)
		}
	}
	ev.Str("request_id", RequestID(ctx)).Str("ldap_op", op).Str("dn", dn).Strs("attributes", attrs).
		Bool("ok", err == nil).Msg("ldap write")
	_, dry := u.dir.(*dryRun)
	scimreq.RecordWrite(ctx, scimreq.AuditWrite{Op: op, DN: dn, Attributes: attrs, Err: err, DryRun: dry})
}

func attrNames(attrs []ldap.Attribute) []string {
	out := make([]string, len(attrs))
	for i, a := range attrs {
		out[i] = a.Type
	}
	return out
}

// splitDN returns the first RDN of dn and its parent, re-serialised from the
// parsed DN (RFC 4514 escaping), so that spaces after commas or escaped
// commas in values cannot shift a cut; "" for both when dn does not parse or
// has no parent.
func splitDN(dn string) (rdn, parent string) {
	parsed, err := ldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) < 2 {
		return "", ""
	}
	return parsed.RDNs[0].String(), (&ldap.DN{RDNs: parsed.RDNs[1:]}).String()
}

// parentDN is the DN dn lies under ("" if none).
func parentDN(dn string) string {
	_, parent := splitDN(dn)
	return parent
}
