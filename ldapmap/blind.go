package ldapmap

import (
	"context"
	"sort"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/scimapi/patch"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// PlanBlind plans a user PATCH without reading the entry, for a directory
// that checks the assertion control (RFC 4528): each operation must set one
// mapped attribute to a value (Entra's "Replace" or "Add" of
// emails[type eq "work"].value, name.familyName, title, the manager, ...)
// or set active. It returns nil when the operations need the entry: a
// removal or a value that clears, the naming attribute or userName (a
// rename), a complex or multi-valued value, an unmapped path, the password,
// roles, two operations on one attribute, or an attribute a derive template
// reads.
//
// The plan writes what PlanUpdate would write, provided the entry matches
// the returned Update's Assert, which the caller sends as the write's
// assertion: PlanUpdate writes an attribute only when its value changes, so
// Assert requires the entry not to hold the new value already ((!(mail=v)));
// active=false requires the entry not to be disabled already, active=true
// requires it to be. When the assertion fails, nothing is written and the
// caller falls back to reading the entry and PlanUpdate, which then decides
// (and writes nothing for a PATCH that changes nothing, as before).
//
// The resolver turns a manager's id into its DN; an id it cannot resolve
// makes the plan nil, so that the read path reports it once.
func (m *Map) PlanBlind(ctx context.Context, ops []patch.Operation, r Resolver) *Update {
	if m.Kind != "User" || m.Roles != nil {
		return nil
	}
	ops, err := patch.Expand(ops)
	if err != nil || len(ops) == 0 {
		return nil
	}
	u := &Update{}
	var conds []string
	written := map[string]bool{}
	for _, op := range ops {
		changes, cond, ok := m.blindOp(ctx, op, r)
		if !ok {
			return nil
		}
		for _, c := range changes {
			k := lower(c.Modification.Type)
			if written[k] {
				return nil // two operations on one attribute: the order would matter
			}
			written[k] = true
		}
		u.Changes = append(u.Changes, changes...)
		if cond != "" {
			conds = append(conds, cond)
		}
	}
	if len(u.Changes) == 0 {
		return nil // nothing to write: the answer needs the entry anyway
	}
	dc, ok := m.blindDerives(written)
	if !ok {
		return nil
	}
	conds = append(conds, dc...)
	sortChanges(u.Changes)
	u.Assert = and(conds)
	return u
}

// blindOp plans one operation of PlanBlind: its changes and the filter the
// entry must match for them to be PlanUpdate's; ok is false when the
// operation needs the entry.
func (m *Map) blindOp(ctx context.Context, op patch.Operation, r Resolver) ([]ldap.Change, string, bool) {
	if (op.Op != "add" && op.Op != "replace") || op.Path == nil {
		return nil, "", false
	}
	if p := *op.Path; strings.EqualFold(p.Attr, "active") && p.SubAttr == "" && p.Filter == nil &&
		(p.URN == "" || strings.EqualFold(p.URN, SchemaUser)) {
		active, ok := scimjson.ParseBool(op.Value)
		if !ok {
			return nil, "", false
		}
		return m.blindActive(active)
	}
	a := m.attrAt(op.Path.String())
	if a == nil || a == m.rdnAttr || a == m.UserNameAttr() || strings.EqualFold(a.LDAP, m.RDN) {
		return nil, "", false
	}
	v, ok := m.blindValue(ctx, a, op, r)
	if !ok {
		return nil, "", false
	}
	return []ldap.Change{replace(a.LDAP, v)}, "(!" + equals(a.LDAP, v) + ")", true
}

// blindValue is the LDAP value op sets mapped attribute a to, after the
// checks the read path makes: the JSON type of the value (on the resource
// the operation alone makes), a reference resolved, the LDAP value. ok is
// false for a removal, a complex or multi-valued value, or a check that
// fails: the read path answers those.
func (m *Map) blindValue(ctx context.Context, a *Attr, op patch.Operation, r Resolver) (string, bool) {
	switch op.Value.(type) {
	case map[string]any, []any:
		if !a.Ref {
			return "", false
		}
	}
	res := Resource{}
	if patch.Apply(res, []patch.Operation{op}) != nil || m.checkTypes(res) != nil {
		return "", false
	}
	v := a.Value(res)
	if v == "" {
		return "", false // a removal: PlanUpdate deletes only what the entry holds
	}
	if a.Ref {
		dn, err := r.DNOf(ctx, v)
		if err != nil {
			return "", false
		}
		v = dn
	}
	return v, checkValue(a, v) == nil
}

// blindActive plans active through the disable method, when the method
// can change the state without reading it first.
func (m *Map) blindActive(active bool) ([]ldap.Change, string, bool) {
	b, ok := m.Disable.(blindDisabler)
	if !ok {
		return nil, "", false
	}
	changes, cond := b.blind(active)
	return changes, cond, true
}

// blindDisabler is a Disabler whose changes do not depend on the entry's
// values.
type blindDisabler interface {
	// blind returns the changes that make an entry active or not, and the
	// filter an entry matches when Changes(e, active) would be them.
	blind(active bool) ([]ldap.Change, string)
}

// blind: disabling replaces the attribute with the bridge's lock unless the
// entry holds it already (PlanUpdate writes nothing then; a security
// lockout is replaced, as Changes does). Enabling deletes exactly that
// value, and only from an entry that holds it: one without it reads as
// active and PlanUpdate leaves it alone.
func (p ppolicy) blind(active bool) ([]ldap.Change, string) {
	locked := equals("pwdAccountLockedTime", lockedForever)
	if active {
		return []ldap.Change{{
			Operation:    ldap.DeleteAttribute,
			Modification: ldap.PartialAttribute{Type: "pwdAccountLockedTime", Vals: []string{lockedForever}},
		}}, locked
	}
	return p.Changes(nil, false), "(!" + locked + ")"
}

// blind: no method writes nothing, whatever the entry holds.
func (noDisable) blind(bool) ([]ldap.Change, string) { return nil, "" }

// blindDerives returns the filters under which the derived attributes need
// no write after a blind update that writes the attributes in written
// (lower-cased names, each with a value). PlanUpdate fills a mapped derived
// attribute only when it is empty, and a constant the entry lacks: the
// filters require the entry to have them. An unmapped derived attribute
// follows the attributes its template reads: ok is false when the template
// mentions one the update writes (by name, so it may say no to more than it
// must).
func (m *Map) blindDerives(written map[string]bool) ([]string, bool) {
	var conds []string
	for _, d := range m.derives {
		_, mapped := m.byLDAP[lower(d.attr)]
		constant := !strings.Contains(d.src, "{{")
		switch {
		case written[lower(d.attr)]:
		case mapped:
			conds = append(conds, "("+d.attr+"=*)")
		case constant:
			conds = append(conds, equals(d.attr, strings.TrimSpace(d.src)))
		default:
			for attr := range written {
				if strings.Contains(lower(d.src), attr) {
					return nil, false
				}
			}
		}
	}
	return conds, true
}

// attrAt is the mapping whose SCIM path is path, compared as written
// (case-insensitively), nil if none: a path that only selects the same
// value another way (a filter on primary too, no URN) is left to the read
// path, where patch.Apply decides what it selects.
func (m *Map) attrAt(path string) *Attr {
	for _, a := range m.Attrs {
		if strings.EqualFold(a.SCIM.String(), path) {
			return a
		}
	}
	return nil
}

// sortChanges orders changes by attribute name, as PlanUpdate does, so that
// logs and tests are stable.
func sortChanges(cs []ldap.Change) {
	sort.SliceStable(cs, func(i, j int) bool {
		return lower(cs[i].Modification.Type) < lower(cs[j].Modification.Type)
	})
}

// and joins filters with &; "" for none.
func and(fs []string) string {
	switch len(fs) {
	case 0:
		return ""
	case 1:
		return fs[0]
	}
	return "(&" + strings.Join(fs, "") + ")"
}
