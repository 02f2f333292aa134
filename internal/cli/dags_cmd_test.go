package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

const etlDAG = `etl:
  description: extract, transform, load
  schedule: "@daily"
  start_date: 2024-01-01
  default_args:
    owner: data-team
  tags: [etl]
  tasks:
    - task_id: extract
      operator: bash
      bash_command: echo extract
    - task_id: transform
      operator: airflow.operators.bash.BashOperator
      bash_command: echo transform
      dependencies: [extract]
    - task_id: load
      operator: empty
      dependencies: [transform]
`

const brokenDAG = `broken:
  schedule: "61 * * * *"
  tasks:
    - task_id: a
      operator: bash
      bash_command: echo a
`

// dagJSON is a row of dags list -o json: Airflow prints str() of scalars.
type dagJSON struct {
	DagID    string   `json:"dag_id"`
	Fileloc  string   `json:"fileloc"`
	Owners   []string `json:"owners"`
	IsPaused string   `json:"is_paused"`
}

func listDAGs(t *testing.T, h *home) map[string]dagJSON {
	t.Helper()
	var rows []dagJSON
	out := h.ok(t, "dags", "list", "-o", "json")
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("dags list -o json: %v\n%s", err, out)
	}
	m := map[string]dagJSON{}
	for _, r := range rows {
		m[r.DagID] = r
	}
	return m
}

func TestDagsListReadsTheFolderAndReportsImportErrors(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "etl.yaml", etlDAG)
	h.writeDAG(t, "team/broken.yaml", brokenDAG)

	dags := listDAGs(t, h)
	if len(dags) != 1 {
		t.Fatalf("dags = %v, want only etl", dags)
	}
	etl := dags["etl"]
	if etl.Fileloc != filepath.Join(h.dags(), "etl.yaml") || len(etl.Owners) != 1 || etl.Owners[0] != "data-team" || etl.IsPaused != "True" {
		t.Errorf("etl = %+v", etl)
	}

	var errs []struct {
		Filename   string `json:"filepath"`
		StackTrace string `json:"error"`
	}
	// Airflow exits 1 when there are import errors, after listing them.
	r := h.run(t, "", "dags", "list-import-errors", "-o", "json")
	out := r.stdout
	if r.code != 1 {
		t.Errorf("list-import-errors exit %d, want 1", r.code)
	}
	if err := json.Unmarshal([]byte(out), &errs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := filepath.Join(h.dags(), "team", "broken.yaml")
	if len(errs) != 1 || errs[0].Filename != want {
		t.Fatalf("import errors = %+v, want one for %s", errs, want)
	}
	if !strings.HasPrefix(errs[0].StackTrace, want+":2:") || !strings.Contains(errs[0].StackTrace, "cron") {
		t.Errorf("stack_trace = %q, want %s:2:<col>: ... cron ...", errs[0].StackTrace, want)
	}

	// Table and plain output carry the same rows for people.
	table := h.ok(t, "dags", "list")
	if !strings.Contains(table, "dag_id") || !strings.Contains(table, "etl") {
		t.Errorf("table output:\n%s", table)
	}
	yaml := h.ok(t, "dags", "list", "-o", "yaml")
	if !strings.Contains(yaml, "dag_id: etl") {
		t.Errorf("yaml output:\n%s", yaml)
	}
}

func TestDagsPauseUnpause(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "etl.yaml", etlDAG)
	if out := h.ok(t, "dags", "unpause", "etl", "-o", "json"); out != `[{"dag_id": "etl", "is_paused": "False"}]`+"\n" {
		t.Errorf("unpause said %q", out)
	}
	if listDAGs(t, h)["etl"].IsPaused != "False" {
		t.Error("etl still paused after unpause")
	}
	if out := h.ok(t, "dags", "unpause", "etl"); out != "No paused DAGs were found\n" {
		t.Errorf("second unpause said %q", out)
	}
	h.ok(t, "dags", "pause", "etl")
	if listDAGs(t, h)["etl"].IsPaused != "True" {
		t.Error("etl not paused after pause")
	}
	// As Airflow 2.10's set_is_paused: an unknown DAG is not an error.
	if out := h.ok(t, "dags", "pause", "nope"); out != "No unpaused DAGs were found\n" {
		t.Errorf("pause of an unknown DAG said %q", out)
	}
}

func TestDagsShowAndTasksList(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "etl.yaml", etlDAG)

	dot := h.ok(t, "dags", "show", "etl")
	for _, want := range []string{`digraph "etl"`, `"extract" -> "transform"`, `"transform" -> "load"`} {
		if !strings.Contains(dot, want) {
			t.Errorf("dags show lacks %s:\n%s", want, dot)
		}
	}
	if got := h.ok(t, "tasks", "list", "etl"); got != "extract\nload\ntransform\n" {
		t.Errorf("tasks list = %q", got)
	}
	tree := h.ok(t, "tasks", "list", "etl", "--tree")
	want := "<Task(BashOperator): extract>\n    <Task(BashOperator): transform>\n        <Task(EmptyOperator): load>\n"
	if tree != want {
		t.Errorf("tasks list --tree =\n%s\nwant\n%s", tree, want)
	}
	var tasks []struct {
		TaskID   string   `json:"task_id"`
		Upstream []string `json:"upstream_task_ids"`
	}
	if err := json.Unmarshal([]byte(h.ok(t, "tasks", "list", "etl", "-o", "json")), &tasks); err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 3 || tasks[2].TaskID != "transform" || len(tasks[2].Upstream) != 1 || tasks[2].Upstream[0] != "extract" {
		t.Errorf("tasks -o json = %+v", tasks)
	}
	h.fails(t, "missing", "tasks", "list", "missing")
}

func TestDagsReport(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "etl.yaml", etlDAG)
	var rows []struct {
		File     string   `json:"file"`
		Duration string   `json:"duration"`
		DagNum   string   `json:"dag_num"`
		TaskNum  string   `json:"task_num"`
		Dags     []string `json:"dags"`
	}
	if err := json.Unmarshal([]byte(h.ok(t, "dags", "report", "-o", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].File != "/etl.yaml" || rows[0].DagNum != "1" || rows[0].TaskNum != "3" || len(rows[0].Dags) != 1 || rows[0].Dags[0] != "etl" ||
		!strings.HasPrefix(rows[0].Duration, "0:00:") {
		t.Errorf("report = %+v", rows)
	}
}

func TestExamplesLoadWhenEnabled(t *testing.T) {
	t.Parallel()
	h := newHome(t, "WINDSOCK__CORE__LOAD_EXAMPLES=True")
	dags := listDAGs(t, h)
	for _, id := range []string{"example_bash_operator", "example_task_group", "example_xcom"} {
		if _, ok := dags[id]; !ok {
			t.Errorf("example %s not loaded; got %v", id, dags)
		}
	}
	if out := h.ok(t, "dags", "list-import-errors", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("examples have import errors: %s", out)
	}
	// Turning examples off deactivates them.
	h.env = append(h.env, "WINDSOCK__CORE__LOAD_EXAMPLES=False")
	if n := len(listDAGs(t, h)); n != 0 {
		t.Errorf("%d DAGs still listed with examples off", n)
	}
}

func TestUnknownOutputFormatIsAUsageError(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.fails(t, "argument -o/--output: invalid choice: 'xml'", "dags", "list", "-o", "xml")
	r := h.run(t, "", "dags", "list", "extra-arg")
	if r.code != 2 {
		t.Errorf("extra argument: exit %d, want 2", r.code)
	}
}
