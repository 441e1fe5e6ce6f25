package daemon

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/config"
)

// prepTemplate is a small valid configuration (prepFields fill it in). The
// directory is never dialed.
const prepTemplate = `server:
  listen: 127.0.0.1:0
auth:
  bearer_tokens:
    - name: entra
      sha256: "` + prepHash + `"
ldap:
  url: ldap://127.0.0.1:1
  bind_dn: cn=admin,dc=example,dc=org
  pool_size: %d
users:
  base_dn: ou=people,dc=example,dc=org
  %s:
    - { scim: userName, ldap: uid }
    - { scim: %s, ldap: displayName }
%s`

const prepHash = "abababababababababababababababababababababababababababababababab"

// prepFields are what varies in prepTemplate: ldap.pool_size, the key of
// the user mapping, the SCIM side of its second line and lines appended under
// users: (from line 16).
type prepFields struct {
	poolSize      int
	attrKey, scim string
	extra         string
}

// valid are the fields of a valid file.
var valid = prepFields{poolSize: 3, attrKey: "attributes", scim: "displayName"}

func (pf prepFields) with(change func(*prepFields)) prepFields {
	change(&pf)
	return pf
}

func prepFile(t *testing.T, pf prepFields) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "scimbridge.yaml")
	writePrep(t, f, pf)
	return f
}

// writePrep replaces f, as editors and config management do.
func writePrep(t *testing.T, f string, pf prepFields) {
	t.Helper()
	tmp := f + ".tmp"
	body := fmt.Sprintf(prepTemplate, pf.poolSize, pf.attrKey, pf.scim, pf.extra)
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, f); err != nil {
		t.Fatal(err)
	}
}

func TestPrepare(t *testing.T) {
	for _, tc := range []struct {
		name   string
		file   prepFields
		kind   PoolKind
		want   []string // the problems, in order, each up to its end; nil: none
		poolOf int      // the pool's size; 0: no pool
		maps   bool     // the user mapping is compiled
	}{
		{name: "valid, to serve", file: valid, kind: ServePool, poolOf: 3, maps: true},
		{name: "valid, to check", file: valid, kind: CheckPool, poolOf: 1, maps: true},
		{name: "valid, offline", file: valid, kind: NoPool, maps: true},
		{
			// The mapping's problem gets its line like Load's own.
			name: "mapping problem", file: valid.with(func(f *prepFields) { f.scim = "displayNme" }), kind: ServePool,
			want: []string{`line 15: users.attributes[1].scim: "displayNme" is not an attribute`}, maps: true,
		},
		{
			// Load and the mapping both apply DisableConfig.Problems: once.
			name: "problem found twice, printed once", kind: ServePool, maps: true,
			file: valid.with(func(f *prepFields) { f.extra = "  disable: { method: lock }\n" }),
			want: []string{`line 16: users.disable.method: must be ppolicy, attribute, uac or none, got "lock"`},
		},
		{
			// The online checks still run for validate: on one connection.
			name: "invalid pool size, to check", file: valid.with(func(f *prepFields) { f.poolSize = -1 }),
			kind: CheckPool, poolOf: 1, maps: true,
			want: []string{"line 10: ldap.pool_size: must be between 1 and 256, got -1"},
		},
		{
			name: "invalid pool size, to serve", file: valid.with(func(f *prepFields) { f.poolSize = -1 }),
			kind: ServePool, maps: true,
			want: []string{"line 10: ldap.pool_size: must be between 1 and 256, got -1"},
		},
		{
			// "userName must be mapped" would only repeat the misspelt key,
			// so the mapping is not compiled.
			name: "misspelt mapping key", file: valid.with(func(f *prepFields) { f.attrKey = "atributes" }), kind: CheckPool,
			want:   []string{`line 13: users.atributes: unknown key; did you mean "attributes"?`},
			poolOf: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := prepFile(t, tc.file)
			p, err := Prepare(config.Source{File: f}, PrepareOptions{Pool: tc.kind})
			got := joined(err)
			if len(got) != len(tc.want) {
				t.Errorf("problems: %v, want %d", err, len(tc.want))
			}
			for i := 0; i < len(got) && i < len(tc.want); i++ {
				if !strings.HasPrefix(got[i].Error(), tc.want[i]) {
					t.Errorf("problem %q, want %q...", got[i], tc.want[i])
				}
			}
			if p == nil {
				t.Fatal("no Prepared value for a file that decodes")
			}
			if p.Pool != nil {
				defer p.Pool.Close()
				if p.Pool.Dialed() != 0 {
					t.Errorf("Prepare dialed %d connections", p.Pool.Dialed())
				}
			}
			switch {
			case tc.poolOf == 0 && p.Pool != nil:
				t.Errorf("a pool of %d connections, want none", p.Pool.Size())
			case tc.poolOf > 0 && (p.Pool == nil || p.Pool.Size() != tc.poolOf):
				t.Errorf("pool %v, want one of %d connections", p.Pool, tc.poolOf)
			}
			if (p.Users != nil) != tc.maps {
				t.Errorf("user mapping compiled: %v, want %v", p.Users != nil, tc.maps)
			}
			if err == nil && tc.kind == ServePool && (len(p.Tokens) != 1 || p.Tokens[0].Name != "entra") {
				t.Errorf("tokens %+v", p.Tokens)
			}
		})
	}
}

func TestPrepareUnreadable(t *testing.T) {
	p, err := Prepare(config.Source{File: filepath.Join(t.TempDir(), "missing.yaml")}, PrepareOptions{})
	if p != nil || err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("got %v, %v", p, err)
	}
}

// An App is made from a Prepared value once, and only from one prepared to
// serve: a check pool holds one connection.
func TestPreparedNewApp(t *testing.T) {
	f := prepFile(t, valid)
	check, err := Prepare(config.Source{File: f}, PrepareOptions{Pool: CheckPool})
	if err != nil {
		t.Fatal(err)
	}
	defer check.Pool.Close()
	if _, err := check.NewApp(); err == nil {
		t.Error("an App was made from a check pool")
	}
	p, err := Prepare(config.Source{File: f}, PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	app, err := p.NewApp()
	if err != nil {
		t.Fatal(err)
	}
	defer app.Pool().Close()
	if app.Pool() != p.Pool {
		t.Error("the App built a pool of its own instead of taking the prepared one")
	}
}

// A rejected reload logs each problem with its line, also the mapping's,
// which the file's reader (config.Load) does not see.
func TestReloadRejectionLogsLines(t *testing.T) {
	f := prepFile(t, valid)
	src := config.Source{File: f}
	var logs bytes.Buffer
	p, err := Prepare(src, PrepareOptions{Log: func(config.LogConfig) zerolog.Logger { return zerolog.New(&logs) }})
	if err != nil {
		t.Fatal(err)
	}
	app, err := p.NewApp()
	if err != nil {
		t.Fatal(err)
	}
	defer app.Pool().Close()
	app.Source = &src
	writePrep(t, f, valid.with(func(f *prepFields) { f.poolSize, f.scim = 300, "displayNme" }))
	if err := app.Reload(); err == nil {
		t.Fatal("an invalid file was accepted")
	}
	for _, want := range []string{
		`"problem":"line 10: ldap.pool_size: must be between 1 and 256, got 300"`,
		`"problem":"line 15: users.attributes[1].scim: \"displayNme\" is not an attribute`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
	if app.Pool() != p.Pool {
		t.Error("a rejected reload replaced the pool")
	}
}
