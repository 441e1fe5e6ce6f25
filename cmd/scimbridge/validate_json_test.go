package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/testenv"
)

// validateRun is one validate run in both formats.
type validateRun struct {
	textCode, jsonCode int
	textOut, textErr   string
	report             validateReport
	jsonErr            string
}

// validateBoth runs `validate args` as text and as --format json; the JSON
// must decode, and nothing but it may be printed.
func validateBoth(t *testing.T, args ...string) validateRun {
	t.Helper()
	var r validateRun
	var out, errb bytes.Buffer
	r.textCode = run(append([]string{"validate"}, args...), &out, &errb)
	r.textOut, r.textErr = out.String(), errb.String()
	out.Reset()
	errb.Reset()
	r.jsonCode = run(append([]string{"validate", "--format", "json"}, args...), &out, &errb)
	r.jsonErr = errb.String()
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r.report); err != nil {
		t.Fatalf("--format json printed no JSON document (%v):\n%s", err, out.String())
	}
	if dec.More() {
		t.Errorf("--format json printed more than one document")
	}
	return r
}

// textLines renders the JSON report as the text format prints it, sorted:
// the text format prints problems and warnings in the order found, which
// mixes them in the online checks, while the JSON keeps two lists.
func (r validateReport) textLines() []string {
	var lines []string
	for _, p := range r.Problems {
		s := "error: "
		if p.Line > 0 {
			s += "line " + strconv.Itoa(p.Line) + ": "
		}
		if p.Path != "" {
			s += p.Path
			if p.Origin != "" {
				s += " (from " + p.Origin + ")"
			}
			s += ": "
		}
		lines = append(lines, s+p.Message)
	}
	for _, w := range r.Warnings {
		lines = append(lines, "warning: "+w)
	}
	slices.Sort(lines)
	return lines
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	slices.Sort(lines)
	return lines
}

// checkSameAsText: both formats exit alike and report the same problems
// and warnings; the JSON run prints nothing on stderr.
func (r validateRun) checkSameAsText(t *testing.T) {
	t.Helper()
	if r.jsonCode != r.textCode {
		t.Errorf("exit %d with --format json, %d with text", r.jsonCode, r.textCode)
	}
	if r.jsonErr != "" {
		t.Errorf("--format json wrote to stderr:\n%s", r.jsonErr)
	}
	if r.report.OK != (r.jsonCode == exitOK) {
		t.Errorf("ok %v with exit %d", r.report.OK, r.jsonCode)
	}
	if got, want := r.report.textLines(), sortedLines(r.textErr); !slices.Equal(got, want) {
		t.Errorf("JSON says\n%s\ntext says\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r.report.Problems == nil || r.report.Warnings == nil {
		t.Errorf("problems or warnings is null, want a list: %+v", r.report)
	}
}

// TestValidateJSONMatchesText: --format json carries what the text format
// prints, from the same problems: paths, lines, origins, messages, warnings.
func TestValidateJSONMatchesText(t *testing.T) {
	t.Setenv("LDAP_BIND_PASSWORD", "x")
	t.Setenv("SCIMBRIDGE_TOKEN_SHA256", strings.Repeat("ab", 32))
	dir := t.TempDir()
	raw, err := os.ReadFile("../../examples/openldap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// One counter for two servers: a warning, and no problem.
	body := strings.Replace(string(raw), "  url: ldap://127.0.0.1:3890\n",
		"  url: ldap://127.0.0.1:3890\n  failover_urls: [ldap://127.0.0.1:3891]\n", 1)
	body = strings.Replace(body, "users:\n", "users:\n  uid_number:\n    counter_dn: cn=uidnext,dc=example,dc=org\n", 1)
	replicas := filepath.Join(dir, "replicas.yaml")
	if err := os.WriteFile(replicas, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file string
		env        map[string]string
		code       int
		// want are problems the JSON must hold exactly so.
		want     []reportProblem
		warnings int
	}{
		{name: "ok", file: "../../examples/openldap.yaml", code: exitOK},
		{name: "warning", file: replicas, code: exitOK, warnings: 1},
		{
			name: "mistakes and a warning", file: "testdata/mistakes.yaml", code: exitProblems, warnings: 1,
			want: []reportProblem{
				{Path: "users.disable.methd", Line: 27, Message: `unknown key; did you mean "method"?`},
				{Path: "users.attributes[1].scim", Line: 23, Message: `"displayNme" is not an attribute of the User schema (RFC 7643 §4.1); did you mean "displayName"?`},
			},
		},
		{
			name: "six mistakes, one from the environment", file: "../../config/testdata/six-mistakes.yaml",
			env: map[string]string{"SCIMBRIDGE_LDAP__URLL": "ldap://x"}, code: exitProblems,
			want: []reportProblem{
				{Path: "auth.bearer_tokens[0].sha265", Line: 6, Message: `unknown key; did you mean "sha256"?`},
				{Path: "ldap.urll", Origin: "SCIMBRIDGE_LDAP__URLL", Message: `unknown key; did you mean "url"?`},
				{Path: "log.format", Line: 23, Message: `must be json or console, got "xml"`},
			},
		},
		{
			name: "unset variable", file: "../../examples/openldap.yaml", env: map[string]string{"LDAP_BIND_PASSWORD": ""},
			code: exitProblems,
			want: []reportProblem{{Message: "config: environment variables referenced but not set: LDAP_BIND_PASSWORD"}},
		},
		{
			name: "no file", file: filepath.Join(dir, "none.yaml"), code: exitProblems,
			want: []reportProblem{{Message: "config: open " + filepath.Join(dir, "none.yaml") + ": no such file or directory"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				if v == "" {
					unsetenv(t, k)
				} else {
					t.Setenv(k, v)
				}
			}
			r := validateBoth(t, "--offline", "--config", tc.file)
			r.checkSameAsText(t)
			if r.jsonCode != tc.code || r.report.File != tc.file || len(r.report.Warnings) != tc.warnings {
				t.Errorf("exit %d, file %q, %d warnings; want %d, %q, %d", r.jsonCode, r.report.File,
					len(r.report.Warnings), tc.code, tc.file, tc.warnings)
			}
			if tc.code == exitProblems && len(r.report.Problems) == 0 {
				t.Error("exit 1 without problems")
			}
			for _, w := range tc.want {
				if !slices.Contains(r.report.Problems, w) {
					t.Errorf("no problem %+v in %+v", w, r.report.Problems)
				}
			}
		})
	}
}

// unsetenv unsets k for the test and restores it after (t.Setenv cannot
// unset).
func unsetenv(t *testing.T, k string) {
	t.Helper()
	t.Setenv(k, "") // restores the old value at the end
	if err := os.Unsetenv(k); err != nil {
		t.Fatal(err)
	}
}

// The online checks through --format json: the five mistakes only the
// directory reveals, with their paths and lines, and the unreachable
// directory as a warning or, with --online, a problem.
func TestValidateJSONOnline(t *testing.T) {
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	f := writeConfig(t, srv, ns, srv.URL)
	r := validateBoth(t, "--config", f)
	r.checkSameAsText(t)
	if r.jsonCode != exitProblems {
		t.Errorf("exit %d, want 1", r.jsonCode)
	}
	var got []string
	for _, p := range r.report.Problems {
		got = append(got, p.Path+":"+strconv.Itoa(p.Line))
	}
	want := []string{
		"users.object_classes[3]:14", "users.attributes[7].ldap:23", "users.object_classes:14",
		"groups.base_dn:28", "groups.empty_member:33",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("problems at %v, want %v", got, want)
	}

	down := writeConfig(t, srv, ns, "ldap://127.0.0.1:1")
	r = validateBoth(t, "--config", down)
	r.checkSameAsText(t)
	if !r.report.OK || len(r.report.Warnings) != 1 || !strings.HasPrefix(r.report.Warnings[0], "ldap.url: cannot reach the directory") {
		t.Errorf("unreachable directory: %+v", r.report)
	}
	r = validateBoth(t, "--online", "--config", down)
	r.checkSameAsText(t)
	if r.report.OK || len(r.report.Problems) != 1 || r.report.Problems[0].Path != "ldap.url" ||
		!strings.HasPrefix(r.report.Problems[0].Message, "cannot reach the directory") {
		t.Errorf("unreachable directory, --online: %+v", r.report)
	}
}
