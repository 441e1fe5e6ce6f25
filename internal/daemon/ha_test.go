package daemon_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/apptest"
	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/testenv"
)

// haHold is the fail-back hold time of the HA test's bridges, short so that
// the test stays short; production's default is 30 s.
const haHold = 2 * time.Second

// haFailBackBound is the most the test allows from provider 0's restart to
// a bridge's fail-back: the hold, then a probe that finds provider 0 caught
// up. Measured: 50-100 ms over the hold (docs/high-availability.md).
const haFailBackBound = haHold + 5*time.Second

// haBridges starts n bridges on examples/openldap.yaml with the same ordered
// server list, provider 0 then provider 1 of pair, as an admin would run
// several behind a load balancer (docs/high-availability.md).
func haBridges(t *testing.T, pair *testenv.Pair, n int) []*apptest.Harness {
	t.Helper()
	p0 := pair.Provider(0)
	ns := testenv.Namespace{DN: p0.BaseDN, People: "ou=people," + p0.BaseDN, Groups: "ou=groups," + p0.BaseDN}
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	var out []*apptest.Harness
	for range n {
		cfg := apptest.ExampleConfig(t, &p0.Server, ns, hash)
		cfg.LDAP.FailoverURLs = []string{pair.URL(1)}
		cfg.LDAP.Failover = config.FailoverConfig{
			ProbeInterval: 200 * time.Millisecond, Hold: haHold, NotFoundWindow: 3 * time.Second,
			ServerIDs: []int{pair.ServerID(0), pair.ServerID(1)},
		}
		cfg.LDAP.PoolSize = 3
		cfg.Users.ObjectClasses = []string{"top", "person", "organizationalPerson", "inetOrgPerson", "posixAccount"}
		cfg.Users.UIDNumber = config.GIDNumberConfig{Ranges: []config.NumberRange{
			{CounterDN: "cn=uidnext-1," + p0.BaseDN, Start: 10000, End: 19999},
			{CounterDN: "cn=uidnext-2," + p0.BaseDN, Start: 20000, End: 29999},
		}}
		cfg.Users.Derive = append(cfg.Users.Derive,
			config.DeriveConfig{LDAP: "homeDirectory", Template: "/home/{{ .uid }}"},
			config.DeriveConfig{LDAP: "gidNumber", Template: "100"})
		out = append(out, apptest.FromConfig(t, cfg, tok))
	}
	return out
}

// haLoad is Entra-like traffic through several bridges, each operation on
// the next bridge in turn, retried as Entra retries a 503 or a 429. It keeps
// what every acknowledged write should have left.
type haLoad struct {
	t       *testing.T
	bridges []*apptest.Harness
	group   string
	stop    atomic.Bool
	next    atomic.Uint64
	// statuses counts every answer by status code; settled counts the
	// 409s and 404s that end a retry (an attempt answered 503 had landed),
	// acked the writes answered 2xx.
	mu       sync.Mutex
	statuses map[int]int
	settled  map[int]int
	acked    int
	users    map[string]*haUser // by userName
}

type haUser struct {
	id          string
	displayName string
	active      bool
	member      bool
	deleted     bool
}

func (l *haLoad) bridge() *apptest.Harness {
	return l.bridges[int(l.next.Add(1))%len(l.bridges)]
}

func (l *haLoad) count(method string, status int) {
	l.mu.Lock()
	l.statuses[status]++
	if method != http.MethodGet && status < 300 {
		l.acked++
	}
	l.mu.Unlock()
}

func (l *haLoad) settle(status int) {
	l.mu.Lock()
	l.settled[status]++
	l.mu.Unlock()
}

// do sends one request until it is answered with something else than 503
// or 429, on the next bridge each time, for at most 30 s.
func (l *haLoad) do(method, path, body string) apptest.Response {
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := l.bridge().Do(method, path, body)
		l.count(method, r.Status)
		if r.Status != http.StatusServiceUnavailable && r.Status != http.StatusTooManyRequests {
			return r
		}
		if time.Now().After(deadline) {
			l.t.Errorf("%s %s: still %d after 30 s: %s", method, path, r.Status, r.Raw)
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// create is Entra's create: look the user up by userName, create it when
// the lookup finds nothing; a 409 means an earlier attempt landed, so look
// again.
func (l *haLoad) create(userName string) (string, bool) {
	for range 20 {
		r := l.do(http.MethodGet, `/Users?filter=userName+eq+"`+userName+`"`, "")
		if r.Status != http.StatusOK {
			l.t.Errorf("lookup %s: %d %s", userName, r.Status, r.Raw)
			return "", false
		}
		if res, _ := r.Body["Resources"].([]any); len(res) == 1 {
			return res[0].(map[string]any)["id"].(string), true
		}
		r = l.do(http.MethodPost, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+
			userName+`","active":true,"displayName":"`+userName+`","name":{"givenName":"H","familyName":"A"}}`)
		switch r.Status {
		case http.StatusCreated:
			return r.Body["id"].(string), true
		case http.StatusConflict:
			l.settle(r.Status)
			continue
		default:
			l.t.Errorf("create %s: %d %s", userName, r.Status, r.Raw)
			return "", false
		}
	}
	l.t.Errorf("create %s: no answer settled", userName)
	return "", false
}

func (l *haLoad) patchUser(id, ops string) bool {
	r := l.do(http.MethodPatch, "/Users/"+id, apptest.PatchBody(ops))
	if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
		l.t.Errorf("PATCH user %s %s: %d %s", id, ops, r.Status, r.Raw)
		return false
	}
	return true
}

func (l *haLoad) member(op, id string) bool {
	r := l.do(http.MethodPatch, "/Groups/"+l.group, apptest.PatchBody(`{"op":"`+op+`","path":"members","value":[{"value":"`+id+`"}]}`))
	if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
		l.t.Errorf("%s member %s: %d %s", op, id, r.Status, r.Raw)
		return false
	}
	return true
}

// worker runs users through Entra's lifecycle until stopped: create, join
// the group, rename, and for some disable, leave the group, or delete.
func (l *haLoad) worker(w int) {
	for k := 0; !l.stop.Load(); k++ {
		name := fmt.Sprintf("ha%d.%d@contoso.com", w, k)
		id, ok := l.create(name)
		if !ok {
			return
		}
		u := &haUser{id: id, displayName: name, active: true}
		l.mu.Lock()
		l.users[name] = u
		l.mu.Unlock()
		if !l.member("Add", id) {
			return
		}
		u.member = true
		if !l.patchUser(id, `{"op":"Replace","path":"displayName","value":"renamed `+name+`"}`) {
			return
		}
		u.displayName = "renamed " + name
		if k%3 == 0 {
			if !l.patchUser(id, `{"op":"Replace","path":"active","value":"False"}`) {
				return
			}
			u.active = false
		}
		if k%5 == 1 {
			if !l.member("Remove", id) {
				return
			}
			u.member = false
		}
		if k%4 == 2 {
			// A retried DELETE finds the entry gone when an attempt the
			// client saw fail (503) had landed.
			retried := false
			for {
				r := l.bridge().Do(http.MethodDelete, "/Users/"+id, "")
				l.count(http.MethodDelete, r.Status)
				if r.Status == http.StatusNotFound && retried {
					l.settle(r.Status)
					break
				}
				if r.Status == http.StatusNoContent {
					break
				}
				if r.Status != http.StatusServiceUnavailable && r.Status != http.StatusTooManyRequests {
					l.t.Errorf("DELETE %s: %d %s", id, r.Status, r.Raw)
					return
				}
				retried = true
				time.Sleep(50 * time.Millisecond)
			}
			u.deleted = true
		}
	}
}

// Two bridges with the same ordered list under load through both: when
// provider 0 dies they move to provider 1, answering only 2xx/503/429; when
// it is back and has caught up they move back, each switching exactly
// twice. Afterwards both providers hold the same entries, every
// acknowledged write, the group's exact membership, no uidNumber twice, and
// every SCIM id answers.
func TestHAFailoverAndBackUnderLoad(t *testing.T) {
	pair := testenv.ProviderPair(t)
	bridges := haBridges(t, pair, 2)
	ctx := context.Background()
	l := &haLoad{t: t, bridges: bridges, statuses: map[int]int{}, settled: map[int]int{}, users: map[string]*haUser{}}
	r := bridges[0].Must(http.StatusCreated, http.MethodPost, "/Groups",
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"ha-shared"}`)
	l.group = r.Body["id"].(string)

	// Where each bridge is, sampled every 10 ms.
	var (
		tmu                  sync.Mutex
		killed, restarted    time.Time
		movedAway, movedBack [2]time.Duration
		sampling             atomic.Bool
		samplerDone          = make(chan struct{})
	)
	sampling.Store(true)
	go func() {
		defer close(samplerDone)
		for sampling.Load() {
			tmu.Lock()
			for b, h := range bridges {
				s := h.App.Pool().Server(ctx)
				if !killed.IsZero() && s == 1 && movedAway[b] == 0 {
					movedAway[b] = time.Since(killed)
				}
				if !restarted.IsZero() && s == 0 && movedBack[b] == 0 {
					movedBack[b] = time.Since(restarted)
				}
			}
			tmu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()

	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() { defer wg.Done(); l.worker(w) }()
	}
	time.Sleep(1500 * time.Millisecond)
	tmu.Lock()
	killed = time.Now()
	tmu.Unlock()
	if err := pair.Kill(0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if err := pair.Start(ctx, 0); err != nil {
		t.Fatal(err)
	}
	tmu.Lock()
	restarted = time.Now()
	tmu.Unlock()
	// Fail-back takes the hold time and the catch-up; then a little more
	// load on provider 0.
	limit := time.Now().Add(haFailBackBound + time.Second)
	for time.Now().Before(limit) {
		tmu.Lock()
		back := movedBack[0] != 0 && movedBack[1] != 0
		tmu.Unlock()
		if back {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	l.stop.Store(true)
	wg.Wait()
	sampling.Store(false)
	<-samplerDone

	t.Logf("writes acknowledged: %d; answers by status: %v, of which ended a retry: %v; users: %d",
		l.acked, l.statuses, l.settled, len(l.users))
	t.Logf("moved to provider 1 after the kill: %v; back to provider 0 after the restart: %v (hold %v)", movedAway, movedBack, haHold)
	for status, n := range l.statuses {
		if status >= 300 && status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests && n != l.settled[status] {
			t.Errorf("answered %d %d times, %d of them not after a 503", status, n, n-l.settled[status])
		}
	}
	for b, h := range bridges {
		if movedAway[b] == 0 || movedBack[b] == 0 {
			t.Errorf("bridge %d: moved away after %v, back after %v", b, movedAway[b], movedBack[b])
		}
		if movedBack[b] != 0 && (movedBack[b] < haHold || movedBack[b] > haFailBackBound) {
			t.Errorf("bridge %d failed back %v after the restart, outside [%v, %v]", b, movedBack[b], haHold, haFailBackBound)
		}
		// Exactly one failover and one fail-back: a bridge that wrote to
		// provider 0 again never went back to provider 1.
		if got := h.App.Pool().Switches(); got != 2 {
			t.Errorf("bridge %d switched %d times, want 2: %+v", b, got, h.App.Pool().Servers())
		}
	}
	checkHAMetrics(t, bridges[0], pair)
	if err := pair.WaitConverged(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	e0, err := pair.Entries(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	e1, err := pair.Entries(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := testenv.DiffEntries(e0, e1); len(diff) > 0 {
		t.Errorf("the providers differ:\n%s", strings.Join(diff, "\n"))
		logDivergence(t, pair, diff)
	}
	checkHAState(t, l, e0)
}

// checkHAState compares provider 0's entries and every bridge's answers with
// what the acknowledged writes should have left.
func checkHAState(t *testing.T, l *haLoad, entries map[string]map[string][]string) {
	t.Helper()
	uidNumbers := map[string]string{}
	for dn, e := range entries {
		for _, n := range e["uidnumber"] {
			if other, dup := uidNumbers[n]; dup {
				t.Errorf("uidNumber %s given to %s and %s", n, other, dn)
			}
			uidNumbers[n] = dn
		}
	}
	var wantMembers []string
	for name, u := range l.users {
		for b, h := range l.bridges {
			// Within the not-found window after the fail-back, a deleted
			// user answers 503 until the window ends.
			r := h.Do(http.MethodGet, "/Users/"+u.id, "")
			for deadline := time.Now().Add(10 * time.Second); r.Status == http.StatusServiceUnavailable && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
				r = h.Do(http.MethodGet, "/Users/"+u.id, "")
			}
			if u.deleted {
				if r.Status != http.StatusNotFound {
					t.Errorf("bridge %d: deleted user %s answers %d", b, name, r.Status)
				}
				continue
			}
			if r.Status != http.StatusOK {
				t.Errorf("bridge %d: user %s (id %s) answers %d %s", b, name, u.id, r.Status, r.Raw)
				continue
			}
			if got := r.Body["displayName"]; got != u.displayName {
				t.Errorf("bridge %d: user %s displayName %v, want %q", b, name, got, u.displayName)
			}
			if got := r.Body["active"]; got != u.active {
				t.Errorf("bridge %d: user %s active %v, want %v", b, name, got, u.active)
			}
		}
		if u.member && !u.deleted {
			wantMembers = append(wantMembers, u.id)
		}
	}
	r := l.bridges[1].Must(http.StatusOK, http.MethodGet, "/Groups/"+l.group, "")
	var got []string
	ms, _ := r.Body["members"].([]any)
	for _, m := range ms {
		got = append(got, m.(map[string]any)["value"].(string))
	}
	slices.Sort(got)
	slices.Sort(wantMembers)
	if !slices.Equal(got, wantMembers) {
		t.Errorf("group members: %d, want %d\n got %v\nwant %v", len(got), len(wantMembers), got, wantMembers)
	}
}

// checkHAMetrics reads what an admin sees of the switches: the metrics
// (docs/high-availability.md) and the warn-level log lines.
func checkHAMetrics(t *testing.T, h *apptest.Harness, pair *testenv.Pair) {
	t.Helper()
	w := httptest.NewRecorder()
	h.App.OpsHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	m := w.Body.String()
	for _, want := range []string{
		`scimbridge_ldap_server_in_use{url="` + pair.URL(0) + `"} 1`,
		`scimbridge_ldap_server_in_use{url="` + pair.URL(1) + `"} 0`,
		`scimbridge_ldap_server_up{url="` + pair.URL(0) + `"} 1`,
		`scimbridge_ldap_server_up{url="` + pair.URL(1) + `"} 1`,
		`scimbridge_ldap_server_replication_lag_seconds{url="` + pair.URL(1) + `"}`,
		`scimbridge_ldap_server_probe_failures_total{url="` + pair.URL(0) + `"}`,
		"scimbridge_ldap_server_switches_total 2",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	logs := h.Logs.String()
	for _, want := range []string{`"kind":"failover"`, `"kind":"fail-back"`, "switched directory server"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
}

// logDivergence prints, for each DN the providers disagree on, what each
// provider's accesslog holds for it: which provider wrote what, and whether
// the other ever replayed it.
func logDivergence(t *testing.T, pair *testenv.Pair, diff []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, line := range diff {
		// DiffEntries writes "only in the first: DN" or "DN: attr: a vs b".
		dn, rest, _ := strings.Cut(line, ": ")
		if strings.HasPrefix(line, "only in") {
			dn = rest
		}
		for i := range 2 {
			log, err := pair.AccessLog(ctx, i, dn)
			t.Logf("provider %d accesslog for %s (%v):\n  %s", i, dn, err, strings.Join(log, "\n  "))
		}
	}
}
