package process

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// A try's shell died and left a background child: KillLeftovers ends the
// child (found by its inherited environment) and leaves alone the
// processes of another try of the task, of a mapped sibling, of the same
// try claimed by another Windsock (another pid), and of the same try with
// the same pid and job in another environment (two environments in one
// process, whose stores both number jobs from 1).
func TestKillLeftovers(t *testing.T) {
	t.Parallel()
	pid, job := 4242, int64(7)
	ti := &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "d", TaskID: "t-" + strconv.Itoa(os.Getpid()), RunID: "manual__x", MapIndex: -1},
		TryNumber: 1, PID: &pid, JobID: &job}
	const envID = "env-a"
	start := func(envID string, ti *windsock.TaskInstance) (shell *exec.Cmd, child int) {
		t.Helper()
		dir := t.TempDir()
		cmd := exec.Command("bash", "-c", "sleep 300 & echo $! > "+dir+"/pid; wait")
		cmd.Env = append(os.Environ(), ContextEnv(&operator.Context{TI: ti, EnvironmentID: envID})...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
		for deadline := time.Now().Add(10 * time.Second); ; {
			if b, err := os.ReadFile(dir + "/pid"); err == nil && strings.HasSuffix(string(b), "\n") {
				child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
				return cmd, child
			}
			if time.Now().After(deadline) {
				t.Fatal("the shell did not start its child")
			}
			time.Sleep(5 * time.Millisecond) // another process's file: nothing to wait on
		}
	}
	dead, orphan := start(envID, ti)
	var others []int
	for _, change := range []func(*windsock.TaskInstance){
		func(o *windsock.TaskInstance) { o.TryNumber = 2 },
		func(o *windsock.TaskInstance) { o.MapIndex = 3 },
		func(o *windsock.TaskInstance) { p := 4343; o.PID = &p },
	} {
		o := *ti
		change(&o)
		_, child := start(envID, &o)
		others = append(others, child)
	}
	_, otherEnv := start("env-b", ti)
	others = append(others, otherEnv)
	// The shell dies as it would with its scheduler; its child stays.
	syscall.Kill(dead.Process.Pid, syscall.SIGKILL)
	dead.Wait()

	n, err := KillLeftovers(envID, ti)
	if err != nil || n != 1 {
		t.Fatalf("KillLeftovers = %d, %v; want the one leftover child", n, err)
	}
	// Gone when KillLeftovers returns: the try's next run never overlaps
	// it.
	if running(orphan) {
		t.Errorf("the leftover child %d of the try still runs after KillLeftovers returned", orphan)
	}
	for i, p := range others {
		if !running(p) {
			t.Errorf("process %d of unrelated claim %d was killed too", p, i)
		}
	}
	// A claim nobody recorded (no pid) matches nothing.
	if n, err := KillLeftovers(envID, &windsock.TaskInstance{TaskInstanceKey: ti.TaskInstanceKey, TryNumber: 1}); n != 0 || err != nil {
		t.Errorf("KillLeftovers without a pid = %d, %v", n, err)
	}
}
