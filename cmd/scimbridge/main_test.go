package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func TestTokenNewPrintsTokenAndItsHash(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"token", "new", "--name", "entra"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	tok := regexp.MustCompile(`scb_[0-9a-f]{64}`).FindString(out.String())
	hash := regexp.MustCompile(`sha256: "([0-9a-f]{64})"`).FindStringSubmatch(out.String())
	if tok == "" || hash == nil {
		t.Fatalf("output: %s", out.String())
	}
	sum := sha256.Sum256([]byte(tok))
	if hex.EncodeToString(sum[:]) != hash[1] {
		t.Error("printed hash is not the SHA-256 of the printed token")
	}
	if !strings.Contains(out.String(), "- name: entra") {
		t.Errorf("no YAML name line: %s", out.String())
	}
	var out2 bytes.Buffer
	run([]string{"token", "new"}, &out2, &errb)
	if regexp.MustCompile(`scb_[0-9a-f]{64}`).FindString(out2.String()) == tok {
		t.Error("two calls printed the same token")
	}
}

func TestValidateExample(t *testing.T) {
	t.Setenv("LDAP_BIND_PASSWORD", "x")
	t.Setenv("SCIMBRIDGE_TOKEN_SHA256", strings.Repeat("ab", 32))
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "--config", "../../examples/openldap.yaml"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "OK") {
		t.Errorf("output %q", out.String())
	}
}

// A config with several different mistakes: validate reports every one of
// them, each with its YAML path, and exits non-zero.
func TestValidateReportsEveryProblem(t *testing.T) {
	bad := `server:
  listen: 127.0.0.1:8080
auth:
  bearer_tokens:
    - name: entra
      sha256: "not-a-hash"
ldap:
  url: http://ldap.example.org
  flavor: openldap
users:
  base_dn: ou=people,dc=example,dc=org
  rdn: uid
  attributes:
    - { scim: userName, ldap: uid }
    - { scim: emails.value, ldap: mail }
    - { scim: displayNme, ldap: displayName }
  disable:
    method: lock
`
	f := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(f, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "--config", f}, &out, &errb); code == 0 {
		t.Fatal("validate accepted a broken config")
	}
	for _, want := range []string{
		"auth.bearer_tokens[0].sha256",
		"ldap.url",
		"users.disable.method",
		`users.attributes[1].scim: "emails" is multi-valued`,
		`users.attributes[2].scim: "displayNme" is not an attribute`,
		`did you mean`,
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("missing %q in:\n%s", want, errb.String())
		}
	}
}

func TestUnknownKeyIsAnError(t *testing.T) {
	f := filepath.Join(t.TempDir(), "typo.yaml")
	_ = os.WriteFile(f, []byte("ldap:\n  urll: ldap://x\n"), 0o600)
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "--config", f}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "urll") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

// Without GOGC the bridge runs its collector at defaultGCPercent; GOGC, when
// set, is left to decide.
func TestGCPercent(t *testing.T) {
	old, had := os.LookupEnv("GOGC")
	t.Cleanup(func() {
		if had {
			_ = os.Setenv("GOGC", old)
		} else {
			_ = os.Unsetenv("GOGC")
		}
	})
	restore := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(restore) })

	_ = os.Unsetenv("GOGC")
	setGCPercent()
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("without GOGC: GC percent %d, want %d", got, defaultGCPercent)
	}
	t.Setenv("GOGC", "100")
	setGCPercent()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC=100: GC percent %d, want GOGC's 100", got)
	}
}
