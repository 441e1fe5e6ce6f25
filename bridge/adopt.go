package bridge

import (
	"context"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// Match is what users.match finds for a new user.
type Match struct {
	// Rule is the index of the users.match rule that decided, -1 for none.
	Rule int
	// Entries are the entries that rule found: one to adopt, several when
	// ambiguous, none when the user is new.
	Entries []*ldap.Entry
}

// Adoptable tells whether exactly one entry was found.
func (m Match) Adoptable() bool { return len(m.Entries) == 1 }

// Ambiguous tells whether a rule found several entries.
func (m Match) Ambiguous() bool { return len(m.Entries) > 1 }

// FindMatch runs the users.match rules, in order, for the user res. The first
// rule that finds anything decides. Existing entries are searched whether or
// not they carry the managed object classes: adopting them is the point.
func (u *Users) FindMatch(ctx context.Context, res ldapmap.Resource) (_ Match, err error) {
	ctx = PinRequest(ctx)
	defer atEdge(ctx, &err)
	req, err := u.m.PlanAdd(ctx, res, u.resolver())
	if err != nil {
		return Match{Rule: -1}, err
	}
	return u.findMatch(ctx, req)
}

func (u *Users) findMatch(ctx context.Context, req *ldap.AddRequest) (Match, error) {
	filters, err := u.m.MatchFilters(req)
	if err != nil {
		return Match{Rule: -1}, err
	}
	for i, f := range filters {
		if f == "" {
			continue
		}
		sr, err := u.dir.Search(ctx, ldap.NewSearchRequest(u.m.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			3, 0, false, f, append(u.m.ReadAttributes(), "objectClass"), nil))
		if err != nil && !moreThanAsked(err) {
			return Match{Rule: -1}, failed("match existing users", err)
		}
		if sr != nil && len(sr.Entries) > 0 {
			return Match{Rule: u.m.Match[i].Index, Entries: sr.Entries}, nil
		}
	}
	return Match{Rule: -1}, nil
}

// adopt brings an existing entry under the mapping instead of adding a
// duplicate: missing object classes are added and the mapped attributes take
// the new user's values, in one modify (plus a modrdn if the name changes).
func (u *Users) adopt(ctx context.Context, e *ldap.Entry, res ldapmap.Resource, r *resolver) (ldapmap.Resource, error) {
	before, err := u.m.FromEntry(ctx, e, r)
	if err != nil {
		return nil, err
	}
	after := deepCopy(res)
	after["id"] = before["id"]
	upd, err := u.m.PlanUpdate(ctx, e, before, after, r)
	if err != nil {
		return nil, err
	}
	upd.Changes = append(u.m.AdoptChanges(e), upd.Changes...)
	dn, err := u.apply(ctx, e.DN, upd)
	if err != nil {
		return nil, err
	}
	u.log.Info().Str("request_id", RequestID(ctx)).Str("dn", e.DN).Str("new_dn", dn).Msg("adopted an existing entry (users.match)")
	return u.finishCreate(ctx, dn, res, r)
}

// adoptOrAmbiguous runs the match for a create: an entry to adopt, nil for a
// new user, or a 409 when a rule is ambiguous (adopting either would be a guess,
// creating would make a duplicate).
func (u *Users) adoptOrAmbiguous(ctx context.Context, req *ldap.AddRequest) (*ldap.Entry, error) {
	m, err := u.findMatch(ctx, req)
	if err != nil {
		return nil, err
	}
	if m.Ambiguous() {
		return nil, scimerr.New(scimerr.Uniqueness, "users.match[%d] finds several existing entries for this user; "+
			"resolve it in the directory (see scimbridge adopt --dry-run)", m.Rule)
	}
	if m.Adoptable() {
		return m.Entries[0], nil
	}
	return nil, nil
}
