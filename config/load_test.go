package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
)

var hash = strings.Repeat("ab", 32)

// exampleEnv is what examples/openldap.yaml needs, plus extra variables.
func exampleEnv(extra ...string) func() []string {
	env := append([]string{"LDAP_BIND_PASSWORD=s3cret", "SCIMBRIDGE_TOKEN_SHA256=" + hash}, extra...)
	return func() []string { return env }
}

func loadExample(t *testing.T, extra ...string) *config.Config {
	t.Helper()
	cfg, err := config.Load(config.Source{Data: examples.OpenLDAP, Environ: exampleEnv(extra...)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

func TestLoadExample(t *testing.T) {
	cfg := loadExample(t)
	checks := []struct {
		name      string
		got, want any
	}{
		{"server.listen", cfg.Server.Listen, "127.0.0.1:8080"},
		{"server.base_path", cfg.Server.BasePath, "/scim/v2"},
		{"server.max_body_bytes default", cfg.Server.MaxBodyBytes, int64(1 << 20)},
		{"server.read_timeout default", cfg.Server.ReadTimeout, 30 * time.Second},
		{"auth.bearer_tokens", cfg.Auth.BearerTokens, []config.TokenConfig{{Name: "entra", SHA256: hash}}},
		{"ldap.url", cfg.LDAP.URL, "ldap://127.0.0.1:3890"},
		{"ldap.bind_dn", cfg.LDAP.BindDN, "cn=admin,dc=example,dc=org"},
		{"ldap.bind_password from ${LDAP_BIND_PASSWORD}", cfg.LDAP.BindPassword, "s3cret"},
		{"ldap.flavor", cfg.LDAP.Flavor, "openldap"},
		{"ldap.pool_size default", cfg.LDAP.PoolSize, 4},
		{"ldap.timeout default", cfg.LDAP.Timeout, 10 * time.Second},
		{"ldap.dial_timeout default", cfg.LDAP.DialTimeout, 5 * time.Second},
		{"ldap.page_size default", cfg.LDAP.PageSize, 500},
		{"users.base_dn", cfg.Users.BaseDN, "ou=people,dc=example,dc=org"},
		{"users.rdn", cfg.Users.RDN, "uid"},
		{"users.object_classes", cfg.Users.ObjectClasses, []string{"top", "person", "organizationalPerson", "inetOrgPerson"}},
		{"users.id_attribute", cfg.Users.IDAttribute, "entryUUID"},
		{"users.filter default", cfg.Users.Filter, "(objectClass=inetOrgPerson)"},
		{"users.attributes count", len(cfg.Users.Attributes), 13},
		{"users.attributes[7]", cfg.Users.Attributes[7], config.AttributeMapping{SCIM: `emails[type eq "work"].value`, LDAP: "mail"}},
		{"users.derive defaults", cfg.Users.Derive, []config.DeriveConfig{
			{LDAP: "cn", Template: `{{ coalesce .displayName (join " " .givenName .sn) .uid }}`},
			{LDAP: "sn", Template: `{{ coalesce .sn .displayName .uid }}`},
		}},
		{"users.disable", cfg.Users.Disable, config.DisableConfig{Method: "ppolicy"}},
		{"users.delete", cfg.Users.Delete, config.DeleteConfig{Mode: "delete", Placeholder: "deleted-{{.id}}"}},
		{"users.max_results default", cfg.Users.MaxResults, 1000},
		{"groups on with base_dn", cfg.GroupsEnabled(), true},
		{"groups.base_dn", cfg.Groups.BaseDN, "ou=groups,dc=example,dc=org"},
		{"groups.filter default", cfg.Groups.Filter, "(objectClass=groupOfNames)"},
		{"groups.member_attribute", cfg.Groups.MemberAttribute, "member"},
		{"groups.empty_member", cfg.Groups.EmptyMember, "cn=nobody,dc=example,dc=org"},
		{"groups.max_results default", cfg.Groups.MaxResults, 1000},
		{"log", cfg.Log, config.LogConfig{Level: "info", Format: "json"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scimbridge.yaml")
	if err := os.WriteFile(path, examples.OpenLDAP, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Source{File: path, Environ: exampleEnv()})
	if err != nil || cfg.LDAP.URL != "ldap://127.0.0.1:3890" {
		t.Fatalf("Load(File) = %+v, %v", cfg, err)
	}
	if _, err := config.Load(config.Source{File: filepath.Join(t.TempDir(), "missing.yaml"), Environ: exampleEnv()}); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

func TestLoadMissingEnv(t *testing.T) {
	_, err := config.Load(config.Source{Data: examples.OpenLDAP, Environ: func() []string { return nil }})
	if err == nil {
		t.Fatal("Load succeeded without the environment")
	}
	want := "environment variables referenced but not set: LDAP_BIND_PASSWORD, SCIMBRIDGE_TOKEN_SHA256"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to contain %q", err, want)
	}
	// The same variable twice is named once.
	data := []byte("ldap: {bind_dn: '${NOPE}', bind_password: '${NOPE}'}\n")
	_, err = config.Load(config.Source{Data: data, Environ: func() []string { return nil }})
	if err == nil || !strings.HasSuffix(err.Error(), "not set: NOPE") {
		t.Errorf("error %v, want it to name NOPE once", err)
	}
}

func TestLoadExpansion(t *testing.T) {
	yaml := strings.Replace(string(examples.OpenLDAP), "url: ldap://127.0.0.1:3890", "url: ${LDAP_URL:-ldap://fallback:389}", 1)
	load := func(env ...string) *config.Config {
		cfg, err := config.Load(config.Source{Data: []byte(yaml), Environ: exampleEnv(env...)})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		return cfg
	}
	if got := load().LDAP.URL; got != "ldap://fallback:389" {
		t.Errorf("default: url = %q", got)
	}
	if got := load("LDAP_URL=ldaps://dir:636").LDAP.URL; got != "ldaps://dir:636" {
		t.Errorf("set: url = %q", got)
	}
	// A secret full of YAML syntax stays one string: expansion runs after parsing.
	evil := "x'\nldap: {url: http://evil}\n# ${OTHER}"
	cfg, err := config.Load(config.Source{Data: examples.OpenLDAP, Environ: func() []string {
		return []string{"LDAP_BIND_PASSWORD=" + evil, "SCIMBRIDGE_TOKEN_SHA256=" + hash}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LDAP.BindPassword != evil || cfg.LDAP.URL != "ldap://127.0.0.1:3890" {
		t.Errorf("bind_password = %q, url = %q", cfg.LDAP.BindPassword, cfg.LDAP.URL)
	}
}

func TestLoadEnvOverrides(t *testing.T) {
	cfg := loadExample(t,
		"SCIMBRIDGE_LDAP__URL=ldaps://override:636",
		"SCIMBRIDGE_LDAP__POOL_SIZE=8",
		"SCIMBRIDGE_LDAP__TIMEOUT=3s",
		"SCIMBRIDGE_USERS__DISABLE__METHOD=none",
		"SCIMBRIDGE_SERVER__BASE_PATH=scim/",
		// No "__": feeds ${VAR} only, never a key (it would be an unknown one).
		"SCIMBRIDGE_SOMETHING_ELSE=1",
		"OTHER_PREFIX__LDAP__URL=ldap://ignored",
	)
	if cfg.LDAP.URL != "ldaps://override:636" {
		t.Errorf("ldap.url = %q", cfg.LDAP.URL)
	}
	if cfg.LDAP.PoolSize != 8 || cfg.LDAP.Timeout != 3*time.Second {
		t.Errorf("pool_size = %d, timeout = %v", cfg.LDAP.PoolSize, cfg.LDAP.Timeout)
	}
	if cfg.Users.Disable.Method != "none" {
		t.Errorf("users.disable.method = %q", cfg.Users.Disable.Method)
	}
	if cfg.Server.BasePath != "/scim" {
		t.Errorf("server.base_path = %q, want /scim", cfg.Server.BasePath)
	}
	// SCIMBRIDGE_TOKEN_SHA256 has no "__": it filled ${SCIMBRIDGE_TOKEN_SHA256}.
	if cfg.Auth.BearerTokens[0].SHA256 != hash {
		t.Errorf("token = %q", cfg.Auth.BearerTokens[0].SHA256)
	}
	_, err := config.Load(config.Source{Data: examples.OpenLDAP, Environ: exampleEnv("SCIMBRIDGE_LDAP__URLL=x")})
	if err == nil || !strings.Contains(err.Error(), "urll") {
		t.Errorf("unknown key from the environment: err = %v", err)
	}
}

func TestLoadFlags(t *testing.T) {
	fs := pflag.NewFlagSet("scimbridge", pflag.ContinueOnError)
	fs.String("listen", "", "")
	fs.String("log-level", "", "")
	if err := fs.Parse([]string{"--listen", "0.0.0.0:9999"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Source{Data: examples.OpenLDAP, Environ: exampleEnv("SCIMBRIDGE_SERVER__LISTEN=:1"),
		Flags: fs, FlagKeys: map[string]string{"listen": "server.listen", "log-level": "log.level"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "0.0.0.0:9999" {
		t.Errorf("server.listen = %q, want the flag to win", cfg.Server.Listen)
	}
	if cfg.Log.Level != "info" {
		t.Errorf("log.level = %q: an unset flag must not override", cfg.Log.Level)
	}
}

func TestLoadDecoding(t *testing.T) {
	yaml := string(examples.OpenLDAP) + `
log: {level: debug, format: console}
`
	yaml = strings.Replace(yaml, "  flavor: openldap\n", "  flavor: openldap\n  timeout: 5s\n  dial_timeout: 1m30s\n", 1)
	yaml = strings.Replace(yaml, "  base_path: /scim/v2\n", "  base_path: /scim/v2\n  read_timeout: 250ms\n", 1)
	yaml = strings.Replace(yaml, `      sha256: "${SCIMBRIDGE_TOKEN_SHA256}"`,
		`      sha256: "${SCIMBRIDGE_TOKEN_SHA256}"`+"\n      expires: 2027-01-02T03:04:05Z", 1)
	cfg, err := config.Load(config.Source{Data: []byte(yaml), Environ: exampleEnv()})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LDAP.Timeout != 5*time.Second || cfg.LDAP.DialTimeout != 90*time.Second || cfg.Server.ReadTimeout != 250*time.Millisecond {
		t.Errorf("timeout = %v, dial_timeout = %v, read_timeout = %v", cfg.LDAP.Timeout, cfg.LDAP.DialTimeout, cfg.Server.ReadTimeout)
	}
	if want := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC); !cfg.Auth.BearerTokens[0].Expires.Equal(want) {
		t.Errorf("expires = %v, want %v", cfg.Auth.BearerTokens[0].Expires, want)
	}
	if cfg.Log.Format != "console" {
		t.Errorf("log.format = %q", cfg.Log.Format)
	}
}

func TestLoadRejects(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key", "ldap: {urll: x}\n", "urll"},
		{"unknown section", "ldapp: {url: x}\n", "ldapp"},
		{"unknown nested key", "users: {disable: {methd: none}}\n", "methd"},
		{"bad duration", "ldap: {timeout: soon}\n", "timeout"},
		{"not YAML", "ldap: [\n", ""},
		{"top level list", "- a\n- b\n", ""},
		{"top level scalar", "42\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load(config.Source{Data: []byte(tc.yaml), Environ: exampleEnv()})
			if err == nil {
				t.Fatalf("Load accepted %q: %+v", tc.yaml, cfg)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			var p config.Problem
			if errors.As(err, &p) {
				t.Errorf("decode error reported as a validation problem: %v", err)
			}
		})
	}
}
