package ldapmap

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// Resolver turns manager references between SCIM ids and DNs. The bridge
// implements it with LDAP lookups; ldapmap only calls it when a reference is
// present or changes.
type Resolver interface {
	// DNOf returns the DN of the user with SCIM id id, or a scimerr NotFound.
	DNOf(ctx context.Context, id string) (string, error)
	// IDOf returns the SCIM id of the user at dn, or a scimerr NotFound.
	IDOf(ctx context.Context, dn string) (string, error)
	// Unresolved hears of a reference left unwritten because DNOf found no
	// such user, so that the request's log can name it.
	Unresolved(ctx context.Context, path, id string)
}

var errBadBool = scimerr.New(scimerr.InvalidValue, `"active" must be a boolean (or "True"/"False")`)

// ID returns the SCIM id of an entry: the value of the id attribute.
func (m *Map) ID(e *ldap.Entry) string { return idOf(e, m.IDAttr) }

// Version is the entry's weak ETag (RFC 7644 §3.14): entryCSN changes on every
// write, modifyTimestamp is the fallback with one-second resolution.
func Version(e *ldap.Entry) string {
	v := e.GetEqualFoldAttributeValue("entryCSN")
	if v == "" {
		v = e.GetEqualFoldAttributeValue("uSNChanged")
	}
	if v == "" {
		v = e.GetEqualFoldAttributeValue("modifyTimestamp")
	}
	if v == "" {
		return ""
	}
	return `W/"` + strings.ReplaceAll(v, `"`, "") + `"`
}

// FromEntry renders the entry as a SCIM User. meta.location is left to the
// HTTP layer, which knows the public URL.
func (m *Map) FromEntry(ctx context.Context, e *ldap.Entry, r Resolver) (Resource, error) {
	res := Resource{"id": m.ID(e)}
	for _, a := range m.Attrs {
		v := e.GetEqualFoldAttributeValue(a.LDAP)
		if v == "" {
			continue
		}
		if a.Ref {
			id, err := r.IDOf(ctx, v)
			if scimerr.KindOf(err) == scimerr.NotFound {
				// A manager outside the managed subtree has no SCIM id: leave it
				// out rather than fail the whole read.
				continue
			}
			if err != nil {
				return nil, err
			}
			v = id
		}
		a.SetValue(res, v)
	}
	schemas := []any{SchemaGroup}
	if m.Roles != nil {
		if roles := m.Roles.render(e); len(roles) > 0 {
			res["roles"] = roles
		}
	}
	if m.Kind == "User" {
		res["active"] = !m.Disable.Disabled(e)
		schemas = []any{SchemaUser}
		if _, ok := res[SchemaEnterprise]; ok {
			schemas = append(schemas, SchemaEnterprise)
		}
	}
	res["schemas"] = schemas
	meta := map[string]any{"resourceType": m.Kind}
	if t, ok := generalizedTime(e.GetEqualFoldAttributeValue("createTimestamp")); ok {
		meta["created"] = t
	}
	if t, ok := generalizedTime(e.GetEqualFoldAttributeValue("modifyTimestamp")); ok {
		meta["lastModified"] = t
	}
	if v := Version(e); v != "" {
		meta["version"] = v
	}
	res["meta"] = meta
	return res, nil
}

// generalizedTime converts LDAP GeneralizedTime (20261122103613Z, with optional
// fraction) to RFC 3339 as SCIM's dateTime wants (RFC 7643 §2.3.5).
func generalizedTime(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	t, err := time.Parse("20060102150405Z0700", s)
	if err != nil {
		return "", false
	}
	return t.UTC().Format(time.RFC3339), true
}

// PlanAdd turns a SCIM User into the LDAP add that creates it.
func (m *Map) PlanAdd(ctx context.Context, res Resource, r Resolver) (*ldap.AddRequest, error) {
	if err := m.checkTypes(res); err != nil {
		return nil, err
	}
	vals, err := m.addValues(ctx, res, r)
	if err != nil {
		return nil, err
	}
	if err := m.deriveMissing(vals); err != nil {
		return nil, err
	}
	rdnVal, err := m.addRDN(vals)
	if err != nil {
		return nil, err
	}
	active, present, err := Active(res)
	if err != nil {
		return nil, err
	}
	req := ldap.NewAddRequest(m.DN(rdnVal), nil)
	req.Attribute("objectClass", m.ObjectClasses)
	for _, name := range vals.names() {
		req.Attribute(name, vals[strings.ToLower(name)].vals)
	}
	if err := m.addUnmapped(req, res, present && !active); err != nil {
		return nil, err
	}
	return req, nil
}

// addValues are the LDAP values of the mapped attributes of a new entry.
func (m *Map) addValues(ctx context.Context, res Resource, r Resolver) (values, error) {
	userName := m.UserNameAttr()
	vals := values{}
	for _, a := range m.Attrs {
		v := a.Value(res)
		if v == "" {
			continue
		}
		if a == userName || a == m.rdnAttr {
			if err := checkName(a.SCIM.String(), v); err != nil {
				return nil, err
			}
		}
		v, ok, err := storedValue(ctx, a, v, r)
		if err != nil {
			return nil, err
		}
		if ok {
			vals.set(a.LDAP, v)
		}
	}
	return vals, nil
}

// deriveMissing fills the derived attributes (users.derive) that the mapped
// ones left empty.
func (m *Map) deriveMissing(vals values) error {
	for _, d := range m.derives {
		if vals.get(d.attr) != "" {
			continue
		}
		v, err := d.eval(vals)
		if err != nil {
			return err
		}
		if v != "" {
			vals.set(d.attr, v)
		}
	}
	return nil
}

// addRDN is the value that names a new entry: mapped, or derived (and then
// checked as a name, since no SCIM attribute was checked for it).
func (m *Map) addRDN(vals values) (string, error) {
	rdnVal := vals.get(m.RDN)
	if rdnVal == "" {
		what := m.RDN
		if m.rdnAttr != nil {
			what = m.rdnAttr.SCIM.String()
		}
		return "", scimerr.New(scimerr.InvalidValue, "%s is required (it names the LDAP entry)", what)
	}
	if m.rdnAttr == nil {
		if err := m.checkDerivedName(rdnVal, vals); err != nil {
			return "", err
		}
	}
	return rdnVal, nil
}

// addUnmapped adds what the attribute map does not hold: the password, the
// disabled state (disabled when active is false) and the roles attribute.
func (m *Map) addUnmapped(req *ldap.AddRequest, res Resource, disabled bool) error {
	pw, err := m.newPassword(res)
	if err != nil {
		return err
	}
	if pw != "" {
		req.Attribute(m.Password, []string{pw})
	}
	for _, a := range m.Disable.Create(disabled) {
		req.Attribute(a.Type, a.Vals)
	}
	if m.Roles == nil || m.Roles.Attr == "" {
		return nil
	}
	roles, err := m.Roles.ForCreate(res)
	if err != nil {
		return err
	}
	if len(roles) > 0 {
		req.Attribute(m.Roles.Attr, roles)
	}
	return nil
}

// NameCandidate returns the n-th variant (n >= 2) of an AD user add whose CN or
// sAMAccountName is taken: "Jane Doe (2)" and "jdoe2". The sequence is
// predictable, and each step is logged, so an admin can tell who got which name.
func (m *Map) NameCandidate(base *ldap.AddRequest, n int) *ldap.AddRequest {
	req := &ldap.AddRequest{Controls: base.Controls}
	rdnVal := ""
	for _, a := range base.Attributes {
		vals := a.Vals
		switch {
		case strings.EqualFold(a.Type, m.RDN) && len(vals) == 1:
			rdnVal = fmt.Sprintf("%s (%d)", vals[0], n)
			vals = []string{rdnVal}
		case strings.EqualFold(a.Type, "sAMAccountName") && len(vals) == 1:
			vals = []string{SAMCandidate(vals[0], n)}
		}
		req.Attributes = append(req.Attributes, ldap.Attribute{Type: a.Type, Vals: vals})
	}
	req.DN = m.DN(rdnVal)
	return req
}

// EnableAfterAdd tells whether a user just added (disabled, as AD requires
// until it has a password) must now be enabled: Windows-safe order, password
// first, then enable.
func (m *Map) EnableAfterAdd(res Resource) bool {
	if _, ok := m.Disable.(uacDisabler); !ok {
		return false
	}
	active, present, _ := Active(res)
	return active || !present
}

// newPassword is the encoded password for a new entry: SCIM's password, or a
// random one when configured, or none.
func (m *Map) newPassword(res Resource) (string, error) {
	if m.Password == "" {
		return "", nil
	}
	pw, err := passwordValue(res)
	if err != nil {
		return "", err
	}
	if pw == "" && m.RandomPassword {
		pw = RandomPassword()
	}
	return m.encodePassword(pw), nil
}

func passwordValue(res Resource) (string, error) {
	v, _ := scimjson.Lookup(res, "password")
	if v == nil {
		return "", nil
	}
	pw, ok := v.(string)
	if !ok || strings.IndexByte(pw, 0) >= 0 || len(pw) > 512 {
		return "", scimerr.New(scimerr.InvalidValue, "password must be a string of at most 512 bytes")
	}
	return pw, nil
}

func (m *Map) encodePassword(pw string) string {
	if pw == "" {
		return ""
	}
	if strings.EqualFold(m.Password, "unicodePwd") {
		return UnicodePwd(pw)
	}
	return pw
}

// Update is what one SCIM PUT or PATCH does to an entry: an optional rename
// (modrdn, when the RDN attribute changes) and one modify of only the changed
// attributes.
type Update struct {
	// NewRDN is the escaped new RDN ("uid=new"), "" when the name is unchanged.
	NewRDN string
	// Changes are sorted by attribute name so logs and tests are stable.
	Changes []ldap.Change
	// Assert, when set, is an LDAP filter the entry must still match when the
	// first write arrives (the assertion control, RFC 4528): an If-Match that
	// the directory itself checks, so no concurrent write slips in between.
	Assert string
	// Roles are the user's roles after the update, when they changed;
	// JoinGroups and LeaveGroups the role groups (users.roles.groups) whose
	// membership changes with them, written after the user's own modify.
	Roles                   []string
	JoinGroups, LeaveGroups []string
}

// Empty tells whether the update writes nothing.
func (u *Update) Empty() bool {
	return u.NewRDN == "" && len(u.Changes) == 0 && len(u.JoinGroups) == 0 && len(u.LeaveGroups) == 0
}

// Attributes lists the LDAP attributes the update writes (for logs: names only,
// values may be personal or secret).
func (u *Update) Attributes() []string {
	var out []string
	for _, c := range u.Changes {
		out = append(out, c.Modification.Type)
	}
	return out
}

// PlanUpdate compares the resource before (as rendered from e) and after a PUT or
// PATCH and returns the LDAP writes for what changed. Comparing at the SCIM level
// means LDAP values the map does not show (a second mail value, say) survive an
// update that does not touch them.
func (m *Map) PlanUpdate(ctx context.Context, e *ldap.Entry, before, after Resource, r Resolver) (*Update, error) {
	if err := m.checkTypes(after); err != nil {
		return nil, err
	}
	u := &Update{}
	// post is the entry as it will be after the update, for the templates of
	// derived attributes.
	post := valuesOf(e)
	userName := m.UserNameAttr()
	for _, a := range m.Attrs {
		ov, nv := a.Value(before), a.Value(after)
		if ov == nv {
			continue
		}
		if err := m.planAttr(ctx, a, nv, a == userName, post, u, r); err != nil {
			return nil, err
		}
	}
	for _, d := range m.derives {
		if err := m.rederive(d, post, u); err != nil {
			return nil, err
		}
	}
	if err := m.renameDerived(post, u); err != nil {
		return nil, err
	}
	if err := m.planPassword(after, u); err != nil {
		return nil, err
	}
	if err := m.planActive(e, after, u); err != nil {
		return nil, err
	}
	if m.Roles != nil {
		if err := m.planRoles(e, after, u); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(u.Changes, func(i, j int) bool {
		return strings.ToLower(u.Changes[i].Modification.Type) < strings.ToLower(u.Changes[j].Modification.Type)
	})
	return u, nil
}

// planAttr plans the write for mapped attribute a, whose new value is nv ("" when
// removed), and records it in post. userName tells whether a is userName,
// which like the naming attribute must stay visible.
func (m *Map) planAttr(ctx context.Context, a *Attr, nv string, userName bool, post values, u *Update, r Resolver) error {
	if (a == m.rdnAttr || userName) && nv != "" {
		if err := checkName(a.SCIM.String(), nv); err != nil {
			return err
		}
	}
	switch {
	case a == m.rdnAttr:
		return m.planRename(a, nv, post, u)
	case nv == "":
		if post.get(a.LDAP) != "" {
			u.Changes = append(u.Changes, ldap.Change{
				Operation:    ldap.DeleteAttribute,
				Modification: ldap.PartialAttribute{Type: a.LDAP, Vals: []string{}},
			})
		}
		post.del(a.LDAP)
		return nil
	}
	nv, ok, err := storedValue(ctx, a, nv, r)
	if err != nil || !ok {
		return err // not ok: an unresolved reference, the stored manager stays as it is
	}
	u.Changes = append(u.Changes, replace(a.LDAP, nv))
	post.set(a.LDAP, nv)
	return nil
}

// planRename plans the new value nv of the mapped naming attribute a: a
// modrdn, never a modify, and never a removal.
func (m *Map) planRename(a *Attr, nv string, post values, u *Update) error {
	if nv == "" {
		return scimerr.New(scimerr.Mutability, "%s cannot be removed: it names the LDAP entry", a.SCIM.String())
	}
	if err := checkValue(a, nv); err != nil {
		return err
	}
	u.NewRDN = m.RDNString(nv)
	post.set(a.LDAP, nv)
	return nil
}

// renameDerived turns a change of a derived naming attribute (AD's
// CN=<display name>) into a modrdn: AD refuses to modify an RDN attribute.
func (m *Map) renameDerived(post values, u *Update) error {
	if m.rdnAttr != nil {
		return nil
	}
	for i, c := range u.Changes {
		if strings.EqualFold(c.Modification.Type, m.RDN) && len(c.Modification.Vals) == 1 {
			if err := m.checkDerivedName(c.Modification.Vals[0], post); err != nil {
				return err
			}
			u.NewRDN = m.RDNString(c.Modification.Vals[0])
			u.Changes = append(u.Changes[:i], u.Changes[i+1:]...)
			break
		}
	}
	return nil
}

// planPassword replaces the password when the update sets one.
func (m *Map) planPassword(after Resource, u *Update) error {
	if m.Password == "" {
		return nil
	}
	pw, err := passwordValue(after)
	if err != nil {
		return err
	}
	if pw != "" {
		u.Changes = append(u.Changes, replace(m.Password, m.encodePassword(pw)))
	}
	return nil
}

// planActive disables or enables the entry when "active" is present and
// differs from the entry's state.
func (m *Map) planActive(e *ldap.Entry, after Resource, u *Update) error {
	active, present, err := Active(after)
	if err != nil {
		return err
	}
	if present && active == m.Disable.Disabled(e) {
		u.Changes = append(u.Changes, m.Disable.Changes(e, active)...)
	}
	return nil
}

// rederive keeps a derived attribute right after an update: a derived attribute
// that is also mapped is only filled when the update left it empty (so the MUST
// attribute sn survives "remove name.familyName"); one that is not mapped is a
// pure function of the others and follows them.
func (m *Map) rederive(d *derive, post values, u *Update) error {
	_, mapped := m.byLDAP[strings.ToLower(d.attr)]
	cur := post.get(d.attr)
	if mapped && cur != "" {
		return nil
	}
	v, err := d.eval(post)
	if err != nil {
		return err
	}
	if v == "" || v == cur {
		return nil
	}
	for i, c := range u.Changes {
		if strings.EqualFold(c.Modification.Type, d.attr) {
			u.Changes = append(u.Changes[:i], u.Changes[i+1:]...)
			break
		}
	}
	u.Changes = append(u.Changes, replace(d.attr, v))
	post.set(d.attr, v)
	return nil
}

func replace(attr, v string) ldap.Change {
	return ldap.Change{Operation: ldap.ReplaceAttribute, Modification: ldap.PartialAttribute{Type: attr, Vals: []string{v}}}
}

// resolveRef turns the id of a reference (the enterprise manager) into a DN.
// An id that names no managed user is not an error: Entra sends a manager
// before it has provisioned that manager (or one outside the provisioning
// scope), and failing the whole create or update would lose every other
// attribute of the request. The reference is left unwritten (""), reported to
// the resolver for the log, and Entra sends it again on a later cycle.
func resolveRef(ctx context.Context, a *Attr, id string, r Resolver) (string, error) {
	dn, err := r.DNOf(ctx, id)
	if scimerr.KindOf(err) == scimerr.NotFound {
		r.Unresolved(ctx, a.SCIM.String(), id)
		return "", nil
	}
	return dn, err
}

// storedValue is the LDAP value for a's SCIM value v: a reference resolved to
// its DN, then checked. ok is false when the reference names no managed user
// (see resolveRef): the value is left unwritten.
func storedValue(ctx context.Context, a *Attr, v string, r Resolver) (stored string, ok bool, err error) {
	if a.Ref {
		dn, err := resolveRef(ctx, a, v, r)
		if err != nil || dn == "" {
			return "", false, err
		}
		v = dn
	}
	if err := checkValue(a, v); err != nil {
		return "", false, err
	}
	return v, true, nil
}

// maxValueLen bounds one attribute value. LDAP servers accept far more, but no
// identity attribute is legitimately this long and a 10 MB value is an attack.
const maxValueLen = 64 << 10

// checkValue refuses values no directory should store: NUL bytes (C code in
// slapd and its overlays treats them as terminators) and oversized strings.
func checkValue(a *Attr, v string) error {
	if len(v) > maxValueLen {
		return scimerr.New(scimerr.InvalidValue, "%s: value longer than %d bytes", a.SCIM.String(), maxValueLen)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return scimerr.New(scimerr.InvalidValue, "%s: value contains a NUL byte", a.SCIM.String())
	}
	return nil
}

// values are LDAP attribute values keyed by lower-cased name, keeping the
// spelling of the first writer for requests.
type values map[string]struct {
	name string
	vals []string
}

func valuesOf(e *ldap.Entry) values {
	v := values{}
	if e == nil {
		return v
	}
	for _, a := range e.Attributes {
		if len(a.Values) > 0 {
			v[strings.ToLower(a.Name)] = struct {
				name string
				vals []string
			}{a.Name, a.Values}
		}
	}
	return v
}

func (v values) get(name string) string {
	if x, ok := v[strings.ToLower(name)]; ok && len(x.vals) > 0 {
		return x.vals[0]
	}
	return ""
}

func (v values) set(name, val string) {
	v[strings.ToLower(name)] = struct {
		name string
		vals []string
	}{name, []string{val}}
}

func (v values) del(name string) { delete(v, strings.ToLower(name)) }

// names returns the attribute names in sorted order.
func (v values) names() []string {
	out := make([]string, 0, len(v))
	for _, x := range v {
		out = append(out, x.name)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}
