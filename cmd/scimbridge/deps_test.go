package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The shipped binary links no test code: testing (whose flags and init a
// daemon must not carry), httptest, or testenv (whose init can turn the
// process into a Samba keeper). The demo's slapd comes from internal/slapd.
func TestBinaryLinksNoTestCode(t *testing.T) {
	out, err := exec.Command(goTool(t), "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "testing", "net/http/httptest", "github.com/scimbridge/scimbridge/testenv":
			t.Errorf("cmd/scimbridge links %s", dep)
		}
	}
}

// The use cases depend on SCIM's semantics, not on the HTTP framework, the
// metrics library or TLS/ACME code, which live in scimapi and internal/daemon.
func TestUseCasesLinkNoDaemonCode(t *testing.T) {
	out, err := exec.Command(goTool(t), "list", "-deps", "../../bridge").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	banned := func(dep string) bool {
		for _, p := range []string{
			"github.com/labstack/", "github.com/prometheus/", "golang.org/x/crypto/acme",
			"github.com/fsnotify/", "github.com/scimbridge/scimbridge/internal/daemon",
		} {
			if strings.HasPrefix(dep, p) {
				return true
			}
		}
		return dep == "github.com/scimbridge/scimbridge/scimapi" // its subpackages are HTTP-free
	}
	for _, dep := range strings.Fields(string(out)) {
		if banned(dep) {
			t.Errorf("bridge links %s", dep)
		}
	}
}

// goTool is the go command running this test. go test puts its own
// GOROOT/bin first in the PATH of the test binary (Go 1.19 and later), so the
// lookup finds the toolchain under test, not whichever go comes first in the
// user's PATH.
func goTool(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command: %v", err)
	}
	return p
}
