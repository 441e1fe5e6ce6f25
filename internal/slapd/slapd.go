// Package slapd runs a real, throwaway OpenLDAP server: for `scimbridge demo`
// and, through testenv, for the tests. It does not import testing, so the
// shipped binary links no test code.
//
// Mocks of LDAP would hide exactly what the bridge must get right (overlays, password
// policy, error codes), so tests talk to a private slapd configured like docker/slapd.conf.
package slapd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// ErrNotFound lets callers (the demo, OpenLDAP) tell "not installed" apart from a broken
// server, because only the former deserves an installation hint or a skip.
var ErrNotFound = errors.New("slapd (the OpenLDAP server) is not installed: " +
	"install it with `sudo apt-get install -y slapd ldap-utils` (Debian/Ubuntu), or run `make test`, which does it")

// SearchDirs are searched after PATH because Debian installs slapd in /usr/sbin, which is not
// in an ordinary user's PATH.
var SearchDirs = []string{"/usr/sbin", "/usr/local/sbin", "/usr/libexec"}

// startTimeout bounds the wait for the first answer when the caller's context has no earlier
// deadline; slapd answers in well under a second, so hitting it means something is broken.
const startTimeout = 15 * time.Second

// Server is everything a test or the demo needs to reach a directory, whether a private slapd or
// an external server named by SCIMBRIDGE_TEST_LDAP_URL.
type Server struct {
	URL          string // e.g. ldap://127.0.0.1:40123
	BindDN       string // cn=admin,dc=example,dc=org
	BindPassword string
	BaseDN       string // dc=example,dc=org
	// With Options.TLS: the LDAPS URL (the plain URL also offers
	// StartTLS) and the PEM file of the CA that signed the server certificate
	// (for 127.0.0.1 and localhost).
	LDAPSURL string
	CAFile   string
}

// Options tunes Start; the zero value gives an isolated server on a free port.
type Options struct {
	Port     int                              // 0 = pick a free loopback port
	Password string                           // rootpw; "" = random
	Dir      string                           // "" = a new temp dir, removed by Stop; an existing Dir keeps its data
	Logf     func(format string, args ...any) // optional; gets slapd's error output and lifecycle events until Stop returns
	TLS      bool                             // also serve LDAPS and StartTLS with a fresh test CA
}

// Slapd is a running private slapd. Its methods are safe for concurrent use.
type Slapd struct {
	Server

	bin    string
	dir    string
	ownDir bool
	port   int
	logf   func(format string, args ...any)

	mu      sync.Mutex
	proc    *process
	tlsPort int
	replica *Replica // nil unless one of a StartPair pair (replica.go)
}

// process is one run of slapd; Restart replaces it while the Slapd stays the same.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been reaped
	out  *tailWriter
}

// Start creates the configuration and base entries (only when Dir holds no database yet),
// starts slapd in the foreground as a child process and returns once it answers LDAP.
//
// slapd runs with -d none rather than daemonized so that its errors reach us on stderr, its exit
// is observed with Wait instead of by polling a pid, and (on Linux) it dies with the test binary.
func Start(ctx context.Context, opts Options) (*Slapd, error) {
	s, err := newSlapd(opts)
	if err != nil {
		return nil, err
	}
	pw := opts.Password
	if pw == "" {
		pw = RandomPassword()
	}
	s.Server = Server{BindDN: DefaultBindDN, BindPassword: pw, BaseDN: DefaultBaseDN}
	err = s.prepare(ctx, pw)
	if err == nil && opts.TLS {
		err = s.prepareTLS()
	}
	if err == nil {
		err = s.startOnPort(ctx, opts.Port)
	}
	if err != nil {
		s.removeDir()
		return nil, err
	}
	return s, nil
}

// newSlapd finds the binary and the directory: opts.Dir, or a new temporary
// one that Stop removes.
func newSlapd(opts Options) (*Slapd, error) {
	bin, err := findSlapd()
	if err != nil {
		return nil, err
	}
	s := &Slapd{bin: bin, dir: opts.Dir, logf: opts.Logf}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "scimbridge-slapd-"); err != nil {
			return nil, err
		}
		s.ownDir = true
	} else if s.dir, err = filepath.Abs(s.dir); err != nil {
		return nil, err
	}
	return s, nil
}

// startOnPort starts slapd on port, or with port 0 on a free one. A port
// picked by FreePort can be taken by someone else before slapd binds it; only
// then is trying another one correct, up to three times.
func (s *Slapd) startOnPort(ctx context.Context, port int) error {
	for attempt := 0; ; attempt++ {
		p := port
		if p == 0 {
			var err error
			if p, err = FreePort(); err != nil {
				return err
			}
		}
		s.mu.Lock()
		err := s.start(ctx, p)
		s.mu.Unlock()
		if err == nil || port != 0 || attempt == 2 || !errors.Is(err, errAddrInUse) {
			return err
		}
	}
}

// findSlapd looks beyond PATH because /usr/sbin is often missing from it.
func findSlapd() (string, error) {
	if p, err := exec.LookPath("slapd"); err == nil {
		return p, nil
	}
	for _, d := range SearchDirs {
		p := filepath.Join(d, "slapd")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w (looked in PATH and %s)", ErrNotFound, strings.Join(SearchDirs, ", "))
}

// prepare writes slapd.conf on every start, so that a reused Dir takes the current password,
// and loads the base LDIF only into an empty database, so that a reused Dir keeps its data.
func (s *Slapd) prepare(ctx context.Context, pw string) error {
	conf := filepath.Join(s.dir, "slapd.conf")
	text, seed, err := s.prepareReplica(renderSlapdConf(s.dir, pw), pw)
	if err != nil {
		return err
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return err
	}
	db := filepath.Join(s.dir, "db")
	if _, err := os.Stat(filepath.Join(db, "data.mdb")); err == nil {
		return nil
	}
	if err := os.MkdirAll(db, 0o700); err != nil {
		return err
	}
	ldif := seed
	if ldif == "" {
		ldif = filepath.Join(s.dir, "base.ldif")
		if err := os.WriteFile(ldif, []byte(baseLDIF), 0o600); err != nil {
			return err
		}
	}
	// "slapd -T add" is slapadd; calling it this way avoids a second binary lookup.
	args := []string{"-T", "add", "-q", "-f", conf, "-l", ldif}
	if s.replica != nil {
		args = append(args, "-w") // the contextCSN both providers start from: see Replica.Seed
	}
	out, err := exec.CommandContext(ctx, s.bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("slapadd of %s into %s failed: %v: %s", ldif, db, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// errAddrInUse marks a start that failed only because the port was taken.
var errAddrInUse = errors.New("address already in use")

// start runs slapd on port and waits for its first answer. The caller holds s.mu.
func (s *Slapd) start(ctx context.Context, port int) error {
	url := "ldap://127.0.0.1:" + strconv.Itoa(port)
	listen := url + "/"
	if s.tlsPort != 0 {
		listen += " ldaps://127.0.0.1:" + strconv.Itoa(s.tlsPort) + "/"
	}
	out := &tailWriter{logf: s.logf}
	debug := "none"
	if s.replica != nil {
		debug = "sync" // what replication did, for a failed HA test's log (slapd.conf's loglevel goes to syslog only)
	}
	cmd := exec.Command(s.bin, "-d", debug, "-f", filepath.Join(s.dir, "slapd.conf"), "-h", listen)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = SysProcAttr()
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{}), out: out}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := waitReady(ctx, url, p); err != nil {
		_ = p.stop()
		if strings.Contains(out.String(), "Address already in use") {
			err = fmt.Errorf("%w: %v", errAddrInUse, err)
		}
		return fmt.Errorf("slapd on %s: %w", url, err)
	}
	s.proc, s.port = p, port
	if s.URL != url { // unchanged on Restart: concurrent readers of URL must not race with it
		s.URL = url
	}
	s.logf("testenv: slapd pid %d answers on %s after %v (dir %s)", cmd.Process.Pid, url, time.Since(began).Round(time.Millisecond), s.dir)
	return nil
}

// waitReady asks for the rootDSE, as an LDAP client would, because an open port alone does not
// prove that the database and overlays came up.
func waitReady(ctx context.Context, url string, p *process) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		if lastErr = probe(url); lastErr == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("slapd exited (%v) before answering: %s", p.cmd.ProcessState, p.out.String())
		case <-ctx.Done():
			return fmt.Errorf("no answer (%v; last error: %v): %s", ctx.Err(), lastErr, p.out.String())
		case <-tick.C:
		}
	}
}

func probe(url string) error {
	c, err := ldap.DialURL(url, ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetTimeout(time.Second)
	_, err = c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"namingContexts"}, nil))
	return err
}

// FreePort asks the kernel for an unused loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// stop asks slapd to shut down cleanly and kills it if it does not. SIGCONT follows SIGTERM
// because a paused slapd would otherwise never act on the SIGTERM.
func (p *process) stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("slapd pid %d did not exit after SIGKILL", p.cmd.Process.Pid)
	}
}

// Stop ends slapd and removes the data directory if Start created it. Calling it again is
// harmless, so tests can both defer it and call it explicitly.
func (s *Slapd) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.proc != nil {
		err = s.proc.stop()
		s.proc = nil
		s.logf("testenv: slapd on %s stopped", s.URL)
	}
	s.port = 0 // the data dir may be gone: Restart must not bring it back
	if rmErr := s.removeDir(); err == nil {
		err = rmErr
	}
	return err
}

func (s *Slapd) removeDir() error {
	if !s.ownDir {
		return nil
	}
	s.ownDir = false
	return os.RemoveAll(s.dir)
}

// Pause freezes slapd with SIGSTOP: connections stay open but nothing answers, as with a hung
// or unreachable server, which is what timeout handling must be tested against. It returns only
// once slapd is really stopped, so that the next request is sure to hang.
func (s *Slapd) Pause() error {
	if err := s.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	return waitStopped(s.Pid())
}

// Resume undoes Pause.
func (s *Slapd) Resume() error { return s.signal(syscall.SIGCONT) }

func (s *Slapd) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return errors.New("slapd is not running")
	}
	return s.proc.cmd.Process.Signal(sig)
}

// Restart stops slapd and starts it again on the same port with the same data, so that tests can
// check how clients survive a server restart (dropped connections, reconnects).
func (s *Slapd) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		if err := s.proc.stop(); err != nil {
			return err
		}
		s.proc = nil
	}
	if s.port == 0 {
		return errors.New("slapd was stopped for good")
	}
	return s.start(ctx, s.port)
}

// BulkLoad adds the entries of an LDIF file as an admin bulk-loads a directory: slapd is stopped,
// `slapd -T add -q` (slapadd, without its per-entry checks) loads the file, and slapd starts again
// on the same port with the same data; clients reconnect. For 100,000 users this takes 10-16 s
// where LDAP adds took minutes (docs/performance.md).
func (s *Slapd) BulkLoad(ctx context.Context, ldif string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.port == 0 {
		return errors.New("slapd was stopped for good")
	}
	if s.proc != nil {
		if err := s.proc.stop(); err != nil {
			return err
		}
		s.proc = nil
	}
	cmd := exec.CommandContext(ctx, s.bin, "-T", "add", "-q", "-f", filepath.Join(s.dir, "slapd.conf"), "-l", ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		if len(out) > 2000 {
			out = out[len(out)-2000:]
		}
		return fmt.Errorf("slapadd %s: %w: %s", ldif, err, out)
	}
	return s.start(ctx, s.port)
}

// Binary is the slapd executable Start runs (PATH, then SearchDirs).
func Binary() (string, error) { return findSlapd() }

// Dir is the server's data directory (slapd.conf, db/, slapd.pid), for tests that inspect it.
func (s *Slapd) Dir() string { return s.dir }

// Pid is the process id of the running slapd, or 0, for tests that watch the process itself.
func (s *Slapd) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// tailWriter keeps the end of slapd's output for error messages and forwards complete lines to
// Logf, because slapd reports configuration errors only there.
type tailWriter struct {
	mu      sync.Mutex
	buf     []byte
	partial []byte
	logf    func(format string, args ...any)
}

const tailMax = 4096

func (w *tailWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if len(w.buf) > tailMax {
		w.buf = append([]byte(nil), w.buf[len(w.buf)-tailMax:]...)
	}
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.logf("slapd: %s", w.partial[:i])
		w.partial = w.partial[i+1:]
	}
	return len(b), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(string(w.buf))
}

// Kill ends the slapd process with SIGKILL, as a crash would, and keeps the data and the port
// so that Start can bring the same directory back. A killed mdb with dbnosync keeps what it
// acknowledged as long as the machine itself does not crash (docs/directory-lab.md).
func (s *Slapd) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	p := s.proc
	s.proc = nil
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	if err := p.cmd.Process.Kill(); err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("slapd pid %d did not exit after SIGKILL", p.cmd.Process.Pid)
	}
}

// Start starts a killed slapd again on its port with its data.
func (s *Slapd) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return errors.New("slapd is running")
	}
	if s.port == 0 {
		return errors.New("slapd was stopped for good")
	}
	return s.start(ctx, s.port)
}

// prepareTLS issues a CA and server certificate into DIR/tls, turns TLS on in
// slapd.conf (global directives, so they go first) and picks the LDAPS port.
func (s *Slapd) prepareTLS() error {
	caFile, certFile, keyFile, err := WriteTLSFiles(filepath.Join(s.dir, "tls"), "127.0.0.1", "localhost")
	if err != nil {
		return err
	}
	conf := filepath.Join(s.dir, "slapd.conf")
	old, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	tlsConf := fmt.Sprintf("TLSCACertificateFile %q\nTLSCertificateFile %q\nTLSCertificateKeyFile %q\n", caFile, certFile, keyFile)
	if err := os.WriteFile(conf, append([]byte(tlsConf), old...), 0o600); err != nil {
		return err
	}
	if s.tlsPort, err = FreePort(); err != nil {
		return err
	}
	s.CAFile = caFile
	s.LDAPSURL = "ldaps://127.0.0.1:" + strconv.Itoa(s.tlsPort)
	return nil
}

// Dial connects and binds as the admin. (testenv's Conn does the same for a test.)
func (s *Server) Dial() (*ldap.Conn, error) {
	c, err := ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}))
	if err != nil {
		return nil, err
	}
	if err := c.Bind(s.BindDN, s.BindPassword); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
