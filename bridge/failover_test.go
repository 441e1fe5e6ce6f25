package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/testenv"
)

// Two independent slapds stand for two servers of one directory: these tests
// are about which server the pool talks to, so each server's own content
// shows where a write went. Replication is tested with testenv's provider
// pair (ha_test.go).
func failoverPair(t *testing.T, f config.FailoverConfig) (*bridge.Pool, [2]*testenv.Slapd) {
	t.Helper()
	var s [2]*testenv.Slapd
	for i := range s {
		// The same bind password on both, as on replicas of one directory.
		sl, err := testenv.StartSlapd(context.Background(), testenv.SlapdOptions{Password: "failover-test-pw"})
		if err != nil {
			if testenv.CIRequiresServer() {
				t.Fatal(err)
			}
			t.Skipf("no slapd (would fail under CI=true): %v", err)
		}
		t.Cleanup(func() { _ = sl.Stop() })
		s[i] = sl
	}
	p, err := bridge.NewPool(config.LDAPConfig{
		URL: s[0].URL, FailoverURLs: []string{s[1].URL}, BindDN: s[0].BindDN, BindPassword: s[0].BindPassword,
		PoolSize: 2, Timeout: 2 * time.Second, DialTimeout: time.Second, PageSize: 100, Failover: f,
	}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, s
}

// addOU writes ou=<name> through the pool with ctx.
func addOU(ctx context.Context, p *bridge.Pool, name string) error {
	req := ldap.NewAddRequest(fmt.Sprintf("ou=%s,%s", name, testenv.DefaultBaseDN), nil)
	req.Attribute("objectClass", []string{"organizationalUnit"})
	req.Attribute("ou", []string{name})
	return p.Add(ctx, req)
}

// has tells whether slapd s holds ou=<name>.
func has(t *testing.T, s *testenv.Slapd, name string) bool {
	t.Helper()
	c, err := s.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Search(ldap.NewSearchRequest(fmt.Sprintf("ou=%s,%s", name, testenv.DefaultBaseDN), ldap.ScopeBaseObject,
		ldap.NeverDerefAliases, 1, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
	return err == nil
}

// waitServer waits until the pool uses server want, and says how long that took.
func waitServer(t *testing.T, p *bridge.Pool, want int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if p.Server(context.Background()) == want {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the pool did not move to server %d within %v: %+v", want, limit, p.Servers())
	return 0
}

// The first server is used while it is up; when it dies the pool moves to
// the second at once, and comes back only after the first has answered
// every probe for the hold time.
func TestFailoverAndFailBack(t *testing.T) {
	t.Parallel()
	hold := 700 * time.Millisecond
	p, s := failoverPair(t, config.FailoverConfig{ProbeInterval: 100 * time.Millisecond, Hold: hold, NotFoundWindow: time.Second})
	ctx := context.Background()
	if err := addOU(ctx, p, "one"); err != nil {
		t.Fatal(err)
	}
	if !has(t, s[0], "one") || has(t, s[1], "one") {
		t.Fatal("the first write did not go to the first server only")
	}
	if err := s[0].Kill(); err != nil {
		t.Fatal(err)
	}
	// A write that finds its pooled connection broken is not retried (it
	// may have been applied); the next one dials, fails over and succeeds.
	var err error
	for range 3 {
		if err = addOU(ctx, p, "two"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("no write succeeded after the first server died: %v", err)
	}
	if !has(t, s[1], "two") {
		t.Fatal("the write after the failover is not on the second server")
	}
	if got := p.Switches(); got != 1 {
		t.Fatalf("switches = %d, want 1", got)
	}
	restarted := time.Now()
	if err := s[0].Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitServer(t, p, 0, 10*time.Second)
	if took := time.Since(restarted); took < hold {
		t.Fatalf("failed back %v after the restart, before the hold time %v", took, hold)
	}
	if err := addOU(ctx, p, "three"); err != nil {
		t.Fatal(err)
	}
	if !has(t, s[0], "three") || has(t, s[1], "three") {
		t.Fatal("the write after the fail-back did not go to the first server only")
	}
	st := p.Servers()
	if !st[0].InUse || st[1].InUse || !st[0].Up || !st[1].Up || st[0].Probes == 0 {
		t.Fatalf("servers after fail-back: %+v", st)
	}
}

// A bridge that was idle while the server in use restarted must move too:
// the busy bridges saw the outage and moved, and a bridge that stayed would
// write to the other server until they come back. The probe connection
// stays open between probes, so the restart shows as a broken connection
// even though the server answers again by the next probe.
func TestIdleBridgeSeesRestart(t *testing.T) {
	t.Parallel()
	p, s := failoverPair(t, config.FailoverConfig{ProbeInterval: 1500 * time.Millisecond, Hold: 30 * time.Second, NotFoundWindow: time.Second})
	ctx := context.Background()
	if err := p.Ping(ctx); err != nil { // starts the prober
		t.Fatal(err)
	}
	// Let the first probe open its connection, then restart between probes.
	time.Sleep(1700 * time.Millisecond)
	if err := s[0].Restart(ctx); err != nil {
		t.Fatal(err)
	}
	waitServer(t, p, 1, 5*time.Second)
	if err := p.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// A request's operations stay on the server where it started: once the
// pool has switched, the request's next operation is refused (503) rather
// than sent to the other server.
func TestRequestPinnedAcrossSwitch(t *testing.T) {
	t.Parallel()
	p, s := failoverPair(t, config.FailoverConfig{ProbeInterval: time.Hour, Hold: time.Hour, NotFoundWindow: time.Second})
	req := bridge.PinRequest(context.Background())
	if err := addOU(req, p, "pinned"); err != nil {
		t.Fatal(err)
	}
	if err := s[0].Kill(); err != nil {
		t.Fatal(err)
	}
	// Another request moves the pool.
	var err error
	for range 3 {
		if err = addOU(context.Background(), p, "other"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	err = addOU(req, p, "pinned2")
	if !errors.Is(err, bridge.ErrDown) {
		t.Fatalf("pinned request after a switch: %v, want ErrDown", err)
	}
	if has(t, s[1], "pinned2") {
		t.Fatal("the pinned request wrote to the server it did not start on")
	}
	if got := p.Server(req); got != 0 {
		t.Fatalf("Server(pinned request) = %d, want 0", got)
	}
	if got := p.Server(context.Background()); got != 1 {
		t.Fatalf("Server(new request) = %d, want 1", got)
	}
}

// A pool that replaces another (a reload) with the same servers goes on on
// the server the old one uses, rather than starting over on the first.
func TestTakeOverKeepsServer(t *testing.T) {
	t.Parallel()
	old, s := failoverPair(t, config.FailoverConfig{ProbeInterval: time.Hour, Hold: time.Hour, NotFoundWindow: time.Minute})
	if err := s[0].Kill(); err != nil {
		t.Fatal(err)
	}
	if err := old.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s[0].Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := config.LDAPConfig{
		URL: s[0].URL, FailoverURLs: []string{s[1].URL}, BindDN: s[0].BindDN, BindPassword: s[0].BindPassword,
		PoolSize: 2, Timeout: 2 * time.Second, DialTimeout: time.Second, PageSize: 100,
		Failover: config.FailoverConfig{ProbeInterval: time.Hour, Hold: time.Hour, NotFoundWindow: time.Minute},
	}
	p, err := bridge.NewPool(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.TakeOver(old)
	if err := addOU(context.Background(), p, "after-reload"); err != nil {
		t.Fatal(err)
	}
	if !has(t, s[1], "after-reload") || has(t, s[0], "after-reload") {
		t.Fatal("the new pool did not write where the old one did")
	}
}

// A single server is probed as well, so that its outage shows while the
// bridge is idle (scimbridge_ldap_server_up); the outage is logged once, not
// at every probe.
func TestSingleServerProbed(t *testing.T) {
	t.Parallel()
	s := testenv.PrivateSlapd(t)
	logs := &testenv.LogBuffer{}
	p, err := bridge.NewPool(config.LDAPConfig{
		URL: s.URL, BindDN: s.BindDN, BindPassword: s.BindPassword, PoolSize: 1, Timeout: time.Second,
		DialTimeout: time.Second, PageSize: 100, Failover: config.FailoverConfig{ProbeInterval: 100 * time.Millisecond},
	}, zerolog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	wait := func(up bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if st := p.Servers(); len(st) == 1 && st[0].Up == up && st[0].Probes > 0 {
				return
			}
		}
		t.Fatalf("server not seen up=%v: %+v", up, p.Servers())
	}
	wait(true)
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	wait(false)
	if p.Switches() != 0 {
		t.Fatalf("a single server switched %d times", p.Switches())
	}
	failed := p.Servers()[0].ProbeFailures
	for deadline := time.Now().Add(5 * time.Second); p.Servers()[0].ProbeFailures < failed+3 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if n := strings.Count(logs.String(), "failed its probe"); n != 1 {
		t.Errorf("the outage was logged %d times over %d failed probes, want once:\n%s", n, p.Servers()[0].ProbeFailures, logs)
	}
}
