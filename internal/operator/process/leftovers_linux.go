package process

import (
	"bytes"
	"os"
	"strconv"
	"syscall"

	"github.com/windsock/windsock/internal/windsock"
)

// KillLeftovers ends what a try's processes left running after the
// process that ran the try died: Windsock's own death kills a task's
// shell (Pdeathsig), but not the children the shell started, which keep
// the shell's process group and outlive it. They are found by the
// AIRFLOW_CTX_* variables every task process gets and its children
// inherit, and their process groups get SIGKILL. It returns how many
// processes matched. A process that cleared its environment is not found.
func KillLeftovers(key windsock.TaskInstanceKey, tryNumber int) (int, error) {
	want := [][]byte{
		[]byte("AIRFLOW_CTX_DAG_ID=" + key.DagID),
		[]byte("AIRFLOW_CTX_TASK_ID=" + key.TaskID),
		[]byte("AIRFLOW_CTX_DAG_RUN_ID=" + key.RunID),
		[]byte("AIRFLOW_CTX_TRY_NUMBER=" + strconv.Itoa(tryNumber)),
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
	killed := 0
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile("/proc/" + name + "/environ")
		if err != nil || !hasAll(env, want) {
			continue // gone meanwhile, another user's, or not the try's
		}
		killed++
		if pgid, err := syscall.Getpgid(pid); err == nil && pgid > 1 && pgid != ownGroup {
			syscall.Kill(-pgid, syscall.SIGKILL)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
	return killed, nil
}

// hasAll reports whether the NUL-separated environment block env holds
// every entry of want exactly.
func hasAll(env []byte, want [][]byte) bool {
	found := 0
	for _, kv := range bytes.Split(env, []byte{0}) {
		for _, w := range want {
			if bytes.Equal(kv, w) {
				found++
				break
			}
		}
	}
	return found == len(want)
}
