//go:build !linux

package slapd

import (
	"syscall"
	"time"
)

// sysProcAttr keeps Ctrl-C away from slapd as on Linux; without Pdeathsig, a test binary that
// crashes may leave slapd running here.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// waitStopped cannot observe thread states without /proc, so it gives the kernel a moment.
func waitStopped(int) error {
	time.Sleep(50 * time.Millisecond)
	return nil
}
