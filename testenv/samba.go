package testenv

// A throwaway Samba Active Directory domain controller on loopback, for the tests of the AD
// dialect and for a demo. Recipe and measurements: docs/directory-lab.md, "Samba AD".
//
// Samba listens on the fixed ports 127.0.0.1:389 and :636 (it has no port option that the LDAP
// server honours for LDAPS), so only one can run per machine: tests share one through
// ActiveDirectory (samba_shared.go); StartSamba is the low-level start for the demo and for
// tests that need a Samba of their own (and no shared one running).

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/internal/slapd"
)

// ADServer describes an Active Directory domain controller to test against.
type ADServer struct {
	URL          string // ldaps://127.0.0.1:636
	BindDN       string // CN=Administrator,CN=Users,DC=lab,DC=example,DC=org
	BindPassword string
	BaseDN       string // DC=lab,DC=example,DC=org
	Domain       string // lab.example.org (UPN suffix)
	CAFile       string // PEM of the CA that signed the server certificate ("" = the system roots)
}

// The domain that StartSamba provisions. Fixed, like the OpenLDAP suffix, so that tests and the
// demo configuration can rely on the names.
const (
	ADRealm     = "LAB.EXAMPLE.ORG"
	ADDomain    = "lab.example.org"
	ADWorkgroup = "LAB"
	ADBaseDN    = "DC=lab,DC=example,DC=org"
	ADBindDN    = "CN=Administrator,CN=Users," + ADBaseDN
	// ADHostName is the DC's name (dnsHostName dc.lab.example.org), fixed so that provisioning
	// does not depend on the machine's host name (which may be too long for NetBIOS).
	ADHostName = "dc"
)

// Samba's listeners: fixed, see the package comment above.
const (
	sambaLDAPSAddr = "127.0.0.1:636"
	sambaLDAPAddr  = "127.0.0.1:389"
)

// ErrSambaNotFound lets callers tell "not installed" apart from a broken server, because only the
// former deserves an installation hint or a skip.
var ErrSambaNotFound = errors.New("samba (the Samba AD domain controller) is not installed: " +
	"install it with `sudo apt-get install -y samba samba-ad-dc` (Debian/Ubuntu), or run `make test`, which does it")

// sambaDirs are searched after PATH because Debian installs samba in /usr/sbin.
var sambaDirs = []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/local/samba/sbin", "/usr/local/samba/bin"}

// sambaStartTimeout bounds the wait for the first LDAPS answer when the caller's context has no
// earlier deadline. Samba answers 0.3–1.8 s after start (docs/directory-lab.md); hitting this means it is broken.
const sambaStartTimeout = 60 * time.Second

// SambaOptions tunes StartSamba; the zero value provisions a new domain in a temp dir.
type SambaOptions struct {
	// Dir holds the domain. "" = a new temp dir, removed by Stop. A Dir that StartSamba provisioned
	// before is reused as it is (about 0.5 s instead of 5–10 s for provisioning) and kept by Stop.
	Dir string
	// Logf, optional, gets lifecycle events and Samba's own output until Stop returns.
	Logf func(format string, args ...any)
}

// Samba is a running private Samba AD DC. Its methods are safe for concurrent use.
type Samba struct {
	ADServer

	bin, tool string
	dir       string
	ownDir    bool
	logf      func(format string, args ...any)

	mu   sync.Mutex
	proc *sambaProc

	provisioned time.Duration // time spent provisioning (0 when Dir was reused)
	started     time.Duration // from exec to the first successful LDAPS bind
}

type sambaProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *lineTail
}

// sambaMeta is what a provisioned Dir remembers about itself: the admin password exists nowhere
// else.
type sambaMeta struct {
	ADServer
	Provisioned time.Time
}

const sambaMetaFile = "scimbridge-ad.json"

// StartSamba provisions a domain into opts.Dir (unless StartSamba provisioned it before), gives
// Samba a certificate from a private CA (SANs 127.0.0.1, ::1, localhost), starts it and returns
// once an LDAPS bind as the administrator succeeds with the certificate verified against that CA.
//
// Configuration beyond docs/directory-lab.md's recipe: `server services = ldap` (no SMB, DNS, Kerberos...),
// `ldap server require strong auth = yes` (simple binds only over TLS, like a hardened AD),
// `old password allowed period = 0` (an admin reset invalidates the old password at once;
// Samba's default keeps it valid for 60 minutes), `ldb:nosync = true` (tests only, like slapd's
// dbnosync), and a domain password policy relaxed for tests: minimum age 0 (users can change
// their password again at once), no expiry, no history. Complexity and the minimum length of 7
// stay as in a default AD, so passwords in tests need three character classes (e.g. Passw0rd!).
//
// Samba runs in the foreground as a child in its own session and process group (so Stop can end
// all of its ~10 processes at once); on Linux the kernel kills it if the caller dies.
func StartSamba(ctx context.Context, opts SambaOptions) (*Samba, error) {
	bin, tool, err := findSamba()
	if err != nil {
		return nil, err
	}
	// Checked before provisioning too, so that this common mistake costs no 5–10 s.
	if err := sambaPortsFree(); err != nil {
		return nil, err
	}
	s := &Samba{bin: bin, tool: tool, dir: opts.Dir, logf: opts.Logf}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "scimbridge-samba-"); err != nil {
			return nil, err
		}
		s.ownDir = true
	} else if s.dir, err = filepath.Abs(s.dir); err != nil {
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.removeDir()
		return nil, err
	}
	s.mu.Lock()
	err = s.start(ctx)
	s.mu.Unlock()
	if err == nil {
		err = s.relaxPasswordPolicy()
		if err != nil {
			_ = s.Stop()
		}
	}
	if err != nil {
		s.removeDir()
		return nil, err
	}
	return s, nil
}

func findSamba() (bin, tool string, err error) {
	find := func(name string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, d := range sambaDirs {
			p := filepath.Join(d, name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p
			}
		}
		return ""
	}
	bin, tool = find("samba"), find("samba-tool")
	if bin == "" || tool == "" {
		return "", "", fmt.Errorf("%w (looked for samba and samba-tool in PATH and %s)", ErrSambaNotFound, strings.Join(sambaDirs, ", "))
	}
	return bin, tool, nil
}

// prepare provisions the domain unless Dir already holds one of ours, and creates the TLS files
// if they are missing.
func (s *Samba) prepare(ctx context.Context) error {
	metaPath := filepath.Join(s.dir, sambaMetaFile)
	b, err := os.ReadFile(metaPath)
	switch {
	case err == nil:
		var m sambaMeta
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("samba dir %s: %s: %w", s.dir, sambaMetaFile, err)
		}
		s.ADServer = m.ADServer
		s.logf("testenv: samba: reusing the domain provisioned in %s on %s", s.dir, m.Provisioned.Format(time.RFC3339))
	case errors.Is(err, os.ErrNotExist):
		if _, err := os.Stat(filepath.Join(s.dir, "etc", "smb.conf")); err == nil {
			return fmt.Errorf("samba dir %s holds a domain that testenv did not provision (no %s): its password is unknown", s.dir, sambaMetaFile)
		}
		entries, _ := os.ReadDir(s.dir)
		if err := s.provision(ctx); err != nil {
			if len(entries) == 0 && !s.ownDir { // leave the caller's empty Dir empty for a retry
				if left, _ := os.ReadDir(s.dir); len(left) > 0 {
					for _, e := range left {
						_ = os.RemoveAll(filepath.Join(s.dir, e.Name()))
					}
				}
			}
			return err
		}
	default:
		return err
	}
	tlsDir := filepath.Join(s.dir, "private", "tls")
	if _, err := os.Stat(filepath.Join(tlsDir, "key.pem")); err != nil {
		if _, _, _, err := WriteTLSFiles(tlsDir, "127.0.0.1", "::1", "localhost"); err != nil {
			return fmt.Errorf("samba TLS files: %w", err)
		}
	}
	s.CAFile = filepath.Join(tlsDir, "ca.pem")
	return nil
}

func (s *Samba) provision(ctx context.Context) error {
	began := time.Now()
	d := s.dir
	for _, sub := range []string{"run", "log"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			return err
		}
	}
	pw := adminPassword()
	tlsDir := filepath.Join(d, "private", "tls")
	args := []string{
		"domain", "provision", "--use-rfc2307",
		"--realm=" + ADRealm, "--domain=" + ADWorkgroup, "--server-role=dc", "--dns-backend=NONE",
		"--host-name=" + ADHostName, "--adminpass=" + pw, "--targetdir=" + d,
	}
	// Every path Samba would otherwise take from its compiled-in defaults (/run/samba,
	// /var/lib/samba, /var/log/samba) is moved into d, so that runs do not touch the system's
	// Samba nor each other.
	for _, o := range []string{
		"netbios name = " + strings.ToUpper(ADHostName),
		"interfaces = lo", "bind interfaces only = yes",
		"pid directory = " + d + "/run", "ncalrpc dir = " + d + "/run/ncalrpc",
		"winbindd socket directory = " + d + "/run/winbindd", "ntp signd socket directory = " + d + "/run/ntp_signd",
		"log file = " + d + "/log/log.%m", "server services = ldap",
		"tls enabled = yes", "tls keyfile = " + tlsDir + "/key.pem",
		"tls certfile = " + tlsDir + "/cert.pem", "tls cafile = " + tlsDir + "/ca.pem",
	} {
		args = append(args, "--option="+o)
	}
	cmd := exec.CommandContext(ctx, s.tool, args...)
	cmd.Dir = d
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(d, "log", "provision.log"), out, 0o644)
	if err != nil {
		return fmt.Errorf("samba-tool domain provision into %s failed: %v: %s", d, err, provisionError(out))
	}
	// provision silently drops these when given as --option (docs/directory-lab.md), so they go into [global]
	// directly.
	conf := filepath.Join(d, "etc", "smb.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	extra := "[global]\n" +
		"\told password allowed period = 0\n" +
		"\tldap server require strong auth = yes\n" +
		"\tldb:nosync = true\n"
	if !bytes.Contains(b, []byte("[global]\n")) {
		return fmt.Errorf("%s has no [global] section", conf)
	}
	b = bytes.Replace(b, []byte("[global]\n"), []byte(extra), 1)
	if err := os.WriteFile(conf, b, 0o644); err != nil {
		return err
	}
	s.ADServer = ADServer{
		URL:          "ldaps://" + sambaLDAPSAddr,
		BindDN:       ADBindDN,
		BindPassword: pw,
		BaseDN:       ADBaseDN,
		Domain:       ADDomain,
	}
	meta, _ := json.MarshalIndent(sambaMeta{ADServer: s.ADServer, Provisioned: time.Now()}, "", "  ")
	if err := os.WriteFile(filepath.Join(d, sambaMetaFile), meta, 0o600); err != nil {
		return err
	}
	s.provisioned = time.Since(began)
	s.logf("testenv: samba: provisioned %s in %s in %v", ADRealm, d, s.provisioned.Round(time.Millisecond))
	return nil
}

// adminPassword is random (a forgotten DC on a shared machine must not accept a well-known
// password) and meets AD's complexity rule: upper and lower case, digits and a symbol.
func adminPassword() string {
	return "Tst-" + slapd.RandomPassword()[:16] + "-Z9!"
}

// start runs samba and waits for the first verified LDAPS bind. The caller holds s.mu.
func (s *Samba) start(ctx context.Context) error {
	if err := sambaPortsFree(); err != nil {
		return err
	}
	// A pid file left by a killed samba makes the next start fail with "already running".
	_ = os.Remove(filepath.Join(s.dir, "run", "samba.pid"))
	out := &lineTail{prefix: "samba: ", logf: s.logf}
	logFile, err := os.OpenFile(filepath.Join(s.dir, "log", "samba.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "-s", filepath.Join(s.dir, "etc", "smb.conf"), "-F", "--debug-stdout", "-d", "1")
	cmd.Dir = s.dir
	cmd.Stdout = multiWriter{logFile, out}
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = sambaSysProcAttr()
	began := time.Now()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	p := &sambaProc{cmd: cmd, done: make(chan struct{}), out: out}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	if err := s.waitReady(ctx, p); err != nil {
		_ = p.stop()
		return fmt.Errorf("samba (dir %s): %w", s.dir, err)
	}
	s.proc = p
	s.started = time.Since(began)
	s.logf("testenv: samba pid %d answers on %s after %v (dir %s)", cmd.Process.Pid, s.URL, s.started.Round(time.Millisecond), s.dir)
	return nil
}

// ErrSambaPortsTaken: something (another Samba DC?) already listens on 127.0.0.1:389 or :636.
var ErrSambaPortsTaken = errors.New("port taken: only one Samba DC can run per machine (tests share one through testenv.ActiveDirectory)")

// sambaPortsFree fails if another server listens on Samba's ports: the second Samba's own failure
// would be obscure.
func sambaPortsFree() error {
	for _, addr := range []string{sambaLDAPSAddr, sambaLDAPAddr} {
		if c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond); err == nil {
			c.Close()
			return fmt.Errorf("%s: %w", addr, ErrSambaPortsTaken)
		}
	}
	return nil
}

func (s *Samba) waitReady(ctx context.Context, p *sambaProc) error {
	ctx, cancel := context.WithTimeout(ctx, sambaStartTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		var c *ldap.Conn
		if c, lastErr = s.ADServer.Dial(); lastErr == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited (%v) before answering: %s", p.cmd.ProcessState, p.out.String())
		case <-ctx.Done():
			return fmt.Errorf("no LDAPS answer (%v; last error: %v): %s", ctx.Err(), lastErr, p.out.String())
		case <-tick.C:
		}
	}
}

// relaxPasswordPolicy sets the domain password policy that tests need (see StartSamba) over
// LDAP, which takes milliseconds where `samba-tool domain passwordsettings` takes a second.
func (s *Samba) relaxPasswordPolicy() error {
	c, err := s.ADServer.Dial()
	if err != nil {
		return err
	}
	defer c.Close()
	req := ldap.NewModifyRequest(s.BaseDN, nil)
	req.Replace("minPwdAge", []string{"0"})
	req.Replace("maxPwdAge", []string{"-9223372036854775808"}) // never expires (as samba-tool --max-pwd-age=0)
	req.Replace("pwdHistoryLength", []string{"0"})
	if err := c.Modify(req); err != nil {
		return fmt.Errorf("samba: relax the domain password policy: %w", err)
	}
	return nil
}

// Stop ends Samba (all of its processes) and removes the data dir if StartSamba created it.
// Calling it again is harmless.
func (s *Samba) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.proc != nil {
		err = s.proc.stop()
		s.proc = nil
		s.logf("testenv: samba stopped (dir %s)", s.dir)
	}
	if rmErr := s.removeDir(); err == nil {
		err = rmErr
	}
	return err
}

func (s *Samba) removeDir() error {
	if !s.ownDir {
		return nil
	}
	s.ownDir = false
	return os.RemoveAll(s.dir)
}

// Pid is the process id of Samba's root process (also its process group), or 0.
func (s *Samba) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// stop sends SIGTERM to Samba's process group (the root process, the prefork master and its
// workers), then SIGKILL to what is left, and returns once the group is gone: the ports are
// free for the next Samba when it returns.
func (p *sambaProc) stop() error {
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("samba pid %d did not exit after SIGKILL", pid)
		}
	}
	return killGroup(pid, 5*time.Second)
}

// killGroup waits for the processes of group pgid to exit after the leader, and kills the
// stragglers.
func killGroup(pgid int, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			time.Sleep(100 * time.Millisecond)
			if groupAlive(pgid) {
				return fmt.Errorf("samba process group %d still alive after SIGKILL", pgid)
			}
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// TLSConfig verifies the server against CAFile (or the system roots when CAFile is ""), with
// ServerName set from URL because StartTLS needs it.
func (s *ADServer) TLSConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if u, err := url.Parse(s.URL); err == nil {
		cfg.ServerName = u.Hostname()
	}
	if s.CAFile != "" {
		pool, err := CertPoolFromFile(s.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// Dial connects over LDAPS (certificate verified) and binds as the admin. It exists besides
// ADConn for code without a testing.TB, such as the demo.
func (s *ADServer) Dial() (*ldap.Conn, error) {
	cfg, err := s.TLSConfig()
	if err != nil {
		return nil, err
	}
	c, err := ldap.DialURL(s.URL, ldap.DialWithTLSConfig(cfg), ldap.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}))
	if err != nil {
		return nil, err
	}
	c.SetTimeout(30 * time.Second)
	if err := c.Bind(s.BindDN, s.BindPassword); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// lineTailMax bounds the output kept for error messages.
const lineTailMax = 4096

// lineTail keeps the end of Samba's output for error messages and forwards complete lines to
// logf.
type lineTail struct {
	prefix  string
	mu      sync.Mutex
	buf     []byte
	partial []byte
	logf    func(format string, args ...any)
}

func (w *lineTail) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if len(w.buf) > lineTailMax {
		w.buf = append([]byte(nil), w.buf[len(w.buf)-lineTailMax:]...)
	}
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		if line := bytes.TrimSpace(w.partial[:i]); len(line) > 0 {
			w.logf("%s%s", w.prefix, line)
		}
		w.partial = w.partial[i+1:]
	}
	return len(b), nil
}

func (w *lineTail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(string(w.buf))
}

// multiWriter writes to all, ignoring the log file's errors: losing a log line must not kill
// Samba's output pipe.
type multiWriter []interface{ Write([]byte) (int, error) }

func (m multiWriter) Write(b []byte) (int, error) {
	for _, w := range m {
		_, _ = w.Write(b)
	}
	return len(b), nil
}

// provisionError picks samba-tool's ERROR lines out of its Python traceback, which is long and
// ends with the least useful part.
func provisionError(out []byte) string {
	var errs []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "ERROR") {
			errs = append(errs, strings.TrimSpace(l))
		}
	}
	if len(errs) == 0 {
		return lastLines(out, 10)
	}
	return strings.Join(errs, "\n")
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
