package cli_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const pipelineDAG = `pipeline:
  schedule: "@daily"
  start_date: 2024-01-01
  catchup: false
  tasks:
    - task_id: extract
      operator: bash
      bash_command: 'echo "extract {{ ds }}"'
    - task_id: load
      operator: bash
      bash_command: 'echo "load {{ ti.xcom_pull(task_ids=''extract'') }}"'
      dependencies: [extract]
`

func TestDagsTestRunsInTheForeground(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "pipeline.yaml", pipelineDAG)
	out := h.ok(t, "dags", "test", "pipeline", "2024-02-03")
	for _, want := range []string{"extract 2024-02-03", "load extract 2024-02-03", "Dag run manual__2024-02-03T00:00:00+00:00: success"} {
		if !strings.Contains(out, want) {
			t.Errorf("dags test output lacks %q:\n%s", want, out)
		}
	}
	// Running it again replaces the run rather than clashing with it.
	h.ok(t, "dags", "test", "pipeline", "2024-02-03")
	if got := h.ok(t, "dags", "state", "pipeline", "2024-02-03"); got != "success\n" {
		t.Errorf("dags state = %q", got)
	}
	if got := h.ok(t, "tasks", "state", "pipeline", "load", "2024-02-03"); got != "success\n" {
		t.Errorf("tasks state = %q", got)
	}

	h.writeDAG(t, "broken_run.yaml", "broken_run:\n  schedule: null\n  tasks:\n    - {task_id: a, operator: bash, bash_command: 'exit 1'}\n")
	r := h.run(t, "", "dags", "test", "broken_run")
	if r.code == 0 || !strings.Contains(r.stdout, "failed") {
		t.Errorf("a failing run: exit %d\n%s", r.code, r.stdout)
	}
}

func TestBackfillTriggerListRunsAndClear(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "pipeline.yaml", pipelineDAG)
	out := h.ok(t, "dags", "backfill", "pipeline", "-s", "2024-01-01", "-e", "2024-01-03")
	if !strings.Contains(out, "Backfilling 3 run(s)") {
		t.Errorf("backfill said:\n%s", out)
	}
	var runs []struct {
		RunID         string `json:"run_id"`
		State         string `json:"state"`
		ExecutionDate string `json:"execution_date"`
	}
	if err := json.Unmarshal([]byte(h.ok(t, "dags", "list-runs", "-d", "pipeline", "-o", "json")), &runs); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Fatalf("runs = %+v, want 3", runs)
	}
	for _, r := range runs {
		if r.State != "success" || !strings.HasPrefix(r.RunID, "backfill__2024-01-0") || r.RunID != "backfill__"+r.ExecutionDate {
			t.Errorf("run %+v", r)
		}
	}
	// A second backfill of the same range has nothing to do.
	if out := h.ok(t, "dags", "backfill", "pipeline", "-s", "2024-01-01", "-e", "2024-01-03"); !strings.Contains(out, "No runs") {
		t.Errorf("second backfill:\n%s", out)
	}

	var states []struct {
		TaskID string `json:"task_id"`
		State  string `json:"state"`
	}
	runID := "backfill__2024-01-02T00:00:00+00:00"
	if err := json.Unmarshal([]byte(h.ok(t, "tasks", "states-for-dag-run", "pipeline", runID, "-o", "json")), &states); err != nil {
		t.Fatal(err)
	}
	if len(states) != 2 || states[0].State != "success" {
		t.Errorf("states = %+v", states)
	}
	out = h.ok(t, "tasks", "clear", "pipeline", "-t", "^load$", "-s", "2024-01-02", "-e", "2024-01-02", "-y")
	if !strings.Contains(out, "1 task instance(s) cleared") {
		t.Errorf("clear said %q", out)
	}
	if got := h.ok(t, "tasks", "state", "pipeline", "load", runID); got != "None\n" {
		t.Errorf("cleared state = %q", got)
	}
	if got := h.ok(t, "dags", "state", "pipeline", runID); got != "queued\n" {
		t.Errorf("cleared run state = %q", got)
	}
	// Without -y, a "n" answer changes nothing.
	r := h.run(t, "n\n", "tasks", "clear", "pipeline", "-t", "extract")
	if r.code != 0 || !strings.Contains(r.stdout, "Cancelled") {
		t.Errorf("clear without -y: %d %q", r.code, r.stdout)
	}

	trig := h.ok(t, "dags", "trigger", "pipeline", "-c", `{"k": "v"}`, "-e", "2024-05-01", "-o", "json")
	if !strings.Contains(trig, `"dag_run_id": "manual__2024-05-01T00:00:00+00:00"`) || !strings.Contains(trig, `"state": "queued"`) || !strings.Contains(trig, `"conf": {"k": "v"}`) ||
		!strings.Contains(trig, `"logical_date": "2024-05-01 00:00:00+00:00"`) {
		t.Errorf("trigger said %s", trig)
	}
	h.fails(t, "already", "dags", "trigger", "pipeline", "-e", "2024-05-01")
	h.fails(t, "JSON object", "dags", "trigger", "pipeline", "-c", "[1]")
}

func TestTasksTestAndRender(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "pipeline.yaml", pipelineDAG)
	out := h.ok(t, "tasks", "test", "pipeline", "extract", "2024-06-01")
	if !strings.Contains(out, "extract 2024-06-01") || !strings.Contains(out, "Task extract: success") {
		t.Errorf("tasks test said:\n%s", out)
	}
	// tasks test records nothing.
	if out := h.ok(t, "dags", "list-runs", "-d", "pipeline", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("tasks test left runs: %s", out)
	}
	out = h.ok(t, "tasks", "render", "pipeline", "extract", "2024-06-01")
	if !strings.Contains(out, "# property: bash_command") || !strings.Contains(out, `echo "extract 2024-06-01"`) {
		t.Errorf("render said:\n%s", out)
	}
}

// TestSchedulerKilledMidRunIsRecovered kills the scheduler with SIGKILL
// while a task runs; a new scheduler finds the orphaned try, ends the
// process the try's shell left in the background and runs it again as
// the same try (scheduler.retry_tries_lost_to_crash), to success, without
// using up its retry.
func TestSchedulerKilledMidRunIsRecovered(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	marker := filepath.Join(h.dir, "first-try-started")
	childPID := filepath.Join(h.dir, "child-pid")
	h.writeDAG(t, "longjob.yaml", fmt.Sprintf(`longjob:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: work
      operator: bash
      retries: 1
      retry_delay: 0
      bash_command: 'if [ ! -e %[1]s ]; then sleep 301 & echo $! > %[2]s; touch %[1]s; wait; fi; echo done'
`, marker, childPID))
	h.ok(t, "dags", "unpause", "longjob")
	h.ok(t, "dags", "trigger", "longjob", "-e", "2024-01-01")

	start := func() (*exec.Cmd, *bufio.Scanner) {
		cmd := exec.Command(binary, "scheduler")
		cmd.Env = h.env
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, bufio.NewScanner(stderr)
	}
	first, _ := start()
	defer first.Process.Kill()
	waitFor(t, 30*time.Second, func() bool { _, err := os.Stat(marker); return err == nil })
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	if got := h.ok(t, "tasks", "state", "longjob", "work", "2024-01-01"); got != "running\n" {
		t.Fatalf("after the kill the try is %q, want running (orphaned)", got)
	}

	second, _ := start()
	defer func() {
		second.Process.Signal(syscall.SIGTERM)
		second.Wait()
	}()
	waitFor(t, 60*time.Second, func() bool {
		return h.run(t, "", "dags", "state", "longjob", "2024-01-01").stdout == "success\n"
	})
	var tis []struct {
		TaskID string `json:"task_id"`
		State  string `json:"state"`
	}
	json.Unmarshal([]byte(h.ok(t, "tasks", "states-for-dag-run", "longjob", "2024-01-01", "-o", "json")), &tis)
	try := rawColumn(t, h, "SELECT try_number FROM task_instance WHERE dag_id = ?", "longjob")
	if len(tis) != 1 || try != "1" || tis[0].State != "success" {
		t.Errorf("work = %+v on try %s, want success on try 1 (the try lost with its scheduler is not counted)", tis, try)
	}
	// The kernel killed try 1's shell with its scheduler, but not the
	// shell's background child: the new scheduler did.
	b, err := os.ReadFile(childPID)
	if err != nil {
		t.Fatal(err)
	}
	child, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	waitFor(t, 5*time.Second, func() bool { return !processRuns(child) })
}

// processRuns reports whether pid is a running process (not a zombie).
func processRuns(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat)[i+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// TestDagsTestLeavesTheSchedulersTriesAlone runs `dags test` of one DAG
// while the scheduler daemon runs a try of another on the same host: the
// one-shot engine must not take that live try for an orphan.
func TestDagsTestLeavesTheSchedulersTriesAlone(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	started, gate := filepath.Join(h.dir, "started"), filepath.Join(h.dir, "gate")
	h.writeDAG(t, "waiting.yaml", fmt.Sprintf(`waiting:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: work
      operator: bash
      bash_command: 'touch %[1]s; for i in $(seq 3000); do [ -e %[2]s ] && exit 0; sleep 0.01; done; exit 1'
`, started, gate))
	h.writeDAG(t, "quick.yaml", `quick:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: only, operator: bash, bash_command: "true"}
`)
	h.ok(t, "dags", "unpause", "waiting")
	h.ok(t, "dags", "trigger", "waiting", "-e", "2024-01-01")
	sched := exec.Command(binary, "scheduler")
	sched.Env = h.env
	if err := sched.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sched.Process.Signal(syscall.SIGTERM)
		sched.Wait()
	}()
	waitFor(t, 30*time.Second, func() bool { _, err := os.Stat(started); return err == nil })

	h.ok(t, "dags", "test", "quick", "2024-01-01")
	if got := h.ok(t, "tasks", "state", "waiting", "work", "2024-01-01"); got != "running\n" {
		t.Fatalf("after dags test of another DAG the scheduler's try is %q, want still running", got)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool {
		return h.run(t, "", "dags", "state", "waiting", "2024-01-01").stdout == "success\n"
	})
}

// waitFor checks cond until it holds: for conditions only visible in
// another process (a file, the database), which cannot send a signal.
func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", limit)
		}
		<-tick.C
	}
}
