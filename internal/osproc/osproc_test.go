package osproc

import (
	"os/exec"
	"testing"
)

func TestGone(t *testing.T) {
	t.Parallel()
	self := Self()
	if self.Start == "" {
		t.Fatal("this process's start time cannot be read")
	}
	if self.Gone() {
		t.Fatal("this process is gone by its own identity")
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
	if child.Gone() {
		t.Fatal("a running child is gone")
	}
	// The child's pid reused by a process started at another time.
	if !(Identity{PID: child.PID, Start: start + "0"}).Gone() {
		t.Fatal("a process with the recorded pid but another start time was taken for the one recorded")
	}
	// Recorded in another boot (or on a host of the same name): unknown.
	if (Identity{PID: child.PID, Start: "other-boot/pid:[1]/5"}).Gone() {
		t.Fatal("a process of another boot was judged gone")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !child.Gone() {
		t.Fatal("a killed and reaped child is not gone")
	}
	if !(Identity{PID: child.PID}).Gone() {
		t.Fatal("a reaped pid without a start time is not gone")
	}
	if (Identity{}).Gone() {
		t.Fatal("the zero identity is gone")
	}
}
