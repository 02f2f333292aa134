//go:build unix && !linux

package process

import "syscall"

// sysProcAttr puts the child in its own process group, so the group can be
// signalled as a whole.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
