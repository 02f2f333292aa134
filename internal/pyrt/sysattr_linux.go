package pyrt

import "syscall"

// serverProcAttr ends a fork server when Windsock dies, even by SIGKILL.
// The signal is SIGTERM, which the server handles by killing its
// children's process groups before it exits: with SIGKILL the children
// would die (their own PR_SET_PDEATHSIG) but not what they started, such
// as a task's subprocess, which would keep running with no try.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
