package web

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// dagTask is a task of a test DAG.
func dagTask(id, group string, upstream ...string) *windsock.Task {
	return &windsock.Task{TaskID: id, TaskGroup: group, Operator: "bash", OperatorClass: "BashOperator",
		Upstream: upstream, TriggerRule: windsock.TriggerAllSuccess, Owner: "data-team", Retries: 1,
		Pool: windsock.DefaultPoolName, PoolSlots: 1, PriorityWeight: 1, WeightRule: windsock.WeightDownstream, Queue: "default"}
}

// etlDAG is extract -> transform.clean -> transform.join -> load, with
// the group "transform", daily, with params.
func etlDAG(id string) *windsock.DAG {
	d := &windsock.DAG{
		DagID: id, Fileloc: "/dags/" + id + ".yaml", Owners: []string{"data-team"},
		Schedule: windsock.Schedule{Kind: windsock.ScheduleCron, Expr: "@daily", Cron: "0 0 * * *"},
		Timezone: "UTC", MaxActiveRuns: 16, MaxActiveTasks: 16, Tags: []string{"finance"},
		Params: map[string]any{"region": "eu", "limit": 10.0},
		Tasks: []*windsock.Task{
			dagTask("extract", ""),
			dagTask("transform.clean", "transform", "extract"),
			dagTask("transform.join", "transform", "transform.clean"),
			dagTask("load", "", "transform.join"),
		},
		TaskGroups: []*windsock.TaskGroup{{GroupID: "transform", Tooltip: "Transformations",
			Children: []string{"transform.clean", "transform.join"}}},
	}
	d.Tasks[0].Args = map[string]any{"bash_command": "echo extract", "append_env": true}
	return d
}

// storeDAG stores a DAG as the DAG processor does: its row, definition and
// file source.
func (e *env) storeDAG(d *windsock.DAG, source string) {
	e.t.Helper()
	data, err := json.Marshal(d)
	if err != nil {
		e.t.Fatal(err)
	}
	next := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	nextEnd := next.AddDate(0, 0, 1)
	if err := e.st.DAGUpsert(e.ctx, &store.DAGUpsertParams{DagID: d.DagID, Fileloc: d.Fileloc, Owners: strings.Join(d.Owners, ","),
		ScheduleInterval: `"@daily"`, TimetableDescription: "At 00:00", MaxActiveTasks: 16, MaxActiveRuns: 16,
		Tags: d.Tags, LastParsedTime: e.now, NextDagrun: &next, NextDagrunDataIntervalStart: &next,
		NextDagrunDataIntervalEnd: &nextEnd, NextDagrunCreateAfter: &nextEnd}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.SerializedDAGUpsert(e.ctx, &windsock.SerializedDAG{DagID: d.DagID, Fileloc: d.Fileloc,
		FilelocHash: windsock.FilelocHash(d.Fileloc), Data: data, DagHash: "h-" + d.DagID, LastUpdated: e.now}); err != nil {
		e.t.Fatal(err)
	}
	if source != "" {
		if err := e.st.DAGCodeUpsert(e.ctx, &windsock.DAGCode{FilelocHash: windsock.FilelocHash(d.Fileloc),
			Fileloc: d.Fileloc, LastUpdated: e.now, SourceCode: source}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// createRun creates a manual run of d on day n of 2024 through the
// scheduler, as a trigger does.
func (e *env) createRun(d *windsock.DAG, n int, state windsock.DagRunState) *windsock.DagRun {
	e.t.Helper()
	run, err := scheduler.CreateRun(e.ctx, e.st, d, decide.NewGraph(d), scheduler.NewRun{
		LogicalDate: time.Date(2024, 1, n, 0, 0, 0, 0, time.UTC), Now: e.now, State: state})
	if err != nil {
		e.t.Fatal(err)
	}
	return run
}

// setTI changes a stored task instance.
func (e *env) setTI(run *windsock.DagRun, taskID string, change func(*windsock.TaskInstance)) {
	e.t.Helper()
	ti, err := e.st.TaskInstanceGet(e.ctx, windsock.TaskInstanceKey{DagID: run.DagID, RunID: run.RunID, TaskID: taskID, MapIndex: -1})
	if err != nil {
		e.t.Fatal(err)
	}
	change(ti)
	if _, err := e.st.TaskInstanceUpdate(e.ctx, ti); err != nil {
		e.t.Fatal(err)
	}
}

// dagEnv has the DAGs etl and other, and two runs of etl: day 1
// succeeded, day 2 running (extract success, transform.clean running).
type dagEnv struct {
	*env
	etl, other *windsock.DAG
	done, live *windsock.DagRun
}

func setupDAGPages(t *testing.T) *dagEnv {
	t.Helper()
	e := setup(t)
	de := &dagEnv{env: e, etl: etlDAG("etl"), other: etlDAG("other")}
	e.storeDAG(de.etl, "dag:\n  schedule: \"@daily\"\n  # <script>alert(1)</script>\n")
	e.storeDAG(de.other, "")
	de.done = e.createRun(de.etl, 1, windsock.DagRunSuccess)
	doneStart := de.done.LogicalDate.Add(time.Hour)
	doneEnd := doneStart.Add(time.Hour)
	de.done.StartDate, de.done.EndDate = &doneStart, &doneEnd
	if err := e.st.DagRunUpdate(e.ctx, de.done); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"extract", "transform.clean", "transform.join", "load"} {
		e.setTI(de.done, id, func(ti *windsock.TaskInstance) {
			start := de.done.LogicalDate.Add(time.Hour)
			end := start.Add(90 * time.Second)
			ti.State, ti.TryNumber, ti.StartDate, ti.EndDate, ti.Hostname = windsock.TaskStateSuccess, 1, &start, &end, "worker-1"
		})
	}
	de.live = e.createRun(de.etl, 2, windsock.DagRunRunning)
	e.setTI(de.live, "extract", func(ti *windsock.TaskInstance) { ti.State, ti.TryNumber = windsock.TaskStateSuccess, 1 })
	e.setTI(de.live, "transform.clean", func(ti *windsock.TaskInstance) {
		start := e.now.Add(-time.Minute)
		ti.State, ti.TryNumber, ti.StartDate, ti.Hostname = windsock.TaskStateRunning, 2, &start, "worker-2"
	})
	return de
}

func TestDAGPagesUnknownDAG(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	for _, p := range []string{"/dags/nope", "/dags/nope/grid", "/dags/nope/grid/live", "/dags/nope/graph", "/dags/nope/graph/states?run_id=x",
		"/dags/nope/runs", "/dags/nope/code", "/dags/nope/details", "/dags/nope/grid/r1/extract"} {
		body := de.page(p, "admin", http.StatusNotFound)
		contains(t, body, "DAG &#34;nope&#34; not found")
	}
	// Known DAG, unknown run or task.
	de.page("/dags/etl/grid?run_id=ghost", "admin", http.StatusNotFound)
	de.page("/dags/etl/graph?run_id=ghost", "admin", http.StatusNotFound)
	de.page("/dags/etl/grid/ghost/extract", "admin", http.StatusNotFound)
	de.page("/dags/etl/grid/"+url.PathEscape(de.done.RunID)+"/ghost", "admin", http.StatusNotFound)
}

func TestDAGIndexRedirectsToGrid(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	r := de.get("/dags/etl", "admin")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/dags/etl/grid" {
		t.Errorf("GET /dags/etl: %d %s", r.status, r.header.Get("Location"))
	}
	if r := de.get("/dags/etl/grid", ""); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login?next=") {
		t.Errorf("no session: %d %s", r.status, r.header.Get("Location"))
	}
}

// plusEsc is s as html/template writes it in HTML: "+" becomes "&#43;".
func plusEsc(s string) string { return strings.ReplaceAll(s, "+", "&#43;") }

// TestDAGPagesAuthorization: the limited user reads etl only and may
// change nothing; viewers read everything and change nothing; op and
// admin get the action buttons.
func TestDAGPagesAuthorization(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	de.createRun(de.other, 2, windsock.DagRunRunning) // same run id as etl's live run
	run := url.PathEscape(de.live.RunID)
	pages := []string{"/dags/%s/grid", "/dags/%s/grid/live", "/dags/%s/graph", "/dags/%s/runs", "/dags/%s/details",
		"/dags/%s/grid/" + run + "/extract", "/dags/%s/grid?run_id=" + url.QueryEscape(de.live.RunID)}
	for _, p := range pages {
		de.page(strings.ReplaceAll(p, "%s", "etl"), "limited", http.StatusOK)
		de.page(strings.ReplaceAll(p, "%s", "other"), "limited", http.StatusForbidden)
		de.page(strings.ReplaceAll(p, "%s", "other"), "viewer", http.StatusOK)
	}
	// etl-readers has no "DAG Code" permission: no tab, and the page is
	// refused.
	lacks(t, de.page("/dags/etl/grid", "limited", http.StatusOK), `id="tab-code"`)
	de.page("/dags/etl/code", "limited", http.StatusForbidden)
	contains(t, de.page("/dags/etl/grid", "viewer", http.StatusOK), `id="tab-code"`)

	actions := []string{`data-testid="pause-toggle"`, `data-testid="trigger-open"`, `data-testid="run-mark-success"`,
		`data-testid="clear-form"`}
	tiActions := []string{`data-testid="ti-mark-success"`, `data-testid="ti-mark-failed"`, `data-testid="clear-form"`}
	for _, user := range []string{"limited", "viewer"} {
		lacks(t, de.page("/dags/etl/grid?run_id="+url.QueryEscape(de.live.RunID), user, http.StatusOK), actions...)
		lacks(t, de.page("/dags/etl/grid/"+run+"/extract", user, http.StatusOK), tiActions...)
		contains(t, de.page("/dags/etl/grid", user, http.StatusOK), `data-testid="paused-state"`)
	}
	for _, user := range []string{"op", "admin"} {
		contains(t, de.page("/dags/etl/grid?run_id="+url.QueryEscape(de.live.RunID), user, http.StatusOK), actions...)
		contains(t, de.page("/dags/etl/grid/"+run+"/extract", user, http.StatusOK), tiActions...)
	}
}

func TestGridPage(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	body := de.page("/dags/etl/grid", "admin", http.StatusOK)
	live := url.PathEscape(de.live.RunID)
	contains(t, body,
		`<span id="dag-id">etl</span>`, `id="tab-grid" data-testid="tab-grid" aria-current="page"`,
		`<span class="tag">finance</span>`,
		`data-active="true"`, `data-live-url="/dags/etl/grid/live?num_runs=25"`,
		`data-testid="toggle-transform"`, `aria-expanded="true"`, `title="Transformations"`,
		`<tr data-row="transform.clean" data-groups="transform">`,
		`class="cell state-running" href="/dags/etl/grid/`+plusEsc(live)+`/transform.clean"`,
		`title="transform.clean: running, try 2, `,
		`title="extract: success, try 1, 00:01:30"`,
		`<span class="sr-only">success</span>`,
		`data-testid="run-`+plusEsc(de.done.RunID)+`"`,
		`/static/dag.js?v=`, `/static/dag.css?v=`,
		// the trigger form defaults to the params
		`&#34;region&#34;: &#34;eu&#34;`,
	)
	// Rows in topological order within groups: extract, transform,
	// transform.clean, transform.join, load.
	order := regexp.MustCompile(`data-row="([^"]+)"`).FindAllStringSubmatch(body, -1)
	var got []string
	for _, m := range order {
		got = append(got, m[1])
	}
	if strings.Join(got, " ") != "extract transform transform.clean transform.join load" {
		t.Errorf("grid rows = %v", got)
	}
	// Runs oldest first.
	if strings.Index(body, `data-run-id="`+plusEsc(de.done.RunID)) > strings.Index(body, `data-run-id="`+plusEsc(de.live.RunID)) {
		t.Error("runs are not oldest first")
	}
	lacks(t, body, `id="run-panel"`, "<script>alert")

	// A selected run gets its panel with actions that go to the API.
	sel := de.page("/dags/etl/grid?run_id="+url.QueryEscape(de.done.RunID), "admin", http.StatusOK)
	contains(t, sel, `id="run-panel"`, `data-testid="run-state">success</span>`,
		`data-api-path="/api/v1/dags/etl/dagRuns/`+strings.ReplaceAll(de.done.RunID, "+", "&#43;")+`"`,
		`data-api-path="/api/v1/dags/etl/clearTaskInstances" data-run-id="`+strings.ReplaceAll(de.done.RunID, "+", "&#43;")+`"`,
		`<input type="hidden" name="run_id"`)

	// num_runs limits the columns.
	one := de.page("/dags/etl/grid?num_runs=1", "admin", http.StatusOK)
	if strings.Count(one, `class="grid-run`) != 1 || !strings.Contains(one, plusEsc(de.live.RunID)) {
		t.Errorf("num_runs=1 shows %d runs", strings.Count(one, `class="grid-run`))
	}
	de.page("/dags/etl/grid?num_runs=0", "admin", http.StatusBadRequest)

	// The fragment is the grid alone, for polling.
	frag := de.page("/dags/etl/grid/live?num_runs=25", "admin", http.StatusOK)
	if !strings.HasPrefix(frag, `<div id="grid-live"`) || strings.Contains(frag, "<html") {
		t.Errorf("fragment: %.200s", frag)
	}
	contains(t, frag, `data-active="true"`, `data-row="load"`)

	// Once nothing runs, the page stops asking for refreshes.
	de.live.State = windsock.DagRunSuccess
	if err := de.st.DagRunUpdate(de.ctx, de.live); err != nil {
		t.Fatal(err)
	}
	contains(t, de.page("/dags/etl/grid/live", "admin", http.StatusOK), `data-active="false"`)
}

func TestGridPageWithoutRuns(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	body := de.page("/dags/other/grid", "admin", http.StatusOK)
	contains(t, body, `id="no-runs"`, `data-row="load"`, `data-active="false"`)
}

func TestGraphPage(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	// Task groups start collapsed, as in Airflow: one node for the group,
	// coloured by the summary of its tasks, linking to the graph with it
	// expanded.
	body := de.page("/dags/etl/graph", "admin", http.StatusOK)
	contains(t, body, `<svg class="dag-graph"`, `role="img"`, `id="tab-graph" data-testid="tab-graph" aria-current="page"`,
		// the newest run is selected by default
		`coloured by the states of run `+strings.ReplaceAll(de.live.RunID, "+", "&#43;"),
		`data-testid="node-group:transform"`, `class="node-box state-running"`,
		`<a href="/dags/etl/graph?expand=transform" class="node group-node"`,
		`Task group transform, 2 tasks (expand): running`, `>transform</text>`,
		`data-states-url="/dags/etl/graph/states?run_id=`, `data-active="true"`,
		`<path class="edge"`, `data-from="extract" data-to="group:transform"`, `data-from="group:transform" data-to="load"`,
		`id="graph-expand-all"`)
	lacks(t, body, `data-testid="node-transform.clean"`, `class="group-box"`)
	if n := strings.Count(body, `<rect class="node-box`); n != 3 {
		t.Errorf("%d nodes drawn, want 3", n)
	}
	if n := strings.Count(body, `<path class="edge"`); n != 2 {
		t.Errorf("%d edges drawn, want 2", n)
	}

	// Expanded, the group is a box around its tasks, which show their
	// names inside the group; the box's label collapses it again.
	open := de.page("/dags/etl/graph?expand=transform", "admin", http.StatusOK)
	contains(t, open, `data-testid="node-transform.clean"`, `>clean</text>`, `>join</text>`,
		`data-from="extract" data-to="transform.clean"`, `transform.clean (group transform): running`,
		`data-testid="group-box-transform"`, `<a href="/dags/etl/graph" class="group-toggle"`, `− transform</text>`)
	lacks(t, open, `data-testid="node-group:transform"`, `partitions.`, `>transform.clean</text>`)
	if n := strings.Count(open, `<rect class="node-box`); n != 4 {
		t.Errorf("%d nodes drawn, want 4", n)
	}
	if n := strings.Count(open, `<path class="edge"`); n != 3 {
		t.Errorf("%d edges drawn, want 3", n)
	}
	contains(t, de.page("/dags/etl/graph?expand=*", "admin", http.StatusOK), `data-testid="group-box-transform"`)
	old := de.page("/dags/etl/graph?run_id="+url.QueryEscape(de.done.RunID), "admin", http.StatusOK)
	contains(t, old, `data-active="false"`, `<a href="/dags/etl/grid/`+strings.ReplaceAll(url.PathEscape(de.done.RunID), "+", "&#43;")+`/load" class="node"`)
	lacks(t, old, `class="node-box state-running"`)
	// Without runs the graph is still drawn, all without state.
	none := de.page("/dags/other/graph", "admin", http.StatusOK)
	contains(t, none, `class="node-box state-none"`)
	lacks(t, none, `<a href=`+`"/dags/other/grid/`)

	r := de.get("/dags/etl/graph/states?run_id="+url.QueryEscape(de.live.RunID), "viewer")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("states: %d %s", r.status, r.body)
	}
	var st graphStates
	if err := json.Unmarshal([]byte(r.body), &st); err != nil {
		t.Fatal(err)
	}
	if !st.Active || st.RunState != "running" || st.States["transform.clean"] != "running" || st.States["group:transform"] != "running" || st.States["extract"] != "success" || st.States["load"] != "" {
		t.Errorf("states = %+v", st)
	}
	de.page("/dags/etl/graph/states?run_id=ghost", "admin", http.StatusNotFound)
}

func TestRunsPage(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	body := de.page("/dags/etl/runs", "viewer", http.StatusOK)
	contains(t, body, `data-testid="runs-table"`, `<span class="state state-running label">running</span>`, "manual", "<td>01:00:00</td>")
	if strings.Index(body, plusEsc(de.live.RunID)) > strings.Index(body, plusEsc(de.done.RunID)) {
		t.Error("runs are not newest first")
	}
	failed := de.page("/dags/etl/runs?state=failed", "viewer", http.StatusOK)
	contains(t, failed, `id="no-runs"`, "in state failed")
	ok := de.page("/dags/etl/runs?state=success", "viewer", http.StatusOK)
	contains(t, ok, plusEsc(de.done.RunID))
	lacks(t, ok, plusEsc(de.live.RunID))
	de.page("/dags/etl/runs?state=bogus", "viewer", http.StatusBadRequest)
}

func TestCodePage(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	body := de.page("/dags/etl/code", "viewer", http.StatusOK)
	contains(t, body, `<code id="dag-fileloc">/dags/etl.yaml</code>`, `<span class="line">dag:</span>`,
		`# &lt;script&gt;alert(1)&lt;/script&gt;`)
	lacks(t, body, "<script>alert(1)")
	if n := strings.Count(body, `<span class="line">`); n != 3 {
		t.Errorf("%d lines, want 3", n)
	}
	contains(t, de.page("/dags/other/code", "viewer", http.StatusOK), `id="no-code"`)
}

func TestDetailsPage(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	body := de.page("/dags/etl/details", "limited", http.StatusOK)
	contains(t, body, `<td id="detail-schedule">@daily</td>`, `<td id="detail-timetable">At 00:00</td>`,
		`2024-02-01 00:00:00 &ndash; 2024-02-02 00:00:00`, `<td id="detail-owners">data-team</td>`,
		`&#34;region&#34;: &#34;eu&#34;`, `<code id="detail-fileloc">/dags/etl.yaml</code>`, "in 1 task groups")
}

func TestTaskInstancePage(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	key := windsock.TaskInstanceKey{DagID: "etl", RunID: de.live.RunID, TaskID: "transform.clean", MapIndex: -1}
	first := de.now.Add(-10 * time.Minute)
	firstEnd, secs := first.Add(5*time.Second), 5
	if err := de.st.TaskFailInsert(de.ctx, &windsock.TaskFail{DagID: "etl", TaskID: key.TaskID, RunID: key.RunID, MapIndex: -1,
		StartDate: &first, EndDate: &firstEnd, Duration: &secs}); err != nil {
		t.Fatal(err)
	}
	if err := de.st.RenderedFieldsSet(de.ctx, key, []byte(`{"bash_command":"echo <b>hi</b>","env":{"A":"1"}}`)); err != nil {
		t.Fatal(err)
	}
	if err := de.st.XComSet(de.ctx, &windsock.XCom{DagRunID: de.live.ID, TaskID: key.TaskID, MapIndex: -1, Key: "return_value",
		DagID: "etl", RunID: key.RunID, Value: []byte(`{"rows":42}`), Timestamp: de.now}); err != nil {
		t.Fatal(err)
	}
	path := "/dags/etl/grid/" + url.PathEscape(key.RunID) + "/transform.clean"
	body := de.page(path, "viewer", http.StatusOK)
	esc := func(s string) string { return strings.ReplaceAll(s, "+", "&#43;") }
	contains(t, body,
		`data-testid="ti-state">running</span>`, `<dd id="ti-hostname">worker-2</dd>`,
		`data-active="true"`, `data-api-path="/api/v1/dags/etl/dagRuns/`+esc(url.PathEscape(key.RunID))+`/taskInstances/transform.clean"`,
		// two tries: the failed first, the running second
		`<td>1</td><td><span class="state state-failed label">failed</span>`, `<td>00:00:05</td>`,
		`<td>2</td><td><span class="state state-running label">running</span>`,
		`data-testid="log-try-1"`, `data-testid="log-try-2" aria-current="page"`,
		`data-log-url="/api/v1/dags/etl/dagRuns/`+esc(url.PathEscape(key.RunID))+`/taskInstances/transform.clean/logs/2" data-live="true"`,
		`id="log-search"`, `<label for="log-search">`,
		`<th scope="row">bash_command</th><td><pre>echo &lt;b&gt;hi&lt;/b&gt;</pre>`, `{&#39;A&#39;: &#39;1&#39;}`,
		`<td>return_value</td><td><pre>{`, `&#34;rows&#34;: 42`,
		`<dd>extract</dd>`, // upstream
	)
	lacks(t, body, "<b>hi</b>")
	// An earlier try's log is not live.
	contains(t, de.page(path+"?try=1", "viewer", http.StatusOK), `/logs/1" data-live="false"`, `data-testid="log-try-1" aria-current="page"`)
	de.page(path+"?try=3", "viewer", http.StatusBadRequest)
	// Earlier tries an import brought into task_instance_history are shown
	// whole, in place of what task_fail tells (as the API's tries).
	hcols := []string{"dag_id", "task_id", "run_id", "map_index", "try_number", "state", "start_date", "end_date", "duration", "hostname", "pool", "pool_slots"}
	if _, err := de.st.ImportRows(de.ctx, &store.ImportRowsParams{Source: "airflow", Table: "task_instance_history", Columns: hcols,
		Rows: [][]any{{"etl", key.TaskID, key.RunID, -1, 1, "up_for_retry", first, first.Add(7 * time.Second), 7.0, "old-worker", "default_pool", 1}}}); err != nil {
		t.Fatal(err)
	}
	contains(t, de.page(path, "viewer", http.StatusOK), `<td>1</td><td><span class="state state-up_for_retry label">up_for_retry</span>`, `<td>00:00:07</td>`)
	de.page(path+"?try=x", "viewer", http.StatusBadRequest)
	// A try whose templated fields hold no template stored nothing: the
	// fields are shown as written (only the templated ones).
	extract := de.page("/dags/etl/grid/"+url.PathEscape(key.RunID)+"/extract", "viewer", http.StatusOK)
	contains(t, extract, `id="rendered-note"`, `<th scope="row">bash_command</th><td><pre>echo extract</pre>`)
	lacks(t, extract, `<th scope="row">append_env</th>`)
	// Not started: no log yet.
	notYet := de.page("/dags/etl/grid/"+url.PathEscape(key.RunID)+"/load", "viewer", http.StatusOK)
	contains(t, notYet, `id="no-log"`, "Not tried yet.")
	lacks(t, notYet, `data-log-url`)
	// The limited user may read task instances but not their logs or XCom.
	limited := de.page(path, "limited", http.StatusOK)
	lacks(t, limited, `data-log-url`, `id="xcom-title"`)
	contains(t, limited, "You may not read task logs.")
}

// TestDAGPageActionsReachTheAPI sends what the page's buttons send, with
// the paths and bodies the page carries, the session cookie and the CSRF
// token: the API accepts them.
func TestDAGPageActionsReachTheAPI(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	cookie := de.session("op")
	send := func(method, path, body string) response {
		t.Helper()
		h := http.Header{"Content-Type": {"application/json"}, "X-Csrf-Token": {de.csrf(cookie)}}
		return de.do(method, path, "", body, h, cookie)
	}
	// attr reads an attribute of the element with a data-testid.
	attr := func(page, testid, name string) string {
		t.Helper()
		tag := regexp.MustCompile(`<[^<>]*data-testid="` + regexp.QuoteMeta(testid) + `"[^<>]*>`).FindString(page)
		m := regexp.MustCompile(` ` + name + `=(?:"([^"]*)"|'([^']*)')`).FindStringSubmatch(tag)
		if m == nil {
			t.Fatalf("no %s on %s in %q", name, testid, tag)
		}
		return html.UnescapeString(m[1] + m[2])
	}
	run := url.PathEscape(de.live.RunID)
	ti := de.page("/dags/etl/grid/"+run+"/transform.clean", "op", http.StatusOK)

	// Clear preview: a dry run lists the instance and its downstream.
	clearPath := attr(ti, "clear-form", "data-api-path")
	body, _ := json.Marshal(map[string]any{"dry_run": true, "dag_run_id": attr(ti, "clear-form", "data-run-id"),
		"task_ids": []string{attr(ti, "clear-form", "data-task-id")}, "include_downstream": true, "include_upstream": false,
		"only_failed": false, "reset_dag_runs": true})
	r := send("POST", clearPath, string(body))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"task_id":"transform.join"`) || !strings.Contains(r.body, `"task_id":"load"`) {
		t.Fatalf("clear preview: %d %s", r.status, r.body)
	}

	// Mark the task instance success.
	r = send("PATCH", attr(ti, "ti-mark-success", "data-api-path"), attr(ti, "ti-mark-success", "data-api-body"))
	if r.status != http.StatusOK {
		t.Fatalf("mark success: %d %s", r.status, r.body)
	}
	contains(t, de.page("/dags/etl/grid/"+run+"/transform.clean", "op", http.StatusOK), `data-testid="ti-state">success</span>`)

	// Mark the run failed.
	grid := de.page("/dags/etl/grid?run_id="+url.QueryEscape(de.live.RunID), "op", http.StatusOK)
	r = send("PATCH", attr(grid, "run-mark-failed", "data-api-path"), attr(grid, "run-mark-failed", "data-api-body"))
	if r.status != http.StatusOK {
		t.Fatalf("mark run failed: %d %s", r.status, r.body)
	}

	// Trigger with a conf, as the trigger form does.
	r = send("POST", attr(grid, "dag-header", "data-api-path")+"/dagRuns", `{"conf":{"region":"us"},"dag_run_id":"from_ui"}`)
	if r.status != http.StatusOK {
		t.Fatalf("trigger: %d %s", r.status, r.body)
	}
	contains(t, de.page("/dags/etl/grid?run_id=from_ui", "op", http.StatusOK), `data-testid="run-state">queued</span>`, `&#34;region&#34;: &#34;us&#34;`)
	// The API refuses a conf that is not an object, whatever the browser did.
	if r := send("POST", "/api/v1/dags/etl/dagRuns", `{"conf":[1]}`); r.status != http.StatusBadRequest {
		t.Errorf("array conf: %d %s", r.status, r.body)
	}
	// Without the CSRF token the API refuses the session.
	if r := de.do("PATCH", "/api/v1/dags/etl?update_mask=is_paused", "", `{"is_paused":true}`,
		http.Header{"Content-Type": {"application/json"}}, cookie); r.status != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", r.status)
	}
}
