package ldapmap

import (
	"strings"
	"text/template"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// PlanAnonymize is users.delete.mode anonymize: the entry stays (for audit
// trails and foreign references) but is disabled, renamed to a placeholder and
// stripped of every mapped attribute; attributes that must have a value (the
// derived ones, e.g. cn and sn) get the placeholder.
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
	derived := map[string]bool{}
	for _, d := range m.derives {
		derived[strings.ToLower(d.attr)] = true
		u.Changes = append(u.Changes, replace(d.attr, ph))
	}
	for _, a := range m.Attrs {
		if a == m.rdnAttr || derived[strings.ToLower(a.LDAP)] || e.GetEqualFoldAttributeValue(a.LDAP) == "" {
			continue
		}
		u.Changes = append(u.Changes, ldap.Change{Operation: ldap.DeleteAttribute,
			Modification: ldap.PartialAttribute{Type: a.LDAP, Vals: []string{}}})
	}
	if !m.Disable.Disabled(e) {
		u.Changes = append(u.Changes, m.Disable.Changes(e, false)...)
	}
	return u, nil
}
