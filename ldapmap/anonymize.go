package ldapmap

import (
	"strings"
	"text/template"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// PlanAnonymize is users.delete.mode anonymize: the entry stays (for audit
// trails and foreign references) but is disabled, renamed to a placeholder and
// stripped of every mapped attribute. Derived attributes are computed again
// from what is left, so cn becomes the placeholder (it came from the name)
// while a constant such as gidNumber keeps its value; a derived attribute that
// would end up empty gets the placeholder, since it may be required.
func (m *Map) PlanAnonymize(e *ldap.Entry) (*Update, error) {
	t, err := template.New("placeholder").Parse(m.Delete.Placeholder)
	if err != nil {
		return nil, scimerr.Wrap(scimerr.Internal, err, "users.delete.placeholder")
	}
	var b strings.Builder
	if err := t.Execute(&b, map[string]string{"id": m.ID(e)}); err != nil {
		return nil, scimerr.Wrap(scimerr.Internal, err, "users.delete.placeholder")
	}
	ph := b.String()
	u := &Update{NewRDN: m.RDNString(ph)}
	post := valuesOf(e)
	derived := map[string]bool{}
	for _, d := range m.derives {
		derived[strings.ToLower(d.attr)] = true
	}
	for _, a := range m.Attrs {
		if a == m.rdnAttr || derived[strings.ToLower(a.LDAP)] {
			continue
		}
		post.del(a.LDAP)
		if e.GetEqualFoldAttributeValue(a.LDAP) != "" {
			u.Changes = append(u.Changes, ldap.Change{Operation: ldap.DeleteAttribute,
				Modification: ldap.PartialAttribute{Type: a.LDAP, Vals: []string{}}})
		}
	}
	for _, a := range m.Attrs {
		if derived[strings.ToLower(a.LDAP)] && a != m.rdnAttr {
			post.del(a.LDAP) // mapped and derived (sn): its personal value goes too
		}
	}
	post.set(m.RDN, ph)
	for _, d := range m.derives {
		if strings.EqualFold(d.attr, m.RDN) {
			continue
		}
		v, err := d.eval(post)
		if err != nil {
			return nil, err
		}
		if v == "" {
			v = ph
		}
		if v != e.GetEqualFoldAttributeValue(d.attr) {
			u.Changes = append(u.Changes, replace(d.attr, v))
		}
		post.set(d.attr, v)
	}
	if !m.Disable.Disabled(e) {
		u.Changes = append(u.Changes, m.Disable.Changes(e, false)...)
	}
	return u, nil
}
