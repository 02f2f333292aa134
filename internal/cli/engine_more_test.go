package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// executions counts the lines tasks appended to counts/<name>: one per
// execution of a task at a date.
func (h *home) executions(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.dir, "counts", name))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// wantExecutions checks executions of task-date counters.
func (h *home) wantExecutions(t *testing.T, when string, want map[string]int) {
	t.Helper()
	for name, n := range want {
		if got := h.executions(t, name); got != n {
			t.Errorf("%s: %s ran %d time(s), want %d", when, name, got, n)
		}
	}
}

// countingTask is a bash task appending a line to counts/<task>-<ds>;
// extra adds YAML fields (", dependencies: [x]").
func countingTask(h *home, taskID, extra string) string {
	dir := filepath.Join(h.dir, "counts")
	return fmt.Sprintf(`    - {task_id: %s, operator: bash, bash_command: 'mkdir -p %s && echo x >> %s/%s-{{ ds }}'%s}`+"\n",
		taskID, dir, dir, taskID, extra)
}

func TestBackfillFailureRerunFailedTasksAndResetDagruns(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	failFlag := filepath.Join(h.dir, "fail")
	dir := filepath.Join(h.dir, "counts")
	h.writeDAG(t, "fill.yaml", fmt.Sprintf(`fill:
  schedule: "@daily"
  start_date: 2024-01-01
  catchup: false
  tasks:
%s    - {task_id: flaky, operator: bash, bash_command: 'mkdir -p %[2]s && echo x >> %[2]s/flaky-{{ ds }}; test ! -e %[3]s'}
%s`, countingTask(h, "good", ""), dir, failFlag, countingTask(h, "after", ", dependencies: [flaky]")))
	if err := os.WriteFile(failFlag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	backfill := func(flags ...string) result {
		return h.run(t, "", append([]string{"dags", "backfill", "fill", "-s", "2024-01-01", "-e", "2024-01-02"}, flags...)...)
	}
	dates := []string{"2024-01-01", "2024-01-02"}
	each := func(counts map[string]int) map[string]int {
		out := map[string]int{}
		for task, n := range counts {
			for _, ds := range dates {
				out[task+"-"+ds] = n
			}
		}
		return out
	}

	r := backfill()
	if r.code == 0 {
		t.Fatalf("a backfill with a failing task exited 0:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "2 of 2 backfill run(s) failed") {
		t.Errorf("stderr = %q", r.stderr)
	}
	for _, want := range []string{"--- flaky (try 1): failed ---", "backfill__2024-01-01T00:00:00+00:00: failed", "backfill__2024-01-02T00:00:00+00:00: failed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the failed backfill does not say %q:\n%s", want, r.stdout)
		}
	}
	h.wantExecutions(t, "first backfill", each(map[string]int{"good": 1, "flaky": 1, "after": 0}))
	if got := h.ok(t, "tasks", "state", "fill", "after", "2024-01-02"); got != "upstream_failed\n" {
		t.Errorf("after = %q, want upstream_failed", got)
	}

	// Fixed: only the failed (and upstream_failed) task instances run again.
	if err := os.Remove(failFlag); err != nil {
		t.Fatal(err)
	}
	if r := backfill("--rerun-failed-tasks"); r.code != 0 {
		t.Fatalf("--rerun-failed-tasks: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	h.wantExecutions(t, "--rerun-failed-tasks", each(map[string]int{"good": 1, "flaky": 2, "after": 1}))
	var tis []struct {
		TaskID string `json:"task_id"`
		State  string `json:"state"`
	}
	if err := json.Unmarshal([]byte(h.ok(t, "tasks", "states-for-dag-run", "fill", "backfill__2024-01-01T00:00:00+00:00", "-o", "json")), &tis); err != nil {
		t.Fatal(err)
	}
	wantTry := map[string]string{"good": "1", "flaky": "2", "after": "1"}
	for _, ti := range tis {
		try := rawColumn(t, h, "SELECT try_number FROM task_instance WHERE dag_id = ? AND task_id = ? AND run_id = ?", "fill", ti.TaskID, "backfill__2024-01-01T00:00:00+00:00")
		if ti.State != "success" || try != wantTry[ti.TaskID] {
			t.Errorf("after --rerun-failed-tasks %s is %s try %s, want success try %s", ti.TaskID, ti.State, try, wantTry[ti.TaskID])
		}
	}
	if len(tis) != 3 {
		t.Errorf("task instances = %+v", tis)
	}

	// --reset-dagruns runs everything again.
	if r := backfill("--reset-dagruns"); r.code != 0 || !strings.Contains(r.stdout, "Backfilling 2 run(s)") {
		t.Fatalf("--reset-dagruns: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	h.wantExecutions(t, "--reset-dagruns", each(map[string]int{"good": 2, "flaky": 3, "after": 2}))
	for _, ds := range dates {
		if got := h.ok(t, "dags", "state", "fill", ds); got != "success\n" {
			t.Errorf("run %s = %q after --reset-dagruns", ds, got)
		}
	}
}

func TestTasksClearDownstreamLeavesUpstreamAlone(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "chain.yaml", "chain:\n  schedule: \"@daily\"\n  start_date: 2024-01-01\n  catchup: false\n  tasks:\n"+
		countingTask(h, "up", "")+
		countingTask(h, "mid", ", dependencies: [up]")+
		countingTask(h, "down", ", dependencies: [mid]")+
		countingTask(h, "side", ""))
	h.ok(t, "dags", "backfill", "chain", "-s", "2024-01-01", "-e", "2024-01-02")

	out := h.ok(t, "tasks", "clear", "chain", "-t", "^mid$", "--downstream", "-y")
	if !strings.Contains(out, "4 task instance(s) cleared") {
		t.Errorf("clear said %q, want mid and down of both runs", out)
	}
	for _, ds := range []string{"2024-01-01", "2024-01-02"} {
		for task, want := range map[string]string{"up": "success", "mid": "None", "down": "None", "side": "success"} {
			if got := h.ok(t, "tasks", "state", "chain", task, ds); got != want+"\n" {
				t.Errorf("%s %s after the clear = %q, want %s", task, ds, got, want)
			}
		}
	}
	// The cleared runs, run again, run only what was cleared.
	h.ok(t, "dags", "backfill", "chain", "-s", "2024-01-01", "-e", "2024-01-02")
	for _, ds := range []string{"2024-01-01", "2024-01-02"} {
		h.wantExecutions(t, "after the clear", map[string]int{"up-" + ds: 1, "mid-" + ds: 2, "down-" + ds: 2, "side-" + ds: 1})
		if got := h.ok(t, "tasks", "state", "chain", "down", ds); got != "success\n" {
			t.Errorf("down %s = %q after the re-run", ds, got)
		}
	}
}

func TestTasksRunRunsOneTaskInstance(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "one.yaml", "one:\n  schedule: null\n  start_date: 2024-01-01\n  tasks:\n"+
		countingTask(h, "first", "")+
		countingTask(h, "second", ", dependencies: [first]")+
		"    - {task_id: bad, operator: bash, bash_command: 'exit 3'}\n")
	h.ok(t, "dags", "trigger", "one", "-e", "2024-04-01")

	if out := h.ok(t, "tasks", "run", "one", "first", "2024-04-01"); !strings.Contains(out, "Task first try 1: success") {
		t.Errorf("tasks run said %q", out)
	}
	h.wantExecutions(t, "tasks run", map[string]int{"first-2024-04-01": 1, "second-2024-04-01": 0})
	if got := h.ok(t, "tasks", "state", "one", "first", "2024-04-01"); got != "success\n" {
		t.Errorf("first = %q, want success recorded", got)
	}
	if got := h.ok(t, "tasks", "state", "one", "second", "2024-04-01"); got != "None\n" {
		t.Errorf("second = %q: tasks run ran more than the one task", got)
	}

	// A finished task instance runs again only with --force, as a new try.
	if r := h.run(t, "", "tasks", "run", "one", "first", "2024-04-01"); r.code == 0 || !strings.Contains(r.stderr, "already finished") {
		t.Errorf("re-running a finished task: exit %d, stderr %q", r.code, r.stderr)
	}
	h.wantExecutions(t, "refused re-run", map[string]int{"first-2024-04-01": 1})
	if out := h.ok(t, "tasks", "run", "one", "first", "2024-04-01", "--force"); !strings.Contains(out, "Task first try 2: success") {
		t.Errorf("tasks run --force said %q", out)
	}
	h.wantExecutions(t, "forced re-run", map[string]int{"first-2024-04-01": 2})

	r := h.run(t, "", "tasks", "run", "one", "bad", "2024-04-01")
	if r.code == 0 || !strings.Contains(r.stderr, "task bad failed") {
		t.Errorf("a failing task: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := h.ok(t, "tasks", "state", "one", "bad", "2024-04-01"); got != "failed\n" {
		t.Errorf("bad = %q, want failed recorded", got)
	}
}
