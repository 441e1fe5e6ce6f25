package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/scimbridge/scimbridge/testenv"
)

// cliDoc is docs/cli.md, which holds blocks that the tests below produce or
// run, each between "<!-- begin NAME -->" and "<!-- end NAME -->" lines. The
// path is absolute: TestValidateJSONDocExample changes directory.
var cliDoc, _ = filepath.Abs("../../docs/cli.md")

var update = flag.Bool("update", false, "rewrite the generated blocks of docs/cli.md")

// ciCommand is the command the CI snippets of docs/cli.md must run, exactly.
const ciCommand = "scimbridge validate --offline --format json --config config.yaml"

// docBlock returns the fenced block NAME of docs/cli.md without its fences.
func docBlock(t *testing.T, name string) string {
	t.Helper()
	doc, err := os.ReadFile(cliDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, body, _, ok := splitBlock(string(doc), name)
	if !ok {
		t.Fatalf("docs/cli.md has no block %q", name)
	}
	return body
}

// splitBlock splits doc around block name: what comes before its content,
// the content without the fences, and what comes after.
func splitBlock(doc, name string) (before, body, after string, ok bool) {
	begin, end := "<!-- begin "+name+" -->\n", "<!-- end "+name+" -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", "", "", false
	}
	inner := doc[i+len(begin) : j]
	open := strings.Index(inner, "\n")
	if !strings.HasPrefix(inner, "```") || open < 0 || !strings.HasSuffix(inner, "```\n") {
		return "", "", "", false
	}
	k := i + len(begin) + open + 1
	return doc[:k], inner[open+1 : len(inner)-len("```\n")], doc[j-len("```\n"):], true
}

// checkDocBlock fails unless block name of docs/cli.md is want; with
// -update it writes want there instead.
func checkDocBlock(t *testing.T, name, want string) {
	t.Helper()
	raw, err := os.ReadFile(cliDoc)
	if err != nil {
		t.Fatal(err)
	}
	before, got, after, ok := splitBlock(string(raw), name)
	if !ok {
		t.Fatalf("docs/cli.md has no block %q", name)
	}
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(cliDoc, []byte(before+want+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/cli.md block %q is out of date (go test ./cmd/scimbridge -run %s -update); want:\n%s", name, t.Name(), want)
}

// TestCLIDocShowsHelp: docs/cli.md shows `scimbridge help` and every
// command's --help verbatim.
func TestCLIDocShowsHelp(t *testing.T) {
	var out, errb bytes.Buffer
	run([]string{"help"}, &out, &errb)
	checkDocBlock(t, "help", out.String())
	for _, c := range commands {
		if c == helpCmd {
			continue
		}
		out.Reset()
		if code := run(append(commandWords(c), "--help"), &out, &errb); code != exitOK {
			t.Fatalf("%s --help: exit %d", c.name, code)
		}
		checkDocBlock(t, "help "+c.name, out.String())
	}
}

// ciPlaceholders are the variables both CI snippets set for config.yaml.
var ciPlaceholders = map[string]string{
	"LDAP_BIND_PASSWORD":      "placeholder",
	"SCIMBRIDGE_TOKEN_SHA256": strings.Repeat("0", 64),
}

// TestValidateJSONDocExample: the JSON document docs/cli.md shows is what
// validate prints for testdata/mistakes.yaml saved as config.yaml.
func TestValidateJSONDocExample(t *testing.T) {
	raw, err := os.ReadFile("testdata/mistakes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile("config.yaml", raw, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range ciPlaceholders {
		t.Setenv(k, v)
	}
	var out, errb bytes.Buffer
	if code := run(strings.Fields(ciCommand)[1:], &out, &errb); code != exitProblems || errb.Len() > 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	checkDocBlock(t, "json example", out.String())
}

// githubWorkflow is what TestCISnippets reads of the GitHub Actions snippet.
type githubWorkflow struct {
	On struct {
		PullRequest struct {
			Paths []string `yaml:"paths"`
		} `yaml:"pull_request"`
		Push struct {
			Paths []string `yaml:"paths"`
		} `yaml:"push"`
	} `yaml:"on"`
	Jobs map[string]struct {
		Needs string `yaml:"needs"`
		Steps []struct {
			Run   string            `yaml:"run"`
			Shell string            `yaml:"shell"`
			Env   map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// gitlabJob is what TestCISnippets reads of a job of the GitLab CI snippet.
type gitlabJob struct {
	Stage string `yaml:"stage"`
	Rules []struct {
		Changes []string `yaml:"changes"`
	} `yaml:"rules"`
	Variables    map[string]string `yaml:"variables"`
	BeforeScript []string          `yaml:"before_script"`
	Script       []string          `yaml:"script"`
}

// ciJob is one snippet's validate step, as its CI would run it.
type ciJob struct {
	name    string
	shell   []string // the command that runs the script file
	script  string
	env     map[string]string
	install []string // the lines that must install scimbridge
}

// TestCISnippets checks the GitHub Actions and GitLab CI snippets of
// docs/cli.md: they install this module's command, run exactly ciCommand,
// gate the deploy on it; and their scripts, run as the CI runs them with a
// freshly built scimbridge, pass a good configuration and fail a bad one,
// printing its problems.
func TestCISnippets(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	module := strings.Fields(strings.SplitN(string(mod), "\n", 2)[0])[1]
	install := "go install " + module + "/cmd/scimbridge@latest"
	if wd, _ := os.Getwd(); !strings.HasSuffix(filepath.ToSlash(wd), "/cmd/scimbridge") {
		t.Fatalf("the test runs in %s, not in the command's directory cmd/scimbridge", wd)
	}
	jobs := []ciJob{githubJob(t), gitlabJobOf(t)}
	for _, j := range jobs {
		if !strings.Contains(j.script, ciCommand+" ") {
			t.Errorf("%s: the script does not run %q:\n%s", j.name, ciCommand, j.script)
		}
		if !slices.Equal(j.install, []string{install}) {
			t.Errorf("%s: installs with %q, want %q", j.name, j.install, install)
		}
		for k, v := range ciPlaceholders {
			if j.env[k] != v {
				t.Errorf("%s: %s=%q, want the placeholder %q", j.name, k, j.env[k], v)
			}
		}
	}
	if jobs[0].script != jobs[1].script {
		t.Errorf("the two snippets run different scripts:\n%s\n---\n%s", jobs[0].script, jobs[1].script)
	}

	jq, err := exec.LookPath("jq")
	if err != nil {
		if testenv.CIRequiresServer() {
			t.Fatal("jq is not installed; CI must run the snippets (apt-get install jq)")
		}
		t.Skip("jq is not installed")
	}
	bin := buildBinary(t)
	path := filepath.Dir(bin) + string(os.PathListSeparator) + filepath.Dir(jq) + string(os.PathListSeparator) + os.Getenv("PATH")
	good, err := os.ReadFile("../../examples/openldap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad, err := os.ReadFile("testdata/mistakes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var outputs []string
	for _, j := range jobs {
		out, code := runCIScript(t, j, path, good)
		if code != 0 || strings.Contains(out, "config.yaml:") {
			t.Errorf("%s, examples/openldap.yaml: exit %d, want 0:\n%s", j.name, code, out)
		}
		out, code = runCIScript(t, j, path, bad)
		if code != 1 || !strings.Contains(out, "config.yaml:27: users.disable.methd: unknown key") {
			t.Errorf("%s, testdata/mistakes.yaml: exit %d, want 1 and its problems:\n%s", j.name, code, out)
		}
		outputs = append(outputs, out)
	}
	if outputs[0] != outputs[1] {
		t.Errorf("the snippets print different things:\n%s\n---\n%s", outputs[0], outputs[1])
	}
	checkDocBlock(t, "ci output", outputs[0])
}

// githubJob reads the GitHub Actions snippet.
func githubJob(t *testing.T) ciJob {
	t.Helper()
	var wf githubWorkflow
	if err := yaml.Unmarshal([]byte(docBlock(t, "ci github")), &wf); err != nil {
		t.Fatalf("GitHub snippet: %v", err)
	}
	if !slices.Contains(wf.On.PullRequest.Paths, "config.yaml") || !slices.Contains(wf.On.Push.Paths, "config.yaml") {
		t.Errorf("GitHub snippet: not run on changes of config.yaml: %+v", wf.On)
	}
	if wf.Jobs["deploy"].Needs != "validate" {
		t.Errorf("GitHub snippet: deploy needs %q, want validate", wf.Jobs["deploy"].Needs)
	}
	j := ciJob{name: "GitHub Actions"}
	for _, s := range wf.Jobs["validate"].Steps {
		switch {
		case strings.Contains(s.Run, "scimbridge validate"):
			// jobs.<job_id>.steps[*].shell: bash runs the step's script file
			// as "bash --noprofile --norc -eo pipefail {0}".
			if s.Shell != "bash" {
				t.Errorf("GitHub snippet: the validate step's shell is %q, want bash", s.Shell)
			}
			j.shell, j.script, j.env = []string{"bash", "--noprofile", "--norc", "-eo", "pipefail"}, s.Run, s.Env
		case strings.Contains(s.Run, "go install"):
			j.install = append(j.install, s.Run)
		}
	}
	return j
}

// gitlabJobOf reads the GitLab CI snippet.
func gitlabJobOf(t *testing.T) ciJob {
	t.Helper()
	var p struct {
		Stages   []string  `yaml:"stages"`
		Validate gitlabJob `yaml:"scimbridge-validate"`
		Deploy   gitlabJob `yaml:"deploy"`
	}
	if err := yaml.Unmarshal([]byte(docBlock(t, "ci gitlab")), &p); err != nil {
		t.Fatalf("GitLab snippet: %v", err)
	}
	v := p.Validate
	if i, k := slices.Index(p.Stages, v.Stage), slices.Index(p.Stages, p.Deploy.Stage); i < 0 || k <= i {
		t.Errorf("GitLab snippet: stages %q, validate in %q, deploy in %q: deploy must come after", p.Stages, v.Stage, p.Deploy.Stage)
	}
	if len(v.Rules) != 1 || !slices.Contains(v.Rules[0].Changes, "config.yaml") {
		t.Errorf("GitLab snippet: not run on changes of config.yaml: %+v", v.Rules)
	}
	j := ciJob{
		name: "GitLab CI", shell: []string{"bash", "-eo", "pipefail"}, env: v.Variables,
		script: strings.Join(v.Script, "\n"),
	}
	for _, l := range v.BeforeScript {
		if strings.Contains(l, "go install") {
			j.install = append(j.install, l)
		}
	}
	return j
}

// runCIScript runs j's script in a directory holding config as config.yaml,
// with j's variables and path as PATH, and returns its output and exit code.
func runCIScript(t *testing.T, j ciJob, path string, config []byte) (string, int) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), config, 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "step.sh")
	if err := os.WriteFile(script, []byte(j.script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(j.shell[0], append(j.shell[1:], script)...)
	cmd.Dir = dir
	env := []string{"PATH=" + path}
	for k, v := range j.env {
		env = append(env, k+"="+v)
	}
	var keep []string
	for _, kv := range processEnv(nil) {
		if !strings.HasPrefix(kv, "PATH=") {
			keep = append(keep, kv)
		}
	}
	cmd.Env = append(keep, env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("%s: %v\n%s", j.name, err, out)
	return "", 0
}
