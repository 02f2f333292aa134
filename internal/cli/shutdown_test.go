package cli_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gatedDAG is a DAG of one task without retries that announces each
// execution in started and then waits until release exists.
func gatedDAG(dagID, started, release string) string {
	return fmt.Sprintf(`%[1]s:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: work
      operator: bash
      retries: 0
      bash_command: 'echo x >> %[2]s; while [ ! -e %[3]s ]; do sleep 0.05; done; echo released'
`, dagID, started, release)
}

// executions counts the lines a gated task appended to started.
func executions(t *testing.T, started string) int {
	t.Helper()
	b, err := os.ReadFile(started)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "x\n")
}

// signal sends sig to the process.
func (p *process) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// says waits until the process has printed want.
func (p *process) says(t *testing.T, limit time.Duration, want string) {
	t.Helper()
	waitFor(t, limit, func() bool { return strings.Contains(p.output(t), want) })
}

// taskColumn reads a column of the work task instance of a run.
func taskColumn(t *testing.T, h *home, column, dagID, runID string) string {
	t.Helper()
	return rawColumn(t, h, "SELECT "+column+" FROM task_instance WHERE dag_id = ? AND task_id = 'work' AND run_id = ?", dagID, runID)
}

// attemptLog returns the log file of a try of the work task.
func attemptLog(t *testing.T, h *home, dagID string, try int) string {
	t.Helper()
	var found string
	filepath.WalkDir(h.dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == fmt.Sprintf("attempt=%d.log", try) && strings.Contains(path, "dag_id="+dagID+string(filepath.Separator)) {
			found = path
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no log of try %d of %s", try, dagID)
	}
	b, err := os.ReadFile(found)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const shuttingDown = "shutting down: no new tries"

// TestStandaloneSigtermHandsBackARunningTry: SIGTERM stops standalone
// after a grace period shorter than the running try, which is handed back
// without using up a try (the task has no retries); after a restart it
// runs again as try 1 and succeeds, and try 1's log tells why it ran twice.
func TestStandaloneSigtermHandsBackARunningTry(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	started, release := filepath.Join(h.dir, "started"), filepath.Join(h.dir, "release")
	h.writeDAG(t, "gated.yaml", gatedDAG("gated", started, release))
	h.ok(t, "dags", "unpause", "gated")
	h.ok(t, "dags", "trigger", "gated", "-r", "r")

	first := h.start(t, "standalone-1", nil, "standalone", "--port", freePort(t), "--grace-period", "1s")
	waitFor(t, 60*time.Second, func() bool { return executions(t, started) == 1 })
	first.signal(t, syscall.SIGTERM)
	if code := first.exits(t, 60*time.Second); code != 0 {
		t.Fatalf("standalone exited %d after SIGTERM", code)
	}
	first.says(t, time.Second, "grace period over: handing the running tries back")
	if state, try := taskColumn(t, h, "state", "gated", "r"), taskColumn(t, h, "try_number", "gated", "r"); state != "scheduled" || try != "1" {
		t.Fatalf("after the hand-back the task is %s on try %s, want scheduled on try 1", state, try)
	}

	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	second := h.start(t, "standalone-2", nil, "standalone", "--port", freePort(t))
	waitFor(t, 60*time.Second, func() bool {
		return h.run(t, "", "dags", "state", "gated", "r").stdout == "success\n"
	})
	second.signal(t, syscall.SIGTERM)
	if code := second.exits(t, 60*time.Second); code != 0 {
		t.Fatalf("the second standalone exited %d after SIGTERM", code)
	}
	if n := executions(t, started); n != 2 {
		t.Errorf("the task started %d times, want 2", n)
	}
	state, try, maxTries := taskColumn(t, h, "state", "gated", "r"), taskColumn(t, h, "try_number", "gated", "r"), taskColumn(t, h, "max_tries", "gated", "r")
	if state != "success" || try != "1" || maxTries != "0" {
		t.Errorf("task = %s on try %s (max_tries %s), want success on try 1 with max_tries 0", state, try, maxTries)
	}
	log := attemptLog(t, h, "gated", 1)
	for _, want := range []string{"Handing the task back: its executor shut down before the try ended. It will run again as try 1, without using up a retry.", "released", "Marking task as SUCCESS"} {
		if !strings.Contains(log, want) {
			t.Errorf("try 1's log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "FAILED") || strings.Contains(log, "UP_FOR_RETRY") {
		t.Errorf("try 1's log records a failure:\n%s", log)
	}
}

// TestStandaloneSigtermLetsATryFinish: a try that ends within the grace
// period is recorded as it ended, and standalone exits without waiting for
// the rest of the grace period.
func TestStandaloneSigtermLetsATryFinish(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	started, release := filepath.Join(h.dir, "started"), filepath.Join(h.dir, "release")
	h.writeDAG(t, "gated.yaml", gatedDAG("gated", started, release))
	h.ok(t, "dags", "unpause", "gated")
	h.ok(t, "dags", "trigger", "gated", "-r", "r")

	p := h.start(t, "standalone", nil, "standalone", "--port", freePort(t), "--grace-period", "10m")
	waitFor(t, 60*time.Second, func() bool { return executions(t, started) == 1 })
	p.signal(t, syscall.SIGTERM)
	p.says(t, 60*time.Second, shuttingDown)
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code := p.exits(t, 60*time.Second); code != 0 {
		t.Fatalf("standalone exited %d after SIGTERM", code)
	}
	if state, try := taskColumn(t, h, "state", "gated", "r"), taskColumn(t, h, "try_number", "gated", "r"); state != "success" || try != "1" {
		t.Errorf("task = %s on try %s, want success on try 1", state, try)
	}
	if n := executions(t, started); n != 1 {
		t.Errorf("the task started %d times, want once", n)
	}
}

// TestSchedulerSecondSignalHandsBackAtOnce: a second SIGINT cuts the grace
// period short; the running try is still handed back, not failed.
func TestSchedulerSecondSignalHandsBackAtOnce(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	started, release := filepath.Join(h.dir, "started"), filepath.Join(h.dir, "release")
	h.writeDAG(t, "gated.yaml", gatedDAG("gated", started, release))
	h.ok(t, "dags", "unpause", "gated")
	h.ok(t, "dags", "trigger", "gated", "-r", "r")
	defer os.WriteFile(release, nil, 0o644)

	p := h.start(t, "scheduler", nil, "scheduler", "--grace-period", "10m")
	waitFor(t, 60*time.Second, func() bool { return executions(t, started) == 1 })
	p.signal(t, syscall.SIGINT)
	p.says(t, 60*time.Second, shuttingDown)
	p.signal(t, syscall.SIGINT)
	if code := p.exits(t, 60*time.Second); code != 0 {
		t.Fatalf("scheduler exited %d after two SIGINTs", code)
	}
	p.says(t, time.Second, "told to stop at once: handing the running tries back")
	if state, try := taskColumn(t, h, "state", "gated", "r"), taskColumn(t, h, "try_number", "gated", "r"); state != "scheduled" || try != "1" {
		t.Errorf("task = %s on try %s, want scheduled on try 1", state, try)
	}
}
