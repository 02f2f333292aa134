package process

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// workerEnv makes the test binary a stand-in worker (see TestMain): it runs
// one bash command through Runner and prints the command's output.
const workerEnv = "WINDSOCK_TEST_GUARD_WORKER"

func TestMain(m *testing.M) {
	if script := os.Getenv(workerEnv); script != "" {
		_, err := Runner{}.Run(context.Background(), &Command{
			Path: "/bin/bash", Args: []string{"bash", "-c", script}, Env: []string{"PATH=/usr/bin:/bin"},
			Line: func(b []byte) { fmt.Printf("%s\n", b) },
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestGrandchildrenDieWithTheWorker: a task's shell starts background
// children (which keep its process group but are not the shell, so
// Pdeathsig spares them); the process running the task is killed with
// SIGKILL; the children are gone soon after, without anyone on this host
// looking for leftovers: the worker's guard killed the group.
func TestGrandchildrenDieWithTheWorker(t *testing.T) {
	t.Parallel()
	worker := exec.Command(os.Args[0], "-test.run=^$")
	worker.Env = append(os.Environ(), workerEnv+"=sleep 1000 & echo $!; sleep 1000 & echo $!; wait")
	out, err := worker.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	worker.Stderr = os.Stderr
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { worker.Process.Kill(); worker.Wait() })
	sc := bufio.NewScanner(out)
	var pids []int
	for len(pids) < 2 && sc.Scan() {
		pid, err := strconv.Atoi(sc.Text())
		if err != nil {
			t.Fatalf("worker printed %q", sc.Text())
		}
		pids = append(pids, pid)
		t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	}
	if len(pids) < 2 {
		t.Fatalf("worker ended before printing its task's children: %v", sc.Err())
	}
	for _, pid := range pids {
		if !running(pid) {
			t.Fatalf("background child %d is not running before the kill", pid)
		}
	}

	worker.Process.Signal(syscall.SIGKILL)
	worker.Wait()
	// The guard acts on its pipe's EOF, at once; the bound is only for
	// a loaded machine.
	deadline := time.Now().Add(30 * time.Second)
	for _, pid := range pids {
		for running(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("background child %d of the killed worker's task still runs", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestHurryShortensTheKillGrace: a command that ignores SIGTERM, cancelled
// with a Hurry cause, gets SIGKILL after the Hurry grace, not the
// runner's (an hour here, so only the Hurry can end it in time).
func TestHurryShortensTheKillGrace(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := Runner{KillGrace: time.Hour}.Run(ctx, &Command{
			Path: "/bin/bash", Args: []string{"bash", "-c", "trap '' TERM; echo up; sleep 1000 & wait"},
			Env:  []string{"PATH=/usr/bin:/bin"},
			Line: func([]byte) { close(started) },
		})
		done <- err
	}()
	<-started
	cancel(Hurry(context.Canceled, 100*time.Millisecond))
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run returned no error for a cancelled command")
		}
	case <-time.After(time.Minute):
		t.Fatal("a command that ignores SIGTERM outlived a 100 ms Hurry by a minute")
	}
}
