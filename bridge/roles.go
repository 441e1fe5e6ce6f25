package bridge

import (
	"context"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/patch"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// App roles (users.roles): a role that maps to a group is a membership of
// that group, written in the same request as the user's own change. The role
// groups exist already (the bridge never creates them) and may lie outside
// groups.base_dn; their members are written like SCIM group members.

// unwrapRoleOps rewrites the values of operations on roles that Entra's
// AppRoleAssignmentsComplex mapping serializes into strings, so that patch
// compares role elements by role value (an add is idempotent, a remove finds
// the element it names).
func unwrapRoleOps(ops []patch.Operation) ([]patch.Operation, error) {
	ops, err := patch.Expand(ops)
	if err != nil {
		return nil, err
	}
	for i, op := range ops {
		if op.Path == nil || !strings.EqualFold(op.Path.Attr, "roles") || !(op.Path.URN == "" || scimjson.IsCoreSchema(op.Path.URN)) {
			continue
		}
		switch v := op.Value.(type) {
		case []any:
			out := make([]any, len(v))
			for j, el := range v {
				out[j] = ldapmap.UnwrapRole(el)
			}
			ops[i].Value = out
		case map[string]any:
			ops[i].Value = ldapmap.UnwrapRole(v)
		}
	}
	return ops, nil
}

// joinRoleGroups adds a new user to the groups of its roles (or the default
// role's) and logs roles that grant no group. Idempotent, so a retried POST
// finishes what the first attempt left.
func (u *Users) joinRoleGroups(ctx context.Context, e *ldap.Entry, res ldapmap.Resource) error {
	roles, err := u.m.Roles.ForCreate(res)
	if err != nil {
		return err
	}
	u.logUnknownRoles(ctx, e.DN, roles)
	var dns []string
	for _, role := range roles {
		if dn := u.m.Roles.GroupOf(role); dn != "" {
			dns = append(dns, dn)
		}
	}
	return u.changeRoleGroups(ctx, e, dns, nil)
}

// changeRoleGroups writes the user's membership of role groups: one modify
// per group, of the member value alone.
func (u *Users) changeRoleGroups(ctx context.Context, e *ldap.Entry, join, leave []string) error {
	if len(join)+len(leave) == 0 {
		return nil
	}
	v := u.memberValue(e)
	if err := u.joinGroups(ctx, v, join, "users.roles.groups"); err != nil {
		return err
	}
	for _, dn := range leave {
		err := u.groups.modifyMembers(ctx, dn, nil, &memberChange{remove: []string{v}}, false)
		if noSuchEntry(err) {
			// Nothing to leave: the group is gone.
			u.log.Warn().Str("request_id", RequestID(ctx)).Str("group", dn).Msg("users.roles.groups: role group does not exist")
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// leaveAllRoleGroups takes a deleted user out of the groups of the roles it
// holds (whatever users.delete.mode: the account is gone or parked).
func (u *Users) leaveAllRoleGroups(ctx context.Context, e *ldap.Entry) error {
	if u.m.Roles == nil || u.groups == nil {
		return nil
	}
	var leave []string
	for _, role := range u.m.Roles.OfEntry(e) {
		if dn := u.m.Roles.GroupOf(role); dn != "" {
			leave = append(leave, dn)
		}
	}
	return u.changeRoleGroups(ctx, e, nil, leave)
}

func (u *Users) logUnknownRoles(ctx context.Context, dn string, roles []string) {
	unknown := u.m.Roles.Unknown(roles)
	if len(unknown) == 0 {
		return
	}
	where := "stored in users.roles.attribute only"
	if u.m.Roles.Attr == "" {
		where = "not stored (no users.roles.attribute)"
	}
	u.log.Warn().Str("request_id", RequestID(ctx)).Str("dn", dn).Strs("roles", unknown).
		Msg("roles that grant no group (users.roles.groups): " + where)
}
