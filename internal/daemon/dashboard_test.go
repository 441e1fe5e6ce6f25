package daemon_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/apptest"
	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/testenv"
)

// deployed are the monitoring files an admin installs, read from the
// repository as shipped.
const (
	dashboardFile = "../../deploy/grafana/scimbridge.json"
	alertsFile    = "../../deploy/prometheus/alerts.yml"
)

var metricName = regexp.MustCompile(`\bscimbridge_[a-zA-Z0-9_]+`)

type grafanaDashboard struct {
	SchemaVersion int `json:"schemaVersion"`
	Templating    struct {
		List []struct{ Name, Type string }
	}
	Panels []grafanaPanel
}

type grafanaPanel struct {
	ID         int
	Type       string
	Title      string
	Datasource *struct{ Type, UID string }
	Targets    []struct {
		RefID      string `json:"refId"`
		Expr       string
		Datasource *struct{ Type, UID string }
	}
}

func readDashboard(t *testing.T) grafanaDashboard {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// dashboardExprs are the PromQL queries of every panel, by panel title.
func dashboardExprs(d grafanaDashboard) map[string][]string {
	out := map[string][]string{}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out["panel "+p.Title] = append(out["panel "+p.Title], tg.Expr)
		}
	}
	return out
}

// alertExprs are the alert rules' expressions, by alert name.
func alertExprs(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct{ Alert, Record, Expr string }
		}
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	out := map[string][]string{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out["alert "+r.Alert+r.Record] = append(out["alert "+r.Alert+r.Record], r.Expr)
		}
	}
	return out
}

// The dashboard is one Grafana can import and provision as it is: every
// panel and query reads the data source variable, ids are unique, and it
// has the job and instance variables its queries use.
func TestDashboardStructure(t *testing.T) {
	t.Parallel()
	d := readDashboard(t)
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d: data source references by uid need 36 or later", d.SchemaVersion)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["DS_PROMETHEUS"] != "datasource" || vars["job"] != "query" || vars["instance"] != "query" {
		t.Errorf("template variables %v: want DS_PROMETHEUS (datasource), job and instance (query)", vars)
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${DS_PROMETHEUS}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: data source %v, %d queries", p.Title, p.Datasource, len(p.Targets))
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != "${DS_PROMETHEUS}" || tg.RefID == "" {
				t.Errorf("panel %q query %q: data source %v", p.Title, tg.RefID, tg.Datasource)
			}
			// A query without the selectors would mix in other
			// deployments' bridges.
			if strings.Contains(tg.Expr, "scimbridge_") && (!strings.Contains(tg.Expr, `job=~"$job"`) || !strings.Contains(tg.Expr, `instance=~"$instance"`)) {
				t.Errorf("panel %q query %q lacks the $job/$instance selectors: %s", p.Title, tg.RefID, tg.Expr)
			}
		}
	}
}

// scrapedFamilies are the metric families in a /metrics scrape (from its
// TYPE lines) and the sample names under them: a histogram's name_bucket,
// name_sum and name_count samples, the others' own name.
func scrapedFamilies(m string) (families map[string]string, samples map[string]string) {
	families, samples = map[string]string{}, map[string]string{}
	for _, line := range strings.Split(m, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			families[f[2]] = f[3]
		}
	}
	for fam, typ := range families {
		samples[fam] = fam
		if typ == "histogram" || typ == "summary" {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				samples[fam+suf] = fam
			}
		}
	}
	return families, samples
}

// monitoredBridge runs a bridge that exports every scimbridge_ series:
// HTTPS with a certificate file (the certificate expiry), a provider pair
// with server_ids (the server metrics, replication lag included), and a
// request through the SCIM API (requests, latency, LDAP operations). It
// returns a scrape once all of them are there.
func monitoredBridge(t *testing.T) string {
	t.Helper()
	pair := testenv.ProviderPair(t)
	p0 := pair.Provider(0)
	ns := testenv.Namespace{DN: p0.BaseDN, People: "ou=people," + p0.BaseDN, Groups: "ou=groups," + p0.BaseDN}
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeCertUntil(t, cert, key, "scim.example.test", time.Now().Add(90*24*time.Hour))
	cfg := apptest.ExampleConfig(t, &p0.Server, ns, hash)
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.TLS = config.ServerTLSConfig{CertFile: cert, KeyFile: key, MinVersion: "1.2"}
	cfg.LDAP.FailoverURLs = []string{pair.URL(1)}
	cfg.LDAP.Failover = config.FailoverConfig{
		ProbeInterval: 200 * time.Millisecond, Hold: 2 * time.Second, NotFoundWindow: 3 * time.Second,
		ServerIDs: []int{pair.ServerID(0), pair.ServerID(1)},
	}
	h := apptest.FromConfig(t, cfg, tok)
	h.Start(t)
	h.Must(http.StatusCreated, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"dashboard"}`)
	want := []string{
		"scimbridge_tls_certificate_not_after_seconds", "scimbridge_ldap_server_replication_lag_seconds",
		"scimbridge_request_duration_seconds", "scimbridge_ldap_operation_duration_seconds",
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		m := scrape(t, h)
		fams, _ := scrapedFamilies(m)
		missing := slices.DeleteFunc(slices.Clone(want), func(n string) bool { return fams[n] != "" })
		if len(missing) == 0 {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15 s the bridge still exports none of %v:\n%s", missing, m)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Every scimbridge_ metric the dashboard and the alert rules query is one a
// running bridge exports (a renamed metric would leave a panel empty and an
// alert silent), and every metric family the bridge exports has a place on
// the dashboard.
func TestDashboardAndAlertMetricsExist(t *testing.T) {
	t.Parallel()
	m := monitoredBridge(t)
	families, samples := scrapedFamilies(m)
	used := map[string]bool{}
	exprs := dashboardExprs(readDashboard(t))
	onDashboard := len(exprs)
	for where, es := range alertExprs(t) {
		exprs[where] = es
	}
	if onDashboard < 20 || len(exprs)-onDashboard < 10 {
		t.Fatalf("%d dashboard panels and %d alerts with queries: the files were not read right", onDashboard, len(exprs)-onDashboard)
	}
	for where, es := range exprs {
		for _, e := range es {
			for _, name := range metricName.FindAllString(e, -1) {
				fam, ok := samples[name]
				if !ok {
					t.Errorf("%s queries %s, which the bridge does not export (exported: %s)", where, name, strings.Join(sortedKeys(samples), " "))
					continue
				}
				if strings.HasPrefix(where, "panel ") {
					used[fam] = true
				}
			}
		}
	}
	for fam := range families {
		if strings.HasPrefix(fam, "scimbridge_") && !used[fam] {
			t.Errorf("the bridge exports %s, which no dashboard panel shows: add it to deploy/grafana/scimbridge.json and docs/monitoring.md", fam)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, "scimbridge_") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
