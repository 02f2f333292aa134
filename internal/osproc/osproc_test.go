package osproc

import (
	"os/exec"
	"testing"
)

func TestIdentity(t *testing.T) {
	t.Parallel()
	if !Self().Alive() {
		t.Fatal("this process is not alive by its own identity")
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start, ok := startOf(cmd.Process.Pid)
	if !ok {
		t.Fatal("cannot read the start time of a running child")
	}
	child := Identity{PID: cmd.Process.Pid, Start: start}
	if !child.Alive() {
		t.Fatal("a running child is not alive")
	}
	// Another process with the child's pid (a reused pid) started at
	// another time: not the same process.
	if (Identity{PID: child.PID, Start: start + "0"}).Alive() {
		t.Fatal("a process with the same pid but another start time was taken for the one recorded")
	}
	cmd.Process.Kill()
	// Exited but not yet reaped: a zombie is not running.
	if child.Alive() {
		// The kill may not have landed yet: wait for it to be reaped.
		cmd.Wait()
		if child.Alive() {
			t.Fatal("a killed child is alive")
		}
	} else {
		cmd.Wait()
	}
	if (Identity{}).Alive() {
		t.Fatal("the zero identity is alive")
	}
}
