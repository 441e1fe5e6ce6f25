package loadbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/internal/slapd"
	"github.com/scimbridge/scimbridge/testenv"
)

// No test here asserts a timing: the figures depend on the machine and its
// load. They check the arithmetic, the parsing of /proc and /metrics, the
// request shapes, and that a tiny run goes through end to end.

// TestMain lets Run start the floor from this test binary, as scimbench's
// main does: Run re-executes the running program with FloorServerCommand.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == FloorServerCommand {
		os.Exit(FloorMain(os.Args[2:], os.Stderr))
	}
	os.Exit(m.Run())
}

func TestParseStatCPU(t *testing.T) {
	// The command name may hold spaces and parentheses; utime 150 and stime
	// 50 ticks are fields 14 and 15.
	line := "1234 (a (b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 3 0 5 1000 200 18446744073709551615\n"
	got, err := parseStatCPU([]byte(line))
	if err != nil || got != 2*time.Second {
		t.Fatalf("parseStatCPU = %v, %v; want 2s", got, err)
	}
	if _, err := parseStatCPU([]byte("1234 (x) S 1 2")); err == nil {
		t.Error("a short line was accepted")
	}
	self, err := cpuTime(os.Getpid())
	if err != nil || self < 0 {
		t.Errorf("cpuTime(self) = %v, %v", self, err)
	}
}

func TestParseStatusMemory(t *testing.T) {
	status := "Name:\tscimbridge\nVmPeak:\t 1000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t7\n"
	rss, peak, err := parseStatusMemory([]byte(status))
	if err != nil || rss != 1<<20 || peak != 2<<20 {
		t.Fatalf("rss %d, peak %d, %v", rss, peak, err)
	}
	if _, _, err := parseStatusMemory([]byte("Name:\tx\n")); err == nil {
		t.Error("a status without VmRSS was accepted")
	}
}

func TestParseLDAPOps(t *testing.T) {
	metrics := `# HELP scimbridge_ldap_operations_total LDAP operations by operation and result.
# TYPE scimbridge_ldap_operations_total counter
scimbridge_ldap_operations_total{operation="add",result="success"} 10
scimbridge_ldap_operations_total{operation="search",result="success"} 25
scimbridge_ldap_operations_total{operation="search",result="32"} 5
scimbridge_ldap_operation_duration_seconds_count{operation="search"} 30
scimbridge_requests_total{operation="create",resource="Users",status="201"} 10
`
	got, err := parseLDAPOps(strings.NewReader(metrics))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]float64{"add": 10, "search": 30}; !reflect.DeepEqual(got, want) {
		t.Errorf("parseLDAPOps = %v, want %v", got, want)
	}
}

func TestPercentileAndMedian(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if d[0] != 100*time.Millisecond {
		t.Error("percentile sorted its argument")
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median odd = %v", got)
	}
	if got := median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Errorf("median even = %v", got)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
	m := medianFigures([]Figures{
		{OpsPerSec: 100, LDAPOps: map[string]float64{"search": 2}, P99: 3 * time.Millisecond},
		{OpsPerSec: 300, LDAPOps: map[string]float64{"search": 2, "add": 1}, P99: time.Millisecond},
		{OpsPerSec: 200, LDAPOps: map[string]float64{"search": 3, "add": 1}, P99: 2 * time.Millisecond},
	})
	if m.OpsPerSec != 200 || m.P99 != 2*time.Millisecond || m.LDAPOps["search"] != 2 || m.LDAPOps["add"] != 1 {
		t.Errorf("medianFigures = %+v", m)
	}
}

func TestRunConcurrentStopsAtFirstError(t *testing.T) {
	boom := errors.New("boom")
	_, _, err := runConcurrent(context.Background(), 1000, 4, func(_ context.Context, _, i int) error {
		if i == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	seen := make([]int, 50)
	_, lat, err := runConcurrent(context.Background(), 50, 3, func(_ context.Context, w, i int) error {
		if w < 0 || w >= 3 {
			t.Errorf("worker %d", w)
		}
		seen[i]++
		return nil
	})
	if err != nil || len(lat) != 50 {
		t.Fatalf("err %v, %d latencies", err, len(lat))
	}
	for i, n := range seen {
		if n != 1 {
			t.Errorf("call %d ran %d times", i, n)
		}
	}
}

// entraExchange returns the request of the named exchange in one of
// scimapi's Entra golden files.
func entraExchange(t *testing.T, file, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../../scimapi/testdata/entra/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Exchanges []struct {
			Name    string         `json:"name"`
			Request map[string]any `json:"request"`
		} `json:"exchanges"`
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	for _, e := range golden.Exchanges {
		if e.Name == name {
			return e.Request
		}
	}
	t.Fatalf("%s has no exchange %q", file, name)
	return nil
}

// The create body is Entra's, from create-user.json: the same keys at every
// level, and the same values where they are not the user's own.
func TestCreateBodyIsEntras(t *testing.T) {
	want := entraExchange(t, "create-user.json", "create user")
	var got map[string]any
	if err := json.Unmarshal(createBody(newUser("bridge", 1, 7)), &got); err != nil {
		t.Fatal(err)
	}
	if d := shapeDiff("", want, got); d != "" {
		t.Errorf("createBody's shape differs from Entra's: %s", d)
	}
	for _, k := range []string{"schemas", "active", "meta", "roles"} {
		if !reflect.DeepEqual(got[k], want[k]) {
			t.Errorf("%s = %v, Entra sends %v", k, got[k], want[k])
		}
	}
	email := got["emails"].([]any)[0].(map[string]any)
	wantEmail := want["emails"].([]any)[0].(map[string]any)
	if email["type"] != wantEmail["type"] || email["primary"] != wantEmail["primary"] {
		t.Errorf("email %v, Entra sends %v", email, wantEmail)
	}
}

// shapeDiff compares two decoded JSON values by keys and types, not values.
func shapeDiff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return path + ": keys differ"
		}
		for k := range w {
			if d := shapeDiff(path+"."+k, w[k], g[k]); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path + ": list length differs"
		}
		for i := range w {
			if d := shapeDiff(path, w[i], g[i]); d != "" {
				return d
			}
		}
	default:
		if reflect.TypeOf(want) != reflect.TypeOf(got) {
			return path + ": type differs"
		}
	}
	return ""
}

// The PATCH speaks Entra's default dialect, as patch-default-dialect.json
// records it: capitalised op names, one operation per attribute path.
func TestPatchBodyIsEntraDialect(t *testing.T) {
	entra := entraExchange(t, "patch-default-dialect.json", "Replace multiple attributes, one operation each")
	var got map[string]any
	if err := json.Unmarshal(patchBody(newUser("bridge", 1, 7)), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got["schemas"], entra["schemas"]) {
		t.Errorf("schemas %v, Entra sends %v", got["schemas"], entra["schemas"])
	}
	ops := got["Operations"].([]any)
	if len(ops) != 2 {
		t.Fatalf("%d operations", len(ops))
	}
	for _, o := range ops {
		op := o.(map[string]any)
		if op["op"] != "Replace" || op["path"] == "" {
			t.Errorf("operation %v: Entra's default dialect sends op \"Replace\" with a path", op)
		}
	}
}

func TestDiffAttributes(t *testing.T) {
	want := addRequest("ou=people,dc=example,dc=org", newUser("direct", 1, 2))
	var got []*ldap.EntryAttribute
	for _, a := range want.Attributes {
		got = append(got, ldap.NewEntryAttribute(strings.ToUpper(a.Type), a.Vals))
	}
	if d := diffAttributes(got, want.Attributes); d != "" {
		t.Errorf("same attributes: %s", d)
	}
	got = append(got[1:], ldap.NewEntryAttribute("displayName", []string{"x"}))
	d := diffAttributes(got, want.Attributes)
	if !strings.Contains(d, "bridge also writes displayname") || !strings.Contains(d, "direct also writes objectclass") {
		t.Errorf("diff = %q", d)
	}
}

func TestFormatting(t *testing.T) {
	for x, want := range map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := thousands(x); got != want {
			t.Errorf("thousands(%v) = %q, want %q", x, got, want)
		}
	}
	if got := opsText(map[string]float64{"search": 2, "add": 1}); got != "3.00 (add 1.00, search 2.00)" {
		t.Errorf("opsText = %q", got)
	}
	if got := ratio(1, 0); got != "–" {
		t.Errorf("ratio by zero = %q", got)
	}
}

// A tiny benchmark goes through: the binary is built and served, every phase
// runs on both sides, the list pages answer, and everything is stopped.
func TestRunEndToEnd(t *testing.T) {
	var out, progress bytes.Buffer
	// Three runs: with the floor, each side comes first once. The list
	// pages also check that the runs left ou=people empty (totalResults).
	o := Options{N: 6, C: 2, Runs: 3, Floor: true, List: 120, ListReps: 1, Progress: &progress}
	err := Run(context.Background(), o, &out)
	if errors.Is(err, slapd.ErrNotFound) && !testenv.CIRequiresServer() {
		t.Skipf("no slapd (would fail under CI=true): %v", err)
	}
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
	}
	report := out.String()
	for _, want := range []string{
		"| create |", "| get |", "| patch |", "| delete |",
		"medians of 3 run(s)",
		"The direct add writes the same attributes and values as the bridge's.",
		"| phase | floor ops/s | floor CPU µs/req |",
		"`GET /Users?startIndex=1&count=100`", "`GET /Users?startIndex=21&count=100`",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "WARNING") {
		t.Errorf("report warns:\n%s", report)
	}
	floor := tableRows(t, report, "| phase | floor ops/s |")
	if len(floor) != len(phases) {
		t.Fatalf("floor table has %d rows, want %d:\n%s", len(floor), len(phases), report)
	}
	for i, cells := range floor {
		if cells[0] != phases[i] || len(cells) != 12 {
			t.Errorf("floor row %q: want phase %s and 12 cells", cells, phases[i])
			continue
		}
		// Every figure is a number (ratios may be "–" when a CPU reading
		// was 0, which a run this short can give), the LDAP operations
		// read "N.NN (...)" and the goal "≤ x".
		for _, j := range []int{1, 2, 3, 5, 6, 7, 8, 9, 11} {
			if _, err := strconv.ParseFloat(strings.ReplaceAll(cells[j], ",", ""), 64); err != nil && cells[j] != "–" {
				t.Errorf("floor %s column %d: %q is not a number", cells[0], j, cells[j])
			}
		}
		if want := opsText(floorOps[phases[i]]); cells[4] != want {
			t.Errorf("floor %s LDAP ops %q, want %q", cells[0], cells[4], want)
		}
		if !strings.HasPrefix(cells[10], "≤ ") {
			t.Errorf("floor %s goal %q", cells[0], cells[10])
		}
	}
	for _, want := range []string{"| floor ", "floor pid "} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
	t.Logf("report:\n%s\nprogress:\n%s", report, progress.String())
}

// tableRows returns the cells of the data rows of the markdown table whose
// header line starts with header.
func tableRows(t *testing.T, report, header string) [][]string {
	t.Helper()
	var rows [][]string
	in := false
	for _, line := range strings.Split(report, "\n") {
		switch {
		case strings.HasPrefix(line, header):
			in = true
		case in && strings.HasPrefix(line, "| ---"):
		case in && strings.HasPrefix(line, "| "):
			cells := strings.Split(strings.Trim(line, "| "), " | ")
			rows = append(rows, cells)
		case in:
			return rows
		}
	}
	return rows
}

// Every side's users have names, ids and values of the same lengths, so
// that slapd's index work is the same on each side.
func TestNewUserLengths(t *testing.T) {
	want := newUser("bridge", 1, 7)
	for _, side := range []string{"direct", "floor", "list"} {
		u := newUser(side, 1, 7)
		if len(u.name) != len(want.name) || len(u.externalID) != len(want.externalID) {
			t.Errorf("%s: %q %q, bridge: %q %q", side, u.name, u.externalID, want.name, want.externalID)
		}
	}
	if got := newUser("floor", 2, 3).name; got != "floor02.000003@contoso.com" {
		t.Errorf("floor name %q", got)
	}
}

// The floor refuses what it does not serve before it touches the directory:
// no LDAP connection is needed (its pool is empty and would block).
func TestFloorRefusals(t *testing.T) {
	f := &floor{conns: make(chan *ldap.Conn), people: "ou=people,dc=example,dc=org", authz: []byte("Bearer t")}
	h := f.routes()
	for _, c := range []struct {
		method, target, token, body string
		want                        int
	}{
		{"GET", "/healthz", "", "", http.StatusNoContent},
		{"GET", "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "x"`), "", "", http.StatusUnauthorized},
		{"GET", "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "x"`), "Bearer u", "", http.StatusUnauthorized},
		{"GET", "/scim/v2/Users?filter=" + url.QueryEscape(`externalId eq "x"`), "Bearer t", "", http.StatusBadRequest},
		{"GET", "/scim/v2/Users", "Bearer t", "", http.StatusBadRequest},
		{"POST", "/scim/v2/Users", "Bearer t", `{"userName":"a@b"}`, http.StatusBadRequest},
		{"POST", "/scim/v2/Users", "Bearer t", `{`, http.StatusBadRequest},
		{"PATCH", "/scim/v2/Users/x", "Bearer t", `{"Operations":[{"op":"Remove","path":"title"}]}`, http.StatusBadRequest},
		{"PATCH", "/scim/v2/Users/x", "Bearer t", `{"Operations":[{"op":"Replace","path":"mail","value":"m"}]}`, http.StatusBadRequest},
	} {
		req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		if c.token != "" {
			req.Header.Set("Authorization", c.token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.target, rec.Code, rec.Body, c.want)
		}
	}
}

// The post-read answer decodes into the entry it carries; anything else
// gives nil, so that the floor's PATCH fails loudly instead of answering
// without the resource.
func TestPostReadResult(t *testing.T) {
	entry := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 4, nil, "SearchResultEntry")
	entry.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "uid=a,ou=people", "DN"))
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attributes")
	attr := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attribute")
	attr.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "title", "Type"))
	vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "Values")
	vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "Title 1", "Value"))
	attr.AppendChild(vals)
	attrs.AppendChild(attr)
	entry.AppendChild(attrs)
	e := postReadResult([]ldap.Control{&ldap.ControlString{ControlType: postReadOID, ControlValue: string(entry.Bytes())}})
	if e == nil || e.DN != "uid=a,ou=people" || e.GetAttributeValue("title") != "Title 1" {
		t.Fatalf("postReadResult = %+v", e)
	}
	if postReadResult(nil) != nil {
		t.Error("no control gave an entry")
	}
	if postReadResult([]ldap.Control{&ldap.ControlString{ControlType: postReadOID, ControlValue: "\x30\x01"}}) != nil {
		t.Error("a broken control gave an entry")
	}
}
