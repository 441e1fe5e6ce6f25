package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/scimbridge/scimbridge/internal/buildinfo"
)

var versionCmd = &command{
	name:     "version",
	synopsis: "version [--format text|json]",
	summary:  "print the version, the commit and the Go version of this build",
	about: "Prints the build's version, the commit it was built from (shortened to 7 characters) and the Go " +
		"version on one line, e.g. \"scimbridge v1.2.3 (commit abc1234, go1.26.8)\"; `scimbridge --version` " +
		"is the same. A release build carries the version and commit set when it was linked; another build " +
		"what the Go toolchain recorded (the module version for `go install ...@v1.2.3`, \"devel\" or a " +
		"pseudo-version for a build from source; \"unknown\" where no commit was recorded). --format json " +
		"prints {\"version\", \"commit\", \"go\"} with the full commit.",
	examples: []string{"scimbridge version", "scimbridge --version", "scimbridge version --format json"},
	exits:    []string{"0  printed", "2  usage error"},
	flags:    func() *pflag.FlagSet { fs, _ := versionFlags(); return fs },
}

func versionFlags() (*pflag.FlagSet, *string) {
	fs := pflag.NewFlagSet("version", pflag.ContinueOnError)
	return fs, fs.String("format", "text", "text (one line) or json")
}

// versionJSON is `version --format json`.
type versionJSON struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Go      string `json:"go"`
}

// version prints buildinfo.Get(): packages and bug reports read it.
func version(args []string, stdout, stderr io.Writer) int {
	fs, format := versionFlags()
	if code, done := parseFlags(versionCmd, fs, args, stdout, stderr); done {
		return code
	}
	info := buildinfo.Get()
	switch *format {
	case "text":
		fmt.Fprintln(stdout, versionLine(info))
	case "json":
		b, err := json.Marshal(versionJSON{Version: info.Version, Commit: info.Commit, Go: info.GoVersion})
		if err != nil {
			return exitProblems
		}
		fmt.Fprintf(stdout, "%s\n", b)
	default:
		return usageError(versionCmd, stderr, fmt.Errorf("--format must be text or json, not %q", *format))
	}
	return exitOK
}

// versionLine is the one line `scimbridge version` prints.
func versionLine(info buildinfo.Info) string {
	return fmt.Sprintf("scimbridge %s (commit %s, %s)", info.Version, shortCommit(info.Commit), info.GoVersion)
}

// shortCommit is the first 7 characters of a commit hash, as `git log
// --oneline` shows it at least; anything shorter (or "unknown") stays as is.
func shortCommit(c string) string {
	if len(c) > 7 {
		return c[:7]
	}
	return c
}
