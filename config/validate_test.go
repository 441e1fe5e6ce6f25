package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
)

// problems splits a Load or Validate error into its problems.
func problems(t *testing.T, err error) []config.Problem {
	t.Helper()
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("error %v (%T) is not a joined list of problems", err, err)
	}
	var out []config.Problem
	for _, e := range joined.Unwrap() {
		var p config.Problem
		if !errors.As(e, &p) {
			t.Fatalf("%v (%T) is not a config.Problem", e, e)
		}
		out = append(out, p)
	}
	return out
}

// fiveMistakes holds five independent errors; Load must report them all.
const fiveMistakes = `
server:
  max_body_bytes: 10
auth:
  bearer_tokens:
    - name: entra
      sha256: not-hex
ldap:
  url: http://dir.example.org
  bind_dn: cn=admin,dc=example,dc=org
users:
  base_dn: ou=people,dc=example,dc=org
  attributes:
    - { scim: userName, ldap: uid }
  disable: { method: lock }
log:
  format: xml
`

func TestValidateReportsEverything(t *testing.T) {
	cfg, err := config.Load(config.Source{Data: []byte(fiveMistakes), Environ: exampleEnv()})
	if err == nil {
		t.Fatal("Load accepted five mistakes")
	}
	if cfg == nil {
		t.Fatal("Load returned no Config with its problems: validate cannot print them")
	}
	want := []struct{ path, msg string }{
		{"server.max_body_bytes", "must be at least 1024, got 10"},
		{"auth.bearer_tokens[0].sha256", "must be 64 hex characters"},
		{"ldap.url", `must look like ldap://host:389 or ldaps://host:636, got "http://dir.example.org"`},
		{"users.disable.method", `must be ppolicy, attribute, uac or none, got "lock"`},
		{"log.format", `must be json or console, got "xml"`},
	}
	ps := problems(t, err)
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for i, w := range want {
		if ps[i].Path != w.path || !strings.Contains(ps[i].Msg, w.msg) {
			t.Errorf("problem %d = %q, want %s: …%s…", i, ps[i].Error(), w.path, w.msg)
		}
	}
	if !strings.Contains(err.Error(), "ldap.url: must look like") {
		t.Errorf("error text %q does not prefix messages with their path", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(c *config.Config)
		path   string
		msg    string
	}{
		{"start_tls with ldaps", func(c *config.Config) { c.LDAP.URL = "ldaps://x:636"; c.LDAP.StartTLS = true },
			"ldap.start_tls", "cannot be used with an ldaps:// URL"},
		{"no URL", func(c *config.Config) { c.LDAP.URL = "" }, "ldap.url", "is required"},
		{"bad bind DN", func(c *config.Config) { c.LDAP.BindDN = "admin" }, "ldap.bind_dn", "is not a valid DN"},
		{"bad flavor", func(c *config.Config) { c.LDAP.Flavor = "389ds" }, "ldap.flavor", "must be openldap or ad"},
		{"pool too big", func(c *config.Config) { c.LDAP.PoolSize = 1000 }, "ldap.pool_size", "between 1 and 256"},
		{"negative timeout", func(c *config.Config) { c.LDAP.Timeout = -1 }, "ldap.timeout", "must not be negative"},
		{"negative dial timeout", func(c *config.Config) { c.LDAP.DialTimeout = -1 }, "ldap.dial_timeout", "must not be negative"},
		{"no tokens", func(c *config.Config) { c.Auth.BearerTokens = nil }, "auth.bearer_tokens", "at least one token"},
		{"duplicate token name", func(c *config.Config) {
			c.Auth.BearerTokens = append(c.Auth.BearerTokens, c.Auth.BearerTokens[0])
		}, "auth.bearer_tokens[1].name", `duplicate token name "entra"`},
		{"public URL not absolute", func(c *config.Config) { c.Server.PublicURL = "scim.example.org" },
			"server.public_url", "absolute URL"},
		{"bad users filter", func(c *config.Config) { c.Users.Filter = "(objectClass=*" }, "users.filter", "not a valid LDAP filter"},
		{"bad object class", func(c *config.Config) { c.Users.ObjectClasses[1] = "per son" },
			"users.object_classes[1]", "not a valid object class"},
		{"bad LDAP attribute", func(c *config.Config) { c.Users.Attributes[2].LDAP = "display name" },
			"users.attributes[2].ldap", "not a valid LDAP attribute name"},
		{"attribute disable without attribute", func(c *config.Config) {
			c.Users.Disable = config.DisableConfig{Method: "attribute", DisabledValue: "x"}
		},
			"users.disable.attribute", "is required with method attribute"},
		{"delete mode", func(c *config.Config) { c.Users.Delete.Mode = "purge" }, "users.delete.mode", "must be delete"},
		{"soft delete without disable", func(c *config.Config) {
			c.Users.Delete.Mode = "disable"
			c.Users.Disable.Method = "none"
		}, "users.delete.mode", "needs a disable method"},
		{"groupOfNames without empty member", func(c *config.Config) { c.Groups.EmptyMember = "" },
			"groups.empty_member", "is required with groupOfNames"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadExample(t)
			tc.mutate(cfg)
			ps := problems(t, cfg.Validate())
			if len(ps) != 1 || ps[0].Path != tc.path || !strings.Contains(ps[0].Msg, tc.msg) {
				t.Fatalf("problems %q, want exactly %s: …%s…", ps, tc.path, tc.msg)
			}
		})
	}
}

// FuzzConfigLoad: no YAML document makes Load panic, and a failed load that
// returns a Config has had its defaults applied.
func FuzzConfigLoad(f *testing.F) {
	f.Add(examples.OpenLDAP)
	f.Add([]byte(fiveMistakes))
	for _, s := range []string{
		"ldap: {urll: x}", "- a", "42", "", "~", "ldap: {timeout: 5s, pool_size: '8'}", "users: {attributes: [1, 2]}",
		"server: {listen: ${X:-a}}", "auth: {bearer_tokens: [{expires: not-a-date}]}", "a: &x [*x]", "{1: 2, ldap: {3: 4}}",
		"users: {derive: [{ldap: cn, template: '{{'}]}", "groups: {enabled: yes, object_classes: [posixGroup]}",
		"log: !!binary aGVsbG8=", "server: {max_body_bytes: 1e30}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if data == nil {
			data = []byte{} // nil would mean "read Source.File"
		}
		cfg, err := config.Load(config.Source{Data: data, Environ: exampleEnv("X=1")})
		if err == nil && cfg == nil {
			t.Fatal("no error and no Config")
		}
		if cfg != nil && cfg.Server.BasePath == "" {
			t.Fatalf("Config returned without defaults: %+v", cfg)
		}
	})
}
