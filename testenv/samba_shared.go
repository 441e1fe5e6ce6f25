package testenv

// One Samba AD DC per machine, shared by every test binary that needs it.
//
// Why: Samba binds the fixed ports 127.0.0.1:389/636, provisioning costs 5–10 s, and `go test
// ./...` runs the test binaries of several packages at the same time. So the first binary to need
// AD starts one, the others reuse it, and it stops once the last of them has exited.
//
// How (all files in /tmp, because the ports are machine-wide, whatever TMPDIR says):
//
//   - scimbridge-samba.lock: flock(LOCK_EX) serialises "is one running? if not, start one".
//   - scimbridge-samba.json: the running instance (URL, credentials, CA file, pids), written by
//     the keeper while the lock is held, read by the others.
//   - scimbridge-samba.users: every test binary that uses the instance holds flock(LOCK_SH) on it
//     until it exits. The kernel drops that lock when the process ends, however it ends (a test
//     timeout, a panic, SIGKILL), so this reference count cannot leak or go wrong, and needs no
//     exit hook in the test binaries.
//   - scimbridge-samba.keeper: the keeper holds flock(LOCK_EX) on it for its lifetime, so "is the
//     keeper of the state file alive" needs no pid (which a reboot with a persistent /tmp could
//     have given to another process).
//   - scimbridge-samba.log: the keeper's log (Samba's output included), kept after it exits.
//
// Samba is not a child of the test binary that starts it, because that binary may finish before
// another one that still uses the DC: the starter re-executes itself as a small detached "keeper"
// process (own session; the testenv package's init recognises it by an environment variable and
// never reaches the tests), which provisions into a temp dir, starts Samba as its own child,
// writes the state file, and then waits until it can take scimbridge-samba.users exclusively,
// i.e. until no test binary uses it any more. It then waits a few seconds more (linger, so that
// the next package's binary of the same `go test ./...` reuses it), confirms under the lock that
// nobody came back, removes the state file, stops Samba and deletes the temp dir. If the keeper
// dies, the kernel kills Samba (Pdeathsig) and the next starter cleans up the stale state file.
//
// The alternative, `make test` starting one Samba and passing SCIMBRIDGE_TEST_AD_* to `go test`,
// would leave plain `go test ./...`, `go test -run` in an editor, and crashed runs (a leftover
// Samba holding the ports) to fend for themselves; the environment variables still work and
// name an external DC (which then bypasses all of the above).

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables that name an existing AD DC instead of a shared private Samba. Only the
// URL is required; the others default to the names StartSamba provisions, and CAFile to the
// system roots.
const (
	EnvADURL          = "SCIMBRIDGE_TEST_AD_URL"
	EnvADBindDN       = "SCIMBRIDGE_TEST_AD_BIND_DN"
	EnvADBindPassword = "SCIMBRIDGE_TEST_AD_BIND_PASSWORD"
	EnvADBaseDN       = "SCIMBRIDGE_TEST_AD_BASE_DN"
	EnvADDomain       = "SCIMBRIDGE_TEST_AD_DOMAIN"
	EnvADCAFile       = "SCIMBRIDGE_TEST_AD_CA_FILE"
	// EnvADLinger (a Go duration, default 5s) is how long the shared Samba outlives its last
	// test binary, so that the next package of the same `go test ./...` reuses it.
	EnvADLinger = "SCIMBRIDGE_TEST_AD_LINGER"
)

const (
	envKeeper          = "SCIMBRIDGE_TESTENV_SAMBA_KEEPER" // internal: "this process is the keeper"; value = its data dir
	defaultLinger      = 5 * time.Second
	sharedStartTimeout = 3 * time.Minute // provisioning under load, plus waiting for another binary's start
)

// adFiles are the coordination files; a variable only so that the tests can read the names.
var adFiles = func() (f struct{ lock, users, keeper, state, log string }) {
	dir := "/tmp"
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		dir = os.TempDir()
	}
	base := filepath.Join(dir, "scimbridge-samba")
	f.lock, f.users, f.keeper, f.state, f.log = base+".lock", base+".users", base+".keeper", base+".json", base+".log"
	return f
}()

// adState is the content of the state file.
type adState struct {
	ADServer
	KeeperPID        int
	SambaPID         int
	Dir              string
	Started          time.Time
	ProvisionSeconds float64
	StartSeconds     float64
}

var sharedAD struct {
	once     sync.Once
	srv      ADServer
	err      error
	external bool
	started  bool     // this binary started the keeper (else it reused a running Samba)
	users    *os.File // holds LOCK_SH on adFiles.users until the process exits; never closed
	state    adState
}

// ActiveDirectory returns the AD DC of this test run: the one named by SCIMBRIDGE_TEST_AD_URL,
// or else the machine's shared private Samba, started on first use (see the comment at the top
// of samba_shared.go for how test binaries share it). Tests must not stop it or change the
// domain's configuration; isolate data with NewADNamespace.
//
// Without Samba the test is skipped on a developer's machine but fails under CI.
func ActiveDirectory(t testing.TB) *ADServer {
	t.Helper()
	sharedAD.once.Do(startSharedAD)
	if sharedAD.err != nil {
		switch {
		case sharedAD.external:
			t.Fatalf("testenv: %s=%s: %v", EnvADURL, sharedAD.srv.URL, sharedAD.err)
		case CIRequiresServer():
			t.Fatalf("testenv: no Samba AD DC, and CI=%q requires one: %v", os.Getenv("CI"), sharedAD.err)
		default:
			t.Skipf("testenv: no Samba AD DC (would fail under CI=true): %v", sharedAD.err)
		}
	}
	srv := sharedAD.srv
	return &srv
}

func startSharedAD() {
	if u := os.Getenv(EnvADURL); u != "" {
		sharedAD.external = true
		sharedAD.srv = ADServer{
			URL:          u,
			BindDN:       envOr(EnvADBindDN, ADBindDN),
			BindPassword: os.Getenv(EnvADBindPassword),
			BaseDN:       envOr(EnvADBaseDN, ADBaseDN),
			Domain:       envOr(EnvADDomain, ADDomain),
			CAFile:       os.Getenv(EnvADCAFile),
		}
		c, err := sharedAD.srv.Dial()
		if err != nil {
			sharedAD.err = fmt.Errorf("cannot dial and bind as %s: %w", sharedAD.srv.BindDN, err)
			return
		}
		c.Close()
		return
	}
	if _, _, err := findSamba(); err != nil {
		sharedAD.err = err
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedStartTimeout)
	defer cancel()
	st, users, started, err := acquireSharedAD(ctx)
	if err != nil {
		sharedAD.err = err
		return
	}
	sharedAD.srv, sharedAD.users, sharedAD.started, sharedAD.state = st.ADServer, users, started, st
}

// acquireSharedAD returns the running shared Samba, starting one if there is none, and the file
// holding this process's LOCK_SH on adFiles.users.
func acquireSharedAD(ctx context.Context) (st adState, users *os.File, started bool, err error) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := waitToRetry(ctx, lastErr); err != nil {
				return st, nil, false, err
			}
		}
		lock, ok, err := tryFlock(adFiles.lock, syscall.LOCK_EX)
		if err != nil {
			return st, nil, false, err
		}
		if !ok { // another binary is checking or starting: wait for it
			continue
		}
		users, ok, err := tryFlock(adFiles.users, syscall.LOCK_SH)
		if err != nil || !ok { // !ok: the keeper holds it exclusively for a moment while checking for users
			unlockClose(lock)
			if err != nil {
				return st, nil, false, err
			}
			continue
		}
		cur, reuse, busy := checkRunningAD()
		switch {
		case reuse:
			unlockClose(lock)
			return cur, users, false, nil
		case busy != nil:
			// Its Samba died and the keeper needs the lock to clean up: let it, then ask again.
			lastErr = busy
			unlockClose(users)
			unlockClose(lock)
			time.Sleep(time.Second)
			continue
		}
		cur, err = spawnKeeper(ctx, lock)
		unlockClose(lock)
		if err != nil {
			unlockClose(users)
			return cur, nil, false, err
		}
		return cur, users, true, nil
	}
}

// waitToRetry waits before the next attempt to acquire the shared Samba, or fails with why the
// last one did not succeed (lastErr, nil when a lock was busy) once ctx is done.
func waitToRetry(ctx context.Context, lastErr error) error {
	select {
	case <-ctx.Done():
		if lastErr == nil {
			lastErr = errors.New("another process holds " + adFiles.lock)
		}
		return fmt.Errorf("shared Samba: %v (%w)", lastErr, ctx.Err())
	case <-time.After(100 * time.Millisecond):
		return nil
	}
}

// checkRunningAD judges the state file; the caller holds the start lock. reuse: its keeper is
// alive and its Samba answers. busy: the keeper is alive but its Samba does not answer, so the
// keeper is about to clean up. Otherwise a stale or unreadable state is removed, and a new
// keeper may start.
func checkRunningAD() (st adState, reuse bool, busy error) {
	st, found, err := readADState()
	switch {
	case err != nil:
		_ = os.Remove(adFiles.state) // unreadable: treat as stale
	case !found:
	case !keeperAlive():
		cleanupStaleAD(st)
	default:
		if perr := probeAD(&st.ADServer); perr != nil {
			return st, false, fmt.Errorf("the shared Samba (keeper pid %d) does not answer: %w", st.KeeperPID, perr)
		}
		return st, true, nil
	}
	return st, false, nil
}

// spawnKeeper starts the keeper and waits until its Samba answers. The caller holds the start
// lock; the keeper inherits it (same open file description), so that the lock stays held until
// the state file is written even if the caller dies meanwhile.
func spawnKeeper(ctx context.Context, lock *os.File) (adState, error) {
	var st adState
	exe, err := os.Executable()
	if err != nil {
		return st, err
	}
	dir, err := os.MkdirTemp("", "scimbridge-samba-")
	if err != nil {
		return st, err
	}
	// O_APPEND: a previous keeper that is just logging its last line must not write into the
	// middle of the new log.
	logFile, err := os.OpenFile(adFiles.log, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		os.RemoveAll(dir)
		return st, err
	}
	defer logFile.Close()
	r, w, err := os.Pipe()
	if err != nil {
		os.RemoveAll(dir)
		return st, err
	}
	defer r.Close()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envKeeper+"="+dir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{lock, w} // fd 3: the start lock, fd 4: "ok" or "error: ..."
	cmd.SysProcAttr = keeperSysProcAttr()
	if err := cmd.Start(); err != nil {
		w.Close()
		os.RemoveAll(dir)
		return st, fmt.Errorf("start the Samba keeper (%s): %w", exe, err)
	}
	w.Close()
	go func() { _ = cmd.Wait() }() // reap it if it exits before this process does
	if dl, ok := ctx.Deadline(); ok {
		_ = r.SetReadDeadline(dl)
	}
	line, rerr := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSpace(line)
	if line != "ok" {
		if line == "" { // it died, or is hanging: show what it logged
			_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM) // it cleans up after itself
			log, _ := os.ReadFile(adFiles.log)
			return st, fmt.Errorf("shared Samba: keeper pid %d gave no answer (%v); end of %s:\n%s", cmd.Process.Pid, rerr, adFiles.log, lastLines(log, 20))
		}
		return st, fmt.Errorf("shared Samba: %s (keeper log: %s)", strings.TrimPrefix(line, "error: "), adFiles.log)
	}
	st, found, err := readADState()
	if err == nil && (!found || st.KeeperPID != cmd.Process.Pid) {
		err = fmt.Errorf("%s does not describe keeper pid %d", adFiles.state, cmd.Process.Pid)
	}
	return st, err
}

func init() {
	if dir := os.Getenv(envKeeper); dir != "" {
		os.Unsetenv(envKeeper) // Samba and anything else started from here must not inherit it
		os.Exit(runKeeper(dir))
	}
}

// runKeeper is the keeper process's main: see the comment at the top of this file.
func runKeeper(dir string) int {
	// Inherited without close-on-exec: Samba must not inherit them in turn.
	syscall.CloseOnExec(3)
	syscall.CloseOnExec(4)
	startLock, ready := os.NewFile(3, "start-lock"), os.NewFile(4, "ready")
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s [keeper %d] %s\n", time.Now().Format("15:04:05.000"), os.Getpid(), fmt.Sprintf(format, args...))
	}
	fail := func(err error) int {
		logf("%v", err)
		fmt.Fprintf(ready, "error: %s\n", strings.ReplaceAll(err.Error(), "\n", " | "))
		os.RemoveAll(dir)
		return 1
	}
	linger, err := keeperLinger()
	if err != nil {
		return fail(err)
	}
	users, err := os.OpenFile(adFiles.users, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return fail(err)
	}
	alive, ok, err := tryFlock(adFiles.keeper, syscall.LOCK_EX)
	if err != nil || !ok {
		return fail(fmt.Errorf("another keeper holds %s (%v)", adFiles.keeper, err))
	}
	defer alive.Close() // held until exit; also keeps the *os.File (and its fd) reachable
	// SIGTERM/SIGINT/SIGHUP: stop Samba cleanly instead of leaving it to Pdeathsig.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	s, err := startKeptSamba(dir, sigs, logf)
	if err != nil {
		return fail(err)
	}
	st := adState{
		ADServer: s.ADServer, KeeperPID: os.Getpid(), SambaPID: s.Pid(), Dir: dir, Started: time.Now(),
		ProvisionSeconds: s.provisioned.Seconds(), StartSeconds: s.started.Seconds(),
	}
	if err := writeADState(st); err != nil {
		_ = s.Stop()
		return fail(err)
	}
	fmt.Fprintln(ready, "ok")
	ready.Close()
	startLock.Close() // the starter unlocks; closing our copy of the descriptor is all we do
	logf("samba pid %d ready (provision %.1fs, start %.1fs); waiting for the test binaries to finish (linger %v)",
		st.SambaPID, st.ProvisionSeconds, st.StartSeconds, linger)
	lock := awaitStop(s, users, sigs, linger, logf)
	return stopKept(s, dir, lock, logf)
}

// keeperLinger is how long Samba outlives its last user: EnvADLinger, else defaultLinger.
func keeperLinger() (time.Duration, error) {
	v := os.Getenv(EnvADLinger)
	if v == "" {
		return defaultLinger, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", EnvADLinger, v, err)
	}
	return d, nil
}

// startKeptSamba starts the keeper's Samba in dir. A signal during provisioning cancels it; it
// is put back on sigs for awaitStop.
func startKeptSamba(dir string, sigs chan os.Signal, logf func(string, ...any)) (*Samba, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sharedStartTimeout)
	defer cancel()
	go func() {
		select {
		case sig := <-sigs:
			logf("%v during start-up", sig)
			cancel()
			sigs <- sig
		case <-ctx.Done():
		}
	}()
	return StartSamba(ctx, SambaOptions{Dir: dir, Logf: logf})
}

// awaitStop waits until Samba is to stop: no test binary has used it for linger, it exited, or
// a signal came. It returns the start lock, held, or nil if it could not be taken.
func awaitStop(s *Samba, users *os.File, sigs chan os.Signal, linger time.Duration, logf func(string, ...any)) *os.File {
	s.mu.Lock()
	sambaDone := s.proc.done
	s.mu.Unlock()
	idle := make(chan *os.File, 1)
	go func() { idle <- waitNoUsers(users, linger, logf) }()
	var lock *os.File
	select {
	case lock = <-idle: // holds the start lock
		logf("no test binary uses Samba any more: stopping it")
		return lock
	case <-sambaDone:
		logf("samba exited by itself: %s", s.proc.out.String())
	case sig := <-sigs:
		logf("%v: stopping Samba", sig)
	}
	// Best effort: a newcomer holds the lock only briefly.
	for i := 0; i < 100 && lock == nil; i++ {
		if lock, _, _ = tryFlock(adFiles.lock, syscall.LOCK_EX); lock == nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
	return lock
}

// stopKept stops Samba, removes its state file (if still this keeper's) and dir, and then
// releases the start lock; it returns the keeper's exit code.
func stopKept(s *Samba, dir string, lock *os.File, logf func(string, ...any)) int {
	if cur, found, _ := readADState(); found && cur.KeeperPID == os.Getpid() {
		_ = os.Remove(adFiles.state)
	}
	err := s.Stop()
	os.RemoveAll(dir)
	code := 0
	if err != nil {
		logf("stop: %v", err)
		code = 1
	} else {
		logf("stopped")
	}
	if lock != nil { // last: the next keeper's log starts once this one is done
		unlockClose(lock)
	}
	return code
}

// waitNoUsers returns, holding the start lock, once no process has held LOCK_SH on users for
// linger.
func waitNoUsers(users *os.File, linger time.Duration, logf func(string, ...any)) *os.File {
	for {
		// Blocks until the last test binary using Samba has exited.
		if err := flockRetry(users, syscall.LOCK_EX); err != nil {
			logf("flock %s: %v", adFiles.users, err)
			time.Sleep(time.Second)
			continue
		}
		_ = syscall.Flock(int(users.Fd()), syscall.LOCK_UN)
		time.Sleep(linger)
		// Under the start lock no newcomer can be between "found the state file" and "holds
		// LOCK_SH", so "no users" is final.
		lock, err := os.OpenFile(adFiles.lock, os.O_CREATE|os.O_RDWR, 0o666)
		if err == nil {
			err = flockRetry(lock, syscall.LOCK_EX)
		}
		if err != nil {
			logf("flock %s: %v", adFiles.lock, err)
			time.Sleep(time.Second)
			continue
		}
		if syscall.Flock(int(users.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			return lock
		}
		unlockClose(lock) // a test binary came back during the linger
	}
}

func flockRetry(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// tryFlock opens (creating) path and tries to lock it without blocking; ok is false if someone
// else holds a conflicting lock.
func tryFlock(path string, how int) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, false, err
	}
	err = flockRetry(f, how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, false, nil
	}
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("flock %s: %w", path, err)
	}
	return f, true, nil
}

func unlockClose(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	f.Close()
}

func readADState() (st adState, found bool, err error) {
	b, err := os.ReadFile(adFiles.state)
	if errors.Is(err, os.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, false, fmt.Errorf("%s: %w", adFiles.state, err)
	}
	return st, true, nil
}

// writeADState writes atomically (temp file + rename) and 0600: it holds the admin password.
func writeADState(st adState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := adFiles.state + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, adFiles.state)
}

// keeperAlive reports whether a keeper holds its lifetime lock.
func keeperAlive() bool {
	f, ok, err := tryFlock(adFiles.keeper, syscall.LOCK_SH)
	if err != nil {
		return true // cannot tell: do not clean up a possibly live instance
	}
	if ok {
		unlockClose(f)
	}
	return !ok
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// cleanupStaleAD removes what a dead keeper left: normally only the state file and the temp dir,
// since the kernel killed its Samba; a Samba that survived anyway (no Pdeathsig outside Linux)
// is stopped if it is really ours, because it would hold the ports.
func cleanupStaleAD(st adState) {
	if st.SambaPID > 0 && processAlive(st.SambaPID) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", st.SambaPID))
		if st.Dir != "" && strings.Contains(string(cmdline), "samba") && strings.Contains(string(cmdline), st.Dir) {
			_ = syscall.Kill(-st.SambaPID, syscall.SIGTERM)
			_ = killGroup(st.SambaPID, 10*time.Second)
		}
	}
	if st.Dir != "" && strings.HasPrefix(filepath.Base(st.Dir), "scimbridge-samba-") {
		_ = os.RemoveAll(st.Dir)
	}
	_ = os.Remove(adFiles.state)
}

// probeAD checks that the shared instance answers, retrying briefly: Samba under load (4 prefork
// workers, one write lock) can be slow to accept.
func probeAD(s *ADServer) error {
	var err error
	for i := 0; i < 3; i++ {
		c, derr := s.Dial()
		if derr == nil {
			c.Close()
			return nil
		}
		err = derr
		time.Sleep(200 * time.Millisecond)
	}
	return err
}
