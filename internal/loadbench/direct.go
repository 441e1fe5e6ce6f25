package loadbench

import (
	"fmt"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// The direct side makes the same changes as the bridge with go-ldap, the
// way a hand-written client would, so that the table can put the
// directory's own cost next to the bridge's in the same run.

// userFilter finds a user by uid among examples/openldap.yaml's users (its
// users.filter default is the last object class).
func userFilter(uid string) string {
	return "(&(objectClass=inetOrgPerson)(uid=" + ldap.EscapeFilter(uid) + "))"
}

// readAttributes are the attributes the bridge reads for a user of
// examples/openldap.yaml (ldapmap's ReadAttributes: the id, class, meta and
// mapped attributes, and the disable method's pwdAccountLockedTime).
var readAttributes = []string{
	"entryUUID", "objectClass", "createTimestamp", "modifyTimestamp", "entryCSN", "uSNChanged",
	"uid", "employeeNumber", "displayName", "givenName", "sn", "cn", "title", "mail",
	"telephoneNumber", "mobile", "l", "departmentNumber", "manager", "pwdAccountLockedTime",
}

func userDN(people, uid string) string {
	return "uid=" + ldap.EscapeDN(uid) + "," + people
}

// addRequest is the add the bridge sends for createBody(u) with
// examples/openldap.yaml; checkSameAdd compares the two at the start of a
// run.
func addRequest(people string, u user) *ldap.AddRequest {
	req := ldap.NewAddRequest(userDN(people, u.name), nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "inetOrgPerson"})
	req.Attribute("uid", []string{u.name})
	req.Attribute("employeeNumber", []string{u.externalID})
	req.Attribute("mail", []string{u.name})
	req.Attribute("cn", []string{u.given + " " + u.family})
	req.Attribute("givenName", []string{u.given})
	req.Attribute("sn", []string{u.family})
	return req
}

// directCreate is the create cycle done by hand: look the uid up (Entra's
// matching query), add, read the entry back (for its entryUUID, the SCIM
// id, and the answer's meta).
func directCreate(c *ldap.Conn, people string, u user) error {
	res, err := c.Search(ldap.NewSearchRequest(people, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false,
		userFilter(u.name), readAttributes, nil))
	if err != nil {
		return fmt.Errorf("search %s: %w", u.name, err)
	}
	if len(res.Entries) != 0 {
		return fmt.Errorf("search %s: already there", u.name)
	}
	req := addRequest(people, u)
	if err := c.Add(req); err != nil {
		return fmt.Errorf("add %s: %w", req.DN, err)
	}
	return readBack(c, req.DN)
}

func readBack(c *ldap.Conn, dn string) error {
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", readAttributes, nil))
	if err != nil {
		return fmt.Errorf("read %s: %w", dn, err)
	}
	if len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("entryUUID") == "" {
		return fmt.Errorf("read %s: no entry with an entryUUID", dn)
	}
	return nil
}

// directGet is the matching query: one search by uid.
func directGet(c *ldap.Conn, people string, u user) error {
	res, err := c.Search(ldap.NewSearchRequest(people, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false,
		userFilter(u.name), readAttributes, nil))
	if err != nil {
		return fmt.Errorf("search %s: %w", u.name, err)
	}
	if len(res.Entries) != 1 {
		return fmt.Errorf("search %s: %d entries", u.name, len(res.Entries))
	}
	return nil
}

// directPatch is the PATCH's change: one modify replacing the two attributes.
func directPatch(c *ldap.Conn, people string, u user) error {
	req := ldap.NewModifyRequest(userDN(people, u.name), nil)
	req.Replace("displayName", []string{u.displayName})
	req.Replace("title", []string{u.title})
	if err := c.Modify(req); err != nil {
		return fmt.Errorf("modify %s: %w", req.DN, err)
	}
	return nil
}

func directDelete(c *ldap.Conn, people string, u user) error {
	dn := userDN(people, u.name)
	if err := c.Del(ldap.NewDelRequest(dn, nil)); err != nil {
		return fmt.Errorf("delete %s: %w", dn, err)
	}
	return nil
}

// directOps are the LDAP operations per change of each direct phase.
var directOps = map[string]map[string]float64{
	"create": {"search": 2, "add": 1},
	"get":    {"search": 1},
	"patch":  {"modify": 1},
	"delete": {"delete": 1},
}

// floorOps are the LDAP operations per request of each floor phase, as
// floor.go sends them: the bridge's on slapd for create, get and patch. The
// bridge's delete also searches, for the user and its groups; the floor
// builds the DN and keeps no groups.
var floorOps = map[string]map[string]float64{
	"create": {"search": 1, "add": 1},
	"get":    {"search": 1},
	"patch":  {"modify": 1},
	"delete": {"delete": 1},
}

// checkSameAdd compares the attributes of an entry the bridge created with
// those addRequest would write for the same user (values of user
// attributes; operational ones ignored). A difference means the direct
// side no longer does the bridge's change: it is reported with the table.
func checkSameAdd(c *ldap.Conn, dn string, want *ldap.AddRequest) (string, error) {
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"*"}, nil))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", dn, err)
	}
	if len(res.Entries) != 1 {
		return "", fmt.Errorf("read %s: %d entries", dn, len(res.Entries))
	}
	return diffAttributes(res.Entries[0].Attributes, want.Attributes), nil
}

// diffAttributes describes how got (the bridge's entry) and want (the
// direct add) differ, or returns "" when they hold the same attributes with
// the same values. Names compare case-insensitively, values as sets.
func diffAttributes(got []*ldap.EntryAttribute, want []ldap.Attribute) string {
	norm := func(vals []string) string {
		s := slices.Clone(vals)
		slices.Sort(s)
		return strings.Join(s, "|")
	}
	g := map[string]string{}
	for _, a := range got {
		g[strings.ToLower(a.Name)] = norm(a.Values)
	}
	w := map[string]string{}
	for _, a := range want {
		w[strings.ToLower(a.Type)] = norm(a.Vals)
	}
	var diffs []string
	for k, v := range g {
		if wv, ok := w[k]; !ok {
			diffs = append(diffs, "bridge also writes "+k)
		} else if wv != v {
			diffs = append(diffs, fmt.Sprintf("%s: bridge %q, direct %q", k, v, wv))
		}
	}
	for k := range w {
		if _, ok := g[k]; !ok {
			diffs = append(diffs, "direct also writes "+k)
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}
