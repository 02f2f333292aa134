package cli_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// heldDAG's first try starts a background child (its pid in
// $WINDSOCK_HOME/child), says it runs, and waits until the test creates
// $WINDSOCK_HOME/release; later tries end at once.
const heldDAG = `same:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: held
      operator: bash
      retries: 1
      retry_delay: 0
      bash_command: 'if [ "$AIRFLOW_CTX_TRY_NUMBER" = 1 ]; then sleep 300 >/dev/null 2>&1 & echo $! > $WINDSOCK_HOME/child; touch $WINDSOCK_HOME/started; while [ ! -e $WINDSOCK_HOME/release ]; do sleep 0.05; done; fi; echo done'
`

// Two environments in separate processes on one host run the same DAG id
// with the same logical date. One environment's scheduler is killed with
// SIGKILL mid-try and started again: it ends what its try left behind and
// runs the task again, while the other environment's live try of the same
// DAG, run, task and try number is untouched and succeeds.
func TestTwoEnvironmentsInSeparateProcesses(t *testing.T) {
	t.Parallel()
	a, b := newHome(t), newHome(t)
	for _, h := range []*home{a, b} {
		h.writeDAG(t, "same.yaml", heldDAG)
		h.ok(t, "dags", "unpause", "same")
		h.ok(t, "dags", "trigger", "same", "-e", "2024-01-01")
	}
	schedA := a.start(t, "scheduler-a", nil, "scheduler")
	b.start(t, "scheduler-b", nil, "scheduler")
	started := func(h *home) func() bool {
		return func() bool { _, err := os.Stat(filepath.Join(h.dir, "started")); return err == nil }
	}
	waitFor(t, time.Minute, started(a))
	waitFor(t, time.Minute, started(b))
	childOf := func(h *home) int {
		b, err := os.ReadFile(filepath.Join(h.dir, "child"))
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return pid
	}
	childA, childB := childOf(a), childOf(b)

	schedA.cmd.Process.Signal(syscall.SIGKILL)
	<-schedA.done
	a.start(t, "scheduler-a-again", nil, "scheduler")
	// The killed scheduler's runs wait until its job is seen dead
	// (scheduler_health_check_threshold, 30 s).
	waitFor(t, 2*time.Minute, func() bool {
		return a.run(t, "", "dags", "state", "same", "2024-01-01").stdout == "success\n"
	})
	waitFor(t, 10*time.Second, func() bool { return !processRuns(childA) })
	if !processRuns(childB) {
		t.Fatal("environment B's try lost its child when environment A cleaned up after its killed scheduler")
	}
	if got := b.ok(t, "tasks", "state", "same", "held", "2024-01-01"); got != "running\n" {
		t.Fatalf("environment B's try is %q, want still running", got)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, func() bool {
		return b.run(t, "", "dags", "state", "same", "2024-01-01").stdout == "success\n"
	})
	if try := rawColumn(t, b, "SELECT try_number FROM task_instance WHERE dag_id = ?", "same"); try != "1" {
		t.Errorf("environment B's task ran as try %s, want 1", try)
	}
	syscall.Kill(childB, syscall.SIGKILL)
}
