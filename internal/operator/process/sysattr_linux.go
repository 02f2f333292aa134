package process

import (
	"os"
	"runtime"
	"sync"
	"syscall"
)

// sysProcAttr puts the child in its own process group, so the group can be
// signalled as a whole, and has the kernel kill it if Windsock dies first:
// a worker that died must not leave a try running that the schedulers run
// again elsewhere. An environment that stops ends its tries itself, by
// their process groups (Runner.Run's context), whatever the process does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// spawner starts every task process from one OS thread that never exits.
// The kernel sends Pdeathsig when the thread that forked the child exits,
// not the process: a Go thread exits when a goroutine locked to it
// (runtime.LockOSThread, as some libraries do) ends, and any goroutine may
// have run on that thread before, so a child started from an ordinary
// goroutine could be killed at any time while Windsock runs on.
var spawner struct {
	once sync.Once
	reqs chan spawnRequest
}

type spawnRequest struct {
	path string
	args []string
	attr *os.ProcAttr
	done chan spawnResult
}

type spawnResult struct {
	proc *os.Process
	err  error
}

// startProcess is os.StartProcess run on the spawner's thread.
func startProcess(path string, args []string, attr *os.ProcAttr) (*os.Process, error) {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnRequest)
		go func() {
			// Locked and never returning: this thread lives as long as
			// the process, and no other goroutine runs on it.
			runtime.LockOSThread()
			for r := range spawner.reqs {
				p, err := os.StartProcess(r.path, r.args, r.attr)
				r.done <- spawnResult{p, err}
			}
		}()
	})
	done := make(chan spawnResult, 1)
	spawner.reqs <- spawnRequest{path, args, attr, done}
	res := <-done
	return res.proc, res.err
}
