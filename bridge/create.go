package bridge

import (
	"context"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimreq"
)

// maxNameCandidates bounds how many "Name (n)" / "sam<n>" names a create tries.
const maxNameCandidates = 20

// Create adds a user (POST /Users): one LDAP add, then the user's default
// groups. On AD the user is added disabled with its password and enabled in a
// second step (Windows refuses an enabled account without a password).
//
// The answer is built from the entry this add made, never from whatever is
// at its DN afterwards (issue 14): two bridges adding the same DN on two
// replicating servers both succeed, and a read by DN on either may then
// return the other's entry, so two clients would be given one SCIM id. The
// add carries the post-read control (RFC 4527) where the directory lists it
// (slapd), and its answer is the new entry with its entryUUID, which also
// saves the read back (issue 13). See added for the directories without it.
func (u *Users) Create(ctx context.Context, res ldapmap.Resource) (_ ldapmap.Resource, err error) {
	ctx = PinRequest(ctx)
	defer atEdge(ctx, &err)
	r := u.resolver()
	req, err := u.planCreate(ctx, res, r)
	if err != nil {
		return nil, err
	}
	// users.match runs before a uidNumber is taken, so that adopting an
	// existing entry does not use up a number.
	if len(u.m.Match) > 0 {
		e, err := u.adoptOrAmbiguous(ctx, req)
		if err != nil {
			return nil, err
		}
		if e != nil {
			return u.adopt(ctx, e, res, r)
		}
	}
	if err := u.allocateUIDNumber(ctx, req); err != nil {
		return nil, err
	}
	e, err := u.addUser(ctx, req, res)
	if err != nil {
		return nil, err
	}
	return u.finishEntry(ctx, e, res, r)
}

// planCreate builds the add for res and checks it against the scope, before
// anything is written or allocated.
func (u *Users) planCreate(ctx context.Context, res ldapmap.Resource, r *resolver) (*ldap.AddRequest, error) {
	req, err := u.m.PlanAdd(ctx, res, r)
	if err != nil {
		return nil, err
	}
	if err := u.m.CheckScope(req, u.allocated()...); err != nil {
		return nil, err
	}
	return req, nil
}

// allocateUIDNumber gives req the next uidNumber when users.uid_number is set.
func (u *Users) allocateUIDNumber(ctx context.Context, req *ldap.AddRequest) error {
	if u.uidNumbers == nil {
		return nil
	}
	n, err := u.uidNumbers.next(ctx)
	if err != nil {
		return err
	}
	req.Attribute("uidNumber", []string{n})
	return nil
}

// addUser adds req and returns the entry it added (added). When the name is
// taken, takenName decides between a 409 and, on AD, the next name candidate.
func (u *Users) addUser(ctx context.Context, req *ldap.AddRequest, res ldapmap.Resource) (*ldap.Entry, error) {
	pr := u.postRead(ctx)
	if pr != nil {
		// NameCandidate copies the controls: every attempt carries it.
		req.Controls = append(req.Controls, pr)
	}
	base := req
	for n := 1; ; n++ {
		err := u.dir.Add(ctx, req)
		u.logWrite(ctx, "add", req.DN, attrNames(req.Attributes), err)
		switch {
		case err == nil:
			return u.added(ctx, req.DN, pr)
		case noSuchEntry(err):
			return nil, scimerr.Wrap(scimerr.Internal, err, "users.base_dn %s does not exist", u.m.BaseDN)
		case !u.nameCollision(err):
			return nil, failed("create user", err)
		}
		if err := u.takenName(ctx, res, err, n); err != nil {
			return nil, err
		}
		req = u.m.NameCandidate(base, n+1)
		u.log.Warn().Str("request_id", RequestID(ctx)).Str("taken", base.DN).Str("trying", req.DN).
			Msg("ad name collision (CN or sAMAccountName): trying the next candidate")
	}
}

// added is the user entry an add at dn made: the one its post-read control
// (pr) brought back, which is this add's own entry whatever happened at dn
// since. It must carry the id, which the answer and the DN cache are keyed
// by; a directory that ignored the control (it is not critical), or sent an
// entry without the id, gets a read back as below.
//
// Without post-read (AD and Samba, which do not list 1.3.6.1.1.13.2 in
// their supportedControl; a directory without RFC 4527; a dry run, which
// adds nothing) the entry is read back by DN, and the residual risk is
// accepted there: the read normally reaches the server that took the add,
// which holds this add's entry, but when another client added the same DN
// on another replicating server at the same moment, and either replication
// brought that entry here first or the pool failed over between the add and
// the read, the answer carries the other entry's id, and two clients hold
// one SCIM id (AD keeps both entries then, the loser renamed to a
// "CNF:<objectGUID>" name).
func (u *Users) added(ctx context.Context, dn string, pr *postRead) (*ldap.Entry, error) {
	if e := written(pr); e != nil && u.m.ID(e) != "" {
		return e, nil
	}
	return u.readDN(ctx, dn)
}

// reread reads the user entry e again after the create changed it: at its
// DN, and only while that entry has e's id, so that the answer stays the
// entry this create made. A vanished or replaced entry is a 404 (readDN's
// error), not another user's attributes under this id. Without an id (it
// cannot happen for a rendered entry) it is a read by DN.
func (u *Users) reread(ctx context.Context, e *ldap.Entry) (*ldap.Entry, error) {
	id := u.m.ID(e)
	if id == "" {
		return u.readDN(ctx, e.DN)
	}
	f, err := u.m.SearchFilter(ctx, &filter.Compare{Path: filter.Path{Attr: "id"}, Op: filter.Eq, Value: id}, nil)
	if err != nil {
		return nil, err
	}
	sr, err := u.dir.Search(ctx, ldap.NewSearchRequest(e.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, f, u.m.ReadAttributes(), nil))
	if err != nil && !noSuchEntry(err) {
		return nil, failed("read user", err)
	}
	if err != nil || len(sr.Entries) == 0 {
		return nil, scimerr.New(scimerr.NotFound, "the user entry vanished while the request ran")
	}
	return sr.Entries[0], nil
}

// nameCollision tells whether an add failed because its name is taken. AD
// reports a taken userPrincipalName as a constraint violation.
func (u *Users) nameCollision(err error) bool {
	return nameTaken(err) || (u.ad && constraintViolated(err))
}

// takenName judges the n-th add of res that found its name taken (addErr): by
// this very user (a retried POST), by another user with the same userName
// (409), or, on AD, only the CN or sAMAccountName is. It returns nil when the
// next name candidate should be tried.
func (u *Users) takenName(ctx context.Context, res ldapmap.Resource, addErr error, n int) error {
	existing, err := u.findByUserName(ctx, res)
	if err != nil {
		return err
	}
	if existing != nil {
		if u.isRetry(existing, res) {
			// Entra retries a POST whose answer it lost. RFC 7644 §3.3 still
			// wants 409 (Entra then finds the user by its matching attribute),
			// but first finish what the first attempt may have left undone.
			if _, err := u.completeCreate(ctx, existing, res); err != nil {
				return err
			}
		}
		return scimerr.Wrap(scimerr.Uniqueness, addErr, "a user with this userName already exists")
	}
	if !u.ad || n >= maxNameCandidates {
		return scimerr.Wrap(scimerr.Uniqueness, addErr, "another directory entry already has this user's entry name (its RDN)")
	}
	return nil
}

// allocated names what the add gets after the scope check: a uidNumber is
// taken from the counter only when the add goes ahead.
func (u *Users) allocated() []string {
	if u.uidNumbers != nil {
		return []string{"uidNumber"}
	}
	return nil
}

// finishCreate completes the user entry at dn, adopted by users.match, and
// renders it (finishEntry). The entry existed before: there is no add whose
// answer could name it.
func (u *Users) finishCreate(ctx context.Context, dn string, res ldapmap.Resource, r *resolver) (ldapmap.Resource, error) {
	e, err := u.readDN(ctx, dn)
	if err != nil {
		return nil, err
	}
	return u.finishEntry(ctx, e, res, r)
}

// finishEntry completes the new user e (completeCreate) and renders it.
func (u *Users) finishEntry(ctx context.Context, e *ldap.Entry, res ldapmap.Resource, r *resolver) (ldapmap.Resource, error) {
	e, err := u.completeCreate(ctx, e, res)
	if err != nil {
		return nil, err
	}
	u.seen(e)
	if len(u.defaultGroups) > 0 {
		return u.render(ctx, e, r, scimreq.Fields{})
	}
	return u.render(ctx, e, r, noGroups) // a new user is in no group: skip the search
}

// completeCreate enables a user added disabled (AD) and joins the default
// groups, given its entry e as last read (or as its add left it). Each step
// is idempotent, so a retried POST completes what an interrupted one left. It
// returns the entry as it is now.
func (u *Users) completeCreate(ctx context.Context, e *ldap.Entry, res ldapmap.Resource) (*ldap.Entry, error) {
	dn := e.DN
	if u.m.EnableAfterAdd(res) && u.m.Disable.Disabled(e) {
		if _, err := u.apply(ctx, dn, &ldapmap.Update{Changes: u.m.Disable.Changes(e, true)}); err != nil {
			return nil, err
		}
		var err error
		if e, err = u.reread(ctx, e); err != nil {
			return nil, err
		}
	}
	if err := u.joinDefaultGroups(ctx, dn, e); err != nil {
		return nil, err
	}
	if u.m.Roles != nil {
		if err := u.joinRoleGroups(ctx, e, res); err != nil {
			return nil, err
		}
		if u.m.Roles.Attr == "" && len(u.m.Roles.Groups) > 0 {
			// The roles are read from memberOf, which changed.
			return u.reread(ctx, e)
		}
	}
	return e, nil
}

// findByUserName returns the managed user whose userName is res's, nil if none.
func (u *Users) findByUserName(ctx context.Context, res ldapmap.Resource) (*ldap.Entry, error) {
	a := u.m.UserNameAttr()
	name := a.Value(res)
	f, err := u.m.SearchFilter(ctx, &filter.Compare{Path: filter.Path{Attr: "userName"}, Op: filter.Eq, Value: name}, nil)
	if err != nil {
		return nil, err
	}
	sr, err := u.dir.Search(ctx, ldap.NewSearchRequest(u.m.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		1, 0, false, f, u.m.ReadAttributes(), nil))
	if err != nil {
		return nil, failed("read user", err)
	}
	if len(sr.Entries) == 0 {
		return nil, nil
	}
	return sr.Entries[0], nil
}

// isRetry tells whether e is the user res describes, created by an earlier
// attempt of the same request: same externalId (Entra's stable key). Without
// an externalId a duplicate is a conflict.
func (u *Users) isRetry(e *ldap.Entry, res ldapmap.Resource) bool {
	ext := u.m.ExternalIDAttr()
	if ext == nil {
		return false
	}
	want := ext.Value(res)
	return want != "" && strings.EqualFold(e.GetEqualFoldAttributeValue(ext.LDAP), want)
}
