package bridge

import (
	"context"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// resolver turns manager references between ids and DNs for one request,
// remembering what it looked up so a list of users with the same manager costs
// one lookup.
type resolver struct {
	u   *Users
	dns map[string]string
	ids map[string]string
}

var _ ldapmap.Resolver = (*resolver)(nil)

func (u *Users) resolver() *resolver {
	return &resolver{u: u, dns: map[string]string{}, ids: map[string]string{}}
}

func (r *resolver) DNOf(ctx context.Context, id string) (string, error) {
	if dn, ok := r.dns[id]; ok {
		return dn, nil
	}
	m := r.u.m
	f, err := m.SearchFilter(ctx, &filter.Compare{Path: filter.Path{Attr: "id"}, Op: filter.Eq, Value: id}, nil)
	if err != nil {
		return "", err
	}
	res, err := r.u.dir.Search(ctx, ldap.NewSearchRequest(m.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		1, 0, false, f, []string{"1.1"}, nil))
	if err != nil {
		return "", classify(failed("resolve user id", err))
	}
	if len(res.Entries) == 0 {
		return "", scimerr.New(scimerr.NotFound, "no user with id %q", id)
	}
	r.dns[id] = res.Entries[0].DN
	return res.Entries[0].DN, nil
}

func (r *resolver) IDOf(ctx context.Context, dn string) (string, error) {
	if id, ok := r.ids[dn]; ok {
		return id, nil
	}
	m := r.u.m
	if !m.InBase(dn) {
		return "", scimerr.New(scimerr.NotFound, "the referenced entry is outside users.base_dn")
	}
	res, err := r.u.dir.Search(ctx, ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, m.Managed, []string{m.IDAttr}, nil))
	if noSuchEntry(err) || (err == nil && len(res.Entries) == 0) {
		return "", scimerr.New(scimerr.NotFound, "the referenced entry is not a managed user")
	}
	if err != nil {
		return "", classify(failed("resolve user dn", err))
	}
	id := m.ID(res.Entries[0])
	r.ids[dn] = id
	return id, nil
}

// Unresolved logs a reference (the enterprise manager) that was left unwritten
// because its id names no managed user, with the request id, so that an admin
// can tell why a user has no manager yet.
func (r *resolver) Unresolved(ctx context.Context, path, id string) {
	r.u.log.Warn().Str("request_id", RequestID(ctx)).Str("attribute", path).Str("unresolved_id", id).
		Msg("reference names no managed user: left unset (the rest of the request is written)")
}
