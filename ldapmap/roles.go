package ldapmap

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// Roles maps Entra's app role assignments (the SCIM roles attribute, RFC 7643
// §4.1.2) onto LDAP (users.roles): every role value in a multi-valued
// attribute, and membership of an existing group per known role. On-prem
// access is granted by LDAP groups, so a role change is a membership change.
type Roles struct {
	// Attr holds every role value of the user; "" when not configured.
	Attr string
	// Groups are the role groups, sorted by role.
	Groups []RoleGroup
	// Default is the role of a user created without one.
	Default string
}

// RoleGroup is one role value and the group it grants.
type RoleGroup struct{ Role, DN string }

// newRoles compiles users.roles; nil when roles are not mapped.
func newRoles(cfg config.RolesConfig) *Roles {
	if !cfg.Enabled() {
		return nil
	}
	r := &Roles{Attr: cfg.Attribute, Default: cfg.Default}
	for role, dn := range cfg.Groups {
		r.Groups = append(r.Groups, RoleGroup{Role: role, DN: dn})
	}
	sort.Slice(r.Groups, func(i, j int) bool { return r.Groups[i].Role < r.Groups[j].Role })
	return r
}

// GroupOf returns the DN of the group role grants, "" for a role with none.
func (r *Roles) GroupOf(role string) string {
	for _, g := range r.Groups {
		if strings.EqualFold(g.Role, role) {
			return g.DN
		}
	}
	return ""
}

// Unknown lists the roles that grant no group: stored in Attr when set,
// otherwise only logged, never refused (Entra would retry a 400 forever and
// the rest of the user would not land).
func (r *Roles) Unknown(roles []string) []string {
	var out []string
	for _, role := range roles {
		if r.GroupOf(role) == "" {
			out = append(out, role)
		}
	}
	return out
}

// Diff returns the group DNs to join and to leave when a user's roles go from
// before to after.
func (r *Roles) Diff(before, after []string) (join, leave []string) {
	for _, g := range r.Groups {
		had, has := containsFold(before, g.Role), containsFold(after, g.Role)
		switch {
		case has && !had:
			join = append(join, g.DN)
		case had && !has:
			leave = append(leave, g.DN)
		}
	}
	return join, leave
}

// readAttributes are what rendering the roles needs from the entry: the role
// attribute, or else memberOf (AD always has it, OpenLDAP with the memberof
// overlay), so that reading roles costs no extra search.
func (r *Roles) readAttributes() []string {
	if r.Attr != "" {
		return []string{r.Attr}
	}
	return []string{"memberOf"}
}

// OfEntry returns the user's roles as stored: the role attribute, or the role
// groups the entry is a member of.
func (r *Roles) OfEntry(e *ldap.Entry) []string {
	if r.Attr != "" {
		return e.GetEqualFoldAttributeValues(r.Attr)
	}
	var out []string
	for _, dn := range e.GetEqualFoldAttributeValues("memberOf") {
		for _, g := range r.Groups {
			if SameDN(dn, g.DN) {
				out = append(out, g.Role)
			}
		}
	}
	return out
}

// render is the SCIM roles attribute. A single role is marked primary, which
// is how Entra's SingleAppRoleAssignment mapping (roles[primary eq "True"].value)
// reads it back.
func (r *Roles) render(e *ldap.Entry) []any {
	roles := r.OfEntry(e)
	out := make([]any, 0, len(roles))
	for _, role := range roles {
		out = append(out, map[string]any{"value": role, "display": role, "primary": len(roles) == 1})
	}
	return out
}

// Values reads the role values of a SCIM resource: the value of each element
// of roles, de-duplicated case-insensitively, in order. Elements may be
// objects, or values serialized as JSON inside a string (UnwrapRole).
func Values(res Resource) ([]string, error) {
	v, _ := scimjson.Lookup(res, "roles")
	var out []string
	for _, el := range elements(v) {
		el = UnwrapRole(el)
		if m, ok := el.(map[string]any); ok {
			el, _ = scimjson.Lookup(m, "value")
		}
		var s string
		switch t := el.(type) {
		case nil:
			continue
		case string:
			s = strings.TrimSpace(t)
		case json.Number:
			s = t.String()
		default:
			return nil, scimerr.New(scimerr.InvalidValue, "roles: each role needs a string value")
		}
		if s != "" && !containsFold(out, s) {
			if err := checkRole(s); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// checkRole refuses role values no directory should store, as checkValue does
// for mapped attributes.
func checkRole(s string) error {
	if len(s) > maxValueLen || strings.IndexByte(s, 0) >= 0 {
		return scimerr.New(scimerr.InvalidValue, "roles: a value is longer than %d bytes or holds a NUL byte", maxValueLen)
	}
	return nil
}

// UnwrapRole turns a role element as Entra's AppRoleAssignmentsComplex mapping
// sends it in a PATCH, {"value": "{\"id\":\"…\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}
// (an object serialized into the value string), into {"value": "Admin",
// "display": "Admin"}, so that adds and removes compare by role value. Anything
// else is returned as it is.
func UnwrapRole(el any) any {
	m, ok := el.(map[string]any)
	if !ok {
		return el
	}
	v, _ := scimjson.Lookup(m, "value")
	s, ok := v.(string)
	if !ok || !strings.HasPrefix(strings.TrimSpace(s), "{") {
		return el
	}
	var inner map[string]any
	if json.Unmarshal([]byte(s), &inner) != nil {
		return el
	}
	v, _ = scimjson.Lookup(inner, "value")
	role, ok := v.(string)
	if !ok {
		return el
	}
	out := map[string]any{"value": role}
	if d, _ := scimjson.Lookup(inner, "displayName"); d != nil {
		out["display"] = d
	}
	return out
}

// roleChanges are the writes of the role attribute when the roles changed to
// after: one replace of the whole value set (or a delete), sorted.
func (r *Roles) roleChanges(after []string) []ldap.Change {
	if r.Attr == "" {
		return nil
	}
	if len(after) == 0 {
		return []ldap.Change{{Operation: ldap.DeleteAttribute, Modification: ldap.PartialAttribute{Type: r.Attr, Vals: []string{}}}}
	}
	vals := append([]string(nil), after...)
	sort.Strings(vals)
	return []ldap.Change{{Operation: ldap.ReplaceAttribute, Modification: ldap.PartialAttribute{Type: r.Attr, Vals: vals}}}
}

// planRoles adds to u what a change of roles writes: the role attribute, and
// the role groups to join and to leave. The roles before are the stored ones,
// not the rendered resource's, so that a value Entra sent in another case or
// shape does not count as a change.
func (m *Map) planRoles(e *ldap.Entry, after Resource, u *Update) error {
	before := m.Roles.OfEntry(e)
	now, err := Values(after)
	if err != nil {
		return err
	}
	if sameSetFold(before, now) {
		return nil
	}
	u.Roles = now
	u.Changes = append(u.Changes, m.Roles.roleChanges(now)...)
	u.JoinGroups, u.LeaveGroups = m.Roles.Diff(before, now)
	return nil
}

// ForCreate returns the roles of a new user: the ones sent, or the default.
func (r *Roles) ForCreate(res Resource) ([]string, error) {
	roles, err := Values(res)
	if err != nil || len(roles) > 0 || r.Default == "" {
		return roles, err
	}
	return []string{r.Default}, nil
}

func sameSetFold(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !containsFold(b, s) {
			return false
		}
	}
	return true
}

// ClearRoles is the write that removes every role value of e (a deleted user
// holds no role); none without users.roles.attribute or values.
func (m *Map) ClearRoles(e *ldap.Entry) []ldap.Change {
	if m.Roles == nil || m.Roles.Attr == "" || len(e.GetEqualFoldAttributeValues(m.Roles.Attr)) == 0 {
		return nil
	}
	return []ldap.Change{{Operation: ldap.DeleteAttribute, Modification: ldap.PartialAttribute{Type: m.Roles.Attr, Vals: []string{}}}}
}
