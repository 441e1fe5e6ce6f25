package testenv

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/slapd"
)

// The message is the only guidance a developer without slapd gets, so it is checked verbatim.
func TestStartSlapdNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := slapd.SearchDirs
	slapd.SearchDirs = []string{t.TempDir()}
	t.Cleanup(func() { slapd.SearchDirs = saved })

	_, err := StartSlapd(context.Background(), SlapdOptions{})
	if !errors.Is(err, ErrSlapdNotFound) {
		t.Fatalf("err = %v, want ErrSlapdNotFound", err)
	}
	for _, want := range []string{"not installed", "apt-get install -y slapd ldap-utils", "make test"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestCIRequiresServer(t *testing.T) {
	for v, want := range map[string]bool{"": false, "false": false, "FALSE": false, "0": false, "true": true, "1": true, "yes": true} {
		t.Setenv("CI", v)
		if got := CIRequiresServer(); got != want {
			t.Errorf("CI=%q: got %v, want %v", v, got, want)
		}
	}
}

func TestSanitizeRDN(t *testing.T) {
	if got := sanitizeRDN("TestX/sub,case=1+é", 40); got != "TestX-sub-case-1---" {
		t.Fatalf("got %q", got)
	}
}

// The skip-or-fail policy is what keeps CI honest, so it is checked end to end: a child test
// binary without slapd must skip by default and fail under CI=true.
func TestOpenLDAPWithoutSlapd(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		slapd.SearchDirs = []string{t.TempDir()}
		OpenLDAP(t)
		t.Fatal("OpenLDAP returned without a server")
	}
	for _, ci := range []string{"", "false", "true"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOpenLDAPWithoutSlapd$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", "PATH="+t.TempDir(), "CI="+ci, EnvURL+"=")
		out, err := cmd.CombinedOutput()
		switch {
		case ci == "true" && (err == nil || !strings.Contains(string(out), "requires one")):
			t.Errorf("CI=%q: want a failure, got err=%v:\n%s", ci, err, out)
		case ci != "true" && (err != nil || !strings.Contains(string(out), "would fail under CI=true")):
			t.Errorf("CI=%q: want a skip mentioning CI, got err=%v:\n%s", ci, err, out)
		}
		if !strings.Contains(string(out), "apt-get install -y slapd ldap-utils") {
			t.Errorf("CI=%q: no installation hint:\n%s", ci, out)
		}
	}
}
