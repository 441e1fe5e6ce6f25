package bridge

import (
	"context"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// groupsOf returns the SCIM groups attribute of a user (RFC 7643 §4.1.2,
// read-only): the managed groups holding member value v.
func (s *Groups) groupsOf(ctx context.Context, v string) ([]any, error) {
	display := s.g.DisplayAttr()
	var out []any
	req := ldap.NewSearchRequest(s.g.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(&"+s.g.Managed+s.g.MemberFilter(v)+")", []string{s.g.IDAttr, display}, nil)
	_, err := s.dir.SearchPaged(ctx, req, anyPage, func(e *ldap.Entry) bool {
		el := map[string]any{"value": s.g.ID(e), "type": "direct"}
		if d := e.GetEqualFoldAttributeValue(display); d != "" {
			el["display"] = d
		}
		out = append(out, el)
		return true
	})
	return out, failed("read user's groups", err)
}

// groupDNsWith returns the DNs of the groups under groups.base_dn holding
// member value v (managed or not: a deleted user must leave every group).
func (s *Groups) groupDNsWith(ctx context.Context, v string) ([]string, error) {
	var dns []string
	req := ldap.NewSearchRequest(s.g.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		s.g.MemberFilter(v), []string{"1.1"}, nil)
	_, err := s.dir.SearchPaged(ctx, req, anyPage, func(e *ldap.Entry) bool {
		dns = append(dns, e.DN)
		return true
	})
	return dns, failed("find user's groups", err)
}

// leave takes member value v out of the groups at dns, one modify each.
func (s *Groups) leave(ctx context.Context, v string, dns []string) error {
	for _, dn := range dns {
		if err := s.modifyMembers(ctx, dn, nil, &memberChange{remove: []string{v}}, false); err != nil {
			return err
		}
	}
	return nil
}

// renameMember follows a user's rename in its groups: refint does it for DN
// members, memberUid needs the bridge.
func (s *Groups) renameMember(ctx context.Context, old, new string) error {
	if old == new {
		return nil
	}
	dns, err := s.groupDNsWith(ctx, old)
	if err != nil {
		return err
	}
	for _, dn := range dns {
		if err := s.modifyMembers(ctx, dn, nil, &memberChange{add: []string{new}, remove: []string{old}}, false); err != nil {
			return err
		}
	}
	return nil
}

// joinDefaultGroups adds a new user to users.default_groups.
func (u *Users) joinDefaultGroups(ctx context.Context, dn string, e *ldap.Entry) error {
	if u.groups == nil || len(u.defaultGroups) == 0 {
		return nil
	}
	return u.joinGroups(ctx, u.memberValue(e), u.defaultGroups, "users.default_groups")
}

// joinGroups adds member value v to the groups at dns (configured under
// setting, for the error). Each group is one modify of its member attribute; a
// retry finds the user already there and does nothing, so a create retried by
// Entra does not fail here.
func (u *Users) joinGroups(ctx context.Context, v string, dns []string, setting string) error {
	for _, g := range dns {
		hasPlaceholder := false
		var err error
		if u.groups.g.EmptyMember != "" {
			hasPlaceholder, err = u.groups.isMember(ctx, g, u.groups.g.EmptyMember)
		}
		if err == nil {
			err = u.groups.modifyMembers(ctx, g, nil, &memberChange{add: []string{v}}, hasPlaceholder)
		}
		if noSuchEntry(err) {
			return scimerr.Wrap(scimerr.Internal, err, "%s: group %s does not exist", setting, g)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
