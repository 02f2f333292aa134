package process

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/windsock/windsock/internal/osproc"
	"github.com/windsock/windsock/internal/windsock"
)

// KillLeftovers ends what a try of environment envID's processes left running after the
// process that ran the try died: Windsock's own death kills a task's
// shell (Pdeathsig), but not the children the shell started, which keep
// the shell's process group and outlive it. They are found by the
// AIRFLOW_CTX_* variables and the WINDSOCK_TRY mark (TryMark) every task
// process gets and its children inherit, and their process groups get
// SIGKILL. It returns how many processes matched. A try whose claim is
// unknown (no pid) matches nothing, and a process that cleared its
// environment is not found. It returns once the processes it killed are
// gone (or after leftoverWait), so that the try's next run never overlaps
// them.
func KillLeftovers(envID string, ti *windsock.TaskInstance) (int, error) {
	mark := TryMark(envID, ti)
	if mark == "" {
		return 0, nil
	}
	want := [][]byte{
		[]byte("AIRFLOW_CTX_DAG_ID=" + ti.DagID),
		[]byte("AIRFLOW_CTX_TASK_ID=" + ti.TaskID),
		[]byte("AIRFLOW_CTX_DAG_RUN_ID=" + ti.RunID),
		[]byte("AIRFLOW_CTX_TRY_NUMBER=" + strconv.Itoa(ti.TryNumber)),
		[]byte(tryMarkVar + "=" + mark),
	}
	d, err := os.Open("/proc")
	if err != nil {
		return 0, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return 0, err
	}
	self, ownGroup := os.Getpid(), syscall.Getpgrp()
	var killed []int
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile("/proc/" + name + "/environ")
		if err != nil || !hasAll(env, want) {
			continue // gone meanwhile, another user's, or not the try's
		}
		killed = append(killed, pid)
		if pgid, err := syscall.Getpgid(pid); err == nil && pgid > 1 && pgid != ownGroup {
			syscall.Kill(-pgid, syscall.SIGKILL)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
	waitGone(killed)
	return len(killed), nil
}

// leftoverWait bounds how long KillLeftovers waits for what it killed: a
// SIGKILL lands within milliseconds unless the process is stuck in the
// kernel (uninterruptible I/O), which no signal hurries.
const leftoverWait = 10 * time.Second

// waitGone waits until none of pids runs: gone, or exited and waiting to
// be reaped by its new parent (which holds nothing: no files, no locks).
// They are not this process's children, so they cannot be waited for.
func waitGone(pids []int) {
	deadline := time.Now().Add(leftoverWait)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for _, pid := range pids {
		for running(pid) && time.Now().Before(deadline) {
			<-tick.C
		}
	}
}

// running reports whether pid is a process that has not exited.
func running(pid int) bool {
	st, ok := osproc.ReadStat(pid)
	return ok && st.Running()
}

// hasAll reports whether the NUL-separated environment block env holds
// every entry of want (each counted once, however often it appears).
func hasAll(env []byte, want [][]byte) bool {
	var found uint64
	for _, kv := range bytes.Split(env, []byte{0}) {
		for i, w := range want {
			if bytes.Equal(kv, w) {
				found |= 1 << i
			}
		}
	}
	return found == 1<<len(want)-1
}
