package testenv

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/slapd"
)

// Pebble is a throwaway ACME server (Let's Encrypt's test server, Debian package
// pebble) for testing certificate issuance without the internet. It runs with
// PEBBLE_VA_ALWAYS_VALID=1: challenges are not checked, the order and
// issuance flow are.
type Pebble struct {
	// DirectoryURL is the ACME directory, e.g. https://127.0.0.1:40123/dir.
	DirectoryURL string
	// CAFile verifies Pebble's own HTTPS endpoint (not the certificates it
	// issues, which chain to a root Pebble makes up at start).
	CAFile string
	cmd    *exec.Cmd
	dir    string
}

// ErrPebbleNotFound means the pebble binary is not installed.
var ErrPebbleNotFound = errors.New("pebble not found: install it with `apt-get install -y pebble` (or run `make test`, which does)")

// StartPebble starts Pebble on a free loopback port and waits until it answers.
func StartPebble(ctx context.Context) (*Pebble, error) {
	bin, err := exec.LookPath("pebble")
	if err != nil {
		if _, serr := os.Stat("/usr/bin/pebble"); serr != nil {
			return nil, ErrPebbleNotFound
		}
		bin = "/usr/bin/pebble"
	}
	dir, err := os.MkdirTemp("", "scimbridge-pebble-")
	if err != nil {
		return nil, err
	}
	caFile, certFile, keyFile, err := WriteTLSFiles(filepath.Join(dir, "tls"), "127.0.0.1", "localhost")
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	ports := make([]int, 4)
	for i := range ports {
		if ports[i], err = slapd.FreePort(); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress":           "127.0.0.1:" + strconv.Itoa(ports[0]),
		"managementListenAddress": "127.0.0.1:" + strconv.Itoa(ports[1]),
		"certificate":             certFile, "privateKey": keyFile,
		"httpPort": ports[2], "tlsPort": ports[3], "ocspResponderURL": "", "externalAccountBindingRequired": false,
	}}
	b, _ := json.Marshal(conf)
	confFile := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(confFile, b, 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(bin, "-config", confFile, "-strict=false")
	cmd.Env = append(os.Environ(), "PEBBLE_VA_ALWAYS_VALID=1", "PEBBLE_VA_NOSLEEP=1")
	cmd.Dir = dir
	cmd.SysProcAttr = slapd.SysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	p := &Pebble{DirectoryURL: fmt.Sprintf("https://127.0.0.1:%d/dir", ports[0]), CAFile: caFile, cmd: cmd, dir: dir}
	pool, err := CertPoolFromFile(caFile)
	if err != nil {
		_ = p.Stop()
		return nil, err
	}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(p.DirectoryURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = p.Stop()
			return nil, fmt.Errorf("pebble did not answer on %s: %v", p.DirectoryURL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends Pebble and removes its files.
func (p *Pebble) Stop() error {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
	return os.RemoveAll(p.dir)
}

// PrivatePebble starts a Pebble of the test's own, stopped when the test
// ends. Without pebble the test is skipped, or fails under CI=true.
func PrivatePebble(t testing.TB) *Pebble {
	t.Helper()
	p, err := StartPebble(context.Background())
	if err != nil {
		if CIRequiresServer() {
			t.Fatal(err)
		}
		t.Skipf("no pebble (would fail under CI=true): %v", err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	return p
}
