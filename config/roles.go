package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// validateRoles checks users.roles. Role groups reuse the member handling of
// SCIM groups (member attribute, placeholder, AD's permissive modify), so
// they need groups enabled.
func (c *Config) validateRoles(ps *Problems) {
	r := c.Users.Roles
	if !r.Enabled() {
		if r.Default != "" {
			ps.Add("users.roles.default", "has no effect without users.roles.attribute or users.roles.groups")
		}
		return
	}
	if r.Attribute != "" && !IsAttrName(r.Attribute) {
		ps.Add("users.roles.attribute", "%q is not an LDAP attribute name", r.Attribute)
	}
	for i, a := range c.Users.Attributes {
		if isRolesPath(a.SCIM) {
			ps.Add(fmt.Sprintf("users.attributes[%d].scim", i),
				"%q is already mapped by users.roles: keep one of the two", a.SCIM)
		}
	}
	seen := validateRoleGroups(ps, r.Groups)
	if len(r.Groups) > 0 && !c.GroupsEnabled() {
		ps.Add("users.roles.groups", "needs groups enabled (groups.base_dn): role groups get members the way SCIM groups do (groups.member_attribute)")
	}
	if r.Default != "" && r.Attribute == "" {
		if _, ok := seen[strings.ToLower(r.Default)]; !ok {
			ps.Add("users.roles.default", "role %q is not in users.roles.groups (and there is no users.roles.attribute to store it)", r.Default)
		}
	}
}

// validateRoleGroups checks users.roles.groups, in the order of the role
// values so that the problems are stable, and returns the roles seen, by their
// lower-case value.
func validateRoleGroups(ps *Problems, groups map[string]string) map[string]string {
	roles := make([]string, 0, len(groups))
	for role := range groups {
		roles = append(roles, role)
	}
	sort.Strings(roles)
	seen := map[string]string{}
	for _, role := range roles {
		path := "users.roles.groups." + role
		if strings.TrimSpace(role) == "" {
			ps.Add("users.roles.groups", "a role value is empty")
		}
		if other, dup := seen[strings.ToLower(role)]; dup {
			ps.Add(path, "differs from role %q only in case: role values match case-insensitively", other)
		}
		seen[strings.ToLower(role)] = role
		if _, err := ldap.ParseDN(groups[role]); err != nil || groups[role] == "" {
			ps.Add(path, "is not a valid group DN: %q", groups[role])
		}
	}
	return seen
}

// isRolesPath tells whether a SCIM mapping path names the roles attribute
// (roles, roles[...], roles.value, or with the core User URN).
func isRolesPath(p string) bool {
	p = strings.ToLower(strings.TrimSpace(p))
	p = strings.TrimPrefix(p, "urn:ietf:params:scim:schemas:core:2.0:user:")
	rest, ok := strings.CutPrefix(p, "roles")
	return ok && (rest == "" || rest[0] == '[' || rest[0] == '.')
}
