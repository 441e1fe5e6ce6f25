package daemon_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
	"github.com/scimbridge/scimbridge/internal/apptest"
	"github.com/scimbridge/scimbridge/internal/daemon"
)

// configOnDisk writes content to a config file and returns the source that
// reads it as an admin's would, with the connection and base DNs pointed at
// h's directory and namespace through the environment (the token hash too,
// for files that say ${SCIMBRIDGE_TOKEN_SHA256}).
func configOnDisk(t *testing.T, h *apptest.Harness, content string) (file string, src config.Source) {
	t.Helper()
	file = filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var hash string
	for _, tc := range h.Cfg.Auth.BearerTokens {
		hash = tc.SHA256
	}
	env := []string{
		"LDAP_BIND_PASSWORD=" + h.Srv.BindPassword, "SCIMBRIDGE_TOKEN_SHA256=" + hash,
		"SCIMBRIDGE_LDAP__URL=" + h.Srv.URL, "SCIMBRIDGE_LDAP__BIND_DN=" + h.Srv.BindDN,
		"SCIMBRIDGE_USERS__BASE_DN=" + h.NS.People, "SCIMBRIDGE_GROUPS__BASE_DN=" + h.NS.Groups,
		"SCIMBRIDGE_SERVER__LISTEN=127.0.0.1:0",
	}
	return file, config.Source{File: file, Environ: func() []string { return env }}
}

// reloadableApp is the example bridge read from a file on disk (so Reload
// has something to read), pointed at h's directory and namespace.
func reloadableApp(t *testing.T, h *apptest.Harness) *daemon.App {
	t.Helper()
	_, src := configOnDisk(t, h, string(examples.OpenLDAP))
	return appFromSource(t, src, zerolog.Nop())
}

// appFromSource is the bridge loaded from src, which its reloads read again.
func appFromSource(t *testing.T, src config.Source, log zerolog.Logger) *daemon.App {
	t.Helper()
	cfg, err := config.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	app, err := daemon.NewApp(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	app.Source = &src
	return app
}

// The tests here count the whole process's goroutines and sockets, so they
// are not parallel: they run before any parallel test of the package starts,
// which is the only time nothing else opens either.

// sockets counts this process's open sockets.
func sockets(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// settles waits until count() is at most want, and fails with what is left.
func settles(t *testing.T, what string, want int, count func() int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for count() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%s: %d left after Stop, want at most %d\n%s", what, count(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Reloads from several goroutines at once while clients keep the bridge busy:
// every request is answered 200, every reload succeeds, and after Stop no
// goroutine and no socket the bridge opened is left.
func TestReloadStormUnderLoad(t *testing.T) {
	h := apptest.New(t, nil)
	client := &http.Client{Transport: &http.Transport{}}
	goroutines, socks := runtime.NumGoroutine(), sockets(t)
	app := reloadableApp(t, h)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	url := "http://" + app.Addr() + "/scim/v2/Users?filter=userName+eq+%22nobody%22"
	var stop atomic.Bool
	var served, failed, reloads atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Authorization", "Bearer "+h.Token)
				resp, err := client.Do(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
					if resp != nil {
						t.Errorf("request: %d", resp.StatusCode)
					} else {
						t.Errorf("request: %v", err)
					}
				}
				if resp != nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				served.Add(1)
			}
		}()
	}
	var rwg sync.WaitGroup
	for r := 0; r < 4; r++ {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for i := 0; i < 5; i++ {
				if err := app.Reload(); err != nil {
					t.Errorf("reload: %v", err)
				}
				reloads.Add(1)
			}
		}()
	}
	rwg.Wait()
	stop.Store(true)
	wg.Wait()
	client.CloseIdleConnections()
	if err := app.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d requests across %d reloads, %d failed", served.Load(), reloads.Load(), failed.Load())
	if served.Load() < 20 {
		t.Errorf("only %d requests: the test proved little", served.Load())
	}
	settles(t, "goroutines", goroutines, runtime.NumGoroutine)
	settles(t, "sockets", socks, func() int { return sockets(t) })
}

// A reload racing Stop never leaves a pool behind: either it installs its
// core before Stop, which closes it, or it is refused (and closes its own).
// After Stop, Reload is refused.
func TestReloadRacingStop(t *testing.T) {
	h := apptest.New(t, nil)
	goroutines, socks := runtime.NumGoroutine(), sockets(t)
	for i := 0; i < 10; i++ {
		app := reloadableApp(t, h)
		if err := app.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _ = app.Reload() }()
		go func() { defer wg.Done(); _ = app.Stop(context.Background()) }()
		wg.Wait()
		if err := app.Reload(); err == nil {
			t.Fatal("Reload after Stop succeeded")
		}
	}
	settles(t, "goroutines", goroutines, runtime.NumGoroutine)
	settles(t, "sockets", socks, func() int { return sockets(t) })
}
