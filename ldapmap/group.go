package ldapmap

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// GroupMap maps SCIM Groups (RFC 7643 §4.2) onto LDAP groups. Group attributes
// go through the shared Map; members are handled apart, because a member change
// must be one small LDAP modify whatever the group's size, never a rewrite.
type GroupMap struct {
	*Map
	// MemberAttr holds the members: user DNs (member, uniqueMember) or, with
	// ByUID, the users' uid values (posixGroup memberUid).
	MemberAttr string
	ByUID      bool
	// EmptyMember is kept in a group without members when the object class
	// requires one; it is never shown as a SCIM member.
	EmptyMember string
	Constants   []config.ConstantConfig
}

// NewGroups compiles the group mapping and returns every problem at its path.
func NewGroups(cfg config.GroupsConfig) (*GroupMap, error) {
	var ps config.Problems
	m := compile(spec{
		prefix: "groups", kind: "Group", baseDN: cfg.BaseDN, rdn: cfg.RDN, objectClasses: cfg.ObjectClasses,
		idAttr: cfg.IDAttribute, filter: cfg.Filter, scope: cfg.ScopeFilter, attrs: cfg.Attributes, check: checkGroupPath,
	}, &ps)
	m.MaxResults = cfg.MaxResults
	m.checkRDN("groups", &ps)
	g := &GroupMap{
		Map: m, MemberAttr: cfg.MemberAttribute, ByUID: strings.EqualFold(cfg.MemberAttribute, "memberUid"),
		EmptyMember: cfg.EmptyMember, Constants: cfg.Constants,
	}
	if g.ByUID && g.EmptyMember != "" {
		ps.Add("groups.empty_member", "memberUid groups may be empty: leave empty_member unset")
	}
	m.members = g
	constants := map[string][]string{}
	for _, c := range cfg.Constants {
		k := strings.ToLower(c.LDAP)
		constants[k] = append(constants[k], c.Value)
	}
	var allocated []string
	if cfg.GIDNumber.Enabled() {
		allocated = append(allocated, "gidNumber")
	}
	m.checkScopeOffline(constants, allocated, &ps)
	m.fixReadAttributes()
	return g, ps.Err()
}

func checkGroupPath(p filter.Path) string {
	if p.URN != "" && !strings.EqualFold(p.URN, SchemaGroup) {
		if strings.HasPrefix(strings.ToLower(p.URN), "urn:") && p.Filter == nil && p.SubAttr == "" {
			return "" // custom extension attribute
		}
		return fmt.Sprintf("unknown schema %q", p.URN)
	}
	switch {
	case strings.EqualFold(p.Attr, "members"):
		return "members are not mapped here: set groups.member_attribute"
	case strings.EqualFold(p.Attr, "displayName"), strings.EqualFold(p.Attr, "externalId"):
		if p.Filter != nil || p.SubAttr != "" {
			return fmt.Sprintf("%q is a simple attribute", p.Attr)
		}
		return ""
	}
	return fmt.Sprintf("%q is not a Group attribute (RFC 7643 §4.2 has displayName, members; externalId is common)%s",
		p.Attr, suggest(p.Attr, []string{"displayName", "externalId"}))
}

// MemberIDs returns the SCIM ids in a members value: an array of
// {"value": id, "$ref": ..., "display": ...} objects (Entra sends "$ref": null),
// one such object, or bare id strings.
func MemberIDs(v any) ([]string, error) {
	list := elements(v)
	if list == nil {
		return nil, nil
	}
	ids := make([]string, 0, len(list))
	for _, el := range list {
		if m, ok := el.(map[string]any); ok {
			el, _ = scimjson.Lookup(m, "value")
		}
		id, ok := el.(string)
		if !ok || id == "" {
			return nil, scimerr.New(scimerr.InvalidValue, `each member needs a "value" with the member's id`)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// PlanAdd turns a SCIM Group into the LDAP add that creates it, with the given
// member values (DNs or uids, already resolved).
func (g *GroupMap) PlanAdd(ctx context.Context, res Resource, members []string) (*ldap.AddRequest, error) {
	req, err := g.Map.PlanAdd(ctx, res, nil)
	if err != nil {
		return nil, err
	}
	for _, k := range g.Constants {
		req.Attribute(k.LDAP, []string{k.Value})
	}
	if len(members) == 0 && g.EmptyMember != "" {
		members = []string{g.EmptyMember}
	}
	if len(members) > 0 {
		req.Attribute(g.MemberAttr, members)
	}
	return req, nil
}

// IsPlaceholder tells whether a member value is the empty-group placeholder.
func (g *GroupMap) IsPlaceholder(v string) bool {
	return g.EmptyMember != "" && SameDN(v, g.EmptyMember)
}

// MemberFilter returns the LDAP filter matching groups that have member value v.
func (g *GroupMap) MemberFilter(v string) string {
	return "(" + g.MemberAttr + "=" + ldap.EscapeFilter(v) + ")"
}

// memberIDsInFilter collects the ids of members[value eq "a" or value eq "b"],
// the path Entra's aadOptscim062020 dialect removes members with.
func memberIDsInFilter(e filter.Expr) ([]string, bool) {
	switch t := e.(type) {
	case *filter.Or:
		l, ok1 := memberIDsInFilter(t.Left)
		r, ok2 := memberIDsInFilter(t.Right)
		return append(l, r...), ok1 && ok2
	case *filter.Compare:
		s, ok := t.Value.(string)
		if t.Op != filter.Eq || !strings.EqualFold(t.Path.Attr, "value") || !ok {
			return nil, false
		}
		return []string{s}, true
	}
	return nil, false
}

// MemberPathIDs returns the member ids selected by a PATCH path on members:
// nil, true for "members" itself; the ids for members[value eq ...].
func MemberPathIDs(p filter.Path) (ids []string, ok bool) {
	if p.Filter == nil {
		return nil, true
	}
	return memberIDsInFilter(p.Filter)
}

// memberCompare translates members eq "<id>" (or members.value eq): the
// resolver turns the user id into the value the group stores.
func (g *GroupMap) memberCompare(ctx context.Context, c *filter.Compare, r Resolver) (string, error) {
	if c.Op == filter.Pr {
		return g.memberPresent(), nil
	}
	id, ok := c.Value.(string)
	if (c.Op != filter.Eq && c.Op != filter.Ne) || !ok || (c.Path.SubAttr != "" && !strings.EqualFold(c.Path.SubAttr, "value")) {
		return "", scimerr.New(scimerr.InvalidFilter, `members supports eq and ne on the member id, and pr`)
	}
	v, err := r.DNOf(ctx, id)
	f := matchNone
	switch {
	case scimerr.KindOf(err) == scimerr.NotFound:
	case err != nil:
		return "", err
	default:
		f = g.MemberFilter(v)
	}
	if c.Op == filter.Ne {
		return "(!" + f + ")", nil
	}
	return f, nil
}

// memberPresent matches groups with a real member. The placeholder
// (groups.empty_member) is held only while a group is empty, the bridge
// drops it with the first member it adds, so a group holding it counts as
// empty: members pr must not find every group, nor not (members pr) none.
func (g *GroupMap) memberPresent() string {
	if g.EmptyMember == "" {
		return "(" + g.MemberAttr + "=*)"
	}
	return "(&(" + g.MemberAttr + "=*)(!" + g.MemberFilter(g.EmptyMember) + "))"
}
