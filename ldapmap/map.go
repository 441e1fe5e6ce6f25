// Package ldapmap is the attribute map between SCIM resources (RFC 7643) and LDAP
// entries: it turns a SCIM resource into LDAP attribute values and back, a SCIM
// filter into an LDAP filter, and active=true/false into the directory's disable
// mechanism. It is pure: no network, no HTTP. Values that reach an LDAP filter or
// DN are escaped here, in exactly one place (filter.go, dn.go).
package ldapmap

import (
	"fmt"
	"sort"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// SCIM schema URNs (RFC 7643 §8.7.1, §4.3).
const (
	SchemaUser       = scimjson.SchemaUser
	SchemaEnterprise = scimjson.SchemaEnterpriseUser
	SchemaGroup      = scimjson.SchemaGroup
)

// Attr is one mapping: a SCIM attribute path and the LDAP attribute holding it.
type Attr struct {
	// Index is the position in users.attributes, for messages.
	Index int
	SCIM  filter.Path
	LDAP  string
	// Ref marks a reference to another user (enterprise manager): SCIM carries
	// the user's id, LDAP the user's DN.
	Ref bool
}

// Map is the compiled user mapping.
type Map struct {
	// Kind is the SCIM resource type: User or Group.
	Kind   string
	BaseDN string
	baseDN *ldap.DN
	// readAttrs is ReadAttributes, fixed when New completes the map.
	readAttrs     []string
	RDN           string
	ObjectClasses []string
	IDAttr        string
	// Managed is the LDAP filter every managed entry matches: the filter and
	// the scope filter.
	Managed string
	// Scope is the scope filter as written ("" = none); scope compiled.
	Scope   string
	scope   *ber.Packet
	prefix  string // users or groups, for messages
	Attrs   []*Attr
	rdnAttr *Attr
	derives []*derive
	Disable Disabler
	Delete  config.DeleteConfig
	// MaxResults caps one list page.
	MaxResults int
	// byLDAP indexes Attrs by lower-cased LDAP name.
	byLDAP map[string]*Attr
	// members is set on a group map, so filters on members can be translated.
	members *GroupMap
	// Password is the LDAP attribute SCIM's password is written to ("" =
	// ignore it); RandomPassword gives new users one when SCIM sends none.
	Password       string
	RandomPassword bool
	// Match are the adoption rules (users.match), in order.
	Match []*MatchRule
	// Roles maps SCIM roles (users.roles); nil when not configured.
	Roles *Roles
}

// spec is what users and groups share in their configuration.
type spec struct {
	prefix        string // "users" or "groups", for problem paths
	kind          string // "User" or "Group", the SCIM resource type
	baseDN, rdn   string
	objectClasses []string
	idAttr        string
	filter        string
	scope         string // users/groups.scope_filter
	attrs         []config.AttributeMapping
	// check returns a message when a SCIM path cannot be mapped.
	check func(filter.Path) string
}

// compile builds the common part of a map, recording every problem.
func compile(s spec, ps *config.Problems) *Map {
	m := &Map{
		Kind:          s.kind,
		BaseDN:        s.baseDN,
		RDN:           s.rdn,
		ObjectClasses: s.objectClasses,
		IDAttr:        s.idAttr,
		Managed:       andFilters(s.filter, s.scope),
		Scope:         s.scope,
		prefix:        s.prefix,
		Disable:       noDisable{},
		byLDAP:        map[string]*Attr{},
	}
	if s.scope != "" {
		// An invalid filter is config.Validate's to report.
		m.scope, _ = ldap.CompileFilter(s.scope)
	}
	m.baseDN = ps.DN(s.prefix+".base_dn", s.baseDN)
	seenSCIM := map[string]int{}
	for i, a := range s.attrs {
		p := fmt.Sprintf("%s.attributes[%d]", s.prefix, i)
		path, err := filter.ParsePath(a.SCIM)
		if err != nil {
			ps.Add(p+".scim", "%v", err)
			continue
		}
		if msg := s.check(path); msg != "" {
			ps.Add(p+".scim", "%s", msg)
			continue
		}
		if strings.EqualFold(path.URN, SchemaEnterprise) {
			// The URN names the extension object in responses, and Entra only
			// knows the canonical spelling (docs/entra-wire-reference.md §7.16).
			path.URN = SchemaEnterprise
		}
		key := strings.ToLower(path.String())
		if j, dup := seenSCIM[key]; dup {
			ps.Add(p+".scim", "%q is already mapped by %s.attributes[%d]", a.SCIM, s.prefix, j)
			continue
		}
		seenSCIM[key] = i
		if j, dup := m.byLDAP[strings.ToLower(a.LDAP)]; dup {
			ps.Add(p+".ldap", "LDAP attribute %q is already the target of %s.attributes[%d]", a.LDAP, s.prefix, j.Index)
			continue
		}
		attr := &Attr{Index: i, SCIM: path, LDAP: a.LDAP, Ref: s.kind == "User" && isManager(path)}
		m.Attrs = append(m.Attrs, attr)
		m.byLDAP[strings.ToLower(a.LDAP)] = attr
		if strings.EqualFold(a.LDAP, s.rdn) {
			m.rdnAttr = attr
		}
	}
	if m.rdnAttr != nil && m.rdnAttr.Ref {
		ps.Add(s.prefix+".rdn", "RDN attribute %q cannot hold a reference", s.rdn)
	}
	return m
}

// checkRDN requires the naming attribute to get a value on create: mapped, or
// derived (AD names users CN=<display name>, derived).
func (m *Map) checkRDN(prefix string, ps *config.Problems) {
	if m.rdnAttr != nil {
		return
	}
	for _, d := range m.derives {
		if strings.EqualFold(d.attr, m.RDN) {
			return
		}
	}
	ps.Add(prefix+".rdn", "RDN attribute %q is not the target of any %s.attributes or %s.derive entry", m.RDN, prefix, prefix)
}

// New compiles the user mapping and returns every problem at its YAML path.
func New(cfg config.UsersConfig) (*Map, error) {
	var ps config.Problems
	m := compile(spec{
		prefix: "users", kind: "User", baseDN: cfg.BaseDN, rdn: cfg.RDN, objectClasses: cfg.ObjectClasses,
		idAttr: cfg.IDAttribute, filter: cfg.Filter, scope: cfg.ScopeFilter, attrs: cfg.Attributes, check: checkUserPath,
	}, &ps)
	m.Delete = cfg.Delete
	m.MaxResults = cfg.MaxResults
	if m.UserNameAttr() == nil {
		ps.Add("users.attributes", "userName must be mapped (it is required by RFC 7643 and Entra matches users on it)")
	}
	for i, d := range cfg.Derive {
		dv, err := newDerive(d)
		if err != nil {
			ps.Add(fmt.Sprintf("users.derive[%d].template", i), "%v", err)
			continue
		}
		m.derives = append(m.derives, dv)
	}
	m.checkRDN("users", &ps)
	m.Match = compileMatch(cfg.Match, &ps)
	m.Password = cfg.Password.Attribute
	m.RandomPassword = cfg.Password.RandomWhenMissing != nil && *cfg.Password.RandomWhenMissing
	// The rule is config's: Load reports the same problems, which the
	// caller that joins both lists (daemon.Prepare) prints once.
	ps = append(ps, cfg.Disable.Problems()...)
	m.Disable = newDisabler(cfg.Disable)
	m.Roles = newRoles(cfg.Roles)
	constants := map[string][]string{}
	for _, d := range cfg.Derive {
		if !strings.Contains(d.Template, "{{") {
			constants[strings.ToLower(d.LDAP)] = []string{d.Template}
		}
	}
	var allocated []string
	if cfg.UIDNumber.Enabled() {
		allocated = append(allocated, "uidNumber")
	}
	m.checkScopeOffline(constants, allocated, &ps)
	m.fixReadAttributes()
	return m, ps.Err()
}

// UserNameAttr is the mapping of userName, nil if absent.
func (m *Map) UserNameAttr() *Attr {
	for _, a := range m.Attrs {
		if a.SCIM.URN == "" && strings.EqualFold(a.SCIM.Attr, "userName") && a.SCIM.SubAttr == "" {
			return a
		}
	}
	return nil
}

// ExternalIDAttr is the mapping of externalId, nil if absent.
func (m *Map) ExternalIDAttr() *Attr {
	for _, a := range m.Attrs {
		if a.SCIM.URN == "" && strings.EqualFold(a.SCIM.Attr, "externalId") && a.SCIM.SubAttr == "" {
			return a
		}
	}
	return nil
}

// DisplayAttr is the LDAP attribute mapped from displayName, "" if none; it
// fills the "display" of references to this resource.
func (m *Map) DisplayAttr() string {
	for _, a := range m.Attrs {
		if a.SCIM.URN == "" && strings.EqualFold(a.SCIM.Attr, "displayName") && a.SCIM.SubAttr == "" {
			return a.LDAP
		}
	}
	return ""
}

// RDNAttr is the mapping whose LDAP attribute names new entries.
func (m *Map) RDNAttr() *Attr { return m.rdnAttr }

// ReadAttributes is the attribute list to request when reading an entry: every
// mapped attribute plus the id, the disable state and the meta attributes, which
// are operational and come back only when named. It holds what rendering and
// planning read and no more (issue 13: every name costs the directory and the
// wire on every read): objectClass, which only adoption looks at, is not in it.
func (m *Map) ReadAttributes() []string {
	if m.readAttrs != nil {
		// Clipped: a caller that appends (a group's member attribute) gets
		// a copy, never a write into the shared list.
		return m.readAttrs[:len(m.readAttrs):len(m.readAttrs)]
	}
	return m.readAttributes()
}

// fixReadAttributes computes the read list once the map is complete:
// building it per request was 3% of a GET's CPU.
func (m *Map) fixReadAttributes() { m.readAttrs = m.readAttributes() }

func (m *Map) readAttributes() []string {
	attrs := []string{m.IDAttr, "createTimestamp", "modifyTimestamp", "entryCSN", "uSNChanged"}
	for _, a := range m.Attrs {
		attrs = append(attrs, a.LDAP)
	}
	for _, d := range m.derives {
		attrs = append(attrs, d.attr)
	}
	attrs = append(attrs, m.Disable.Attributes()...)
	if m.Roles != nil {
		attrs = append(attrs, m.Roles.readAttributes()...)
	}
	return dedupFold(attrs)
}

func dedupFold(in []string) []string {
	seen := map[string]bool{}
	out := in[:0]
	for _, s := range in {
		k := strings.ToLower(s)
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// isManager tells whether a path is the enterprise manager reference.
func isManager(p filter.Path) bool {
	return strings.EqualFold(p.Attr, "manager") && (p.URN == "" || strings.EqualFold(p.URN, SchemaEnterprise))
}

// userSchema lists the User attributes of RFC 7643 §4.1 and the enterprise
// extension §4.3, with their sub-attributes (nil = simple attribute). A mapping
// to anything else is a typo; custom extension URNs are accepted as written.
var userSchema = map[string]map[string][]string{
	"": {
		"userName": nil, "externalId": nil, "displayName": nil, "nickName": nil, "profileUrl": nil,
		"title": nil, "userType": nil, "preferredLanguage": nil, "locale": nil, "timezone": nil,
		"name":             {"formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"},
		"emails":           {"value", "display", "type", "primary"},
		"phoneNumbers":     {"value", "display", "type", "primary"},
		"ims":              {"value", "display", "type", "primary"},
		"photos":           {"value", "display", "type", "primary"},
		"addresses":        {"formatted", "streetAddress", "locality", "region", "postalCode", "country", "type", "primary"},
		"entitlements":     {"value", "display", "type", "primary"},
		"roles":            {"value", "display", "type", "primary"},
		"x509Certificates": {"value", "display", "type", "primary"},
	},
	strings.ToLower(SchemaEnterprise): {
		"employeeNumber": nil, "costCenter": nil, "organization": nil, "division": nil, "department": nil,
		"manager": {"value"},
	},
}

// schemaAttr looks name up case-insensitively (RFC 7643 §2.1). The table keeps
// the canonical spelling so that "did you mean" suggests it.
func schemaAttr(attrs map[string][]string, name string) ([]string, bool) {
	for k, subs := range attrs {
		if strings.EqualFold(k, name) {
			return subs, true
		}
	}
	return nil, false
}

// checkUserPath returns a message when p is not a mappable User attribute.
func checkUserPath(p filter.Path) string {
	urn := strings.ToLower(p.URN)
	if urn == strings.ToLower(SchemaUser) {
		urn = ""
	}
	attrs, known := userSchema[urn]
	if !known {
		return checkExtensionPath(p, urn)
	}
	subs, ok := schemaAttr(attrs, p.Attr)
	switch {
	case !ok:
		return fmt.Sprintf("%q is not an attribute of %s%s", p.Attr, schemaName(urn), suggest(p.Attr, keys(attrs)))
	case subs == nil:
		if p.Filter != nil || p.SubAttr != "" {
			return fmt.Sprintf("%q is a simple attribute: it has no sub-attributes or value filter", p.Attr)
		}
		return ""
	case strings.EqualFold(p.Attr, "manager"):
		if p.Filter != nil || (p.SubAttr != "" && !strings.EqualFold(p.SubAttr, "value")) {
			return "map the manager reference as urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
		}
		return ""
	}
	return checkComplexPath(p, subs)
}

// checkExtensionPath checks a path in a schema userSchema does not know (urn,
// lower-cased): any URN is a custom extension, whose attributes Entra sends as
// simple values only.
func checkExtensionPath(p filter.Path, urn string) string {
	if !strings.HasPrefix(urn, "urn:") {
		return fmt.Sprintf("unknown schema %q", p.URN)
	}
	if p.Filter != nil || p.SubAttr != "" {
		return "custom extension attributes must be simple (Entra cannot send complex custom attributes)"
	}
	return ""
}

// checkComplexPath checks a path into a complex attribute with the
// sub-attributes subs: one sub-attribute of name, or of one element of a
// multi-valued attribute, chosen as Entra does (selectorOf).
func checkComplexPath(p filter.Path, subs []string) string {
	switch {
	case p.SubAttr == "":
		return fmt.Sprintf("%q is complex: map one sub-attribute, e.g. %s", p.Attr, example(p.Attr))
	case !containsFold(subs, p.SubAttr):
		return fmt.Sprintf("%q has no sub-attribute %q%s", p.Attr, p.SubAttr, suggest(p.SubAttr, subs))
	case strings.EqualFold(p.Attr, "name"):
		if p.Filter != nil {
			return `"name" is single-valued: it takes no value filter`
		}
		return ""
	case p.Filter == nil:
		return fmt.Sprintf("%q is multi-valued: select one element with a type filter, e.g. %s", p.Attr, example(p.Attr))
	}
	if _, ok := selectorOf(p.Filter); !ok {
		return `the value filter must be type eq "<type>" (one element per type, as Entra sends) or primary eq true`
	}
	return ""
}

func example(attr string) string {
	if strings.EqualFold(attr, "name") {
		return "name.givenName"
	}
	return attr + `[type eq "work"].value`
}

func schemaName(urn string) string {
	if urn == "" {
		return "the User schema (RFC 7643 §4.1)"
	}
	return "the enterprise User extension (RFC 7643 §4.3)"
}

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func lower(s string) string { return strings.ToLower(s) }

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// selector is the element a mapping's value filter picks out of a
// multi-valued attribute: type eq "work" (one element per type, as Entra
// sends), or primary eq true (Entra's SingleAppRoleAssignment sends
// roles[primary eq "True"].value).
type selector struct {
	key   string // "type" or "primary"
	value string // lower case; "true" for primary
}

// selectorOf reads a mapping's value filter; ok is false for any other form.
func selectorOf(e filter.Expr) (selector, bool) {
	c, ok := e.(*filter.Compare)
	if !ok || c.Op != filter.Eq || c.Path.URN != "" || c.Path.Filter != nil || c.Path.SubAttr != "" {
		return selector{}, false
	}
	switch {
	case strings.EqualFold(c.Path.Attr, "type"):
		s, ok := c.Value.(string)
		return selector{key: "type", value: strings.ToLower(s)}, ok
	case strings.EqualFold(c.Path.Attr, "primary"):
		b, ok := scimjson.ParseBool(c.Value)
		return selector{key: "primary", value: "true"}, ok && b
	}
	return selector{}, false
}

// matches tells whether an element of the multi-valued attribute is the one
// the selector picks.
func (s selector) matches(el map[string]any) bool {
	v, _ := scimjson.Lookup(el, s.key)
	if s.key == "primary" {
		b, _ := scimjson.ParseBool(v)
		return b
	}
	return strings.EqualFold(scalarString(v), s.value)
}

// seed is a new element the selector picks.
func (s selector) seed() map[string]any {
	if s.key == "primary" {
		return map[string]any{"primary": true}
	}
	return map[string]any{"type": s.value}
}

// suggest proposes the closest known name for a likely typo, with the same
// rule as every other "did you mean" of the configuration.
func suggest(got string, known []string) string { return config.Suggest(got, known) }
