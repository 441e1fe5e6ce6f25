package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/examples"
	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/testenv"
)

// The end-to-end tier: what admins run is what is tested. Each file in
// examples/ is served by the built binary, as a process, against a real
// directory, with the environment its header documents; then `scimbridge
// check` (an Entra cycle) runs against it over HTTP and every step must pass,
// and `scimbridge validate --online` must accept the file.

// exampleRuns names, for each file in examples/, the test that runs it. A new
// example without an entry fails TestEveryExampleRunsEndToEnd.
var exampleRuns = map[string]string{
	"openldap.yaml": "TestExampleOpenLDAPEndToEnd",
	"ad.yaml":       "TestExampleADEndToEnd",
}

func TestEveryExampleRunsEndToEnd(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found (%v)", err)
	}
	for _, f := range files {
		if _, ok := exampleRuns[filepath.Base(f)]; !ok {
			t.Errorf("examples/%s has no end-to-end test: add one to exampleRuns (examples_e2e_test.go)", filepath.Base(f))
		}
	}
}

func TestExampleOpenLDAPEndToEnd(t *testing.T) {
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	bin := buildBinary(t)
	tok, hash := newToken(t)
	// The file's header documents LDAP_BIND_PASSWORD and the token hash; the
	// connection and base DNs are overridden the documented way
	// (SCIMBRIDGE_<SECTION>__<KEY>) to point at the test server and namespace.
	env := examples.OpenLDAPEnv(examples.Target{
		URL: srv.URL, BindDN: srv.BindDN, BindPassword: srv.BindPassword,
		UsersBaseDN: ns.People, GroupsBaseDN: ns.Groups, TokenSHA256: hash,
	})
	runExample(t, bin, "openldap.yaml", env, tok, "SCIMBRIDGE_SERVER__LISTEN")
}

// The AD example with the three bind names a DC accepts for a simple bind.
func TestExampleADEndToEnd(t *testing.T) {
	ad := testenv.ActiveDirectory(t)
	bin := buildBinary(t)
	account := strings.TrimPrefix(strings.SplitN(ad.BindDN, ",", 2)[0], "CN=")
	for _, bind := range []struct{ name, dn string }{
		{"DN", ad.BindDN},
		{"UPN", account + "@" + ad.Domain},
		{"down-level", testenv.ADWorkgroup + `\` + account},
	} {
		t.Run(bind.name, func(t *testing.T) {
			ns := testenv.NewADNamespace(t, ad)
			tok, hash := newToken(t)
			env := []string{
				"AD_URL=" + ad.URL, "AD_BIND_DN=" + bind.dn, "AD_BIND_PASSWORD=" + ad.BindPassword,
				"AD_USERS_DN=" + ns.People, "AD_GROUPS_DN=" + ns.Groups, "AD_CA_FILE=" + ad.CAFile,
				"SCIMBRIDGE_TOKEN_SHA256=" + hash,
			}
			runExample(t, bin, "ad.yaml", env, tok, "SCIMBRIDGE_LISTEN")
		})
	}
}

// runExample validates examples/<name> online, serves it, waits for /readyz,
// runs `scimbridge check` against it, and stops it with SIGTERM. listenVar is
// the variable that sets the SCIM listener.
func runExample(t *testing.T, bin, name string, env []string, token, listenVar string) {
	t.Helper()
	file, err := filepath.Abs("../../examples/" + name)
	if err != nil {
		t.Fatal(err)
	}
	scim, ops := freeAddr(t), freeAddr(t)
	env = append(env, listenVar+"="+scim, "SCIMBRIDGE_SERVER__METRICS_LISTEN="+ops)

	start := time.Now()
	out, code := runBinary(t, bin, env, 2*time.Minute, "validate", "--online", "--config", file)
	t.Logf("validate --online: %v", time.Since(start))
	if code != 0 || strings.Contains(out, "error") {
		t.Fatalf("validate --online %s: exit %d\n%s", name, code, out)
	}

	srv := startBinary(t, bin, env, "serve", "--config", file)
	waitReady(t, srv, "http://"+ops+"/readyz")
	t.Logf("serve ready: %v", time.Since(start))

	out, code = runBinary(t, bin, env, 3*time.Minute, "check", "--url", "http://"+scim+"/scim/v2", "--token", token)
	if code != 0 || strings.Contains(out, "FAIL") || !strings.Contains(out, "PASS") {
		t.Errorf("check against %s: exit %d\n%s\nserver log:\n%s", name, code, out, srv.log.String())
	}
	t.Logf("check done: %v", time.Since(start))
	if err := srv.stop(); err != nil {
		t.Errorf("serve %s did not stop cleanly on SIGTERM: %v\n%s", name, err, srv.log.String())
	}
}

// buildBinary builds cmd/scimbridge as `make build` does (no race detector,
// no cgo), into the test's temp dir.
func buildBinary(t testing.TB) string {
	t.Helper()
	defer func(start time.Time) { t.Logf("go build: %v", time.Since(start)) }(time.Now())
	bin := filepath.Join(t.TempDir(), "scimbridge")
	cmd := exec.Command(goTool(t), "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/scimbridge: %v\n%s", err, out)
	}
	return bin
}

func newToken(t testing.TB) (token, hash string) {
	t.Helper()
	token, hash, err := scimapi.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	return token, hash
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// processEnv is the test's environment without SCIMBRIDGE_* variables (a
// developer's own overrides must not leak into the run), plus env.
func processEnv(env []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SCIMBRIDGE_") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// runBinary runs a short command and returns its combined output and exit code.
func runBinary(t testing.TB, bin string, env []string, timeout time.Duration, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = processEnv(env)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out)
	}
	return string(out), 0
}

type process struct {
	cmd  *exec.Cmd
	log  *testenv.LogBuffer
	done chan error
}

// startBinary starts a long-running command; t.Cleanup kills it if the test
// did not stop it.
func startBinary(t testing.TB, bin string, env []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), log: &testenv.LogBuffer{}, done: make(chan error, 1)}
	p.cmd.Env = processEnv(env)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends SIGTERM and waits for a clean exit (bounded).
func (p *process) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("still running 30 s after SIGTERM")
	}
}

// waitReady polls url until it answers 200, failing if the process exits or
// a minute passes.
func waitReady(t testing.TB, p *process, url string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("serve exited before it was ready (%v):\n%s", err, p.log.String())
		default:
		}
		if r, err := client.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready after a minute:\n%s", url, p.log.String())
}
