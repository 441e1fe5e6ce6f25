//go:build !linux

package testenv

import "syscall"

// sambaSysProcAttr: as on Linux, but without Pdeathsig a crashed caller may leave Samba running.
func sambaSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true}
}

func keeperSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true}
}

// groupAlive counts zombies too here (no /proc): Stop may wait until they are reaped.
func groupAlive(pgid int) bool { return syscall.Kill(-pgid, 0) == nil }
