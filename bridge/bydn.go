package bridge

import (
	"context"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/patch"
)

// Writes by cached DN (issue 13): a PATCH or DELETE names its entry by SCIM
// id, and the read path searches for it (one search per request, the
// largest share of the directory's work for a small PATCH). When the
// bridge has seen the entry recently (dnCache) and the directory checks the
// assertion control, the write goes to the cached DN straight away, with the
// assertion that the entry there still has that id and is still managed
// (the find's own filter). The directory checks it in the write itself:
// when the entry was renamed, moved, deleted or replaced by another at the
// same DN, the write fails and nothing is written; the id is dropped from the
// cache and the request takes the read path, which finds the entry where it
// is now or answers 404. A write by cached DN therefore never reaches
// another entry than the read path would have.
//
// Only requests whose write needs nothing of the entry go this way: a user
// PATCH that ldapmap.PlanBlind can plan, and a DELETE of a user
// (users.delete.mode delete). If-Match keeps the read path, whose version
// check sees the entry (and Entra sends none).
//
// Groups keep the read path: slapd's memberof overlay runs its own updates
// of the members' memberOf with the controls of the write that caused them
// (OpenLDAP 2.5), so an assertion naming the group fails each of them, and
// a member added by cached DN would never show the group in its memberOf
// (a group deleted so would stay in its members' memberOf). A user's own
// writes cause no such update; the memberof overlay's clean-up after a user
// delete would fail the same way, but deleteByDN deletes only a user that
// is in no group.

// cache returns the DN cache of users, made on first use.
func (u *Users) cache() *dnCache {
	u.dnsOnce.Do(func() { u.dns = newDNCache(dnCacheSize) })
	return u.dns
}

// seen records where the user entries e are.
func (u *Users) seen(es ...*ldap.Entry) {
	c := u.cache()
	for _, e := range es {
		c.put(u.m.ID(e), e.DN)
	}
}

// writesByDN tells whether this request may write by cached DN: the
// directory checks the assertion control (Directory.Supports). Never on AD,
// which has none (and whose ids are objectGUIDs), nor in a dry run, where
// nothing is written and so nothing would fail.
func (u *Users) writesByDN(ctx context.Context, ifMatch string) bool {
	if ifMatch != "" || u.ad {
		return false
	}
	if _, dry := u.dir.(*dryRun); dry {
		return false
	}
	return u.dir.Supports(ctx, assertionOID)
}

// postRead returns a post-read control asking for what rendering a user
// reads, nil when the directory would not answer it (AD).
func (u *Users) postRead(ctx context.Context) *postRead {
	if u.ad || !u.dir.Supports(ctx, postReadOID) {
		return nil
	}
	return &postRead{attrs: u.m.ReadAttributes()}
}

// written is the entry a post-read control brought back, nil if none.
func written(pr *postRead) *ldap.Entry {
	if pr == nil {
		return nil
	}
	return pr.entry
}

// idAssertion is the assertion of a write by cached DN to the entry with
// SCIM id id of map m: the filter the read path finds the entry with, and
// extra ("" for none).
func idAssertion(ctx context.Context, m *ldapmap.Map, id, extra string) ([]ldap.Control, error) {
	f, err := m.SearchFilter(ctx, &filter.Compare{Path: filter.Path{Attr: "id"}, Op: filter.Eq, Value: id}, nil)
	if err != nil {
		return nil, err
	}
	if extra != "" {
		f = "(&" + f + extra + ")"
	}
	return assertion(f), nil
}

type byDNKey struct{}

// withCachedDN marks ctx as a request's writes by cached DN: their
// failures, after which the request takes the read path, are not logged as
// failed writes (logWrite).
func withCachedDN(ctx context.Context) context.Context {
	return context.WithValue(ctx, byDNKey{}, true)
}

func byCachedDN(ctx context.Context) bool { v, _ := ctx.Value(byDNKey{}).(bool); return v }

// fellBack tells whether a write by cached DN that failed with err leaves the
// request to the read path: every failure does (the assertion, the entry
// gone from that DN, or a refusal the read path will meet and answer the
// same way), except a lost connection, after which the write may have been
// applied and the client should retry. The id is dropped from cache then.
func fellBack(cache *dnCache, id string, err error) bool {
	if err == nil || ConnectionLost(err) {
		return false
	}
	cache.drop(id)
	return true
}

// patchByDN is a user PATCH by cached DN, planned by ldapmap.PlanBlind: one
// modify carrying PlanBlind's assertion and the post-read control, whose
// answer renders the response (a directory without post-read gets a read of
// the entry after the modify). done is false when the request must take the
// read path; nothing was written then.
func (u *Users) patchByDN(ctx context.Context, id string, ops []patch.Operation, ifMatch string, r *resolver) (_ ldapmap.Resource, done bool, _ error) {
	if !u.writesByDN(ctx, ifMatch) {
		return nil, false, nil
	}
	users := u.cache()
	at, ok := users.get(id)
	if !ok {
		return nil, false, nil
	}
	upd := u.m.PlanBlind(ctx, ops, r)
	if upd == nil {
		return nil, false, nil
	}
	controls, err := idAssertion(ctx, u.m, id, upd.Assert)
	if err != nil {
		return nil, false, nil
	}
	pr := u.postRead(ctx)
	if pr != nil {
		controls = append(controls, pr)
	}
	req := ldap.NewModifyRequest(at.dn, controls)
	req.Changes = upd.Changes
	err = u.dir.Modify(ctx, req)
	u.logWrite(withCachedDN(ctx), "modify", at.dn, upd.Attributes(), err)
	if fellBack(users, id, err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, failed("modify user", err)
	}
	e := written(pr)
	if e == nil {
		if e, err = u.readDN(ctx, at.dn); err != nil {
			return nil, true, err
		}
	}
	// The write's answer leaves out groups, as the read path's does.
	res, err := u.render(ctx, e, r, noGroups)
	return res, true, err
}

// deleteByDN is a user DELETE by cached DN, for users.delete.mode delete
// without role groups and for DN members (a memberUid group holds the uid,
// which only the entry knows): one delete asserting the id, once a search
// has found the user in no group. done is false when the request must take
// the read path; nothing was written then, and in (when not nil) are the
// groups the search found holding the cached DN, for the read path to use
// if the user is still there.
func (u *Users) deleteByDN(ctx context.Context, id, ifMatch string) (done bool, in *groupsAt, _ error) {
	if u.m.Delete.Mode != "delete" || u.m.Roles != nil || (u.groups != nil && u.groups.g.ByUID) ||
		!u.writesByDN(ctx, ifMatch) {
		return false, nil, nil
	}
	users := u.cache()
	at, ok := users.get(id)
	if !ok {
		return false, nil, nil
	}
	if u.groups != nil {
		// A user in groups leaves them before the entry goes (Users.Delete),
		// and that must not act on a cached DN that is no longer the user's:
		// the read path checks it first. A user in no group has nothing to
		// leave, and the delete below asserts the id.
		dns, err := u.groups.groupDNsWith(ctx, at.dn)
		if err != nil {
			return false, nil, nil
		}
		if len(dns) > 0 {
			return false, &groupsAt{member: at.dn, dns: dns}, nil
		}
	}
	controls, err := idAssertion(ctx, u.m, id, "")
	if err != nil {
		return false, nil, nil
	}
	err = u.dir.Del(ctx, ldap.NewDelRequest(at.dn, controls))
	u.logWrite(withCachedDN(ctx), "delete", at.dn, nil, err)
	if fellBack(users, id, err) {
		return false, nil, nil
	}
	if err != nil {
		return true, nil, failed("delete user", err)
	}
	users.drop(id)
	return true, nil, nil
}

// groupsAt are the groups (dns) a search found holding member.
type groupsAt struct {
	member string
	dns    []string
}
