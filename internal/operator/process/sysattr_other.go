//go:build unix && !linux

package process

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in its own process group, so the group can be
// signalled as a whole.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// startProcess is os.StartProcess: without Pdeathsig, the thread a child
// is started from does not matter.
func startProcess(path string, args []string, attr *os.ProcAttr) (*os.Process, error) {
	return os.StartProcess(path, args, attr)
}
