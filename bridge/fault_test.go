package bridge_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/testenv"
)

// After the directory restarts, the pooled connections are dead; the bridge
// must notice and reconnect without a restart of its own.
func TestRecoversAfterDirectoryRestart(t *testing.T) {
	t.Parallel()
	h, slapd := privateHarness(t, nil)
	for i := 0; i < 4; i++ {
		h.user("before-" + itoa(i)) // fill the pool
	}
	if err := slapd.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.LDAP = testenv.Conn(t, &slapd.Server)
	for i := 0; i < 8; i++ {
		r := h.do("POST", "/Users", `{"userName":"after-`+itoa(i)+`"}`)
		if r.status != http.StatusCreated {
			t.Errorf("create %d after restart: %d %s", i, r.status, r.raw)
		}
	}
	if n := h.count("(uid=after-*)"); n != 8 {
		t.Errorf("%d users written after the restart, want 8", n)
	}
}

// A hung directory (SIGSTOP) must not hang requests: they fail with 503 within
// the configured LDAP timeout, and work again once it resumes.
func TestHungDirectoryTimesOut(t *testing.T) {
	t.Parallel()
	const timeout = 700 * time.Millisecond
	h, slapd := privateHarness(t, func(c *config.Config) { c.LDAP.Timeout = timeout })
	id := h.user("hang")
	if err := slapd.Pause(); err != nil {
		t.Fatal(err)
	}
	for _, req := range [][3]string{{"GET", "/Users/" + id, ""}, {"POST", "/Users", `{"userName":"during-hang"}`}} {
		start := time.Now()
		r := h.do(req[0], req[1], req[2])
		took := time.Since(start)
		scimErr(t, r, http.StatusServiceUnavailable, "")
		// One operation may be retried once on a fresh connection (reads) and
		// a fresh connection has its own bounded dial and bind.
		if took > 4*timeout {
			t.Errorf("%s %s took %v with ldap.timeout %v", req[0], req[1], took, timeout)
		}
	}
	if err := slapd.Resume(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for h.do("GET", "/Users/"+id, "").status != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("no recovery after resume")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// faultRun is the outcome of concurrent writes across a directory outage.
type faultRun struct {
	attempted, acked, unavailable, other atomic.Int64
	ackedNames                           sync.Map
	recoverIn                            time.Duration
}

// Killing the directory during concurrent writes: every request is answered
// (2xx or 503), every acknowledged write is in LDAP afterwards, and the bridge
// recovers without a restart. The figures are logged (go test -v).
func TestDirectoryOutageDuringWrites(t *testing.T) {
	t.Parallel()
	h, slapd := privateHarness(t, func(c *config.Config) { c.LDAP.Timeout = 2 * time.Second })
	run := &faultRun{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("w%d-%d", w, i)
				run.attempted.Add(1)
				r := h.do("POST", "/Users", `{"userName":"`+name+`"}`)
				switch r.status {
				case http.StatusCreated:
					run.acked.Add(1)
					run.ackedNames.Store(name, true)
				case http.StatusServiceUnavailable:
					run.unavailable.Add(1)
					time.Sleep(5 * time.Millisecond) // a client backs off; Entra waits far longer
				default:
					run.other.Add(1)
					t.Errorf("%s: %d %s", name, r.status, r.raw)
				}
			}
		}(w)
	}
	time.Sleep(300 * time.Millisecond)
	if err := slapd.Kill(); err != nil { // a crash: the data stays
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := slapd.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	for h.do("GET", "/Users?count=0", "").status != http.StatusOK {
		if time.Since(restarted) > 10*time.Second {
			t.Fatal("no recovery")
		}
		time.Sleep(20 * time.Millisecond)
	}
	run.recoverIn = time.Since(restarted)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	h.LDAP = testenv.Conn(t, &slapd.Server)
	found, missing := 0, 0
	run.ackedNames.Range(func(k, _ any) bool {
		if h.count("(uid="+k.(string)+")") == 1 {
			found++
		} else {
			missing++
			t.Errorf("acknowledged write %s is missing from LDAP", k)
		}
		return true
	})
	t.Logf("writes attempted %d, acknowledged %d, 503 %d, other %d; acknowledged found in LDAP %d, missing %d; recovered %v after restart",
		run.attempted.Load(), run.acked.Load(), run.unavailable.Load(), run.other.Load(), found, missing, run.recoverIn)
	if run.unavailable.Load() == 0 {
		t.Error("no request saw the outage: the test did not test anything")
	}
}

// With the first LDAP URL dead, the pool uses the failover URL.
func TestLDAPFailover(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	good := h.Cfg.LDAP.URL
	h2 := rebuildWith(t, h, func(c *config.Config) {
		c.LDAP.URL, c.LDAP.FailoverURLs = "ldap://127.0.0.1:1", []string{good}
	})
	h2.user("via-failover")
	if h2.count("(uid=via-failover)") != 1 {
		t.Error("not written")
	}
}
