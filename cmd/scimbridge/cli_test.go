package main

import (
	"bytes"
	"go/parser"
	gotoken "go/token"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
)

// exitCase is one run of the command line and what it must do.
type exitCase struct {
	name string
	args []string
	code int
	// stdout and stderr must contain these; "" checks that the stream stayed
	// empty, "*" that it got anything.
	stdout, stderr string
}

// commandWords is how c is typed: "token new" is two words.
func commandWords(c *command) []string { return strings.Fields(c.name) }

// genericExitCases are what every command must do: help on stdout with 0,
// and a usage error on stderr with 2 for an unknown flag or a stray
// argument. They come from the command table, so a new command is covered
// without a new line here.
func genericExitCases() []exitCase {
	var cases []exitCase
	for _, c := range commands {
		w := commandWords(c)
		help := "usage: scimbridge " + c.synopsis
		usage := "usage: scimbridge " + c.synopsis + "\nRun 'scimbridge " + c.name + " --help'"
		cases = append(cases,
			exitCase{c.name + " --help", append(w, "--help"), exitOK, help, ""},
			exitCase{c.name + " -h", append(w, "-h"), exitOK, help, ""},
			exitCase{"help " + c.name, append([]string{"help"}, w...), exitOK, help, ""},
			exitCase{c.name + " --bogus", append(w, "--bogus"), exitUsage, "", "scimbridge " + c.name + ": unknown flag: --bogus\n" + usage},
		)
		stray := `unexpected argument "stray"`
		if c == helpCmd {
			stray = `unknown command "stray"` // help's argument is a command
		}
		cases = append(cases, exitCase{c.name + " stray", append(w, "stray"), exitUsage, "", stray})
	}
	return cases
}

// TestExitCodes runs every command through its exit codes: 0 success, 1
// problems found, 2 usage error (docs/cli.md). Success of serve, preview,
// adopt and check needs a directory or a server: the slapd tests cover it.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("ldap:\n  urll: ldap://x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LDAP_BIND_PASSWORD", "x")
	t.Setenv("SCIMBRIDGE_TOKEN_SHA256", strings.Repeat("ab", 32))
	t.Setenv(checkTokenEnv, "")
	// A port that refuses connections: check fails its steps at once.
	refused := freeAddr(t)
	// A port in use: demo's slapd cannot listen there (and without slapd,
	// demo cannot start either: exit 1 both ways).
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	good := "../../examples/openldap.yaml"

	cases := append(genericExitCases(),
		exitCase{"no command", nil, exitUsage, "", "usage:\n  scimbridge serve"},
		exitCase{"unknown command", []string{"serv"}, exitUsage, "", `scimbridge: unknown command "serv"`},
		exitCase{"help", []string{"help"}, exitOK, "Commands:\n  serve", ""},
		exitCase{"--help", []string{"--help"}, exitOK, "Commands:\n  serve", ""},
		exitCase{"-h", []string{"-h"}, exitOK, "Commands:\n  serve", ""},
		exitCase{"help unknown", []string{"help", "serv"}, exitUsage, "", `scimbridge help: unknown command "serv"`},
		exitCase{"help token", []string{"help", "token"}, exitOK, "usage: scimbridge token new", ""},

		exitCase{"serve without --config", []string{"serve"}, exitUsage, "", "scimbridge serve: --config is required"},
		exitCase{"serve, config with problems", []string{"serve", "--config", bad}, exitProblems, "", "serve: refusing to start"},

		exitCase{"validate without --config", []string{"validate"}, exitUsage, "", "scimbridge validate: --config is required"},
		exitCase{"validate --online --offline", []string{"validate", "--online", "--offline", "--config", good}, exitUsage, "", "exclude each other"},
		exitCase{"validate --format xml", []string{"validate", "--format", "xml", "--config", good}, exitUsage, "", `--format must be text or json, not "xml"`},
		exitCase{"validate, problems", []string{"validate", "--offline", "--config", bad}, exitProblems, "", "error: line 2: ldap.urll: unknown key"},
		exitCase{"validate, problems, json", []string{"validate", "--offline", "--format", "json", "--config", bad}, exitProblems, `"ok": false`, ""},
		exitCase{"validate, missing file", []string{"validate", "--offline", "--config", filepath.Join(dir, "none.yaml")}, exitProblems, "", "no such file"},
		exitCase{"validate, ok", []string{"validate", "--offline", "--config", good}, exitOK, good + ": OK\n", ""},
		exitCase{"validate, ok, json", []string{"validate", "--offline", "--format=json", "--config", good}, exitOK, `"ok": true`, ""},

		exitCase{"token alone", []string{"token"}, exitUsage, "", `the only token command is "token new"`},
		exitCase{"token old", []string{"token", "old"}, exitUsage, "", "usage: scimbridge token new"},
		exitCase{"token --help", []string{"token", "--help"}, exitOK, "usage: scimbridge token new", ""},
		exitCase{"token new", []string{"token", "new"}, exitOK, "Secret Token", ""},

		exitCase{"demo, port 0", []string{"demo", "--ldap-port", "0"}, exitUsage, "", "--ldap-port must be 1 to 65535"},
		exitCase{"demo, port taken", []string{"demo", "--ldap-port", busyPort}, exitProblems, "", "demo:"},

		exitCase{"preview without --config", []string{"preview"}, exitUsage, "", "scimbridge preview: --config is required"},
		exitCase{"preview, bad --op", []string{"preview", "--config", good, "--op", "get"}, exitUsage, "", `--op must be create, replace, patch or delete, not "get"`},
		exitCase{"preview, patch without --id", []string{"preview", "--config", good, "--op", "patch"}, exitUsage, "", "--op patch needs --id"},
		exitCase{"preview, --id not a path", []string{"preview", "--config", good, "--op", "delete", "--id", "%zz"}, exitUsage, "", `--id "%zz"`},
		exitCase{"preview, config with problems", []string{"preview", "--config", bad}, exitProblems, "", "ldap.urll: unknown key"},

		exitCase{
			"adopt without flags",
			[]string{"adopt"},
			exitUsage, "",
			"scimbridge adopt: --config is required\nscimbridge adopt: --users is required\nscimbridge adopt: --dry-run is required",
		},
		exitCase{"adopt without --dry-run", []string{"adopt", "--config", good, "--users", "u.csv"}, exitUsage, "", "--dry-run is required"},
		exitCase{"adopt, config with problems", []string{"adopt", "--dry-run", "--config", bad, "--users", "u.csv"}, exitProblems, "", "ldap.urll: unknown key"},

		exitCase{"check without --url", []string{"check", "--token", "x"}, exitUsage, "", "scimbridge check: url: required"},
		exitCase{"check without token", []string{"check", "--url", "http://" + refused + "/scim/v2"}, exitUsage, "", "scimbridge check: token: required"},
		exitCase{"check, bad --skip", []string{"check", "--url", "http://x/scim/v2", "--token", "x", "--skip", "all"}, exitUsage, "", `skip "all"`},
		exitCase{
			"check, server down",
			[]string{"check", "--url", "http://" + refused + "/scim/v2", "--token", "x", "--timeout", "2s"},
			exitProblems, "FAIL", "",
		},

		exitCase{"version", []string{"version"}, exitOK, "scimbridge ", ""},
		exitCase{"--version", []string{"--version"}, exitOK, "scimbridge ", ""},
		exitCase{"version json", []string{"version", "--format", "json"}, exitOK, `"version":`, ""},
		exitCase{"version --format xml", []string{"version", "--format", "xml"}, exitUsage, "", `--format must be text or json, not "xml"`},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out.String(), errb.String())
			}
			checkStream(t, "stdout", out.String(), tc.stdout)
			checkStream(t, "stderr", errb.String(), tc.stderr)
			// The rule behind the cases: a usage error prints nothing on
			// stdout, and help nothing on stderr.
			if code == exitUsage && out.Len() > 0 {
				t.Errorf("usage error wrote to stdout: %s", out.String())
			}
		})
	}
}

func checkStream(t *testing.T, name, got, want string) {
	t.Helper()
	switch want {
	case "":
		if got != "" {
			t.Errorf("%s not empty:\n%s", name, got)
		}
	case "*":
		if got == "" {
			t.Errorf("%s empty", name)
		}
	default:
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %q:\n%s", name, want, got)
		}
	}
}

// `help COMMAND` and `COMMAND --help` print the same text.
func TestHelpCommandEqualsFlag(t *testing.T) {
	for _, c := range commands {
		var viaHelp, viaFlag, errb bytes.Buffer
		run(append([]string{"help"}, commandWords(c)...), &viaHelp, &errb)
		run(append(commandWords(c), "--help"), &viaFlag, &errb)
		if viaHelp.String() != viaFlag.String() {
			t.Errorf("%s: help %s and %s --help differ:\n%s\n---\n%s", c.name, c.name, c.name, viaHelp.String(), viaFlag.String())
		}
	}
}

// TestHelpIsComplete: every command has a paragraph, 1-3 examples that its
// own flag set accepts, and documents the exit codes it uses, in order.
func TestHelpIsComplete(t *testing.T) {
	for _, c := range commands {
		if c.summary == "" || len(c.about) < 80 {
			t.Errorf("%s: summary %q, about %q: write what it does", c.name, c.summary, c.about)
		}
		if n := len(c.examples); n < 1 || n > 3 {
			t.Errorf("%s: %d examples, want 1 to 3", c.name, n)
		}
		if len(c.exits) == 0 || !strings.HasPrefix(c.exits[0], "0  ") || !strings.HasPrefix(c.exits[len(c.exits)-1], "2  usage error") {
			t.Errorf("%s: exits %q: want 0 first and \"2  usage error\" last", c.name, c.exits)
		}
		for _, e := range c.examples {
			args, err := exampleArgs(c, e)
			if err != nil {
				t.Errorf("%s: example %q: %v", c.name, e, err)
				continue
			}
			if c.flags == nil {
				continue
			}
			fs := c.flags()
			if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
				t.Errorf("%s: example %q does not parse: %v %q", c.name, e, err, fs.Args())
			}
		}
	}
}

// exampleArgs returns the flags of an example command line: after any
// VAR=value prefix and "scimbridge COMMAND", up to a redirection or pipe,
// with shell quoting removed.
func exampleArgs(c *command, line string) ([]string, error) {
	words := shellWords(line)
	for len(words) > 0 && strings.Contains(words[0], "=") {
		words = words[1:]
	}
	want := append([]string{"scimbridge"}, commandWords(c)...)
	if c == versionCmd && len(words) >= 2 && words[1] == "--version" {
		want = []string{"scimbridge", "--version"}
	}
	if c == helpCmd && len(words) >= 2 && words[1] == "help" {
		return nil, nil // help's argument is a command, not a flag
	}
	if len(words) < len(want) || strings.Join(words[:len(want)], " ") != strings.Join(want, " ") {
		return nil, errString("does not start with " + strings.Join(want, " "))
	}
	var args []string
	for _, w := range words[len(want):] {
		if w == "<" || w == "|" || w == ">" {
			break
		}
		args = append(args, w)
	}
	return args, nil
}

type errString string

func (e errString) Error() string { return string(e) }

// shellWords splits a command line as sh does, for the quoting the examples
// use: '...' and "..." (without expansion), and < and | as their own words.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	in := false // a word is being built (it may be empty: '')
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words, in = append(words, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// TestPackageDocListsEveryCommand keeps main.go's package comment in step
// with the commands: each usage line appears there as `scimbridge SYNOPSIS`.
func TestPackageDocListsEveryCommand(t *testing.T) {
	f, err := parser.ParseFile(gotoken.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	for _, c := range commands {
		if !strings.Contains(doc, "scimbridge "+c.synopsis+"\n") {
			t.Errorf("main.go's package comment lacks the line\n\tscimbridge %s", c.synopsis)
		}
	}
	for _, code := range []string{"0 success", "1 problems found", "2 usage error"} {
		if !strings.Contains(strings.Join(strings.Fields(doc), " "), code) {
			t.Errorf("main.go's package comment does not say %q", code)
		}
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		text  string
		width int
		want  string
	}{
		{"a b c", 3, "a b\nc"},
		{"a b c", 5, "a b c"},
		{"abcdef b", 3, "abcdef\nb"},
		{"  a   b  ", 10, "a b"},
		{"é é é", 3, "é é\né"},
		{"", 10, ""},
	} {
		if got := wrap(tc.text, tc.width, ""); got != tc.want {
			t.Errorf("wrap(%q, %d) = %q, want %q", tc.text, tc.width, got, tc.want)
		}
	}
}

// The demo prints an https Tenant URL when the bridge serves TLS itself.
func TestTenantURL(t *testing.T) {
	for _, c := range []struct {
		s    config.ServerConfig
		want string
	}{
		{config.ServerConfig{BasePath: "/scim/v2"}, "http://127.0.0.1:8080/scim/v2"},
		{config.ServerConfig{BasePath: "/scim/v2", TLS: config.ServerTLSConfig{CertFile: "c.pem", KeyFile: "k.pem"}}, "https://127.0.0.1:8080/scim/v2"},
		{config.ServerConfig{BasePath: "/", TLS: config.ServerTLSConfig{ACME: config.ACMEConfig{Domains: []string{"scim.example.org"}}}}, "https://127.0.0.1:8080/"},
	} {
		if got := tenantURL(c.s, "127.0.0.1:8080"); got != c.want {
			t.Errorf("tenantURL(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
}
