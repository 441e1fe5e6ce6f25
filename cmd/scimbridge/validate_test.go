package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fiveMistakes is a configuration that passes the offline checks but has five
// mistakes only the directory can reveal: a misspelt attribute, an unknown
// object class, a MUST attribute nobody sets (posixAccount's uidNumber), a
// missing groups.base_dn and a missing groups.empty_member entry.
const fiveMistakes = `server:
  listen: 127.0.0.1:8080
auth:
  bearer_tokens:
    - name: entra
      sha256: "%[1]s"
ldap:
  url: %[2]s
  bind_dn: %[3]s
  bind_password: ${LDAP_BIND_PASSWORD}
users:
  base_dn: %[4]s
  rdn: uid
  object_classes: [top, person, organizationalPerson, inetOrgPersn, posixAccount]
  attributes:
    - { scim: userName, ldap: uid }
    - { scim: externalId, ldap: employeeNumber }
    - { scim: displayName, ldap: displayName }
    - { scim: name.givenName, ldap: givenName }
    - { scim: name.familyName, ldap: sn }
    - { scim: name.formatted, ldap: cn }
    - { scim: title, ldap: title }
    - { scim: 'emails[type eq "work"].value', ldap: mial }
  derive:
    - { ldap: gidNumber, template: "10000" }
    - { ldap: homeDirectory, template: "/home/{{ .uid }}" }
groups:
  base_dn: ou=missing,%[5]s
  object_classes: [top, groupOfNames]
  attributes:
    - { scim: displayName, ldap: cn }
    - { scim: externalId, ldap: description }
  empty_member: cn=nobody-missing,%[6]s
`

// writeConfig writes the five-mistakes file for srv and ns.
func writeConfig(t *testing.T, srv *testenv.Server, ns testenv.Namespace, url string) string {
	t.Helper()
	t.Setenv("LDAP_BIND_PASSWORD", srv.BindPassword)
	f := filepath.Join(t.TempDir(), "five-mistakes.yaml")
	body := fmt.Sprintf(fiveMistakes, strings.Repeat("ab", 32), url, srv.BindDN, ns.People, ns.DN, srv.BaseDN)
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestValidateOnlineReportsFiveMistakes(t *testing.T) {
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	f := writeConfig(t, srv, ns, srv.URL)
	var out, errb bytes.Buffer
	code := run([]string{"validate", "--config", f}, &out, &errb)
	t.Logf("validate output:\n%s", errb.String())
	if code != 1 || out.Len() > 0 {
		t.Fatalf("exit %d, stdout %q", code, out.String())
	}
	want := []string{
		`error: line 14: users.object_classes[3]: object class "inetOrgPersn" is not in the directory schema; did you mean "inetOrgPerson"?`,
		`error: line 23: users.attributes[7].ldap: attribute "mial" is not in the directory schema; did you mean "mail"?`,
		`error: line 14: users.object_classes: posixAccount requires attribute "uidNumber" (MUST), but no users.attributes or users.derive entry sets it`,
		`error: line 28: groups.base_dn: entry "ou=missing,` + ns.DN + `" does not exist`,
		`error: line 33: groups.empty_member: entry "cn=nobody-missing,` + srv.BaseDN + `" does not exist`,
	}
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d lines, want %d", len(lines), len(want))
	}
	for _, w := range want {
		if !strings.Contains(errb.String(), w) {
			t.Errorf("missing line %q", w)
		}
	}
	// The same file passes the offline checks: only the directory knows.
	out.Reset()
	errb.Reset()
	if code := run([]string{"validate", "--offline", "--config", f}, &out, &errb); code != 0 || errb.Len() > 0 {
		t.Errorf("--offline: exit %d: %s", code, errb.String())
	}
	// serve runs the same checks and refuses to start.
	errb.Reset()
	if code := run([]string{"serve", "--config", f}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), `"mial" is not in the directory schema`) ||
		!strings.Contains(errb.String(), "serve: refusing to start") {
		t.Errorf("serve: exit %d: %s", code, errb.String())
	}
}

func TestValidateUnreachableDirectory(t *testing.T) {
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	f := writeConfig(t, srv, ns, "ldap://127.0.0.1:1")
	var out, errb bytes.Buffer
	// Default: a warning, the offline checks only, and success.
	if code := run([]string{"validate", "--config", f}, &out, &errb); code != 0 ||
		!strings.HasPrefix(errb.String(), "warning: ldap.url: cannot reach the directory") ||
		!strings.Contains(out.String(), "OK (1 warning)") {
		t.Errorf("default: exit %d: %s%s", code, out.String(), errb.String())
	}
	// --online: an error.
	out.Reset()
	errb.Reset()
	if code := run([]string{"validate", "--online", "--config", f}, &out, &errb); code != 1 ||
		!strings.HasPrefix(errb.String(), "error: ldap.url: cannot reach the directory") {
		t.Errorf("--online: exit %d: %s", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"validate", "--online", "--offline", "--config", f}, &out, &errb); code != 2 {
		t.Errorf("--online --offline: exit %d: %s", code, errb.String())
	}
}

func TestValidateOnlineExample(t *testing.T) {
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	t.Setenv("LDAP_BIND_PASSWORD", srv.BindPassword)
	t.Setenv("SCIMBRIDGE_TOKEN_SHA256", strings.Repeat("ab", 32))
	t.Setenv("SCIMBRIDGE_LDAP__URL", srv.URL)
	t.Setenv("SCIMBRIDGE_LDAP__BIND_DN", srv.BindDN)
	t.Setenv("SCIMBRIDGE_USERS__BASE_DN", ns.People)
	t.Setenv("SCIMBRIDGE_GROUPS__BASE_DN", ns.Groups)
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "--online", "--config", "../../examples/openldap.yaml"}, &out, &errb); code != 0 ||
		errb.Len() > 0 || !strings.HasSuffix(out.String(), ": OK\n") {
		t.Errorf("exit %d: %s%s", code, out.String(), errb.String())
	}
}

// TestValidateUnknownKeys: validate (and serve) name every mistake in one
// run, unknown keys with their line and a did-you-mean, and nothing that only
// follows from a misspelling (the mapping check of a users section whose
// attributes key is misspelt would say "userName must be mapped").
func TestValidateUnknownKeys(t *testing.T) {
	t.Setenv("SCIMBRIDGE_TOKEN_SHA256", strings.Repeat("ab", 32))
	t.Setenv("SCIMBRIDGE_LDAP__URLL", "ldap://x")
	// Six mistakes: attributes misspelt under users and groups, a misspelt key
	// in a list element and one two levels down, a value of the wrong type and
	// a value the checks refuse (shared with config's TestLoadReportsEveryMistake).
	f := "../../config/testdata/six-mistakes.yaml"
	want := `error: line 6: auth.bearer_tokens[0].sha265: unknown key; did you mean "sha256"?
error: line 10: ldap.pool_size: must be a whole number, got "abc"
error: line 13: users.atributes: unknown key; did you mean "attributes"?
error: line 16: users.disable.methd: unknown key; did you mean "method"?
error: line 20: groups.atributes: unknown key; did you mean "attributes"?
error: ldap.urll (from SCIMBRIDGE_LDAP__URLL): unknown key; did you mean "url"?
error: line 23: log.format: must be json or console, got "xml"
`
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "--offline", "--config", f}, &out, &errb); code != 1 || errb.String() != want {
		t.Errorf("validate: exit %d, stderr:\n%s\nwant:\n%s", code, errb.String(), want)
	}
	errb.Reset()
	if code := run([]string{"serve", "--config", f}, &out, &errb); code != 1 ||
		errb.String() != want+"serve: refusing to start with an invalid configuration\n" {
		t.Errorf("serve: exit %d, stderr:\n%s", code, errb.String())
	}
}

// Settings the offline checks refuse (here a negative pool size) do not stop
// the checks against the directory: both kinds of problem come in one run.
func TestValidateOnlineDespiteOfflineProblems(t *testing.T) {
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	f := writeConfig(t, srv, ns, srv.URL)
	t.Setenv("SCIMBRIDGE_LDAP__POOL_SIZE", "-1")
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "--config", f}, &out, &errb); code != 1 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"ldap.pool_size: must be between 1 and 256, got -1\n",
		`error: line 23: users.attributes[7].ldap: attribute "mial" is not in the directory schema`,
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("missing %q in:\n%s", want, errb.String())
		}
	}
}

// validate --offline still prints the configuration's own warnings: one
// uidNumber counter for two replicas can hand out numbers twice after a
// failover (docs/high-availability.md).
func TestValidateOfflineWarnsSharedCounter(t *testing.T) {
	raw, err := os.ReadFile("../../examples/openldap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Ports 1 and 2: nothing answers there, so the default validate finds
	// the directory unreachable.
	body := strings.Replace(string(raw), "  url: ldap://127.0.0.1:3890\n",
		"  url: ldap://127.0.0.1:1\n  failover_urls: [ldap://127.0.0.1:2]\n", 1)
	body = strings.Replace(body, "users:\n", "users:\n  uid_number:\n    counter_dn: cn=uidnext,dc=example,dc=org\n", 1)
	f := filepath.Join(t.TempDir(), "replicas.yaml")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LDAP_BIND_PASSWORD", "x")
	t.Setenv("SCIMBRIDGE_TOKEN_SHA256", strings.Repeat("ab", 32))
	var out, errb bytes.Buffer
	code := run([]string{"validate", "--offline", "--config", f}, &out, &errb)
	if code != 0 || !strings.Contains(errb.String(), "warning: users.uid_number.counter_dn: one counter for 2 directory servers") ||
		!strings.Contains(out.String(), "OK (1 warning)") {
		t.Errorf("exit %d: %s%s", code, out.String(), errb.String())
	}
	// Without --offline and no directory: the configuration's warning too.
	out.Reset()
	errb.Reset()
	code = run([]string{"validate", "--config", f}, &out, &errb)
	if code != 0 || !strings.Contains(errb.String(), "warning: users.uid_number.counter_dn: one counter for 2 directory servers") ||
		!strings.Contains(errb.String(), "cannot reach the directory") || !strings.Contains(out.String(), "OK (2 warnings)") {
		t.Errorf("unreachable directory: exit %d: %s%s", code, out.String(), errb.String())
	}
}
