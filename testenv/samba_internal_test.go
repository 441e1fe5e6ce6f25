package testenv

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Two test binaries that need AD at the same time (what `go test ./...` does with several
// packages) must end up on one Samba: one starts it, the other waits on the lock and reuses it,
// and neither collides on the ports. The children are this test binary re-run, so they are
// separate processes exactly like the binaries of two packages.
func TestADSharedAcrossBinaries(t *testing.T) {
	if os.Getenv("TESTENV_AD_CHILD") == "1" {
		s := ActiveDirectory(t)
		ns := NewADNamespace(t, s) // a write, so that the instance really works for both
		c := ADConn(t, s)
		if Entry(t, c, ns.People, "objectGUID") == nil {
			t.Fatalf("%s missing", ns.People)
		}
		// The parent runs this child with -test.v and reads the line from its output.
		t.Logf("AD-CHILD pid=%d started=%v keeper=%d samba=%d", os.Getpid(), sharedAD.started, sharedAD.state.KeeperPID, sharedAD.state.SambaPID)
		return
	}
	if os.Getenv(EnvADURL) != "" {
		t.Skip("checks the sharing of testenv's own Samba; skipped against an external DC, which CI never sets")
	}
	if _, _, err := findSamba(); err != nil {
		ActiveDirectory(t) // the usual skip-or-fail
	}
	_, runningBefore, _ := readADState()

	const n = 2
	outs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestADSharedAcrossBinaries$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "TESTENV_AD_CHILD=1")
			out, err := cmd.CombinedOutput()
			outs[i], errs[i] = string(out), err
		}()
	}
	wg.Wait()
	re := regexp.MustCompile(`AD-CHILD pid=(\d+) started=(true|false) keeper=(\d+) samba=(\d+)`)
	var started int
	var keepers []string
	for i := range n {
		m := re.FindStringSubmatch(outs[i])
		if errs[i] != nil || m == nil {
			t.Fatalf("child %d: %v\n%s", i, errs[i], outs[i])
		}
		t.Logf("child %d: %s", i, m[0])
		if m[2] == "true" {
			started++
		}
		keepers = append(keepers, m[3])
	}
	if keepers[0] != keepers[1] {
		t.Errorf("the children used different Samba keepers: %v", keepers)
	}
	// None started one if it was running already, or if another test binary (another package)
	// started it meanwhile.
	if started > 1 {
		t.Errorf("%d children started a Samba; want at most one", started)
	}
	t.Logf("a shared Samba was running before: %v; started by a child: %v", runningBefore, started == 1)
	// This binary now joins the same instance (within the keeper's linger) instead of starting
	// another one.
	s := ActiveDirectory(t)
	if k := strconv.Itoa(sharedAD.state.KeeperPID); k != keepers[0] && !sharedAD.started {
		t.Errorf("this binary reused keeper %s, the children used %s", k, keepers[0])
	}
	t.Logf("shared Samba %s: keeper pid %d, provisioned in %.1fs, started in %.1fs",
		s.URL, sharedAD.state.KeeperPID, sharedAD.state.ProvisionSeconds, sharedAD.state.StartSeconds)
}

// Measures StartSamba on its own (not the shared instance): provisioning a fresh domain, then
// restarts on the provisioned dir. It needs the ports to itself, so it runs only when asked:
//
//	SCIMBRIDGE_TEST_AD_TIMINGS=1 go test -run '^TestSambaTimings$' -v ./testenv/
func TestSambaTimings(t *testing.T) {
	if os.Getenv("SCIMBRIDGE_TEST_AD_TIMINGS") == "" {
		t.Skip("set SCIMBRIDGE_TEST_AD_TIMINGS=1 to measure (needs no shared Samba running)")
	}
	// Holding the start lock keeps other test binaries from starting the shared Samba meanwhile.
	lock, ok, err := tryFlock(adFiles.lock, syscall.LOCK_EX)
	if err != nil || !ok {
		t.Skipf("opt-in timing run, not under CI: the shared Samba is being started by another process (%v)", err)
	}
	defer unlockClose(lock)
	if st, found, _ := readADState(); found && keeperAlive() {
		t.Skipf("opt-in timing run, not under CI: the shared Samba (keeper pid %d) holds the ports", st.KeeperPID)
	}
	dir := t.TempDir()
	ctx := context.Background()
	began := time.Now()
	s, err := StartSamba(ctx, SambaOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	total := time.Since(began)
	t.Logf("fresh: provision %v + TLS and start %v = %v (samba exec to first verified bind %v)",
		s.provisioned.Round(time.Millisecond), (total - s.provisioned).Round(time.Millisecond), total.Round(time.Millisecond), s.started.Round(time.Millisecond))
	var starts, stops []time.Duration
	for i := 0; i < 3; i++ {
		b := time.Now()
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		stops = append(stops, time.Since(b))
		b = time.Now()
		if s, err = StartSamba(ctx, SambaOptions{Dir: dir}); err != nil {
			t.Fatal(err)
		}
		starts = append(starts, time.Since(b))
		if s.provisioned != 0 {
			t.Fatal("the provisioned dir was not reused")
		}
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	med := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2].Round(time.Millisecond) }
	t.Logf("restart on the provisioned dir: StartSamba median %v of %v; Stop median %v of %v", med(starts), starts, med(stops), stops)
	if out, _ := exec.Command("sh", "-c", "ps -eo args | grep '^samba' | grep -F "+dir+" || true").Output(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("samba processes left after Stop:\n%s", out)
	}
}

// As for slapd: without Samba an AD test is skipped on a developer's machine (with a message
// that says CI would fail) and fails under CI=true, with the installation hint either way.
func TestActiveDirectoryWithoutSamba(t *testing.T) {
	if os.Getenv("TESTENV_AD_NOSAMBA") == "1" {
		sambaDirs = []string{t.TempDir()}
		ActiveDirectory(t)
		t.Fatal("ActiveDirectory returned without Samba")
	}
	for _, ci := range []string{"", "false", "true"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestActiveDirectoryWithoutSamba$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_AD_NOSAMBA=1", "PATH="+t.TempDir(), "CI="+ci, EnvADURL+"=")
		out, err := cmd.CombinedOutput()
		switch {
		case ci == "true" && (err == nil || !strings.Contains(string(out), "requires one")):
			t.Errorf("CI=%q: want a failure, got err=%v:\n%s", ci, err, out)
		case ci != "true" && (err != nil || !strings.Contains(string(out), "would fail under CI=true")):
			t.Errorf("CI=%q: want a skip mentioning CI, got err=%v:\n%s", ci, err, out)
		}
		if !strings.Contains(string(out), "apt-get install -y samba samba-ad-dc") {
			t.Errorf("CI=%q: no installation hint:\n%s", ci, out)
		}
	}
}
