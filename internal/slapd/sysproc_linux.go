package slapd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// sysProcAttr puts slapd in its own process group, so that Ctrl-C in the demo reaches the demo
// (which stops slapd cleanly) rather than slapd directly, and has the kernel kill slapd when
// the test binary dies, so that a crashed or timed-out test leaves no server behind.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// waitStopped returns once every thread of pid is stopped. kill(SIGSTOP) only queues the stop;
// under load a slapd thread can still answer a request sent right after Pause returned, which
// would make fault tests flaky.
func waitStopped(pid int) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if allThreadsStopped(pid) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("slapd pid %d not stopped 5 s after SIGSTOP", pid)
		}
		time.Sleep(time.Millisecond)
	}
}

func allThreadsStopped(pid int) bool {
	stats, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if len(stats) == 0 {
		return false
	}
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses and may contain spaces.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}
