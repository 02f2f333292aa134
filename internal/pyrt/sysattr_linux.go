package pyrt

import "syscall"

// serverProcAttr kills a fork server when Windsock dies, even by SIGKILL;
// its children follow through their own PR_SET_PDEATHSIG.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
