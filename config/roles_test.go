package config_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
)

func TestValidateRoles(t *testing.T) {
	admins := "cn=app-admins,ou=roles,dc=example,dc=org"
	for _, tc := range []struct {
		name  string
		roles config.RolesConfig
		extra func(c *config.Config)
		path  string // "" = valid
		msg   string
	}{
		{"attribute, groups and default", config.RolesConfig{
			Attribute: "employeeType",
			Groups:    map[string]string{"Admin": admins, "Task.Write": admins},
			Default:   "Reader",
		}, nil, "", ""},
		{"groups only, default among them", config.RolesConfig{Groups: map[string]string{"Reader": admins}, Default: "reader"}, nil, "", ""},
		{"bad attribute", config.RolesConfig{Attribute: "employee type"}, nil, "users.roles.attribute", "not an LDAP attribute name"},
		{
			"bad group DN",
			config.RolesConfig{Groups: map[string]string{"Admin": "app-admins"}},
			nil,
			"users.roles.groups.Admin", "not a valid group DN",
		},
		{
			"roles that differ only in case",
			config.RolesConfig{Groups: map[string]string{"Admin": admins, "admin": admins}},
			nil,
			"users.roles.groups.admin", "only in case",
		},
		{
			"default with nowhere to go",
			config.RolesConfig{Groups: map[string]string{"Admin": admins}, Default: "Reader"},
			nil,
			"users.roles.default", `"Reader" is not in users.roles.groups`,
		},
		{"default alone", config.RolesConfig{Default: "Reader"}, nil, "users.roles.default", "has no effect"},
		{"roles mapped twice", config.RolesConfig{Attribute: "employeeType"}, func(c *config.Config) {
			c.Users.Attributes = append(c.Users.Attributes, config.AttributeMapping{SCIM: `roles[primary eq "True"].value`, LDAP: "businessCategory"})
		}, "users.attributes[13].scim", "already mapped by users.roles"},
		{"groups off", config.RolesConfig{Groups: map[string]string{"Admin": admins}}, func(c *config.Config) {
			off := false
			c.Groups.Enabled = &off
		}, "users.roles.groups", "needs groups enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadExample(t)
			cfg.Users.Roles = tc.roles
			if tc.extra != nil {
				tc.extra(cfg)
			}
			err := cfg.Validate()
			if tc.path == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			ps := problems(t, err)
			if len(ps) != 1 || ps[0].Path != tc.path || !strings.Contains(ps[0].Msg, tc.msg) {
				t.Fatalf("problems %q, want exactly %s: …%s…", ps, tc.path, tc.msg)
			}
		})
	}
}

// users.roles as an admin writes it, including a role value with a dot (app
// role values such as Task.Write are common), which must stay one key.
func TestLoadRoles(t *testing.T) {
	yaml := strings.Replace(string(examples.OpenLDAP), "  disable:\n", `  roles:
    attribute: employeeType
    groups:
      Admin: cn=app-admins,ou=roles,dc=example,dc=org
      Task.Write: cn=writers,ou=roles,dc=example,dc=org
    default: Admin
  disable:
`, 1)
	cfg, err := config.Load(config.Source{File: "x.yaml", Data: []byte(yaml), Environ: exampleEnv()})
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Users.Roles
	if r.Attribute != "employeeType" || r.Default != "Admin" || len(r.Groups) != 2 ||
		r.Groups["Task.Write"] != "cn=writers,ou=roles,dc=example,dc=org" {
		t.Errorf("roles %+v", r)
	}
}
