package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"

	"github.com/scimbridge/scimbridge/internal/buildinfo"
)

func TestVersion(t *testing.T) {
	info := buildinfo.Get()
	for _, args := range [][]string{{"version"}, {"--version"}, {"version", "--format", "text"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitOK || errb.Len() > 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		if want := versionLine(info) + "\n"; out.String() != want {
			t.Errorf("%v: %q, want %q", args, out.String(), want)
		}
		if !regexp.MustCompile(`^scimbridge \S+ \(commit \S+, go\S+\)\n$`).MatchString(out.String()) {
			t.Errorf("%v: %q is not one line like \"scimbridge v1.2.3 (commit abc1234, go1.26.0)\"", args, out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"version", "--format", "json"}, &out, &errb); code != exitOK {
		t.Fatalf("--format json: exit %d: %s", code, errb.String())
	}
	var got versionJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("--format json: %v: %s", err, out.String())
	}
	if want := (versionJSON{Version: info.Version, Commit: info.Commit, Go: info.GoVersion}); got != want {
		t.Errorf("--format json: %+v, want %+v", got, want)
	}
}

func TestShortCommit(t *testing.T) {
	for in, want := range map[string]string{
		"391d3e76bfb810f8858ad4977b3a919c947af966": "391d3e7",
		"abc1234": "abc1234",
		"unknown": "unknown",
		"":        "",
	} {
		if got := shortCommit(in); got != want {
			t.Errorf("shortCommit(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestVersionOfALinkedBuild builds the binary as a release does, with the
// version and commit set by the linker, and runs `scimbridge version` as a
// package's post-install check would: the line names what the linker set.
func TestVersionOfALinkedBuild(t *testing.T) {
	const commit = "abc1234def5678901234567890abcdef12345678"
	bin := filepath.Join(t.TempDir(), "scimbridge")
	cmd := exec.Command(goTool(t), "build", "-o", bin, "-ldflags",
		"-X github.com/scimbridge/scimbridge/internal/buildinfo.Version=v1.2.3 "+
			"-X github.com/scimbridge/scimbridge/internal/buildinfo.Commit="+commit, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if want := "scimbridge v1.2.3 (commit abc1234, " + runtime.Version() + ")\n"; err != nil || string(out) != want {
		t.Errorf("version: %q (%v), want %q", out, err, want)
	}
	out, err = exec.Command(bin, "--version", "--format", "json").Output()
	if want := `{"version":"v1.2.3","commit":"` + commit + `","go":"` + runtime.Version() + `"}` + "\n"; err != nil || string(out) != want {
		t.Errorf("--version --format json: %q (%v), want %q", out, err, want)
	}
}
