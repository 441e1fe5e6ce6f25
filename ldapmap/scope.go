package ldapmap

import (
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// The managed scope (users.scope_filter, groups.scope_filter) is ANDed into
// Managed, so every lookup, list and write target of SCIM is inside it. An
// entry the bridge creates must match it too, or the bridge could not see what
// it just wrote: the add is checked against the filter before it is sent.

// tri is a three-valued truth: a filter over attributes the check cannot know
// (set by SCIM at run time, or by the directory) is neither true nor false.
type tri int

const (
	unknown tri = iota
	yes
	no
)

func (t tri) not() tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

// attrSource answers "which values does the new entry hold for attr", and
// whether that is known.
type attrSource func(attr string) (vals []string, known bool)

// evalFilter evaluates a compiled LDAP filter against an entry to be added.
// Equality and presence are evaluated (case-insensitively, as the directory's
// usual caseIgnore matching does); every other kind of assertion is unknown.
func evalFilter(p *ber.Packet, attrs attrSource) tri {
	switch p.Tag {
	case ldap.FilterAnd:
		return evalJunction(p.Children, attrs, no)
	case ldap.FilterOr:
		return evalJunction(p.Children, attrs, yes)
	case ldap.FilterNot:
		if len(p.Children) != 1 {
			return unknown
		}
		return evalFilter(p.Children[0], attrs).not()
	case ldap.FilterPresent:
		vals, known := attrs(p.Data.String())
		if !known {
			return unknown
		}
		return truth(len(vals) > 0)
	case ldap.FilterEqualityMatch:
		if len(p.Children) != 2 {
			return unknown
		}
		return evalEquality(p.Children[0].Data.String(), p.Children[1].Data.String(), attrs)
	}
	return unknown
}

// evalJunction evaluates an AND (decisive is no) or an OR (decisive is yes):
// one decisive child decides it, else one unknown child leaves it unknown.
func evalJunction(children []*ber.Packet, attrs attrSource, decisive tri) tri {
	out := decisive.not()
	for _, c := range children {
		switch evalFilter(c, attrs) {
		case decisive:
			return decisive
		case unknown:
			out = unknown
		}
	}
	return out
}

// evalEquality evaluates (attr=want), matching case-insensitively.
func evalEquality(attr, want string, attrs attrSource) tri {
	vals, known := attrs(attr)
	if !known {
		return unknown
	}
	for _, v := range vals {
		if strings.EqualFold(v, want) {
			return yes
		}
	}
	return no
}

func truth(b bool) tri {
	if b {
		return yes
	}
	return no
}

// addSource reads the attributes of an add request: it holds everything the
// bridge writes, so what it lacks is absent, except attributes the directory
// fills in itself (operational ones such as entryUUID, AD's objectCategory),
// which are unknown.
func addSource(req *ldap.AddRequest, dirSet func(string) bool) attrSource {
	return func(attr string) ([]string, bool) {
		for _, a := range req.Attributes {
			if strings.EqualFold(a.Type, attr) {
				return a.Vals, true
			}
		}
		return nil, !dirSet(attr)
	}
}

// operationalOrAD are attributes a directory sets on a new entry by itself;
// a scope filter on them cannot be judged from the add request.
var operationalOrAD = []string{
	"entryUUID", "entryDN", "entryCSN", "creatorsName", "createTimestamp", "modifiersName",
	"modifyTimestamp", "structuralObjectClass", "hasSubordinates", "memberOf", "objectGUID", "objectSid",
	"objectCategory", "instanceType", "whenCreated", "whenChanged", "uSNCreated", "uSNChanged", "sAMAccountType",
	"sAMAccountName", "distinguishedName", "name",
}

func directorySets(attr string) bool { return containsFold(operationalOrAD, attr) }

// CheckScope refuses an add whose entry would fall outside the managed scope,
// before anything is written: the bridge could not find the entry afterwards,
// and Entra would create it again on every cycle. later names attributes the
// caller adds after the check (an allocated uidNumber or gidNumber, taken
// only once the add is sure to go ahead), which are judged unknown.
func (m *Map) CheckScope(req *ldap.AddRequest, later ...string) error {
	if m.scope == nil {
		return nil
	}
	unknown := func(attr string) bool { return directorySets(attr) || containsFold(later, attr) }
	if evalFilter(m.scope, addSource(req, unknown)) == no {
		return scimerr.New(scimerr.Internal, "%s.scope_filter %s: a new entry would not match it, so it would be "+
			"invisible to SCIM once added; set the attribute it tests on every new entry (a constant in %s)",
			m.prefix, m.Scope, constantsKey(m.prefix))
	}
	return nil
}

func constantsKey(prefix string) string {
	if prefix == "groups" {
		return "groups.constants"
	}
	return "users.derive, e.g. {ldap: businessCategory, template: entra}"
}

// checkScopeOffline reports a scope filter that no new entry can match,
// judged from what every new entry holds: its object classes and the
// constants (derives without a template action, groups.constants). What SCIM,
// a template or an allocator (uid_number, gid_number) sets is unknown until a
// request comes, so it never fails this check; CheckScope judges each add.
func (m *Map) checkScopeOffline(constants map[string][]string, allocated []string, ps *config.Problems) {
	if m.scope == nil {
		return
	}
	src := func(attr string) ([]string, bool) {
		if strings.EqualFold(attr, "objectClass") {
			return m.ObjectClasses, true
		}
		if v, ok := constants[strings.ToLower(attr)]; ok {
			return v, true
		}
		if m.byLDAP[strings.ToLower(attr)] != nil || m.setsByTemplate(attr) || directorySets(attr) ||
			containsFold(allocated, attr) || strings.EqualFold(attr, m.RDN) {
			return nil, false
		}
		return nil, true // nothing sets it: absent
	}
	if evalFilter(m.scope, src) == no {
		ps.Add(m.prefix+".scope_filter", "new entries would not match %s, so SCIM could not see them once added: "+
			"set the attribute it tests on every new entry (a constant in %s)", m.Scope, constantsKey(m.prefix))
	}
}

// setsByTemplate tells whether a derive with a template sets attr.
func (m *Map) setsByTemplate(attr string) bool {
	for _, d := range m.derives {
		if strings.EqualFold(d.attr, attr) {
			return true
		}
	}
	return false
}

// andFilters joins LDAP filters with &, leaving out empty ones.
func andFilters(fs ...string) string {
	var parts []string
	for _, f := range fs {
		if f != "" {
			parts = append(parts, f)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(&" + strings.Join(parts, "") + ")"
}
