package testenv

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// sambaSysProcAttr gives Samba its own session and process group, so that Stop can signal all
// of its processes at once and a terminal's Ctrl-C reaches only the caller, and has the kernel
// kill Samba's root process (its children follow) when the caller dies.
func sambaSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}

// keeperSysProcAttr detaches the keeper process (samba_shared.go) from the test binary that
// starts it: its own session, no death signal, because it must outlive that binary while other
// test binaries still use its Samba.
func keeperSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true}
}

// groupAlive reports whether a process of group pgid is still running. Zombies do not count:
// Samba's exited helpers are reparented to PID 1, which (in some sandboxes) reaps them only
// after a second or two, while they no longer hold any port.
func groupAlive(pgid int) bool {
	if syscall.Kill(-pgid, 0) != nil {
		return false
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 3 || fields[0] == "Z" || fields[0] == "X" {
			continue
		}
		if pg, err := strconv.Atoi(fields[2]); err == nil && pg == pgid {
			return true
		}
	}
	return false
}
