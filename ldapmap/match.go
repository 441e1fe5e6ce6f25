package ldapmap

import (
	"fmt"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
)

// MatchRule finds an existing directory entry for a new SCIM user (adoption):
// the entry whose attribute equals the rule's template value.
type MatchRule struct {
	Index int
	LDAP  string
	tmpl  *derive
}

func compileMatch(list []config.MatchConfig, ps *config.Problems) []*MatchRule {
	var out []*MatchRule
	for i, mc := range list {
		d, err := newDerive(config.DeriveConfig(mc))
		if err != nil {
			ps.Add(fmt.Sprintf("users.match[%d].template", i), "%v", err)
			continue
		}
		out = append(out, &MatchRule{Index: i, LDAP: mc.LDAP, tmpl: d})
	}
	return out
}

// MatchFilters returns, for each rule, the LDAP filter that finds the entry a
// new user (as planned by PlanAdd) should adopt; "" where the template gives
// no value. Values are escaped here; users.scope_filter, when set, is ANDed in.
func (m *Map) MatchFilters(req *ldap.AddRequest) ([]string, error) {
	vals := values{}
	for _, a := range req.Attributes {
		if len(a.Vals) > 0 {
			vals.set(a.Type, a.Vals[0])
		}
	}
	out := make([]string, len(m.Match))
	for i, r := range m.Match {
		v, err := r.tmpl.eval(vals)
		if err != nil {
			return nil, err
		}
		if v != "" {
			// Only entries inside the managed scope may be adopted: a
			// scope filter keeps hand-made entries out of SCIM's reach.
			out[i] = andFilters(m.Scope, "("+r.LDAP+"="+ldap.EscapeFilter(v)+")")
		}
	}
	return out, nil
}

// AdoptChanges are the object classes an adopted entry lacks, to add with the
// update that brings it under the mapping.
func (m *Map) AdoptChanges(e *ldap.Entry) []ldap.Change {
	have := map[string]bool{}
	for _, oc := range e.GetEqualFoldAttributeValues("objectClass") {
		have[lower(oc)] = true
	}
	var missing []string
	for _, oc := range m.ObjectClasses {
		if !have[lower(oc)] {
			missing = append(missing, oc)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []ldap.Change{{Operation: ldap.AddAttribute, Modification: ldap.PartialAttribute{Type: "objectClass", Vals: missing}}}
}
