package process

import "syscall"

// sysProcAttr puts the child in its own process group, so the group can be
// signalled as a whole, and has the kernel kill it if Windsock dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
