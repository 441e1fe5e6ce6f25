package daemon_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/apptest"
)

// The online check against the shared Samba AD DC, on examples/ad.yaml loaded
// by adHarness exactly as a container would load it. AD's top requires
// instanceType, objectCategory and nTSecurityDescriptor, which the DC fills
// in, and user's auxiliary class securityPrincipal (in the subschema's DIT
// content rule, not in objectClass) brings sAMAccountName.

func adOnlineCheck(t *testing.T, mutate func(*config.Config)) (config.Problems, []string) {
	t.Helper()
	h := apptest.NewAD(t, mutate)
	ps, warns := checkOnline(t, h.Cfg)
	t.Logf("warnings: %q", warns)
	return ps, warns
}

func TestCheckOnlineADExample(t *testing.T) {
	t.Parallel()
	ps, warns := adOnlineCheck(t, nil)
	wantProblems(t, ps, nil)
	// The write probe relies on OpenLDAP's order of checks and says so; the
	// schema, including its DIT content rules, must have been read and parsed.
	for _, w := range warns {
		if !strings.Contains(w, "write access of") {
			t.Errorf("unexpected warning: %s", w)
		}
	}
}

// On AD the check still catches real mistakes: a misspelled attribute, one that
// no class or auxiliary class of the entry allows, one the DC maintains, and a
// MUST that nothing sets (groupType, which only the preset's constant sets).
func TestCheckOnlineADMistakes(t *testing.T) {
	t.Parallel()
	var mailAt, titleAt, descAt int
	ps, _ := adOnlineCheck(t, func(c *config.Config) {
		u := &c.Users
		mailAt = slices.IndexFunc(u.Attributes, func(a config.AttributeMapping) bool { return a.LDAP == "mail" })
		u.Attributes[mailAt].LDAP = "mial"
		titleAt = slices.IndexFunc(u.Attributes, func(a config.AttributeMapping) bool { return a.LDAP == "title" })
		u.Attributes[titleAt].LDAP = "groupType"
		g := &c.Groups
		descAt = slices.IndexFunc(g.Attributes, func(a config.AttributeMapping) bool { return a.LDAP == "description" })
		g.Attributes[descAt].LDAP = "whenCreated"
		g.Constants = slices.DeleteFunc(g.Constants, func(k config.ConstantConfig) bool { return k.LDAP == "groupType" })
	})
	wantProblems(t, ps, map[string][]string{
		fmt.Sprintf("users.attributes[%d].ldap", mailAt): {`attribute "mial" is not in the directory schema; did you mean "mail"?`},
		fmt.Sprintf("users.attributes[%d].ldap", titleAt): {`attribute "groupType" is not allowed by users.object_classes ` +
			`(top, person, organizationalPerson, user); it is allowed by group`},
		fmt.Sprintf("groups.attributes[%d].ldap", descAt): {`attribute "whenCreated" is maintained by the directory (NO-USER-MODIFICATION)`},
		"groups.object_classes":                           {`group requires attribute "groupType" (MUST), but no groups.attributes or groups.constants entry sets it`},
	})
}
