package ldapmap

import (
	"context"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// Constant LDAP filters for comparisons that cannot match or always match,
// e.g. on a SCIM attribute the map does not hold.
const (
	matchNone = "(!(objectClass=*))"
	matchAll  = "(objectClass=*)"
)

// SearchFilter translates a SCIM filter (nil = all) into one LDAP filter limited
// to the managed entries, so a list is a single LDAP search: the server does all
// the matching, never the bridge.
func (m *Map) SearchFilter(ctx context.Context, e filter.Expr, r Resolver) (string, error) {
	if e == nil {
		return m.Managed, nil
	}
	if n := countTerms(e); n > MaxFilterTerms {
		// A 64 KiB filter of thousands of terms costs seconds of CPU to
		// compile; no client needs more than a few.
		return "", scimerr.New(scimerr.InvalidFilter, "filter has %d comparisons, at most %d are allowed", n, MaxFilterTerms)
	}
	f, err := m.filter(ctx, e, r)
	if err != nil {
		return "", err
	}
	return "(&" + m.Managed + f + ")", nil
}

// MaxFilterTerms bounds the comparisons in one filter.
const MaxFilterTerms = 200

func countTerms(e filter.Expr) int {
	switch t := e.(type) {
	case *filter.And:
		return countTerms(t.Left) + countTerms(t.Right)
	case *filter.Or:
		return countTerms(t.Left) + countTerms(t.Right)
	case *filter.Not:
		return countTerms(t.X)
	case *filter.Has:
		return 1 + countTerms(t.Path.Filter)
	}
	return 1
}

func (m *Map) filter(ctx context.Context, e filter.Expr, r Resolver) (string, error) {
	switch t := e.(type) {
	case *filter.And:
		return m.binary(ctx, "&", t.Left, t.Right, r)
	case *filter.Or:
		return m.binary(ctx, "|", t.Left, t.Right, r)
	case *filter.Not:
		x, err := m.filter(ctx, t.X, r)
		if err != nil {
			return "", err
		}
		return "(!" + x + ")", nil
	case *filter.Compare:
		return m.compare(ctx, t, r)
	case *filter.Has:
		return m.has(ctx, t, r)
	}
	return "", scimerr.New(scimerr.InvalidFilter, "unsupported filter expression %s", e.String())
}

func (m *Map) binary(ctx context.Context, op string, l, rt filter.Expr, r Resolver) (string, error) {
	a, err := m.filter(ctx, l, r)
	if err != nil {
		return "", err
	}
	b, err := m.filter(ctx, rt, r)
	if err != nil {
		return "", err
	}
	return "(" + op + a + b + ")", nil
}

func (m *Map) compare(ctx context.Context, c *filter.Compare, r Resolver) (string, error) {
	if f, ok, err := m.compareSpecial(ctx, c, r); ok {
		return f, err
	}
	attrs := m.pathAttrs(c.Path)
	if len(attrs) == 0 {
		return unmapped(c), nil
	}
	var parts []string
	for _, a := range attrs {
		var f string
		var err error
		if a.Ref {
			f, err = m.refFilter(ctx, a, c, r)
		} else {
			f, err = compareAttr(a.LDAP, c)
		}
		if err != nil {
			return "", err
		}
		parts = append(parts, f)
	}
	return orAll(parts), nil
}

// compareSpecial translates a comparison on a core attribute that is not in
// the attribute map: id, active, meta and a group's members. ok is false for
// any other attribute.
func (m *Map) compareSpecial(ctx context.Context, c *filter.Compare, r Resolver) (f string, ok bool, err error) {
	p := c.Path
	if p.URN != "" && !strings.EqualFold(p.URN, SchemaUser) {
		return "", false, nil
	}
	whole := p.Filter == nil && p.SubAttr == ""
	switch {
	case whole && strings.EqualFold(p.Attr, "id"):
		f, err = m.idFilter(c)
	case whole && strings.EqualFold(p.Attr, "active"):
		f, err = m.activeFilter(c)
	case strings.EqualFold(p.Attr, "meta"):
		f, err = metaFilter(c)
	case m.members != nil && strings.EqualFold(p.Attr, "members"):
		f, err = m.members.memberCompare(ctx, c, r)
	default:
		return "", false, nil
	}
	return f, true, err
}

// has translates a value path used as a filter, emails[type eq "work" and value
// co "@x.org"]: for each mapped element of emails, the type test is decided
// from the mapping and the rest becomes an LDAP test on its attribute.
func (m *Map) has(ctx context.Context, h *filter.Has, r Resolver) (string, error) {
	if m.members != nil && strings.EqualFold(h.Path.Attr, "members") {
		ids, ok := memberIDsInFilter(h.Path.Filter)
		if !ok {
			return "", scimerr.New(scimerr.InvalidFilter, `members filters support value eq "<id>" joined with or`)
		}
		var parts []string
		for _, id := range ids {
			f, err := m.members.memberCompare(ctx, &filter.Compare{Path: filter.Path{Attr: "members"}, Op: filter.Eq, Value: id}, r)
			if err != nil {
				return "", err
			}
			parts = append(parts, f)
		}
		return orAll(parts), nil
	}
	// A value filter matches an entry that has an element satisfying it
	// (RFC 7644 §3.4.2.2), so each element's translation is ANDed with the
	// element's presence: emails[not (type eq "work")] alone would become
	// (!(mail=*)), every user without an e-mail. The mappings of one element
	// translate alike, so each element counts once.
	var parts []string
	for _, a := range m.Attrs {
		if !sameAttr(a.SCIM, h.Path) || a.SCIM.Filter == nil {
			continue
		}
		sel, _ := selectorOf(a.SCIM.Filter)
		f, err := m.inner(ctx, h.Path.Filter, a, sel, r)
		if err != nil {
			return "", err
		}
		if f = andPresent(m.elementPresent(a), f); f != matchNone && !containsString(parts, f) {
			parts = append(parts, f)
		}
	}
	if len(parts) == 0 {
		return matchNone, nil
	}
	return orAll(parts), nil
}

// elementPresent is the LDAP filter for "the element a maps exists": one of
// the element's mapped sub-attributes has a value.
func (m *Map) elementPresent(a *Attr) string {
	sel, _ := selectorOf(a.SCIM.Filter)
	var parts []string
	for _, b := range m.Attrs {
		if b.SCIM.Filter == nil || !strings.EqualFold(b.SCIM.Attr, a.SCIM.Attr) || !strings.EqualFold(b.SCIM.URN, a.SCIM.URN) {
			continue
		}
		if s, _ := selectorOf(b.SCIM.Filter); s == sel {
			parts = append(parts, "("+b.LDAP+"=*)")
		}
	}
	return orAll(parts)
}

// andPresent is (&present f), without the conjunct when f already implies
// present (f is present, or an AND that begins with it: present is a whole
// filter, so it is then f's first operand) or cannot match anyway.
func andPresent(present, f string) string {
	switch {
	case f == matchAll:
		return present
	case f == matchNone, f == present, strings.HasPrefix(f, "(&"+present):
		return f
	}
	return "(&" + present + f + ")"
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// inner translates a value filter for one typed element mapping a.
func (m *Map) inner(ctx context.Context, e filter.Expr, a *Attr, sel selector, r Resolver) (string, error) {
	switch t := e.(type) {
	case *filter.And:
		return m.innerPair(ctx, "&", t.Left, t.Right, a, sel, r)
	case *filter.Or:
		return m.innerPair(ctx, "|", t.Left, t.Right, a, sel, r)
	case *filter.Not:
		x, err := m.inner(ctx, t.X, a, sel, r)
		if err != nil {
			return "", err
		}
		return negate(x), nil
	case *filter.Compare:
		if strings.EqualFold(t.Path.Attr, sel.key) {
			if matchesConst(sel.value, t) {
				return m.elementPresent(a), nil
			}
			return matchNone, nil
		}
		if strings.EqualFold(t.Path.Attr, a.SCIM.SubAttr) {
			return compareAttr(a.LDAP, t)
		}
		// Another sub-attribute of the element: look for its own mapping.
		sub := filter.Path{URN: a.SCIM.URN, Attr: a.SCIM.Attr, Filter: a.SCIM.Filter, SubAttr: t.Path.Attr}
		return m.compare(ctx, &filter.Compare{Path: sub, Op: t.Op, Value: t.Value}, r)
	}
	return "", scimerr.New(scimerr.InvalidFilter, "unsupported value filter %s", e.String())
}

func (m *Map) innerPair(ctx context.Context, op string, l, rt filter.Expr, a *Attr, sel selector, r Resolver) (string, error) {
	x, err := m.inner(ctx, l, a, sel, r)
	if err != nil {
		return "", err
	}
	y, err := m.inner(ctx, rt, a, sel, r)
	if err != nil {
		return "", err
	}
	// The type test is decided from the mapping, so constants are common
	// here; folding them keeps the filter the directory evaluates short.
	absorbing, neutral := matchNone, matchAll
	if op == "|" {
		absorbing, neutral = matchAll, matchNone
	}
	switch {
	case x == absorbing || y == absorbing:
		return absorbing, nil
	case x == neutral:
		return y, nil
	case y == neutral:
		return x, nil
	}
	return "(" + op + x + y + ")", nil
}

func negate(x string) string {
	switch x {
	case matchNone:
		return matchAll
	case matchAll:
		return matchNone
	}
	return "(!" + x + ")"
}

// matchesConst evaluates a comparison of the element's selector (its type, or
// primary), known from the mapping, without asking the directory.
func matchesConst(typ string, c *filter.Compare) bool {
	v := scalarString(c.Value)
	t, v := strings.ToLower(typ), strings.ToLower(v)
	switch c.Op {
	case filter.Eq:
		return t == v
	case filter.Ne:
		return t != v
	case filter.Co:
		return strings.Contains(t, v)
	case filter.Sw:
		return strings.HasPrefix(t, v)
	case filter.Ew:
		return strings.HasSuffix(t, v)
	case filter.Pr:
		return true
	case filter.Gt:
		return t > v
	case filter.Ge:
		return t >= v
	case filter.Lt:
		return t < v
	case filter.Le:
		return t <= v
	}
	return false
}

// pathAttrs returns the mappings a filter path designates: one for
// emails[type eq "work"].value, every typed e-mail mapping for emails.value.
func (m *Map) pathAttrs(p filter.Path) []*Attr {
	var out []*Attr
	for _, a := range m.Attrs {
		if !sameAttr(a.SCIM, p) {
			continue
		}
		if p.Filter != nil {
			if a.SCIM.Filter == nil {
				continue
			}
			want, ok1 := selectorOf(p.Filter)
			have, _ := selectorOf(a.SCIM.Filter)
			if !ok1 || want != have {
				continue
			}
		}
		sub := p.SubAttr
		if sub == "" && (a.SCIM.Filter != nil || a.Ref) {
			sub = "value" // RFC 7644 §3.4.2.2: a multi-valued attribute compares its value
		}
		want := a.SCIM.SubAttr
		if a.Ref && want == "" {
			want = "value"
		}
		if !strings.EqualFold(sub, want) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// sameAttr compares schema and attribute name. An unqualified name also finds an
// extension attribute (department), as lenient clients expect.
func sameAttr(mapped, p filter.Path) bool {
	if !strings.EqualFold(mapped.Attr, p.Attr) {
		return false
	}
	if p.URN == "" || strings.EqualFold(p.URN, SchemaUser) {
		return true
	}
	return strings.EqualFold(mapped.URN, p.URN)
}

func (m *Map) refFilter(ctx context.Context, a *Attr, c *filter.Compare, r Resolver) (string, error) {
	switch c.Op {
	case filter.Pr:
		return "(" + a.LDAP + "=*)", nil
	case filter.Eq, filter.Ne:
	default:
		return "", scimerr.New(scimerr.InvalidFilter, "%s supports only eq, ne and pr", c.Path.String())
	}
	if c.Value == nil {
		// manager eq null: no manager, as for any other attribute; there is no
		// id to resolve.
		return compareAttr(a.LDAP, c)
	}
	id, _ := c.Value.(string)
	dn, err := r.DNOf(ctx, id)
	f := ""
	switch {
	case scimerr.KindOf(err) == scimerr.NotFound:
		f = matchNone
	case err != nil:
		return "", err
	default:
		f = "(" + a.LDAP + "=" + ldap.EscapeFilter(dn) + ")"
	}
	if c.Op == filter.Ne {
		return "(!" + f + ")", nil
	}
	return f, nil
}

func (m *Map) activeFilter(c *filter.Compare) (string, error) {
	if c.Op == filter.Pr {
		return matchAll, nil
	}
	want, ok := scimjson.ParseBool(c.Value)
	if !ok || (c.Op != filter.Eq && c.Op != filter.Ne) {
		return "", scimerr.New(scimerr.InvalidFilter, `active supports eq and ne with true or false`)
	}
	if c.Op == filter.Ne {
		want = !want
	}
	var disabled string
	switch d := m.Disable.(type) {
	case ppolicy:
		// Only the bridge's own lock: a brute-force or admin lockout is not a
		// SCIM disable (see ppolicy.Disabled).
		disabled = "(pwdAccountLockedTime=" + lockedForever + ")"
	case attrDisabler:
		disabled = "(" + d.attr + "=" + ldap.EscapeFilter(d.disabled) + ")"
	case uacDisabler:
		// LDAP_MATCHING_RULE_BIT_AND: the ACCOUNTDISABLE bit is set.
		disabled = "(userAccountControl:1.2.840.113556.1.4.803:=2)"
	default:
		if want {
			return matchAll, nil
		}
		return matchNone, nil
	}
	if want {
		return "(!" + disabled + ")", nil
	}
	return disabled, nil
}

// metaFilter supports meta.created and meta.lastModified, which are the
// directory's own timestamps.
func metaFilter(c *filter.Compare) (string, error) {
	var attr string
	switch strings.ToLower(c.Path.SubAttr) {
	case "created":
		attr = "createTimestamp"
	case "lastmodified":
		attr = "modifyTimestamp"
	default:
		return unmapped(c), nil
	}
	if c.Op == filter.Pr {
		return "(" + attr + "=*)", nil
	}
	s, _ := c.Value.(string)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return "", scimerr.New(scimerr.InvalidFilter, "%s needs an RFC 3339 date-time, got %q", c.Path.String(), s)
	}
	gt := t.UTC().Format("20060102150405Z")
	return compareAttr(attr, &filter.Compare{Path: c.Path, Op: c.Op, Value: gt})
}

// unmapped decides a comparison on an attribute the map does not hold: such an
// attribute is absent from every entry. Answering (not failing) keeps Entra's
// probes on its default attributes from quarantining the job.
func unmapped(c *filter.Compare) string {
	// "eq null" asks for entries without a value (RFC 7644 §3.4.2.2 treats null
	// as unassigned): that is every entry, as compareAttr answers for a mapped
	// attribute; "ne null" is then none.
	switch {
	case c.Op == filter.Ne && c.Value != nil, c.Op == filter.Eq && c.Value == nil:
		return matchAll
	}
	return matchNone
}

// compareAttr renders one comparison on an LDAP attribute. Every value is
// escaped here; `*` in a value is a literal star, never a wildcard.
func compareAttr(attr string, c *filter.Compare) (string, error) {
	if c.Op == filter.Pr {
		return "(" + attr + "=*)", nil
	}
	if c.Value == nil {
		// attr eq null means "has no value" (RFC 7644 §3.4.2.2 treats null as
		// unassigned).
		if render, ok := nullFilters[c.Op]; ok {
			return render(attr), nil
		}
		return "", scimerr.New(scimerr.InvalidFilter, "%s: null only works with eq and ne", c.Path.String())
	}
	v := scalarString(c.Value)
	if strings.IndexByte(v, 0) >= 0 {
		return "", scimerr.New(scimerr.InvalidFilter, "filter value contains a NUL byte")
	}
	render, ok := valueFilters[c.Op]
	if !ok {
		return "", scimerr.New(scimerr.InvalidFilter, "unknown operator %q", string(c.Op))
	}
	return render(attr, ldap.EscapeFilter(v)), nil
}

// nullFilters render "attr op null" per operator.
var nullFilters = map[filter.Op]func(attr string) string{
	filter.Eq: func(attr string) string { return "(!(" + attr + "=*))" },
	filter.Ne: func(attr string) string { return "(" + attr + "=*)" },
}

// valueFilters render "attr op value" per operator, given the escaped value.
// LDAP has no strict order matches: gt is "ge and not eq", lt alike.
var valueFilters = map[filter.Op]func(attr, ev string) string{
	filter.Eq: func(attr, ev string) string { return "(" + attr + "=" + ev + ")" },
	filter.Ne: func(attr, ev string) string { return "(!(" + attr + "=" + ev + "))" },
	filter.Co: substring("*", "*"),
	filter.Sw: substring("", "*"),
	filter.Ew: substring("*", ""),
	filter.Ge: func(attr, ev string) string { return "(" + attr + ">=" + ev + ")" },
	filter.Le: func(attr, ev string) string { return "(" + attr + "<=" + ev + ")" },
	filter.Gt: func(attr, ev string) string { return "(&(" + attr + ">=" + ev + ")(!(" + attr + "=" + ev + ")))" },
	filter.Lt: func(attr, ev string) string { return "(&(" + attr + "<=" + ev + ")(!(" + attr + "=" + ev + ")))" },
}

// substring renders co, sw and ew: the value between the wildcards pre and
// post. An empty value contains, starts and ends every value: it is a
// presence test (an LDAP substring filter needs at least one character).
func substring(pre, post string) func(attr, ev string) string {
	return func(attr, ev string) string {
		if ev == "" {
			return "(" + attr + "=*)"
		}
		return "(" + attr + "=" + pre + ev + post + ")"
	}
}

func orAll(parts []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return "(|" + strings.Join(parts, "") + ")"
}

// equals is the equality filter (attr=v), v escaped: the assertions of
// PlanBlind.
func equals(attr, v string) string { return "(" + attr + "=" + ldap.EscapeFilter(v) + ")" }
