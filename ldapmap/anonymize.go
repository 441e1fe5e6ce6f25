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
	ph, err := m.placeholder(e)
	if err != nil {
		return nil, err
	}
	u := &Update{NewRDN: m.RDNString(ph)}
	post := valuesOf(e)
	m.stripMapped(e, post, u)
	post.set(m.RDN, ph)
	if err := m.rederiveAnonymous(e, ph, post, u); err != nil {
		return nil, err
	}
	if !m.Disable.Disabled(e) {
		u.Changes = append(u.Changes, m.Disable.Changes(e, false)...)
	}
	return u, nil
}

// placeholder is the anonymized entry's name, users.delete.placeholder
// executed with the entry's SCIM id.
func (m *Map) placeholder(e *ldap.Entry) (string, error) {
	t, err := template.New("placeholder").Parse(m.Delete.Placeholder)
	if err != nil {
		return "", scimerr.Wrap(scimerr.Internal, err, "users.delete.placeholder")
	}
	var b strings.Builder
	if err := t.Execute(&b, map[string]string{"id": m.ID(e)}); err != nil {
		return "", scimerr.Wrap(scimerr.Internal, err, "users.delete.placeholder")
	}
	return b.String(), nil
}

// stripMapped deletes every mapped attribute but the naming one from the
// entry, and drops them from post. A mapped attribute that is also derived is
// not deleted, since rederiveAnonymous replaces it, but its personal value
// leaves post so that the templates do not see it.
func (m *Map) stripMapped(e *ldap.Entry, post values, u *Update) {
	derived := map[string]bool{}
	for _, d := range m.derives {
		derived[strings.ToLower(d.attr)] = true
	}
	for _, a := range m.Attrs {
		if a == m.rdnAttr {
			continue
		}
		post.del(a.LDAP)
		if !derived[strings.ToLower(a.LDAP)] && e.GetEqualFoldAttributeValue(a.LDAP) != "" {
			u.Changes = append(u.Changes, ldap.Change{
				Operation:    ldap.DeleteAttribute,
				Modification: ldap.PartialAttribute{Type: a.LDAP, Vals: []string{}},
			})
		}
	}
}

// rederiveAnonymous computes the derived attributes again from what is left
// (post, named ph), with ph for any that would end up empty.
func (m *Map) rederiveAnonymous(e *ldap.Entry, ph string, post values, u *Update) error {
	for _, d := range m.derives {
		if strings.EqualFold(d.attr, m.RDN) {
			continue
		}
		v, err := d.eval(post)
		if err != nil {
			return err
		}
		if v == "" {
			v = ph
		}
		if v != e.GetEqualFoldAttributeValue(d.attr) {
			u.Changes = append(u.Changes, replace(d.attr, v))
		}
		post.set(d.attr, v)
	}
	return nil
}
