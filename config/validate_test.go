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
		{
			"start_tls with ldaps", func(c *config.Config) { c.LDAP.URL = "ldaps://x:636"; c.LDAP.StartTLS = true },
			"ldap.start_tls", "cannot be used with an ldaps:// URL",
		},
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
		{
			"public URL not absolute", func(c *config.Config) { c.Server.PublicURL = "scim.example.org" },
			"server.public_url", "absolute URL",
		},
		{"bad users filter", func(c *config.Config) { c.Users.Filter = "(objectClass=*" }, "users.filter", "not a valid LDAP filter"},
		{
			"bad object class", func(c *config.Config) { c.Users.ObjectClasses[1] = "per son" },
			"users.object_classes[1]", "not a valid object class",
		},
		{
			"bad LDAP attribute", func(c *config.Config) { c.Users.Attributes[2].LDAP = "display name" },
			"users.attributes[2].ldap", "not a valid LDAP attribute name",
		},
		{
			"attribute disable without attribute", func(c *config.Config) {
				c.Users.Disable = config.DisableConfig{Method: "attribute", DisabledValue: "x"}
			},
			"users.disable.attribute", "is required with method attribute",
		},
		{
			"pprof on every interface", func(c *config.Config) { c.Server.PprofListen = ":6060" },
			"server.pprof_listen", "must be a loopback address",
		},
		{
			"pprof on a public address", func(c *config.Config) { c.Server.PprofListen = "192.0.2.1:6060" },
			"server.pprof_listen", "must be a loopback address",
		},
		{"delete mode", func(c *config.Config) { c.Users.Delete.Mode = "purge" }, "users.delete.mode", "must be delete"},
		{"soft delete without disable", func(c *config.Config) {
			c.Users.Delete.Mode = "disable"
			c.Users.Disable.Method = "none"
		}, "users.delete.mode", "needs a disable method"},
		{
			"groupOfNames without empty member", func(c *config.Config) { c.Groups.EmptyMember = "" },
			"groups.empty_member", "is required with groupOfNames",
		},
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

// TestBindName: Active Directory binds with a DN, a UPN or a down-level logon
// name; other directories with a DN only, and the message says why.
func TestBindName(t *testing.T) {
	const (
		ok     = ""
		notDN  = "is not a valid DN: DN ended with incomplete type, value pair (a UPN such as svc@example.org or a down-level name such as EXAMPLE\\svc is accepted only with ldap.flavor: ad)"
		notAD  = "is neither a DN (DN ended with incomplete type, value pair) nor a UPN such as svc@example.org nor a down-level name such as EXAMPLE\\svc"
		escape = "contains U+000A, which no bind name holds: in a double-quoted YAML string a backslash starts an escape"
	)
	for _, tc := range []struct {
		name, bind   string
		openldap, ad string // the problem's message (a prefix of it); "" for none
	}{
		{"DN", "cn=admin,dc=example,dc=org", ok, ok},
		{"AD DN", "CN=Administrator,CN=Users,DC=lab,DC=example,DC=org", ok, ok},
		{"UPN", "Administrator@lab.example.org", notDN, ok},
		{"UPN, single-label suffix", "svc-scim@example", notDN, ok},
		{"down-level", `EXAMPLE\svc-scim`, notDN, ok},
		{"down-level with a space", `EXAMPLE\scim bridge`, notDN, ok},
		{"down-level, dotted domain", `LAB.EXAMPLE\svc`, notDN, ok},
		{"garbage: a bare name", "admin", notDN, notAD},
		{"garbage: UPN without prefix", "@example.org", notDN, notAD},
		{"garbage: UPN without suffix", "svc@", notDN, notAD},
		{"garbage: two @", "svc@a@example.org", notDN, notAD},
		{"garbage: space in UPN", "svc scim@example.org", notDN, notAD},
		{"garbage: trailing space", "svc@example.org ", notDN, notAD},
		{"garbage: down-level without user", `EXAMPLE\`, notDN, notAD},
		{"garbage: down-level without domain", `\svc`, notDN, notAD},
		{"garbage: two backslashes", `EXAMPLE\\svc`, notDN, notAD},
		{"garbage: NetBIOS name too long", `SIXTEENCHARSLONG\svc`, notDN, notAD},
		{"garbage: forbidden character", `EXAMPLE\svc*`, notDN, notAD},
		{"garbage: bad DN", "cn=admin,dc", "is not a valid DN: ", "is neither a DN ("},
		// "EXAMPLE\nsvc" in YAML double quotes.
		{"YAML escape", "EXAMPLE\nsvc", escape, escape},
	} {
		for _, flavor := range []string{config.FlavorOpenLDAP, config.FlavorAD} {
			t.Run(tc.name+"/"+flavor, func(t *testing.T) {
				cfg := loadExample(t)
				cfg.LDAP.Flavor, cfg.LDAP.BindDN = flavor, tc.bind
				want := tc.openldap
				if flavor == config.FlavorAD {
					want = tc.ad
				}
				err := cfg.Validate()
				if want == ok {
					if err != nil {
						t.Fatalf("problems: %v", err)
					}
					return
				}
				ps := problems(t, err)
				if len(ps) != 1 || ps[0].Path != "ldap.bind_dn" || !strings.HasPrefix(ps[0].Msg, want) {
					t.Fatalf("problems %q, want ldap.bind_dn: %s…", ps, want)
				}
			})
		}
	}
}

// TestBindNameYAML: how the down-level form is written in the file, and that
// the flavor counts after defaults (none written is openldap).
func TestBindNameYAML(t *testing.T) {
	for _, tc := range []struct {
		name, flavor, bind, want string
	}{
		{"single quotes", "ad", `'EXAMPLE\svc-scim'`, ""},
		{"plain scalar", "ad", `EXAMPLE\svc-scim`, ""},
		{"double quotes, backslash escaped", "ad", `"EXAMPLE\\svc-scim"`, ""},
		{"double quotes, \\n read as a newline", "ad", `"EXAMPLE\nsvc"`, "contains U+000A"},
		{"UPN", "ad", `svc-scim@example.org`, ""},
		{"UPN, flavor left out", "", `svc-scim@example.org`, "is not a valid DN"},
		{"down-level, openldap", "openldap", `'EXAMPLE\svc-scim'`, "is not a valid DN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := strings.Replace(string(examples.OpenLDAP), "  bind_dn: cn=admin,dc=example,dc=org\n",
				"  bind_dn: "+tc.bind+"\n", 1)
			flavor := ""
			if tc.flavor != "" {
				flavor = "  flavor: " + tc.flavor + "\n"
			}
			yaml = strings.Replace(yaml, "  flavor: openldap\n", flavor, 1)
			cfg, err := config.Load(config.Source{Data: []byte(yaml), Environ: exampleEnv()})
			if cfg == nil {
				t.Fatalf("Load: %v", err)
			}
			var got []config.Problem
			if err != nil {
				for _, p := range problems(t, err) {
					if p.Path == "ldap.bind_dn" {
						got = append(got, p)
					}
				}
			}
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("problems %q", got)
			case tc.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0].Msg, tc.want) || got[0].Line != 15):
				t.Errorf("problems %q, want line 15: ldap.bind_dn: %s…", got, tc.want)
			}
		})
	}
}
