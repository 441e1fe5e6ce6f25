package loadbench

import (
	"context"
	"errors"
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

// bridgeProc is the bridge running as a process of its own, so that its CPU
// time and memory in /proc are its own and not the load client's.
type bridgeProc struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has exited and been reaped
	logPath string
	scimURL string // http://127.0.0.1:port/scim/v2
	opsURL  string // http://127.0.0.1:port (metrics, readiness)
	// pprofURL is the profiler's http://127.0.0.1:port, with Options.Pprof.
	pprofURL string
	token    string
}

// startBridge serves examples/openldap.yaml (the copy embedded in the
// binary's own source, written to dir) against dir's slapd, with the
// connection, base DNs, token and listeners overridden through the
// environment the documented way (SCIMBRIDGE_<SECTION>__<KEY>), as the
// end-to-end tier does. Its log goes to a file in dir.
func startBridge(ctx context.Context, bin, dir string, srv *slapd.Server, o Options) (*bridgeProc, error) {
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
	logPath := filepath.Join(dir, "scimbridge.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(bin, "serve", "--config", file)
	cmd.Env = append(environWithout("SCIMBRIDGE_"), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group (Ctrl-C reaches the tool, which stops the bridge)
	// and killed by the kernel if the tool dies: as slapd is.
	cmd.SysProcAttr = slapd.SysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &bridgeProc{
		cmd: cmd, done: make(chan struct{}), logPath: logPath, token: tok,
		scimURL: "http://" + scimAddr + "/scim/v2", opsURL: "http://" + opsAddr, pprofURL: pprofURL,
	}
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

func (p *bridgeProc) pid() int { return p.cmd.Process.Pid }

// waitReady polls /readyz (the configuration is loaded and a bind to the
// directory works) for up to 30 s.
func (p *bridgeProc) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second, Transport: loopback(1)}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.opsURL+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("scimbridge exited before it was ready (%v):\n%s", p.cmd.ProcessState, p.logTail())
		case <-ctx.Done():
			return fmt.Errorf("scimbridge not ready after 30 s:\n%s", p.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits for the exit (the daemon drains in-flight
// requests first), killing the process after 30 s. Calling it twice is
// harmless.
func (p *bridgeProc) stop() error {
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
		return errors.New("scimbridge did not stop within 30 s of SIGTERM: killed")
	case <-time.After(10 * time.Second):
		return fmt.Errorf("scimbridge pid %d did not exit after SIGKILL", p.pid())
	}
}

// exited reports an unexpected exit, with the end of the log.
func (p *bridgeProc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("scimbridge exited (%v):\n%s", p.cmd.ProcessState, p.logTail())
	default:
		return nil
	}
}

// logTail is the last 20 lines of the bridge's log, for error messages.
func (p *bridgeProc) logTail() string {
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
