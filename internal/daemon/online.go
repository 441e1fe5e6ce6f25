package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
)

// oidAssertion is the assertion control (RFC 4528).
const oidAssertion = "1.3.6.1.1.12"

// CheckOnline checks the configuration against the directory without writing
// anything: the configured object classes and attributes exist in its schema
// and fit together (MUST and MAY, DIT content rules included), the base DNs
// and referenced entries exist, the bind DN may add, rename and delete entries
// under the base DNs, and the disable method can work. problems are errors at
// YAML paths; warnings do not make the configuration invalid. err means the
// directory could not be reached (or stopped answering), so the online checks
// could not run.
func CheckOnline(ctx context.Context, cfg *config.Config, pool *bridge.Pool) (problems config.Problems, warnings []string, err error) {
	c := &onlineCheck{cfg: cfg, pool: pool}
	root, err := c.rootDSE(ctx)
	if err != nil {
		if p, ok := bindProblem(cfg.LDAP, err); ok {
			return config.Problems{p}, nil, nil
		}
		return nil, nil, err
	}
	// The directory's own word, not ldap.flavor: AD's schema conventions are
	// the server's, whatever the configuration expects.
	c.ad = slices.Contains(root.GetAttributeValues("supportedCapabilities"), ldapmap.ADCapabilityOID)
	schema, err := c.schema(ctx, root)
	if err == nil && schema != nil {
		c.checkSchema(schema)
	}
	if err == nil {
		err = c.checkEntries(ctx)
	}
	if err == nil {
		err = c.checkScope(ctx)
	}
	if err == nil {
		err = c.checkWrite(ctx, root)
	}
	if err == nil {
		err = c.checkSortedLists(ctx, root)
	}
	if err == nil && cfg.Users.Disable.Method == "ppolicy" && (schema == nil || schema.Attribute("pwdAccountLockedTime") != nil) {
		err = c.checkLockout(ctx, root)
	}
	if err != nil {
		return nil, nil, err
	}
	// The configuration's own warnings (one number counter on replicas):
	// validate prints them with the directory's.
	return c.ps, append(cfg.Warnings(), c.warns...), nil
}

type onlineCheck struct {
	cfg   *config.Config
	pool  *bridge.Pool
	ps    config.Problems
	warns []string
	// ad: the root DSE says Active Directory (or Samba), whose DC fills in
	// some MUST attributes by itself (ldapmap.ADFillsOnAdd).
	ad bool
}

func (c *onlineCheck) warn(path, format string, args ...any) {
	c.warns = append(c.warns, path+": "+fmt.Sprintf(format, args...))
}

// bindProblem turns a refused bind into a problem of the configuration: the
// directory answered, so it is not "unreachable". The pool reports it as
// ErrDown (no connection could be had) caused by the bind's LDAP error.
func bindProblem(cfg config.LDAPConfig, err error) (config.Problem, bool) {
	var le *ldap.Error
	if !errors.Is(err, bridge.ErrDown) || !errors.As(err, &le) || le.ResultCode == ldap.ErrorNetwork {
		return config.Problem{}, false
	}
	if le.ResultCode == ldap.LDAPResultInvalidCredentials {
		return config.Problem{
			Path: "ldap.bind_password",
			Msg:  fmt.Sprintf("the directory refused the bind as %q: invalid credentials (wrong bind_dn or bind_password)", cfg.BindDN),
		}, true
	}
	return config.Problem{Path: "ldap.bind_dn", Msg: fmt.Sprintf("the directory refused the bind as %q: %s: %v",
		cfg.BindDN, ldap.LDAPResultCodeMap[le.ResultCode], le.Err)}, true
}

// rootDSE reads what the checks need from the root DSE (RFC 4512 §5.1). A
// directory that hides it gives an empty entry, not an error.
func (c *onlineCheck) rootDSE(ctx context.Context) (*ldap.Entry, error) {
	res, err := c.pool.Search(ctx, ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"objectClass", "subschemaSubentry", "namingContexts", "supportedCapabilities", "supportedControl"}, nil))
	switch {
	case bridge.ConnectionLost(err):
		return nil, err
	case err != nil || len(res.Entries) == 0:
		c.warn("ldap", "cannot read the root DSE (%v); some checks are skipped", err)
		return &ldap.Entry{}, nil
	}
	return res.Entries[0], nil
}

// schema reads the subschema entry (RFC 4512 §4.4). Nil, without error, when
// it cannot be read: the schema checks are then skipped with a warning. The
// DIT content rules matter on AD: they carry what the auxiliary classes of
// user and group (securityPrincipal: sAMAccountName) add.
func (c *onlineCheck) schema(ctx context.Context, root *ldap.Entry) (*ldapmap.Schema, error) {
	dn := root.GetAttributeValue("subschemaSubentry")
	if dn == "" {
		dn = "cn=Subschema"
	}
	res, err := c.pool.Search(ctx, ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=subschema)", []string{"attributeTypes", "objectClasses", "dITContentRules"}, nil))
	if bridge.ConnectionLost(err) {
		return nil, err
	}
	if err != nil || len(res.Entries) == 0 {
		c.warn("ldap", "cannot read the directory schema at %q (%v): object classes and attributes were not checked", dn, err)
		return nil, nil
	}
	e := res.Entries[0]
	s, perr := ldapmap.NewSchema(e.GetAttributeValues("attributeTypes"), e.GetAttributeValues("objectClasses"),
		e.GetAttributeValues("dITContentRules"))
	if perr != nil {
		c.warn("ldap", "some schema descriptions at %q could not be parsed and were ignored: %v",
			dn, strings.ReplaceAll(perr.Error(), "\n", "; "))
	}
	return s, nil
}

// checkRoles warns where users.roles would not work as configured: a
// single-valued role attribute refuses a second role, and without one the
// roles are read back from memberOf.
func (c *onlineCheck) checkRoles(s *ldapmap.Schema) {
	r := c.cfg.Users.Roles
	if at := s.Attribute(r.Attribute); r.Attribute != "" && at != nil && at.SingleValue {
		c.warn("users.roles.attribute", "%s is single-valued: a user with two roles (AppRoleAssignmentsComplex) will be refused", at.Name())
	}
	if r.Attribute == "" && len(r.Groups) > 0 && s.Attribute("memberOf") == nil {
		c.warn("users.roles.groups", "the directory has no memberOf attribute (OpenLDAP: overlay memberof), from which roles are "+
			"read back without users.roles.attribute: GET will show no roles and Entra will re-send them; set users.roles.attribute")
	}
}

// attrRef is one LDAP attribute named by the configuration.
type attrRef struct {
	path, name string
	// readOnly: the bridge only reads it (id_attribute), so it may be
	// operational and not user-modifiable.
	readOnly bool
	// sets: new entries carry it, so it satisfies a MUST.
	sets bool
}

// entryKind is what users and groups share: classes and attributes.
type entryKind struct {
	prefix  string
	classes []string
	refs    []attrRef
	// generated is an attribute the bridge fills by itself (gidNumber).
	generated string
	setBy     string // where a MUST attribute can be set, for messages
}

func (c *onlineCheck) checkSchema(s *ldapmap.Schema) {
	u := c.cfg.Users
	users := entryKind{prefix: "users", classes: u.ObjectClasses, setBy: "users.attributes or users.derive"}
	for i, a := range u.Attributes {
		users.refs = append(users.refs, attrRef{path: fmt.Sprintf("users.attributes[%d].ldap", i), name: a.LDAP, sets: true})
	}
	for i, d := range u.Derive {
		users.refs = append(users.refs, attrRef{path: fmt.Sprintf("users.derive[%d].ldap", i), name: d.LDAP, sets: true})
	}
	if u.Disable.Method == "attribute" {
		users.refs = append(users.refs, attrRef{path: "users.disable.attribute", name: u.Disable.Attribute})
	}
	users.refs = append(users.refs, attrRef{path: "users.rdn", name: u.RDN, sets: true},
		attrRef{path: "users.id_attribute", name: u.IDAttribute, readOnly: true})
	if u.UIDNumber.Enabled() {
		users.generated = "uidNumber"
	}
	if u.Password.Attribute != "" {
		users.refs = append(users.refs, attrRef{path: "users.password.attribute", name: u.Password.Attribute})
	}
	if u.Roles.Attribute != "" {
		users.refs = append(users.refs, attrRef{path: "users.roles.attribute", name: u.Roles.Attribute})
	}
	c.checkKind(s, users)
	c.checkRoles(s)
	if u.Disable.Method == "ppolicy" && s.Attribute("pwdAccountLockedTime") == nil {
		c.ps.Add("users.disable.method", "ppolicy needs the attribute type pwdAccountLockedTime, which the directory schema "+
			"lacks: load the ppolicy overlay (OpenLDAP: moduleload ppolicy, overlay ppolicy, ppolicy_default) or use method attribute")
	}
	if !c.cfg.GroupsEnabled() {
		return
	}
	g := c.cfg.Groups
	groups := entryKind{prefix: "groups", classes: g.ObjectClasses, setBy: "groups.attributes or groups.constants"}
	for i, a := range g.Attributes {
		groups.refs = append(groups.refs, attrRef{path: fmt.Sprintf("groups.attributes[%d].ldap", i), name: a.LDAP, sets: true})
	}
	for i, k := range g.Constants {
		groups.refs = append(groups.refs, attrRef{path: fmt.Sprintf("groups.constants[%d].ldap", i), name: k.LDAP, sets: true})
	}
	// A new group always has a member value when empty_member is set.
	groups.refs = append(groups.refs, attrRef{path: "groups.member_attribute", name: g.MemberAttribute, sets: g.EmptyMember != ""},
		attrRef{path: "groups.rdn", name: g.RDN, sets: true},
		attrRef{path: "groups.id_attribute", name: g.IDAttribute, readOnly: true})
	if g.GIDNumber.Enabled() {
		groups.generated = "gidNumber"
	}
	c.checkKind(s, groups)
}

// checkKind checks one side's classes and attributes against the schema:
// the classes, then each attribute the configuration names, then that new
// entries carry every MUST attribute.
func (c *onlineCheck) checkKind(s *ldapmap.Schema, k entryKind) {
	classes, complete := c.checkClasses(s, k)
	set := c.checkAttributes(s, k, classes, complete)
	if at := s.Attribute(k.generated); at != nil {
		set[at] = true
	}
	c.checkMusts(s, k, classes, set)
}

// checkClasses looks k's object classes up and checks that one is STRUCTURAL.
// complete is false when a class is unknown: it might allow anything, so "not
// allowed" would only be noise after the real mistake.
func (c *onlineCheck) checkClasses(s *ldapmap.Schema, k entryKind) (classes []*ldapmap.ObjectClass, complete bool) {
	complete = true
	for i, name := range k.classes {
		oc := s.Class(name)
		if oc == nil {
			if config.IsOID(name) { // else reported offline
				c.ps.Add(fmt.Sprintf("%s.object_classes[%d]", k.prefix, i), "object class %q is not in the directory schema%s",
					name, s.SuggestClass(name))
			}
			complete = false
			continue
		}
		classes = append(classes, oc)
	}
	if complete && !hasStructural(s.Closure(classes)) {
		c.ps.Add(k.prefix+".object_classes", "none of the classes is STRUCTURAL; an entry needs one (e.g. inetOrgPerson)")
	}
	return classes, complete
}

// checkAttributes checks each attribute k names, once, at its first path. It
// returns the attribute types new entries carry, for checkMusts.
func (c *onlineCheck) checkAttributes(s *ldapmap.Schema, k entryKind, classes []*ldapmap.ObjectClass, complete bool) map[*ldapmap.AttributeType]bool {
	set := map[*ldapmap.AttributeType]bool{}
	seen := map[string]bool{}
	for _, r := range k.refs {
		key := strings.ToLower(r.name)
		if !config.IsAttrName(r.name) || seen[key] {
			continue // reported offline, or already at its first path
		}
		seen[key] = true
		at := s.Attribute(r.name)
		if at == nil {
			c.ps.Add(r.path, "attribute %q is not in the directory schema%s", r.name, s.SuggestAttribute(r.name))
			continue
		}
		if !r.readOnly {
			c.checkWritable(s, k, r, at, classes, complete)
		}
		if r.sets {
			set[at] = true
		}
	}
	return set
}

// checkWritable checks that the bridge may write attribute at (named by r) on
// k's entries. Operational attributes stand outside the classes' MAY and NOT
// lists, and with an unknown class (complete false) the lists are not known.
func (c *onlineCheck) checkWritable(s *ldapmap.Schema, k entryKind, r attrRef, at *ldapmap.AttributeType, classes []*ldapmap.ObjectClass, complete bool) {
	if at.NoUserModification {
		c.ps.Add(r.path, "attribute %q is maintained by the directory (NO-USER-MODIFICATION); the bridge cannot write it", r.name)
		return
	}
	if !complete || at.Operational() {
		return
	}
	if by := s.PrecludedBy(classes, at); by != "" {
		c.ps.Add(r.path, "attribute %q is precluded (NOT) by the directory's DIT content rule for %s", r.name, by)
		return
	}
	if s.Allows(classes, at) {
		return
	}
	hint := "; add a class that allows it to " + k.prefix + ".object_classes"
	if by := s.AllowedBy(at); len(by) > 0 {
		hint = "; it is allowed by " + strings.Join(by, ", ")
	}
	c.ps.Add(r.path, "attribute %q is not allowed by %s.object_classes (%s)%s", r.name, k.prefix,
		strings.Join(k.classes, ", "), hint)
}

// checkMusts reports each MUST attribute of k's classes that neither new
// entries carry (set) nor the directory fills in.
func (c *onlineCheck) checkMusts(s *ldapmap.Schema, k entryKind, classes []*ldapmap.ObjectClass, set map[*ldapmap.AttributeType]bool) {
	for _, req := range s.Requires(classes) {
		if (req.Type != nil && set[req.Type]) || c.directoryFills(req) {
			continue
		}
		by := req.Class
		if req.Rule {
			by = "the DIT content rule for " + by
		}
		c.ps.Add(k.prefix+".object_classes", "%s requires attribute %q (MUST), but no %s entry sets it: "+
			"the directory would refuse new entries (objectClassViolation)", by, req.Attr, k.setBy)
	}
}

// directoryFills tells whether the directory sets MUST attribute req itself.
// A MUST no client may write (RFC 4512 §4.1.2), such as AD's instanceType and
// objectSid, is the directory's to fill in: no configuration could set it.
func (c *onlineCheck) directoryFills(req ldapmap.Required) bool {
	return (req.Type != nil && req.Type.NoUserModification) || (c.ad && ldapmap.ADFillsOnAdd(req.Attr))
}

func hasStructural(classes []*ldapmap.ObjectClass) bool {
	for _, oc := range classes {
		if oc.Kind == ldapmap.Structural {
			return true
		}
	}
	return false
}

// checkEntries checks that the base DNs and the entries the configuration
// names exist. A DN that does not parse is reported by config.Validate.
func (c *onlineCheck) checkEntries(ctx context.Context) error {
	type ref struct{ path, dn string }
	refs := []ref{{"users.base_dn", c.cfg.Users.BaseDN}}
	if c.cfg.GroupsEnabled() {
		refs = append(refs, ref{"groups.base_dn", c.cfg.Groups.BaseDN}, ref{"groups.empty_member", c.cfg.Groups.EmptyMember})
		for i, dn := range c.cfg.Users.DefaultGroups {
			refs = append(refs, ref{fmt.Sprintf("users.default_groups[%d]", i), dn})
		}
		roles := make([]string, 0, len(c.cfg.Users.Roles.Groups))
		for role := range c.cfg.Users.Roles.Groups {
			roles = append(roles, role)
		}
		slices.Sort(roles)
		for _, role := range roles {
			dn := c.cfg.Users.Roles.Groups[role]
			refs = append(refs, ref{"users.roles.groups." + role, dn})
			if ldapmap.InSubtree(dn, c.cfg.Groups.BaseDN) {
				c.warn("users.roles.groups."+role, "%q lies under groups.base_dn: Entra manages the groups there too, "+
					"and a group sync may undo role memberships; keep role groups elsewhere (e.g. ou=roles)", dn)
			}
		}
	}
	for _, r := range refs {
		if _, err := ldap.ParseDN(r.dn); r.dn == "" || err != nil {
			continue
		}
		ok, err := c.exists(ctx, r.dn)
		switch {
		case bridge.ConnectionLost(err):
			return err
		case err != nil:
			c.warn(r.path, "cannot check that %q exists: %v", r.dn, err)
		case !ok:
			// OpenLDAP also answers noSuchObject for entries the bind DN may not see.
			c.ps.Add(r.path, "entry %q does not exist (or the bind account cannot read it)", r.dn)
		}
	}
	return nil
}

func (c *onlineCheck) exists(ctx context.Context, dn string) (bool, error) {
	_, err := c.pool.Search(ctx, ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"1.1"}, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return false, nil
	}
	return err == nil, err
}

// checkWrite checks, without writing anything, that the bind DN may add,
// rename and delete entries under each base DN.
//
// Tried first, and rejected: an add of a throwaway child carrying the
// assertion control (RFC 4528) with an always-false filter. OpenLDAP 2.5's
// back-mdb tests the assertion before it even looks for the parent, so a bind
// DN that may write, one that may not, and an add under a missing parent all
// get assertionFailed (122) (TestAssertionControlRevealsNothing). Also tried
// and rejected: an LDAP transaction (RFC 5805) holding the add and a second,
// failing add, so that the commit rolls back. It answers correctly (50 or 68),
// but slapd 2.5.13 crashed after a few dozen of them (its log stops in a TXN
// END that began before the queued add had finished), and a validator must not
// crash the directory. A modify deleting a random value of the base entry's
// description writes nothing but asks the wrong question: an ACL on
// dn.children of the base lets the bridge add users yet refuses that modify.
//
// What works: a modify-DN (rename, no new superior) of a child of the base
// that does not exist. mdb_modrdn checks write access to the parent's
// "children" before it looks for the entry: without that access the answer is
// insufficientAccessRights (50), with it noSuchObject (32) whose matched DN is
// the base. Verified against slapd 2.5 with ACLs
// for subtree write, write on the base's children only, add-only (=a) and
// read: 32, 32, 50, 50, where a real add succeeded for the first three. The
// bridge renames and deletes too, so add-only being refused is right. Nothing
// is renamed: the entry does not exist, and the request carries an always-false
// assertion as well, which fails (122) before anything is written should an
// entry of that random name ever exist. The probe does not exercise ACLs on a
// new entry's object classes or attributes. The order of these checks is
// back-mdb's, so other directories get a warning instead.
func (c *onlineCheck) checkWrite(ctx context.Context, root *ldap.Entry) error {
	for _, path := range []string{"users.base_dn", "groups.base_dn"} {
		base := c.cfg.Users.BaseDN
		if path == "groups.base_dn" {
			if !c.cfg.GroupsEnabled() {
				continue
			}
			base = c.cfg.Groups.BaseDN
		}
		if _, err := ldap.ParseDN(base); err != nil || c.reported(path) {
			continue // reported offline, or missing
		}
		if !slices.Contains(root.GetAttributeValues("objectClass"), "OpenLDAProotDSE") {
			c.warn(path, "write access of %q was not checked: the check relies on how OpenLDAP orders its access checks; "+
				"the first SCIM create will tell", c.cfg.LDAP.BindDN)
			continue
		}
		err := c.pool.ModifyDN(ctx, writeProbe(base))
		var le *ldap.Error
		switch {
		case errors.As(err, &le) && le.ResultCode == ldap.LDAPResultNoSuchObject && ldapmap.SameDN(le.MatchedDN, base):
		case ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights):
			c.ps.Add(path, "the bind account %q may not add, rename or delete entries under %q (insufficientAccessRights%s); "+
				"grant it write access to that subtree", c.cfg.LDAP.BindDN, base, ldapText(err))
		case bridge.ConnectionLost(err):
			return err
		default:
			c.warn(path, "write access of %q under %q could not be checked: %v", c.cfg.LDAP.BindDN, base, err)
		}
	}
	return nil
}

// writeProbe is the rename described at checkWrite.
func writeProbe(base string) *ldap.ModifyDNRequest {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	name := "scimbridge-write-probe-" + hex.EncodeToString(b)
	never, _ := ldap.CompileFilter("(!(objectClass=*))")
	assertion := &ldap.ControlString{ControlType: oidAssertion, Criticality: true, ControlValue: string(never.Bytes())}
	return ldap.NewModifyDNWithControlsRequest("cn="+name+","+base, "cn="+name+"-renamed", true, "",
		[]ldap.Control{assertion})
}

func (c *onlineCheck) reported(path string) bool {
	for _, p := range c.ps {
		if p.Path == path {
			return true
		}
	}
	return false
}

// ldapText is ": <the server's diagnostic message>", or "" without one.
func ldapText(err error) string {
	var le *ldap.Error
	if errors.As(err, &le) && le.Err != nil && le.Err.Error() != "" {
		return ": " + le.Err.Error()
	}
	return ""
}

// pagedListsCost is what the paged path costs, in the words of a warning
// (docs/configuration.md, "Lists").
const pagedListsCost = "lists then read every entry before their page (seconds deep in 100,000 users) and count " +
	"the rest by reading at most 10,000 DNs, past which totalResults is only a lower bound"

// checkSortedLists warns when lists will not be sorted and paged by the
// directory (server-side sort, RFC 2891, and virtual list view): the root
// DSE lacks the controls, or a sorted search by the id attribute is refused.
func (c *onlineCheck) checkSortedLists(ctx context.Context, root *ldap.Entry) error {
	if len(root.Attributes) == 0 {
		return nil // the root DSE could not be read: warned about already
	}
	controls := root.GetEqualFoldAttributeValues("supportedControl")
	if !slices.Contains(controls, ldap.ControlTypeServerSideSorting) || !slices.Contains(controls, ldap.ControlTypeVLVRequest) {
		hint := ""
		if slices.Contains(root.GetAttributeValues("objectClass"), "OpenLDAProotDSE") {
			hint = "; load the sssvlv overlay on the database (moduleload sssvlv, then overlay sssvlv with sssvlv-max 32)"
		}
		c.warn("ldap", "the directory offers no server-side sort and virtual list view (its root DSE lacks the controls "+
			"%s and %s): %s%s", ldap.ControlTypeServerSideSorting, ldap.ControlTypeVLVRequest, pagedListsCost, hint)
		return nil
	}
	err := c.checkSortedList(ctx, "users", c.cfg.Users.BaseDN, c.cfg.Users.IDAttribute)
	if err == nil && c.cfg.GroupsEnabled() {
		err = c.checkSortedList(ctx, "groups", c.cfg.Groups.BaseDN, c.cfg.Groups.IDAttribute)
	}
	return err
}

// checkSortedList asks for one side's sorted list (bridge.Pool.CheckSortedList).
func (c *onlineCheck) checkSortedList(ctx context.Context, prefix, base, key string) error {
	if _, err := ldap.ParseDN(base); err != nil || c.reported(prefix+".base_dn") {
		return nil // reported offline, or missing
	}
	refusal, err := c.pool.CheckSortedList(ctx, base, key)
	switch {
	case bridge.ConnectionLost(err):
		return err
	case err != nil:
		c.warn(prefix+".id_attribute", "cannot tell whether the directory sorts %s lists by %s: %v", prefix, key, err)
	case refusal != nil:
		c.warn(prefix+".id_attribute", "the directory refused to sort the entries under %q by %s (%v): %s; the sort key is "+
			"the id attribute, which needs an ORDERING rule (entryUUID and AD's objectGUID have one, uid and cn do not), "+
			"and on OpenLDAP the sssvlv overlay on the database holding %q", base, key, refusal, pagedListsCost, base)
	}
	return nil
}

// checkLockout warns when no password policy locks accounts: OpenLDAP stores
// pwdAccountLockedTime but lets the user bind anyway unless the entry's
// effective policy has pwdLockout: TRUE (docs/directory-lab.md, "Disabling must
// really disable"). The policy in force is named in cn=config (ppolicy_default)
// or per entry, neither readable here, so any such policy in the directory
// counts.
func (c *onlineCheck) checkLockout(ctx context.Context, root *ldap.Entry) error {
	bases := root.GetAttributeValues("namingContexts")
	if len(bases) == 0 {
		bases = []string{c.cfg.Users.BaseDN}
	}
	for _, base := range bases {
		res, err := c.pool.Search(ctx, ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 1, 0, false,
			"(&(objectClass=pwdPolicy)(pwdLockout=TRUE))", []string{"1.1"}, nil))
		if bridge.ConnectionLost(err) {
			return err
		}
		// With size limit 1, a second match answers sizeLimitExceeded.
		if (err == nil && len(res.Entries) > 0) || ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
			return nil
		}
	}
	c.warn("users.disable.method", "ppolicy: no password policy with pwdLockout: TRUE was found under %s (or the bind account "+
		"cannot read it). OpenLDAP stores pwdAccountLockedTime but still lets the user bind unless the entry's password "+
		"policy (ppolicy_default, or pwdPolicySubentry on the entry) has pwdLockout: TRUE, so users disabled through SCIM "+
		"could still log in. Add such a policy (objectClass pwdPolicy, pwdAttribute: userPassword, pwdLockout: TRUE) and "+
		"name it in ppolicy_default", strings.Join(bases, ", "))
	return nil
}
