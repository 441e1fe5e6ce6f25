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
	cfg, err := config.Load(config.Source{
		Data: examples.OpenLDAP, Environ: exampleEnv("SCIMBRIDGE_SERVER__LISTEN=:1"),
		Flags: fs, FlagKeys: map[string]string{"listen": "server.listen", "log-level": "log.level"},
	})
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

// TestLoadRejects: what cannot be read as a configuration at all is a plain
// error, without a Config.
func TestLoadRejects(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"not YAML", "ldap: [\n", ""},
		{"top level list", "- a\n- b\n", ""},
		{"top level scalar", "42\n", ""},
		// A down-level name in double quotes: \s is no YAML escape.
		{"escape in double quotes", `ldap: {bind_dn: "EXAMPLE\svc"}` + "\n", "single quotes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load(config.Source{Data: []byte(tc.yaml), Environ: exampleEnv()})
			if err == nil || cfg != nil {
				t.Fatalf("Load(%q) = %+v, %v; want an error and no Config", tc.yaml, cfg, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			var p config.Problem
			if errors.As(err, &p) {
				t.Errorf("parse error reported as a problem: %v", err)
			}
		})
	}
}

// TestLoadReportsEveryMistake: unknown keys and wrong types are problems like
// the others, with path, line and did-you-mean, and do not stop the rest of
// the file from being decoded and validated. What only follows from a
// misspelling (users.attributes "is required", the token's sha256 "must be 64
// hex characters") is not reported on top of it.
func TestLoadReportsEveryMistake(t *testing.T) {
	// testdata/six-mistakes.yaml misspells attributes under users and groups and
	// has four more mistakes elsewhere: a misspelt key in a list element, a
	// misspelt key two levels down, a value of the wrong type and a value
	// Validate refuses.
	data, err := os.ReadFile("testdata/six-mistakes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Source{Data: data, Environ: exampleEnv()})
	if cfg == nil {
		t.Fatalf("no Config: %v", err)
	}
	want := []struct {
		path string
		line int
		msg  string
	}{
		{"auth.bearer_tokens[0].sha265", 6, `unknown key; did you mean "sha256"?`},
		{"ldap.pool_size", 10, `must be a whole number, got "abc"`},
		{"users.atributes", 13, `unknown key; did you mean "attributes"?`},
		{"users.disable.methd", 16, `unknown key; did you mean "method"?`},
		{"groups.atributes", 20, `unknown key; did you mean "attributes"?`},
		{"log.format", 23, `must be json or console, got "xml"`},
	}
	ps := problems(t, err)
	if len(ps) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for i, w := range want {
		if i >= len(ps) {
			break
		}
		if p := ps[i]; p.Path != w.path || p.Line != w.line || p.Msg != w.msg || p.Origin != "" {
			t.Errorf("problem %d = %+v, want line %d: %s: %s", i, p, w.line, w.path, w.msg)
		}
	}
	if !strings.Contains(err.Error(), `line 13: users.atributes: unknown key; did you mean "attributes"?`) {
		t.Errorf("error text:\n%v", err)
	}
	// The rest was decoded, defaults applied.
	if cfg.LDAP.URL != "ldap://127.0.0.1:3890" || cfg.LDAP.PoolSize != 4 || cfg.Groups.BaseDN != "ou=groups,dc=example,dc=org" {
		t.Errorf("ldap = %+v, groups.base_dn = %q", cfg.LDAP, cfg.Groups.BaseDN)
	}
}

func TestLoadUnknownKeys(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // Problem.Error() of each problem, in order
	}{
		{"unknown key", "ldap: {urll: x}\n", []string{`line 1: ldap.urll: unknown key; did you mean "url"?`}},
		{"unknown section", "ldapp: {url: x}\n", []string{`line 1: ldapp: unknown key; did you mean "ldap"?`}},
		{
			"nothing close", "users:\n  mappings: []\n",
			[]string{`line 2: users.mappings: unknown key; the keys here are base_dn, rdn, object_classes, `},
		},
		{
			"in a list element", "users:\n  attributes:\n    - scim: userName\n      ldapp: uid\n",
			[]string{`line 4: users.attributes[0].ldapp: unknown key; did you mean "ldap"?`},
		},
		{
			"nested", "server:\n  tls:\n    acme:\n      domain: [a.example.org]\n",
			[]string{`line 4: server.tls.acme.domain: unknown key; did you mean "domains"?`},
		},
		// The mapping's key line, not the line its list starts on.
		{
			"block value", "users:\n  atributes:\n    - {scim: userName, ldap: uid}\n",
			[]string{`line 2: users.atributes: unknown key; did you mean "attributes"?`},
		},
		{
			"bad duration", "ldap: {timeout: soon}\n",
			[]string{`line 1: ldap.timeout: must be a duration such as 30s or 5m, got "soon"`},
		},
		{
			"bad time", "auth:\n  bearer_tokens:\n    - {name: a, expires: tomorrow}\n",
			[]string{`line 3: auth.bearer_tokens[0].expires: must be a time such as 2026-12-31T00:00:00Z (RFC 3339), got "tomorrow"`},
		},
		{"list for a string", "ldap: {url: [a, b]}\n", []string{`line 1: ldap.url: must be a single value, got a list`}},
		// The element stays empty: its own "scim is required" would repeat it.
		{
			"scalar for a mapping", "users:\n  attributes: [uid]\n",
			[]string{`line 2: users.attributes[0]: must be a mapping of keys to values, got "uid"`},
		},
		{"bool", "server: {dry_run: maybe}\n", []string{`line 1: server.dry_run: must be true or false, got "maybe"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(config.Source{Data: []byte(tc.yaml), Environ: exampleEnv()})
			var got []string
			for _, p := range problems(t, err) {
				if p.Covers != "" || strings.HasPrefix(p.Msg, "unknown key") {
					got = append(got, p.Error())
				} else if strings.HasPrefix(p.Path, strings.SplitN(tc.want[0], ": ", 3)[1]) {
					t.Errorf("follow-on problem reported: %v", p)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q (all: %v)", got, tc.want, err)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("got %q, want %q", got[i], tc.want[i])
				}
			}
		})
	}
}

// A key spelt in another case is what the decoder takes (it matches keys
// case-insensitively), so it is not unknown.
func TestLoadKeyCase(t *testing.T) {
	yaml := strings.Replace(string(examples.OpenLDAP), "  flavor: openldap\n", "  Flavor: openldap\n  POOL_SIZE: 7\n", 1)
	cfg, err := config.Load(config.Source{Data: []byte(yaml), Environ: exampleEnv()})
	if err != nil || cfg.LDAP.PoolSize != 7 {
		t.Fatalf("pool_size = %d, err = %v", cfg.LDAP.PoolSize, err)
	}
}

// Overrides from the environment and flags are checked like the file, and
// their problems name the variable instead of a line of the file.
func TestLoadUnknownEnvKeys(t *testing.T) {
	fs := pflag.NewFlagSet("scimbridge", pflag.ContinueOnError)
	fs.String("listen", "", "")
	if err := fs.Parse([]string{"--listen", ":1"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Source{
		Data: examples.OpenLDAP, Flags: fs,
		// A flag mapped to no key: a mistake in the program, reported all the same.
		FlagKeys: map[string]string{"listen": "server.listne"},
		Environ: exampleEnv("SCIMBRIDGE_LDAP__URLL=ldap://x", "SCIMBRIDGE_LDAP__POOL_SIZE=abc",
			"SCIMBRIDGE_LDAPP__URL=ldap://y", "SCIMBRIDGE_LDAPP__TIMEOUT=1s"),
	})
	if cfg == nil || cfg.LDAP.URL != "ldap://127.0.0.1:3890" {
		t.Fatalf("Config %+v, %v", cfg, err)
	}
	want := []config.Problem{
		{Path: "ldap.pool_size", Origin: "SCIMBRIDGE_LDAP__POOL_SIZE", Msg: `must be a whole number, got "abc"`},
		{Path: "ldap.urll", Origin: "SCIMBRIDGE_LDAP__URLL", Msg: `unknown key; did you mean "url"?`},
		{Path: "ldapp", Origin: "SCIMBRIDGE_LDAPP__TIMEOUT, SCIMBRIDGE_LDAPP__URL", Msg: `unknown key; did you mean "ldap"?`},
		{Path: "server.listne", Origin: "--listen", Msg: `unknown key; did you mean "listen"?`},
	}
	ps := problems(t, err)
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for i, w := range want {
		p := ps[i]
		if p.Path != w.Path || p.Origin != w.Origin || p.Msg != w.Msg || p.Line != 0 {
			t.Errorf("problem %d = %+v, want %+v", i, p, w)
		}
	}
	// WithLines does not point into the file for them (ldap: is on line 13).
	withLines := config.WithLines(err, config.NewLineFinder(examples.OpenLDAP)).Error()
	if strings.Contains(withLines, "line ") ||
		!strings.Contains(withLines, `ldap.urll (from SCIMBRIDGE_LDAP__URLL): unknown key; did you mean "url"?`) {
		t.Errorf("WithLines:\n%s", withLines)
	}
}
