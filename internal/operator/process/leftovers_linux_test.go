package process

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// A try's shell died and left a background child: KillLeftovers ends the
// child (found by its inherited environment) and leaves alone a process
// of another try of the same task.
func TestKillLeftovers(t *testing.T) {
	t.Parallel()
	key := windsock.TaskInstanceKey{DagID: "d", TaskID: "t-" + strconv.Itoa(os.Getpid()), RunID: "manual__x", MapIndex: -1}
	start := func(try int) (shell *exec.Cmd, child int) {
		t.Helper()
		dir := t.TempDir()
		cmd := exec.Command("bash", "-c", "sleep 300 & echo $! > "+dir+"/pid; wait")
		cmd.Env = append(os.Environ(), "AIRFLOW_CTX_DAG_ID="+key.DagID, "AIRFLOW_CTX_TASK_ID="+key.TaskID,
			"AIRFLOW_CTX_DAG_RUN_ID="+key.RunID, "AIRFLOW_CTX_TRY_NUMBER="+strconv.Itoa(try))
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
	dead, orphan := start(1)
	_, other := start(2)
	// The shell dies as it would with its scheduler; its child stays.
	syscall.Kill(dead.Process.Pid, syscall.SIGKILL)
	dead.Wait()

	n, err := KillLeftovers(key, 1)
	if err != nil || n != 1 {
		t.Fatalf("KillLeftovers = %d, %v; want the one leftover child", n, err)
	}
	if !gone(orphan) {
		t.Errorf("the leftover child %d of try 1 still runs", orphan)
	}
	if !running(other) {
		t.Errorf("the process %d of try 2 was killed too", other)
	}
}

// gone waits (SIGKILL is delivered asynchronously) until pid no longer
// runs, for up to 5 s.
func gone(pid int) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if !running(pid) {
			return true
		}
	}
	return false
}

// running reports whether pid runs (an unreaped zombie does not count).
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat)[i+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}
