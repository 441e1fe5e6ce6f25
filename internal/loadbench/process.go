package loadbench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/scimbridge/scimbridge/examples"
	"github.com/scimbridge/scimbridge/internal/slapd"
	"github.com/scimbridge/scimbridge/scimapi"
)

// buildBridge builds cmd/scimbridge as `make build` does (no cgo, no race
// detector) into dir: the binary measured is the one admins run.
func buildBridge(ctx context.Context, goTool, dir string) (string, error) {
	bin := filepath.Join(dir, "scimbridge")
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, "github.com/scimbridge/scimbridge/cmd/scimbridge")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/scimbridge (run scimbench inside the repository, or give -bin): %v\n%s", err, out)
	}
	return bin, nil
}

// serverProc is the bridge, or the floor (floor.go), running as a process
// of its own, so that its CPU time and memory in /proc are its own and not
// the load client's.
type serverProc struct {
	name     string // "scimbridge" or "floor", for messages
	cmd      *exec.Cmd
	done     chan struct{} // closed once the process has exited and been reaped
	logPath  string
	readyURL string // answers 200 or 204 once the server holds its LDAP pool
	scimURL  string // http://127.0.0.1:port/scim/v2
	opsURL   string // the bridge's http://127.0.0.1:port (metrics); "" for the floor
	// pprofURL is the profiler's http://127.0.0.1:port, with Options.Pprof.
	pprofURL string
	token    string
}

// startBridge serves examples/openldap.yaml (the copy embedded in the
// binary's own source, written to dir) against dir's slapd, with the
// connection, base DNs, token and listeners overridden through the
// environment the documented way (SCIMBRIDGE_<SECTION>__<KEY>), as the
// end-to-end tier does. Its log goes to a file in dir.
func startBridge(ctx context.Context, bin, dir string, srv *slapd.Server, o Options) (*serverProc, error) {
	file := filepath.Join(dir, "openldap.yaml")
	if err := os.WriteFile(file, examples.OpenLDAP, 0o600); err != nil {
		return nil, err
	}
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		return nil, err
	}
	scimPort, err := slapd.FreePort()
	if err != nil {
		return nil, err
	}
	opsPort, err := slapd.FreePort()
	if err != nil {
		return nil, err
	}
	scimAddr, opsAddr := "127.0.0.1:"+strconv.Itoa(scimPort), "127.0.0.1:"+strconv.Itoa(opsPort)
	env := append(examples.OpenLDAPEnv(examples.Target{
		URL: srv.URL, BindDN: srv.BindDN, BindPassword: srv.BindPassword,
		UsersBaseDN: peopleDN(srv), GroupsBaseDN: "ou=groups," + srv.BaseDN, TokenSHA256: hash,
	}), "SCIMBRIDGE_SERVER__LISTEN="+scimAddr, "SCIMBRIDGE_SERVER__METRICS_LISTEN="+opsAddr)
	if o.LogLevel != "" {
		env = append(env, "SCIMBRIDGE_LOG__LEVEL="+o.LogLevel)
	}
	pprofURL := ""
	if o.Pprof {
		port, err := slapd.FreePort()
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		env, pprofURL = append(env, "SCIMBRIDGE_SERVER__PPROF_LISTEN="+addr), "http://"+addr
	}
	cmd := exec.Command(bin, "serve", "--config", file)
	cmd.Env = append(environWithout("SCIMBRIDGE_"), env...)
	return startServer(ctx, cmd, filepath.Join(dir, "scimbridge.log"), &serverProc{
		name: "scimbridge", token: tok, readyURL: "http://" + opsAddr + "/readyz",
		scimURL: "http://" + scimAddr + "/scim/v2", opsURL: "http://" + opsAddr, pprofURL: pprofURL,
	})
}

// startFloor starts the floor (floor.go) by running this program again with
// FloorServerCommand, on the bridge's pool size and bind, its log going to
// a file in dir.
func startFloor(ctx context.Context, dir string, srv *slapd.Server) (*serverProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	tok, _, err := scimapi.NewToken()
	if err != nil {
		return nil, err
	}
	port, err := slapd.FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(self, FloorServerCommand, "-listen", addr, "-ldap", srv.URL, "-bind-dn", srv.BindDN,
		"-people", peopleDN(srv), "-pool", strconv.Itoa(bridgePoolSize))
	cmd.Env = append(environWithout("SCIMBRIDGE_"), floorPasswordEnv+"="+srv.BindPassword, floorTokenEnv+"="+tok)
	return startServer(ctx, cmd, filepath.Join(dir, "floor.log"), &serverProc{
		name: "floor", token: tok, readyURL: "http://" + addr + "/healthz", scimURL: "http://" + addr + "/scim/v2",
	})
}

// startServer starts cmd as p, its output going to logPath, and waits until
// it is ready.
func startServer(ctx context.Context, cmd *exec.Cmd, logPath string, p *serverProc) (*serverProc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group (Ctrl-C reaches the tool, which stops the server)
	// and killed by the kernel if the tool dies: as slapd is.
	cmd.SysProcAttr = slapd.SysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p.cmd, p.done, p.logPath = cmd, make(chan struct{}), logPath
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(ctx); err != nil {
		_ = p.stop()
		return nil, err
	}
	return p, nil
}

// environWithout is the tool's environment minus variables starting with
// prefix: a developer's own SCIMBRIDGE_* settings must not change the run.
func environWithout(prefix string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			out = append(out, kv)
		}
	}
	return out
}

func (p *serverProc) pid() int { return p.cmd.Process.Pid }

// waitReady polls readyURL (the bridge's /readyz: the configuration is
// loaded and a bind to the directory works; the floor's /healthz: its pool
// is bound) for up to 30 s.
func (p *serverProc) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second, Transport: loopback(1)}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.readyURL, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%v):\n%s", p.name, p.cmd.ProcessState, p.logTail())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after 30 s:\n%s", p.name, p.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits for the exit (the bridge drains in-flight
// requests first), killing the process after 30 s. Calling it twice is
// harmless.
func (p *serverProc) stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return fmt.Errorf("%s did not stop within 30 s of SIGTERM: killed", p.name)
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s pid %d did not exit after SIGKILL", p.name, p.pid())
	}
}

// exited reports an unexpected exit, with the end of the log.
func (p *serverProc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v):\n%s", p.name, p.cmd.ProcessState, p.logTail())
	default:
		return nil
	}
}

// logTail is the last 20 lines of the process's log, for error messages.
func (p *serverProc) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

func peopleDN(srv *slapd.Server) string { return "ou=people," + srv.BaseDN }
