package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestScriptedFlagsAsAirflow covers flags and outcomes that Airflow 2.10
// scripts rely on (cli_config.py and dag_command.py): -v on any command,
// pause/unpause of an unknown or already-set DAG exiting 0 with
// set_is_paused's message, --treat-dag-id-as-regex with its prompt,
// list-runs --no-backfill/--start-date/--end-date, and trigger zeroing the
// microseconds of its logical date (--replace-microseconds).
func TestScriptedFlagsAsAirflow(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "etl.yaml", etlDAG)
	h.writeDAG(t, "etl2.yaml", strings.Replace(etlDAG, "etl:", "etl_two:", 1))

	// -v/--verbose is accepted wherever Airflow has ARG_VERBOSE.
	for _, a := range [][]string{{"dags", "list", "-v"}, {"tasks", "list", "etl", "--verbose"}, {"pools", "list", "-v"}} {
		h.ok(t, a...)
	}

	// Pause/unpause: an unknown DAG, or one already in the state, is not an error.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"dags", "pause", "no_such_dag"}, "No unpaused DAGs were found"},
		{[]string{"dags", "unpause", "no_such_dag"}, "No paused DAGs were found"},
		{[]string{"dags", "unpause", "etl"}, "etl"}, // new DAGs start paused
		{[]string{"dags", "unpause", "etl"}, "No paused DAGs were found"},
	} {
		if out := h.ok(t, c.args...); !strings.Contains(out, c.want) {
			t.Errorf("%v: %q, want %q", c.args, out, c.want)
		}
	}

	// --treat-dag-id-as-regex asks first, unless -y.
	r := h.run(t, "n\n", "dags", "pause", "^etl", "--treat-dag-id-as-regex")
	if r.code != 0 || !strings.Contains(r.stdout, "You are about to pause 1 DAGs:\netl\n") || !strings.Contains(r.stdout, "Operation cancelled by user") {
		t.Errorf("regex pause, answered n: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rows []map[string]string
	if err := json.Unmarshal([]byte(h.ok(t, "dags", "unpause", "etl.*", "--treat-dag-id-as-regex", "-y", "-o", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0]["dag_id"] != "etl_two" || rows[0]["is_paused"] != "False" {
		t.Errorf("regex unpause -y: %v", rows)
	}

	// list-runs filters.
	h.ok(t, "dags", "trigger", "etl", "-e", "2024-03-01")
	h.ok(t, "dags", "trigger", "etl", "-e", "2024-03-05")
	h.ok(t, "dags", "backfill", "etl", "-s", "2024-03-03", "-e", "2024-03-03")
	runIDs := func(args ...string) []string {
		t.Helper()
		var rs []map[string]any
		if err := json.Unmarshal([]byte(h.ok(t, append([]string{"dags", "list-runs", "-d", "etl", "-o", "json"}, args...)...)), &rs); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rs {
			ids = append(ids, r["run_id"].(string))
		}
		return ids
	}
	m1, m5, bf := "manual__2024-03-01T00:00:00+00:00", "manual__2024-03-05T00:00:00+00:00", "backfill__2024-03-03T00:00:00+00:00"
	for _, c := range []struct {
		args []string
		want []string
	}{
		{nil, []string{m5, bf, m1}},
		{[]string{"--no-backfill"}, []string{m5, m1}},
		{[]string{"-s", "2024-03-03"}, []string{m5, bf}},
		{[]string{"--end-date", "2024-03-03"}, []string{bf, m1}},
		{[]string{"-s", "2024-03-02", "-e", "2024-03-04T00:00:00+00:00"}, []string{bf}},
		{[]string{"--state", "SUCCESS"}, []string{bf}},
	} {
		if got := runIDs(c.args...); !slices.Equal(got, c.want) {
			t.Errorf("list-runs %v = %v, want %v", c.args, got, c.want)
		}
	}
	h.fails(t, "argument --start-date", "dags", "list-runs", "-d", "etl", "-s", "yesterday")

	// trigger: the logical date (and so the run id) has no microseconds.
	var tr []map[string]any
	json.Unmarshal([]byte(h.ok(t, "dags", "trigger", "etl_two", "-o", "json")), &tr)
	if len(tr) != 1 || !regexp.MustCompile(`^manual__\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$`).MatchString(tr[0]["dag_run_id"].(string)) {
		t.Errorf("trigger without a date: %v, want a run id without microseconds", tr)
	}
	json.Unmarshal([]byte(h.ok(t, "dags", "trigger", "etl_two", "-e", "2024-01-01T00:00:00.123456+00:00", "--replace-microseconds", "false", "-o", "json")), &tr)
	if len(tr) != 1 || tr[0]["dag_run_id"] != "manual__2024-01-01T00:00:00.123456+00:00" {
		t.Errorf("trigger --replace-microseconds false: %v", tr)
	}
}

// TestTasksTestFlagsAsAirflow: tasks test's -t/--task-params (JSON over
// the task's params, integers kept), --env-vars (set for the task's
// process) and -n/--dry-run (render only), as Airflow 2.10's task_test.
func TestTasksTestFlagsAsAirflow(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "p.yaml", `ptest:
  schedule: null
  start_date: 2024-01-01
  params:
    n: 1
    keep: k
  tasks:
    - task_id: t
      operator: bash
      bash_command: "echo n={{ params.n }} keep={{ params.keep }} foo=$AUDIT_FOO; touch ran"
`)
	out := h.ok(t, "tasks", "test", "ptest", "t", "2024-01-01", "-t", `{"n": 12345678901234567}`, "--env-vars", `{"AUDIT_FOO": "bar"}`)
	if !strings.Contains(out, "n=12345678901234567 keep=k foo=bar\n") {
		t.Errorf("tasks test -t --env-vars:\n%s", out)
	}
	out = h.ok(t, "tasks", "test", "ptest", "t", "2024-01-02", "--dry-run")
	if !strings.Contains(out, "# property: bash_command") || !strings.Contains(out, "echo n=1 keep=k foo=$AUDIT_FOO") || strings.Contains(out, "Task t: success") {
		t.Errorf("tasks test --dry-run:\n%s", out)
	}
	h.fails(t, "argument -t/--task-params", "tasks", "test", "ptest", "t", "-t", "[1]")
}

// TestDBCheckMigrationsAndOldNames: db check-migrations (the readiness
// wait of Airflow images and the Helm chart) fails while the schema is
// behind and succeeds once it is current; db init and db upgrade, which
// Airflow 2.10 still accepts with a deprecation warning, migrate.
func TestDBCheckMigrationsAndOldNames(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.fails(t, "There are still unapplied migrations after 0 seconds", "db", "check-migrations", "-t", "0")
	r := h.run(t, "", "db", "init")
	if r.code != 0 || !strings.Contains(r.stderr, "`db init` is deprecated") || !strings.Contains(r.stdout, "schema is at version") {
		t.Fatalf("db init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := h.ok(t, "db", "check-migrations", "--migration-wait-timeout", "0"); out != "DB migrations are done.\n" {
		t.Errorf("check-migrations after init: %q", out)
	}
	r = h.run(t, "", "db", "upgrade")
	if r.code != 0 || !strings.Contains(r.stderr, "`db upgrade` is deprecated") {
		t.Errorf("db upgrade: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestAcceptedAirflowSwitches: switches that change nothing in Windsock,
// by design, still parse, so a 2.x script goes through: tasks clear
// -x/-X (no subDAGs) and dags backfill -l/-x (tasks always run locally,
// nothing is pickled).
func TestAcceptedAirflowSwitches(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "etl.yaml", etlDAG)
	if out := h.ok(t, "dags", "backfill", "etl", "-s", "2024-02-01", "-e", "2024-02-01", "-l", "--donot-pickle"); !strings.Contains(out, "backfill__2024-02-01T00:00:00+00:00: success") {
		t.Errorf("backfill -l -x:\n%s", out)
	}
	out := h.ok(t, "tasks", "clear", "etl", "-t", "^load$", "-s", "2024-02-01", "-e", "2024-02-01", "-x", "--exclude-parentdag", "-y")
	if !strings.Contains(out, "1 task instance(s) cleared") {
		t.Errorf("tasks clear -x -X:\n%s", out)
	}
}

// TestDagsStateAsAirflow: dags state prints "None" for a date without a
// run (exit 0, as Airflow's dag_state), and the conf as json.dumps writes
// it, integers and floats kept.
func TestDagsStateAsAirflow(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "etl.yaml", etlDAG)
	if out := h.ok(t, "dags", "state", "etl", "2024-06-01"); out != "None\n" {
		t.Errorf("state without a run: %q", out)
	}
	h.ok(t, "dags", "trigger", "etl", "-e", "2024-06-01", "-c", `{"n": 5, "id": 12345678901234567, "w": 5.0, "s": "é"}`)
	if out := h.ok(t, "dags", "state", "etl", "2024-06-01"); out != `queued, {"id": 12345678901234567, "n": 5, "s": "\u00e9", "w": 5.0}`+"\n" {
		t.Errorf("state with conf: %q", out)
	}
	h.fails(t, "not found", "dags", "state", "nope", "2024-06-01")
	h.fails(t, "nor a date", "dags", "state", "etl", "yesterday")
}

// TestShowSaveAndTaskStateMapIndex: dags show --save FILE.dot writes the
// graph and says so, as Airflow; other formats need Graphviz and are
// refused. tasks state takes --map-index (-1, Airflow's default, for an
// unmapped task).
func TestShowSaveAndTaskStateMapIndex(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "etl.yaml", etlDAG)
	file := filepath.Join(t.TempDir(), "etl.dot")
	if out := h.ok(t, "dags", "show", "etl", "--save", file); out != "File "+file+" saved\n" {
		t.Errorf("dags show --save: %q", out)
	}
	if b, err := os.ReadFile(file); err != nil || !strings.Contains(string(b), `"extract" -> "transform"`) {
		t.Errorf("saved graph: %v\n%s", err, b)
	}
	h.fails(t, "only a .dot file", "dags", "show", "etl", "--save", filepath.Join(t.TempDir(), "etl.png"))

	h.ok(t, "dags", "backfill", "etl", "-s", "2024-02-01", "-e", "2024-02-01")
	if out := h.ok(t, "tasks", "state", "etl", "extract", "2024-02-01", "--map-index", "-1"); out != "success\n" {
		t.Errorf("tasks state --map-index -1: %q", out)
	}
	h.fails(t, "not found", "tasks", "state", "etl", "extract", "2024-02-01", "--map-index", "0")
}

// TestBackfillDryRun: dags backfill -n names every task of every interval
// and renders its templates, creating no run, as Airflow's --dry-run.
func TestBackfillDryRun(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "etl.yaml", strings.Replace(etlDAG, "bash_command: echo extract", "bash_command: echo extract {{ ds }}", 1))
	out := h.ok(t, "dags", "backfill", "etl", "-s", "2024-02-01", "-e", "2024-02-02", "--dry-run")
	for _, want := range []string{
		"Dry run of DAG etl on 2024-02-01 00:00:00+00:00\n",
		"Task extract located in DAG etl (run backfill__2024-02-01T00:00:00+00:00)\n",
		"echo extract 2024-02-01\n", "echo extract 2024-02-02\n",
		"Task load located in DAG etl (run backfill__2024-02-02T00:00:00+00:00)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("backfill --dry-run lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "located in DAG") != 6 {
		t.Errorf("want 2 intervals x 3 tasks:\n%s", out)
	}
	if runs := h.ok(t, "dags", "list-runs", "-d", "etl", "-o", "json"); strings.TrimSpace(runs) != "[]" {
		t.Errorf("the dry run created runs: %s", runs)
	}
}

// TestDagsListJobs: dags list-jobs prints Airflow 2.10's dag_list_jobs
// fields (dag_id, state, job_type, start_date, end_date, each as Python's
// str(), so "None" for a null), newest first, with --state, --limit and an
// unknown -d refused as Airflow does.
func TestDagsListJobs(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "etl.yaml", etlDAG)
	if out := h.ok(t, "dags", "list-jobs", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("list-jobs without jobs: %s", out)
	}
	h.startDaemon(t, "scheduler is running", "scheduler")
	out := h.ok(t, "dags", "list-jobs", "--state", "running", "-o", "json")
	if got := jsonFieldNames(t, out); !slices.Equal(got, []string{"dag_id", "state", "job_type", "start_date", "end_date"}) {
		t.Errorf("list-jobs fields: %v", got)
	}
	var jobs []map[string]string
	json.Unmarshal([]byte(out), &jobs)
	types := map[string]bool{}
	for _, j := range jobs {
		types[j["job_type"]] = true
		if j["dag_id"] != "None" || j["end_date"] != "None" || j["state"] != "running" || !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00:00$`).MatchString(j["start_date"]) {
			t.Errorf("job %v: want Python str() values", j)
		}
	}
	if !types["SchedulerJob"] {
		t.Errorf("no running SchedulerJob in %v", jobs)
	}
	json.Unmarshal([]byte(h.ok(t, "dags", "list-jobs", "--limit", "1", "-o", "json")), &jobs)
	if len(jobs) != 1 {
		t.Errorf("--limit 1: %v", jobs)
	}
	h.fails(t, "DAG: nope does not exist in 'dag' table", "dags", "list-jobs", "-d", "nope")
	if out := h.ok(t, "dags", "list-jobs", "-d", "etl", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("list-jobs -d etl: %s", out)
	}
}

// TestTasksClearDagRegex: tasks clear -R clears the matching tasks of
// every DAG the expression matches, behind one prompt, as Airflow 2.10.
func TestTasksClearDagRegex(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "etl.yaml", etlDAG)
	h.writeDAG(t, "etl2.yaml", strings.Replace(etlDAG, "etl:", "etl_two:", 1))
	h.writeDAG(t, "other.yaml", strings.Replace(etlDAG, "etl:", "other:", 1))
	for _, d := range []string{"etl", "etl_two", "other"} {
		h.ok(t, "dags", "backfill", d, "-s", "2024-02-01", "-e", "2024-02-01")
	}
	r := h.run(t, "n\n", "tasks", "clear", "^etl", "-R", "-t", "^load$", "-s", "2024-02-01", "-e", "2024-02-01")
	if r.code != 0 || strings.Count(r.stdout, "Are you sure?") != 1 || !strings.Contains(r.stdout, "<TaskInstance: etl.load ") ||
		!strings.Contains(r.stdout, "<TaskInstance: etl_two.load ") || strings.Contains(r.stdout, "other.") {
		t.Errorf("clear -R, answered n: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := h.ok(t, "tasks", "clear", "^etl", "--dag-regex", "-t", "^load$", "-s", "2024-02-01", "-e", "2024-02-01", "-y"); out != "2 task instance(s) cleared\n" {
		t.Errorf("clear -R -y: %q", out)
	}
	if out := h.ok(t, "tasks", "state", "other", "load", "2024-02-01"); out != "success\n" {
		t.Errorf("other.load was cleared: %q", out)
	}
	h.fails(t, "no DAG matches", "tasks", "clear", "^zzz", "-R", "-y")
}
