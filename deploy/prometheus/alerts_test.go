// Package prometheus_test checks the alerting rules in this directory with
// Prometheus's own promtool, so that `make test` catches a rule that does not
// parse, that fires when it should not, or that no test exercises. promtool
// comes from scripts/install-promtool.sh (Debian's package, or the Go module
// proxy); without it these tests skip, and fail under CI=true.
package prometheus_test

import (
	"encoding/json"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/scimbridge/scimbridge/testenv"
)

// promtool finds the promtool binary: on PATH, else where go install puts
// it (GOBIN, else GOPATH/bin).
func promtool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	dirs := []string{os.Getenv("GOBIN")}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, "promtool")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	msg := "promtool not found on PATH, in GOBIN or in GOPATH/bin: run scripts/install-promtool.sh"
	if testenv.CIRequiresServer() {
		t.Fatal(msg)
	}
	t.Skip(msg + " (would fail under CI=true)")
	return ""
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// promtool check rules: the file parses, every expression is valid PromQL,
// every template renders.
func TestAlertRulesCheck(t *testing.T) {
	t.Parallel()
	out := run(t, "check", "rules", "alerts.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool check rules:\n%s", out)
	}
}

// promtool test rules: each alert fires on the series in alerts_test.yml
// when it should, with the labels and annotations expected, and not before.
func TestAlertRulesUnit(t *testing.T) {
	t.Parallel()
	out := run(t, "test", "rules", "alerts_test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool test rules:\n%s", out)
	}
}

type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Alert, Expr, For string
			Labels           map[string]string
			Annotations      map[string]string
		}
	}
}

type unitTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	}
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// Every alert has a test where it fires and one where it does not, a
// severity, and annotations that tell an admin what to do and where to read
// more. This needs no promtool: it runs everywhere.
func TestEveryAlertTestedAndDocumented(t *testing.T) {
	t.Parallel()
	var rules ruleFile
	readYAML(t, "alerts.yml", &rules)
	var tests unitTests
	readYAML(t, "alerts_test.yml", &tests)
	firing, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				firing[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	monitoring, err := os.ReadFile("../../docs/monitoring.md")
	if err != nil {
		t.Fatal(err)
	}
	docLink := regexp.MustCompile(`docs/[a-z-]+\.md`)
	defined := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			defined[r.Alert] = true
			if !firing[r.Alert] || !quiet[r.Alert] {
				t.Errorf("%s: tested firing %v, not firing %v; alerts_test.yml needs both", r.Alert, firing[r.Alert], quiet[r.Alert])
			}
			switch r.Labels["severity"] {
			case "critical", "warning", "info":
			default:
				t.Errorf("%s: severity %q", r.Alert, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs summary and description annotations", r.Alert)
			}
			for _, doc := range docLink.FindAllString(r.Annotations["description"], -1) {
				if _, err := os.Stat(filepath.Join("..", "..", doc)); err != nil {
					t.Errorf("%s links %s: %v", r.Alert, doc, err)
				}
			}
			if len(docLink.FindAllString(r.Annotations["description"], -1)) == 0 {
				t.Errorf("%s: the description links no docs/*.md", r.Alert)
			}
			if !strings.Contains(string(monitoring), "`"+r.Alert+"`") {
				t.Errorf("%s is not described in docs/monitoring.md", r.Alert)
			}
		}
	}
	if len(defined) == 0 {
		t.Fatal("no alert found in alerts.yml")
	}
	for name := range firing {
		if !defined[name] {
			t.Errorf("alerts_test.yml tests %s, which alerts.yml does not define", name)
		}
	}
}

// grafanaVars are the dashboard's variables, replaced by what Grafana would
// put there, so that promtool can parse the queries.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "5m", "$__range", "6h", "$job", ".*", "$instance", ".*",
)

type dashboard struct {
	Panels []struct {
		ID      int
		Title   string
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string
		}
	}
}

// Every query of deploy/grafana/scimbridge.json is valid PromQL: they go
// through promtool check rules as recording rules. (That the metrics they
// name exist is internal/daemon's TestDashboardAndAlertMetricsExist.)
func TestDashboardQueriesParse(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../grafana/scimbridge.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			rules = append(rules, rule{
				Record: fmt.Sprintf("dashboard:panel_%d_%s", p.ID, tg.RefID),
				Expr:   grafanaVars.Replace(tg.Expr),
			})
		}
	}
	if len(rules) < 20 {
		t.Fatalf("only %d queries found in the dashboard", len(rules))
	}
	out, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dashboard_rules.yml")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if res := run(t, "check", "rules", file); !strings.Contains(res, fmt.Sprintf("SUCCESS: %d rules found", len(rules))) {
		t.Fatalf("promtool check rules on the dashboard's queries:\n%s", res)
	}
}
