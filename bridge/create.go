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
func (u *Users) Create(ctx context.Context, res ldapmap.Resource) (_ ldapmap.Resource, err error) {
	defer atEdge(&err)
	r := u.resolver()
	req, err := u.m.PlanAdd(ctx, res, r)
	if err == nil {
		err = u.m.CheckScope(req, u.allocated()...)
	}
	if err != nil {
		return nil, err
	}
	if len(u.m.Match) > 0 {
		e, err := u.adoptOrAmbiguous(ctx, req)
		if err != nil {
			return nil, err
		}
		if e != nil {
			return u.adopt(ctx, e, res, r)
		}
	}
	if u.uidNumbers != nil {
		n, err := u.uidNumbers.next(ctx)
		if err != nil {
			return nil, err
		}
		req.Attribute("uidNumber", []string{n})
	}
	base := req
	for n := 1; ; n++ {
		err = u.dir.Add(ctx, req)
		u.logWrite(ctx, "add", req.DN, attrNames(req.Attributes), err)
		// AD reports a taken userPrincipalName as a constraint violation.
		if err == nil || !(nameTaken(err) || (u.ad && constraintViolated(err))) {
			break
		}
		// Taken: by this very user (a retried POST), by another user with the
		// same userName (409), or, on AD, only the CN or sAMAccountName is.
		existing, ferr := u.findByUserName(ctx, res)
		if ferr != nil {
			return nil, ferr
		}
		if existing != nil {
			if u.isRetry(existing, res) {
				// Entra retries a POST whose answer it lost. RFC 7644 §3.3 still
				// wants 409 (Entra then finds the user by its matching attribute),
				// but first finish what the first attempt may have left undone.
				if _, ferr := u.completeCreate(ctx, existing.DN, res); ferr != nil {
					return nil, ferr
				}
			}
			return nil, scimerr.Wrap(scimerr.Uniqueness, err, "a user with this userName already exists")
		}
		if !u.ad || n >= maxNameCandidates {
			return nil, scimerr.Wrap(scimerr.Uniqueness, err, "another directory entry already has this user's entry name (its RDN)")
		}
		req = u.m.NameCandidate(base, n+1)
		u.log.Warn().Str("request_id", RequestID(ctx)).Str("taken", base.DN).Str("trying", req.DN).
			Msg("ad name collision (CN or sAMAccountName): trying the next candidate")
	}
	if err != nil {
		if noSuchEntry(err) {
			return nil, scimerr.Wrap(scimerr.Internal, err, "users.base_dn %s does not exist", u.m.BaseDN)
		}
		return nil, failed("create user", err)
	}
	return u.finishCreate(ctx, req.DN, res, r)
}

// allocated names what the add gets after the scope check: a uidNumber is
// taken from the counter only when the add goes ahead.
func (u *Users) allocated() []string {
	if u.uidNumbers != nil {
		return []string{"uidNumber"}
	}
	return nil
}

// finishCreate completes a new user (completeCreate) and renders it.
func (u *Users) finishCreate(ctx context.Context, dn string, res ldapmap.Resource, r *resolver) (ldapmap.Resource, error) {
	e, err := u.completeCreate(ctx, dn, res)
	if err != nil {
		return nil, err
	}
	if len(u.defaultGroups) > 0 {
		return u.render(ctx, e, r, scimreq.Fields{})
	}
	return u.render(ctx, e, r, noGroups) // a new user is in no group: skip the search
}

// completeCreate enables a user added disabled (AD) and joins the default
// groups. Each step is idempotent, so a retried POST completes what an
// interrupted one left. It returns the entry as it is now.
func (u *Users) completeCreate(ctx context.Context, dn string, res ldapmap.Resource) (*ldap.Entry, error) {
	e, err := u.readDN(ctx, dn)
	if err != nil {
		return nil, err
	}
	if u.m.EnableAfterAdd(res) && u.m.Disable.Disabled(e) {
		if _, err := u.apply(ctx, dn, &ldapmap.Update{Changes: u.m.Disable.Changes(e, true)}); err != nil {
			return nil, err
		}
		if e, err = u.readDN(ctx, dn); err != nil {
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
			return u.readDN(ctx, dn)
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
