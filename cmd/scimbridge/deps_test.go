package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The shipped binary links no test code: testing (whose flags and init a
// daemon must not carry), httptest, or testenv (whose init can turn the
// process into a Samba keeper). The demo's slapd comes from internal/slapd.
func TestBinaryLinksNoTestCode(t *testing.T) {
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-deps", ".").CombinedOutput()
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
