package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// heldDAG's first execution starts a background child (its pid in
// $WINDSOCK_HOME/child), says it runs, and waits until the test creates
// $WINDSOCK_HOME/release; a later execution (a try run again after its
// scheduler was killed, as the same try or as a retry) ends at once.
const heldDAG = `same:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: held
      operator: bash
      retries: 1
      retry_delay: 0
      bash_command: 'if [ ! -e $WINDSOCK_HOME/started ]; then sleep 300 >/dev/null 2>&1 & echo $! > $WINDSOCK_HOME/child; touch $WINDSOCK_HOME/started; while [ ! -e $WINDSOCK_HOME/release ]; do sleep 0.05; done; fi; echo done'
`

// Environments in separate processes on one host run the same DAG id
// with the same logical date. One environment's scheduler is killed with
// SIGKILL mid-try and started again: what its try left behind is gone (the
// executor's guard kills it as the scheduler dies; the restarted scheduler
// would too) and the task runs again, while the other environments' live tries of the
// same DAG, run, task and try number are untouched and succeed.
func TestTwoEnvironmentsInSeparateProcesses(t *testing.T) {
	t.Parallel()
	environmentsInSeparateProcesses(t, 2)
}

// TestFortyEnvironmentsInSeparateProcesses is the above with forty
// schedulers (SQLite environments, one task each) on one host, and a clear
// in one environment, while the others' tries run, that stops its try and
// runs its task again there only. Under -short it is skipped: forty
// processes take a minute or two of a loaded machine.
func TestFortyEnvironmentsInSeparateProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("forty processes: not under -short")
	}
	t.Parallel()
	environmentsInSeparateProcesses(t, 40)
}

func environmentsInSeparateProcesses(t *testing.T, n int) {
	homes := make([]*home, n)
	scheds := make([]*process, n)
	for i := range homes {
		// Unpaused at creation and scheduled @once: each scheduler runs
		// the DAG without a CLI call per environment.
		homes[i] = newHome(t, "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False")
		homes[i].writeDAG(t, "same.yaml", strings.Replace(heldDAG, "schedule: null", "schedule: '@once'", 1))
		scheds[i] = homes[i].start(t, fmt.Sprintf("scheduler-%d", i), nil, "scheduler")
	}
	started := func(h *home) bool { _, err := os.Stat(filepath.Join(h.dir, "started")); return err == nil }
	children := make([]int, n)
	for i, h := range homes {
		waitFor(t, 3*time.Minute, func() bool { return started(h) })
		b, err := os.ReadFile(filepath.Join(h.dir, "child"))
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 1 {
			// A kill of pid 0 would end the test's own process group.
			t.Fatalf("environment %d recorded no child pid: %q", i, b)
		}
		children[i] = pid
		t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	}
	runState := func(h *home) string {
		return rawColumn(t, h, "SELECT state FROM dag_run WHERE dag_id = 'same'")
	}
	tryOf := func(h *home) string {
		return rawColumn(t, h, "SELECT state || ' ' || try_number FROM task_instance WHERE dag_id = 'same'")
	}
	// othersRun fails the test unless the tries of environments from on
	// still run, with the child each started, after what another did.
	othersRun := func(from int, after string) {
		t.Helper()
		for i := from; i < n; i++ {
			if !processRuns(children[i]) {
				t.Fatalf("environment %d's try lost its child when %s", i, after)
			}
			if got := tryOf(homes[i]); got != "running 1" {
				t.Fatalf("environment %d's try is %q after %s, want running 1", i, got, after)
			}
		}
	}

	scheds[0].cmd.Process.Signal(syscall.SIGKILL)
	<-scheds[0].done
	homes[0].start(t, "scheduler-0-again", nil, "scheduler")
	// The killed scheduler's runs wait until its job is seen dead
	// (scheduler_health_check_threshold, 30 s).
	waitFor(t, 2*time.Minute, func() bool { return runState(homes[0]) == "success" })
	waitFor(t, 10*time.Second, func() bool { return !processRuns(children[0]) })
	othersRun(1, "environment 0 cleaned up after its killed scheduler")
	if n >= 3 {
		// A clear in one environment while its try and the others' run:
		// it stops its own try (and the child it started) and runs the
		// task again there only, while the others' live tries of the same
		// DAG, run, task and try number go on.
		homes[1].ok(t, "tasks", "clear", "same", "-y")
		waitFor(t, 2*time.Minute, func() bool { return tryOf(homes[1]) == "success 2" })
		waitFor(t, 10*time.Second, func() bool { return !processRuns(children[1]) })
		othersRun(2, "environment 1 cleared its own")
	}
	for _, h := range homes[1:] {
		if err := os.WriteFile(filepath.Join(h.dir, "release"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, h := range homes[1:] {
		if i == 0 && n >= 3 {
			continue // cleared and run again above
		}
		waitFor(t, 2*time.Minute, func() bool { return runState(h) == "success" })
		if got := tryOf(h); got != "success 1" {
			t.Errorf("environment %d's task is %q, want success 1", i+1, got)
		}
	}
}
