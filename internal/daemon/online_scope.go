package daemon

import (
	"context"
	"fmt"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/bridge"
)

// scopeSample bounds the entries the scope checks count: the warning needs
// "some", not a census of a large directory.
const scopeSample = 100

// checkScope warns where SCIM can reach entries that are not Entra's: with a
// scope filter, entries under a base DN that it leaves out (fine, if they are
// hand-made; worth knowing if they are Entra's); without one, entries the
// bind account did not create (slapd's creatorsName), which SCIM can read and
// change. AD keeps no creator, so there only the first check runs.
func (c *onlineCheck) checkScope(ctx context.Context) error {
	type kind struct{ prefix, base, filter, scope string }
	kinds := []kind{{"users", c.cfg.Users.BaseDN, c.cfg.Users.Filter, c.cfg.Users.ScopeFilter}}
	if c.cfg.GroupsEnabled() {
		kinds = append(kinds, kind{"groups", c.cfg.Groups.BaseDN, c.cfg.Groups.Filter, c.cfg.Groups.ScopeFilter})
	}
	bind, bindErr := ldap.ParseDN(c.cfg.LDAP.BindDN)
	for _, k := range kinds {
		if _, err := ldap.ParseDN(k.base); err != nil || k.base == "" {
			continue
		}
		switch {
		case k.scope != "":
			n, more, err := c.countSome(ctx, k.base, "(&"+k.filter+"(!"+k.scope+"))")
			if err != nil {
				return err
			}
			if n > 0 {
				c.warn(k.prefix+".scope_filter", "%s entries under %s match %s.filter but not the scope filter: "+
					"SCIM cannot see or change them (as intended for hand-made entries; if they are Entra's, they will be "+
					"created again beside them)", some(n, more), k.base, k.prefix)
			}
		case !c.ad && bindErr == nil && c.cfg.LDAP.BindDN != "":
			n, more, err := c.countSome(ctx, k.base,
				"(&"+k.filter+"(!(creatorsName="+ldap.EscapeFilter(bind.String())+")))")
			if err != nil {
				return err
			}
			if n > 0 {
				c.warn(k.prefix+".base_dn", "%s entries under %s were not created by %s, and SCIM can read and change "+
					"them: give Entra an OU of its own, or set %s.scope_filter (docs/configuration.md, \"A managed scope\")",
					some(n, more), k.base, c.cfg.LDAP.BindDN, k.prefix)
			}
		}
	}
	return nil
}

// countSome counts up to scopeSample entries under base matching f; more
// says the directory had more.
func (c *onlineCheck) countSome(ctx context.Context, base, f string) (n int, more bool, err error) {
	res, err := c.pool.Search(ctx, ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		scopeSample, 0, false, f, []string{"1.1"}, nil))
	if res != nil {
		n = len(res.Entries)
	}
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded):
		return n, true, nil
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return 0, false, nil // a missing base DN is checkEntries' to report
	case bridge.ConnectionLost(err):
		return 0, false, err
	case err != nil:
		c.warn("ldap", "cannot search %s with %s: %v", base, f, err)
		return 0, false, nil
	}
	return n, false, nil
}

func some(n int, more bool) string {
	if more {
		return fmt.Sprintf("%d+", n)
	}
	return fmt.Sprint(n)
}
