package process

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// A task process outlives the OS thread of the goroutine that started it:
// the goroutine here is locked to its thread and ends, so Go ends the
// thread, which sends the child its Pdeathsig had the child been forked
// from it. Only the death of the whole process may kill a task.
func TestTaskOutlivesTheThreadThatStartedIt(t *testing.T) {
	t.Parallel()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	type spawned struct {
		proc *os.Process
		tid  int
	}
	started := make(chan spawned, 1)
	// Go never ends the main thread (it parks it instead), so the
	// goroutine must run on another: one that lands on the main thread
	// stays there, locked and parked, and the next is tried.
	release := make(chan struct{})
	defer close(release)
	for {
		onMain := make(chan bool)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			if syscall.Gettid() == os.Getpid() {
				onMain <- true
				<-release
				runtime.UnlockOSThread()
				return
			}
			onMain <- false
			p, err := startProcess("/bin/sleep", []string{"sleep", "300"}, &os.ProcAttr{
				Files: []*os.File{devnull, devnull, devnull}, Sys: sysProcAttr(),
			})
			if err != nil {
				t.Error(err)
			}
			started <- spawned{p, syscall.Gettid()}
		}()
		if !<-onMain {
			break
		}
	}
	s := <-started
	if s.proc == nil {
		return
	}
	p := s.proc
	t.Cleanup(func() { syscall.Kill(-p.Pid, syscall.SIGKILL); p.Wait() })
	// The thread is gone from /proc once it exited, which is when the
	// kernel sends the Pdeathsig of the children it forked.
	for deadline := time.Now().Add(30 * time.Second); ; runtime.Gosched() {
		if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(s.tid)); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %d did not end within 30 s", s.tid)
		}
	}
	// Our SIGTERM comes after any Pdeathsig: the signal the child dies of
	// tells which came first.
	if err := p.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	state, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if ws := state.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Fatalf("the task process ended with %v before the test stopped it: it died with the thread that started it", state)
	}
}
