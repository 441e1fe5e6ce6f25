package config_test

import (
	"strings"
	"testing"
)

func TestValidateScopeFilter(t *testing.T) {
	cfg := loadExample(t)
	cfg.Users.ScopeFilter = "(businessCategory=entra)"
	cfg.Groups.ScopeFilter = "(businessCategory=entra"
	ps := problems(t, cfg.Validate())
	if len(ps) != 1 || ps[0].Path != "groups.scope_filter" || !strings.Contains(ps[0].Msg, "not a valid LDAP filter") {
		t.Fatalf("problems %q, want one at groups.scope_filter", ps)
	}
}
