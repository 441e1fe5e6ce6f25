package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/testenv"
)

// countingProxy forwards TCP connections to target and counts them: the
// directory's view of how often the bridge dialed (accepted) and how many of
// its connections are open now (live).
func countingProxy(t *testing.T, target string) (addr string, accepted, live *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted, live = new(atomic.Int64), new(atomic.Int64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range open {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			live.Add(1)
			out, err := net.Dial("tcp", target)
			if err != nil {
				_ = in.Close()
				continue
			}
			mu.Lock()
			open = append(open, in, out)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(out, in); _ = out.Close(); live.Add(-1) }()
			go func() { defer wg.Done(); _, _ = io.Copy(in, out); _ = in.Close() }()
		}
	}()
	return ln.Addr().String(), accepted, live
}

// serve loads, compiles and dials once: the online checks at start run
// through the pool that then serves requests, so the directory holds a
// single connection where it used to hold a check pool's and the App's. The
// check of sorted lists runs on connections of its own that it closes, as
// every sorted list does (sssvlv keeps a connection's result sets until it
// closes): they are dialed, but none is left open.
func TestServeDialsOnce(t *testing.T) {
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy, accepted, live := countingProxy(t, u.Host)
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LDAP_BIND_PASSWORD", srv.BindPassword)
	t.Setenv("SCIMBRIDGE_TOKEN_SHA256", hash)
	t.Setenv("SCIMBRIDGE_SERVER__LISTEN", "127.0.0.1:0")
	t.Setenv("SCIMBRIDGE_LDAP__URL", "ldap://"+proxy)
	t.Setenv("SCIMBRIDGE_LDAP__BIND_DN", srv.BindDN)
	t.Setenv("SCIMBRIDGE_USERS__BASE_DN", ns.People)
	t.Setenv("SCIMBRIDGE_GROUPS__BASE_DN", ns.Groups)
	f := filepath.Join(t.TempDir(), "openldap.yaml")
	if err := os.WriteFile(f, examples.OpenLDAP, 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var logs testenv.LogBuffer
	var atStart, liveAtStart int64
	status := 0
	code := serveSource(ctx, config.Source{File: f}, &logs, func(addr string) {
		defer cancel()
		atStart, liveAtStart = accepted.Load(), waitLive(live, 1)
		req, _ := http.NewRequest("GET", "http://"+addr+"/scim/v2/Users?filter=userName+eq+%22nobody%22", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	})
	if code != 0 || status != http.StatusOK {
		t.Fatalf("serve: exit %d, GET answered %d; log:\n%s", code, status, logs.String())
	}
	// 1 for the pool, 1 for each sorted-list check (users, groups); a
	// second pool (the check's apart from the App's) would make it 4.
	if atStart != 3 || liveAtStart != 1 {
		t.Errorf("the directory saw %d connections by the time serve was up, %d of them still open; want 3 "+
			"(the pool's and one per sorted-list check) and 1 (the pool's)", atStart, liveAtStart)
	}
	if accepted.Load() != atStart {
		t.Errorf("the request opened %d new connections, want 0 (the pool's is reused)", accepted.Load()-atStart)
	}
}

// waitLive waits a moment for closed connections to be seen as closed (the
// proxy's copy notices a close asynchronously) and returns the count.
func waitLive(live *atomic.Int64, want int64) int64 {
	for deadline := time.Now().Add(2 * time.Second); live.Load() != want && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	return live.Load()
}
