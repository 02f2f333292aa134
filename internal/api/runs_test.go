package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

// runsEnv is a server with two DAGs, etl (extract -> load) and other (x),
// and a user "team" whose custom role reaches etl only.
type runsEnv struct {
	*env
	logs string
	dags map[string]*windsock.DAG
}

var runsDay = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func setupRuns(t *testing.T) *runsEnv {
	t.Helper()
	e := setup(t)
	re := &runsEnv{env: e, logs: t.TempDir(), dags: map[string]*windsock.DAG{}}
	// A server of our own, to set the log folder.
	srv := httptest.NewServer((&Server{Store: e.st, Config: e.cfg, Version: "1.2.3", LogFolder: re.logs}).Handler())
	t.Cleanup(srv.Close)
	e.srv.Close()
	e.srv = srv
	mustDo(t, e.st.PoolUpsert(e.ctx, &windsock.Pool{Pool: windsock.DefaultPoolName, Slots: 128}))
	re.putDAG("etl", task("extract"), task("load", "extract"))
	re.putDAG("other", task("x"))
	mustDo(t, e.st.RoleCreate(e.ctx, &windsock.Role{Name: "team", Permissions: []windsock.Permission{
		{Action: auth.ActionRead, Resource: "DAG:etl"}, {Action: auth.ActionEdit, Resource: "DAG:etl"},
		{Action: auth.ActionRead, Resource: auth.ResourceDAGRun}, {Action: auth.ActionCreate, Resource: auth.ResourceDAGRun},
		{Action: auth.ActionEdit, Resource: auth.ResourceDAGRun}, {Action: auth.ActionDelete, Resource: auth.ResourceDAGRun},
		{Action: auth.ActionRead, Resource: auth.ResourceTaskInstance}, {Action: auth.ActionEdit, Resource: auth.ResourceTaskInstance},
		{Action: auth.ActionRead, Resource: auth.ResourceTaskLog}, {Action: auth.ActionRead, Resource: auth.ResourceXCom},
	}}))
	mustDo(t, e.st.UserCreate(e.ctx, &windsock.User{Username: "team", FirstName: "T", LastName: "Eam",
		Email: "team@example.com", Password: passwordHash(), Active: true, Roles: []string{"team"}}))
	return re
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func task(id string, upstream ...string) *windsock.Task {
	return &windsock.Task{TaskID: id, Operator: "bash", OperatorClass: "BashOperator", Upstream: upstream,
		TriggerRule: windsock.TriggerAllSuccess, Owner: "airflow", Retries: 1, Pool: windsock.DefaultPoolName,
		PoolSlots: 1, PriorityWeight: 1, WeightRule: windsock.WeightDownstream, Queue: "default"}
}

// putDAG stores a DAG as the DAG processor would, unpaused.
func (re *runsEnv) putDAG(id string, tasks ...*windsock.Task) {
	t := re.t
	t.Helper()
	d := &windsock.DAG{DagID: id, Fileloc: "/dags/" + id + ".yaml", Schedule: windsock.Schedule{Kind: windsock.ScheduleNone},
		Timezone: "UTC", MaxActiveRuns: 16, MaxActiveTasks: 16, Tasks: tasks}
	data, err := json.Marshal(d)
	mustDo(t, err)
	mustDo(t, re.st.DAGUpsert(re.ctx, &store.DAGUpsertParams{DagID: id, Fileloc: d.Fileloc, MaxActiveTasks: 16,
		MaxActiveRuns: 16, LastParsedTime: time.Now()}))
	_, err = re.st.SerializedDAGUpsert(re.ctx, &windsock.SerializedDAG{DagID: id, Fileloc: d.Fileloc, Data: data,
		DagHash: "h-" + id, LastUpdated: time.Now()})
	mustDo(t, err)
	re.dags[id] = d
}

// createRun stores a manual run of a DAG on day n.
func (re *runsEnv) createRun(dagID string, n int) *windsock.DagRun {
	re.t.Helper()
	d := re.dags[dagID]
	run, err := scheduler.CreateRun(re.ctx, re.st, d, decide.NewGraph(d), scheduler.NewRun{
		LogicalDate: runsDay.AddDate(0, 0, n), Now: time.Now()})
	mustDo(re.t, err)
	return run
}

// setTI changes a stored task instance.
func (re *runsEnv) setTI(dagID, runID, taskID string, change func(*windsock.TaskInstance)) *windsock.TaskInstance {
	re.t.Helper()
	ti, err := re.st.TaskInstanceGet(re.ctx, windsock.TaskInstanceKey{DagID: dagID, RunID: runID, TaskID: taskID, MapIndex: -1})
	mustDo(re.t, err)
	change(ti)
	_, err = re.st.TaskInstanceUpdate(re.ctx, ti)
	mustDo(re.t, err)
	return ti
}

type dagRunList struct {
	DagRuns []dagRunJSON `json:"dag_runs"`
	Total   int          `json:"total_entries"`
}

func (l dagRunList) ids() []string {
	out := []string{}
	for _, r := range l.DagRuns {
		out = append(out, r.DagID+"/"+r.DagRunID)
	}
	return out
}

type tiList struct {
	TaskInstances []taskInstanceJSON `json:"task_instances"`
	Total         int                `json:"total_entries"`
}

func (l tiList) ids() []string {
	out := []string{}
	for _, ti := range l.TaskInstances {
		out = append(out, ti.DagID+"/"+ti.DagRunID+"/"+ti.TaskID)
	}
	return out
}

func TestPostDagRun(t *testing.T) {
	t.Parallel()
	re := setupRuns(t)
	body := map[string]any{"dag_run_id": "r1", "logical_date": "2024-02-01T10:00:00+02:00", "conf": map[string]any{"a": 1},
		"note": "first"}
	var run dagRunJSON
	re.ok(re.doChecked("POST", "/api/v1/dags/etl/dagRuns", "user", body), http.StatusOK, &run)
	want := time.Date(2024, 2, 1, 8, 0, 0, 0, time.UTC)
	if run.DagID != "etl" || run.DagRunID != "r1" || !run.LogicalDate.Equal(want) || !run.ExecutionDate.Equal(want) ||
		run.State != "queued" || run.RunType != "manual" || !run.ExternalTrigger || run.Conf["a"] != 1.0 ||
		run.Note == nil || *run.Note != "first" || run.DataIntervalStart == nil || run.DataIntervalEnd == nil {
		t.Fatalf("triggered run = %+v", run)
	}
	tis, err := re.st.TaskInstanceList(re.ctx, &store.TaskInstanceListParams{DagID: "etl", RunID: "r1"})
	if err != nil || len(tis) != 2 {
		t.Fatalf("task instances = %d, %v", len(tis), err)
	}
	re.problem(re.doChecked("POST", "/api/v1/dags/etl/dagRuns", "user", body), http.StatusConflict, "DAGRun ID: 'r1' already exists")
	body["dag_run_id"] = "r2"
	re.problem(re.doChecked("POST", "/api/v1/dags/etl/dagRuns", "user", body), http.StatusConflict, "logical date: '2024-02-01T08:00:00+00:00' already exists")

	// Defaults: run id from the logical date; logical date now.
	re.ok(re.doChecked("POST", "/api/v1/dags/etl/dagRuns", "admin", map[string]any{"execution_date": "2024-03-01T00:00:00Z",
		"data_interval_start": "2024-02-01T00:00:00Z", "data_interval_end": "2024-03-01T00:00:00Z"}), http.StatusOK, &run)
	if run.DagRunID != "manual__2024-03-01T00:00:00+00:00" || !run.DataIntervalStart.Equal(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("defaulted run = %+v", run)
	}
	before := time.Now().Add(-time.Second)
	var bare dagRunJSON
	re.ok(re.doChecked("POST", "/api/v1/dags/other/dagRuns", "admin", map[string]any{}), http.StatusOK, &bare)
	if bare.LogicalDate.Before(before) || !strings.HasPrefix(bare.DagRunID, "manual__") || bare.Conf == nil || len(bare.Conf) != 0 {
		t.Fatalf("run triggered with no fields = %+v", bare)
	}

	for name, c := range map[string]struct {
		path   string
		body   any
		status int
		detail string
	}{
		"unknown dag":       {"/api/v1/dags/nope/dagRuns", map[string]any{}, 404, "DAG with dag_id: 'nope' not found"},
		"read-only field":   {"/api/v1/dags/etl/dagRuns", map[string]any{"state": "success"}, 400, `unknown field "state"`},
		"conf not object":   {"/api/v1/dags/etl/dagRuns", map[string]any{"conf": []int{1}}, 400, `field "conf": expected object`},
		"bad date":          {"/api/v1/dags/etl/dagRuns", map[string]any{"logical_date": "yesterday"}, 400, "logical_date: expected an ISO 8601"},
		"dates conflict":    {"/api/v1/dags/etl/dagRuns", map[string]any{"logical_date": "2024-05-01T00:00:00Z", "execution_date": "2024-05-02T00:00:00Z"}, 400, "conflicts"},
		"run id pattern":    {"/api/v1/dags/etl/dagRuns", map[string]any{"dag_run_id": "my run"}, 400, "does not match the pattern"},
		"run id traversal":  {"/api/v1/dags/etl/dagRuns", map[string]any{"dag_run_id": "../x"}, 400, "does not match"},
		"run id too long":   {"/api/v1/dags/etl/dagRuns", map[string]any{"dag_run_id": strings.Repeat("a", 251)}, 400, "longer than 250"},
		"half interval":     {"/api/v1/dags/etl/dagRuns", map[string]any{"data_interval_start": "2024-05-01T00:00:00Z"}, 400, "both must be provided"},
		"interval reversed": {"/api/v1/dags/etl/dagRuns", map[string]any{"data_interval_start": "2024-05-02T00:00:00Z", "data_interval_end": "2024-05-01T00:00:00Z"}, 400, "must not be after"},
		"note too long":     {"/api/v1/dags/etl/dagRuns", map[string]any{"note": strings.Repeat("n", 1001)}, 400, "at most 1000"},
		"dag id too long":   {"/api/v1/dags/" + strings.Repeat("d", 251) + "/dagRuns", map[string]any{}, 400, "dag_id must be 1 to 250"},
		"dag id separator":  {"/api/v1/dags/a%2F..%2Fb/dagRuns", map[string]any{}, 400, "not allowed"},
		"viewer":            {"/api/v1/dags/etl/dagRuns", map[string]any{}, 403, "permission"},
		"team other dag":    {"/api/v1/dags/other/dagRuns", map[string]any{}, 403, "permission"},
	} {
		t.Run(name, func(t *testing.T) {
			user := "admin"
			switch name {
			case "viewer":
				user = "viewer"
			case "team other dag":
				user = "team"
			}
			re.problem(re.doChecked("POST", c.path, user, c.body), c.status, c.detail)
		})
	}
	re.ok(re.doChecked("POST", "/api/v1/dags/etl/dagRuns", "team", map[string]any{"dag_run_id": "by-team"}), http.StatusOK, nil)
	runs, err := re.st.DagRunList(re.ctx, &store.DagRunListParams{})
	if err != nil || len(runs) != 4 {
		t.Fatalf("runs after the refused requests = %d, %v; want 4", len(runs), err)
	}
	events, err := re.st.EventLogList(re.ctx, &store.EventLogListParams{Event: "api.post_dag_run"})
	if err != nil || len(events) != 4 || events[0].DagID != "etl" {
		t.Fatalf("post_dag_run events = %d (%v)", len(events), err)
	}
}

func TestGetDagRuns(t *testing.T) {
	t.Parallel()
	re := setupRuns(t)
	r1, r2, r3 := re.createRun("etl", 1), re.createRun("etl", 2), re.createRun("other", 3)
	done := *r2
	mustDo(t, scheduler.SetDagRunState(re.ctx, re.st, &done, windsock.DagRunSuccess, time.Now()))
	var l dagRunList
	re.ok(re.doChecked("GET", "/api/v1/dags/~/dagRuns", "viewer", nil), http.StatusOK, &l)
	if l.Total != 3 || !slices.Equal(l.ids(), []string{"etl/" + r1.RunID, "etl/" + r2.RunID, "other/" + r3.RunID}) {
		t.Fatalf("all runs = %v (total %d)", l.ids(), l.Total)
	}
	re.ok(re.doChecked("GET", "/api/v1/dags/~/dagRuns?order_by=-execution_date&limit=2&offset=1", "viewer", nil), http.StatusOK, &l)
	if l.Total != 3 || !slices.Equal(l.ids(), []string{"etl/" + r2.RunID, "etl/" + r1.RunID}) {
		t.Fatalf("page = %v (total %d)", l.ids(), l.Total)
	}
	re.ok(re.doChecked("GET", "/api/v1/dags/etl/dagRuns?state=success", "viewer", nil), http.StatusOK, &l)
	if l.Total != 1 || l.DagRuns[0].DagRunID != r2.RunID || l.DagRuns[0].EndDate == nil {
		t.Fatalf("success runs = %v", l.ids())
	}
	re.ok(re.doChecked("GET", "/api/v1/dags/etl/dagRuns?state=success&state=queued", "viewer", nil), http.StatusOK, &l)
	if l.Total != 2 {
		t.Fatalf("success or queued = %v", l.ids())
	}
	q := url.Values{"execution_date_gte": {"2024-01-03T00:00:00Z"}, "execution_date_lte": {"2024-01-04T00:00:00+00:00"}}
	re.ok(re.doChecked("GET", "/api/v1/dags/~/dagRuns?"+q.Encode(), "viewer", nil), http.StatusOK, &l)
	if l.Total != 2 {
		t.Fatalf("runs of days 3-4 = %v", l.ids())
	}
	q = url.Values{"end_date_gte": {time.Now().Add(-time.Hour).Format(time.RFC3339)}, "updated_at_lte": {time.Now().Add(time.Hour).Format(time.RFC3339)},
		"start_date_lte": {time.Now().Add(time.Hour).Format(time.RFC3339)}}
	re.ok(re.doChecked("GET", "/api/v1/dags/~/dagRuns?"+q.Encode(), "viewer", nil), http.StatusOK, &l)
	if l.Total != 0 {
		// r2 was marked success without starting: its start_date is null.
		t.Fatalf("runs with a start and end = %v", l.ids())
	}
	var partial struct {
		DagRuns []map[string]any `json:"dag_runs"`
	}
	re.ok(re.doChecked("GET", "/api/v1/dags/etl/dagRuns?fields=dag_run_id,state", "viewer", nil), http.StatusOK, &partial)
	if len(partial.DagRuns) != 2 || len(partial.DagRuns[0]) != 2 || partial.DagRuns[0]["state"] != "queued" {
		t.Fatalf("fields = %v", partial.DagRuns)
	}
	// A custom role sees its DAG only, and gets a 403 on the other.
	re.ok(re.doChecked("GET", "/api/v1/dags/~/dagRuns", "team", nil), http.StatusOK, &l)
	if l.Total != 2 || slices.ContainsFunc(l.DagRuns, func(r dagRunJSON) bool { return r.DagID != "etl" }) {
		t.Fatalf("team sees %v", l.ids())
	}
	re.problem(re.doChecked("GET", "/api/v1/dags/other/dagRuns", "team", nil), http.StatusForbidden, "permission")
	re.problem(re.doChecked("GET", "/api/v1/dags/~/dagRuns", "public", nil), http.StatusForbidden, "permission")
	re.problem(re.doChecked("GET", "/api/v1/dags/~/dagRuns?state=done", "viewer", nil), http.StatusBadRequest, `"done" is not a DAG run state`)
	re.problem(re.doChecked("GET", "/api/v1/dags/~/dagRuns?start_date_gte=monday", "viewer", nil), http.StatusBadRequest, "start_date_gte")
	re.problem(re.doChecked("GET", "/api/v1/dags/~/dagRuns?order_by=colour", "viewer", nil), http.StatusBadRequest, "order_by must be one of")
	re.problem(re.doChecked("GET", "/api/v1/dags/~/dagRuns?fields=colour", "viewer", nil), http.StatusBadRequest, `"colour" is not a field`)
	re.problem(re.doChecked("GET", "/api/v1/dags/~/dagRuns?limit=-1", "viewer", nil), http.StatusBadRequest, "limit")

	// The batch form.
	re.ok(re.doChecked("POST", "/api/v1/dags/~/dagRuns/list", "viewer", map[string]any{"dag_ids": []string{"etl"},
		"states": []string{"queued"}, "page_limit": 1, "order_by": "-dag_run_id"}), http.StatusOK, &l)
	if l.Total != 1 || l.DagRuns[0].DagRunID != r1.RunID {
		t.Fatalf("batch = %v (total %d)", l.ids(), l.Total)
	}
	re.ok(re.doChecked("POST", "/api/v1/dags/~/dagRuns/list", "viewer", map[string]any{"page_offset": 2,
		"execution_date_gte": "2024-01-01T00:00:00Z"}), http.StatusOK, &l)
	if l.Total != 3 || len(l.DagRuns) != 1 {
		t.Fatalf("batch page = %v (total %d)", l.ids(), l.Total)
	}
	re.ok(re.doChecked("POST", "/api/v1/dags/~/dagRuns/list", "team", map[string]any{"dag_ids": []string{"etl", "other"}}), http.StatusOK, &l)
	if l.Total != 2 {
		t.Fatalf("team batch = %v", l.ids())
	}
	re.problem(re.doChecked("POST", "/api/v1/dags/~/dagRuns/list", "viewer", map[string]any{"dag_id": "etl"}), http.StatusBadRequest, `unknown field "dag_id"`)
	re.problem(re.doChecked("POST", "/api/v1/dags/~/dagRuns/list", "viewer", map[string]any{"page_limit": 0}), http.StatusBadRequest, "page_limit")
	re.problem(re.doChecked("POST", "/api/v1/dags/~/dagRuns/list", "viewer", map[string]any{"states": []string{"x"}}), http.StatusBadRequest, "states")
	re.problem(re.doChecked("POST", "/api/v1/dags/~/dagRuns/list", "viewer", map[string]any{"end_date_lte": "x"}), http.StatusBadRequest, "end_date_lte")
	re.problem(re.doChecked("POST", "/api/v1/dags/~/dagRuns/list", "public", map[string]any{}), http.StatusForbidden, "")
	if events, _ := re.st.EventLogList(re.ctx, &store.EventLogListParams{}); len(events) != 0 {
		t.Errorf("batch reads were logged as changes: %d events", len(events))
	}
}

func TestDagRunChanges(t *testing.T) {
	t.Parallel()
	re := setupRuns(t)
	run := re.createRun("etl", 1)
	path := "/api/v1/dags/etl/dagRuns/" + url.PathEscape(run.RunID)
	var got dagRunJSON
	re.ok(re.doChecked("GET", path, "viewer", nil), http.StatusOK, &got)
	if got.DagRunID != run.RunID || got.State != "queued" {
		t.Fatalf("get = %+v", got)
	}
	re.problem(re.doChecked("GET", "/api/v1/dags/etl/dagRuns/nope", "viewer", nil), http.StatusNotFound, "DagRun ID: 'nope' not found")
	re.ok(re.doChecked("GET", path, "team", nil), http.StatusOK, nil)

	// Clear: a dry run (the default) lists, a real one resets.
	re.setTI("etl", run.RunID, "extract", func(ti *windsock.TaskInstance) { ti.State = windsock.TaskStateFailed; ti.TryNumber = 1 })
	var cleared tiList
	re.ok(re.doChecked("POST", path+"/clear", "user", map[string]any{}), http.StatusOK, &cleared)
	if cleared.Total != 2 || len(cleared.TaskInstances) != 2 {
		t.Fatalf("dry-run clear = %v", cleared.ids())
	}
	if ti, _ := re.st.TaskInstanceGet(re.ctx, windsock.TaskInstanceKey{DagID: "etl", RunID: run.RunID, TaskID: "extract", MapIndex: -1}); ti.State != windsock.TaskStateFailed {
		t.Fatalf("dry run changed extract to %q", ti.State)
	}
	re.ok(re.doChecked("POST", path+"/clear", "user", map[string]any{"dry_run": false}), http.StatusOK, &got)
	if got.State != "queued" {
		t.Fatalf("cleared run = %+v", got)
	}
	if ti, _ := re.st.TaskInstanceGet(re.ctx, windsock.TaskInstanceKey{DagID: "etl", RunID: run.RunID, TaskID: "extract", MapIndex: -1}); ti.State != windsock.TaskStateNone {
		t.Fatalf("clear left extract %q", ti.State)
	}
	re.problem(re.doChecked("POST", path+"/clear", "user", map[string]any{"only_failed": true}), http.StatusBadRequest, `unknown field "only_failed"`)
	re.problem(re.doChecked("POST", path+"/clear", "viewer", map[string]any{}), http.StatusForbidden, "")

	// Mark the run.
	re.ok(re.doChecked("PATCH", path, "user", map[string]any{"state": "failed"}), http.StatusOK, &got)
	if got.State != "failed" || got.EndDate == nil {
		t.Fatalf("marked failed = %+v", got)
	}
	tis, _ := re.st.TaskInstanceList(re.ctx, &store.TaskInstanceListParams{DagID: "etl", RunID: run.RunID})
	for _, ti := range tis {
		if ti.State != windsock.TaskStateSkipped {
			t.Errorf("after marking failed, %s is %q, want skipped", ti.TaskID, ti.State)
		}
	}
	re.ok(re.doChecked("PATCH", path, "team", map[string]any{"state": "queued"}), http.StatusOK, &got)
	if got.State != "queued" {
		t.Fatalf("marked queued = %+v", got)
	}
	re.problem(re.doChecked("PATCH", path, "user", map[string]any{"state": "running"}), http.StatusBadRequest, `"running" is not one of`)
	re.problem(re.doChecked("PATCH", path, "user", map[string]any{}), http.StatusBadRequest, "state: required")
	re.problem(re.doChecked("PATCH", path, "viewer", map[string]any{"state": "success"}), http.StatusForbidden, "")
	re.problem(re.doChecked("PATCH", "/api/v1/dags/etl/dagRuns/nope", "user", map[string]any{"state": "success"}), http.StatusNotFound, "not found")

	// Notes.
	re.ok(re.doChecked("PATCH", path+"/setNote", "user", map[string]any{"note": "looked at it"}), http.StatusOK, &got)
	if got.Note == nil || *got.Note != "looked at it" {
		t.Fatalf("note = %v", got.Note)
	}
	re.problem(re.doChecked("PATCH", path+"/setNote", "user", map[string]any{}), http.StatusBadRequest, "note: required")
	re.problem(re.doChecked("PATCH", path+"/setNote", "user", map[string]any{"note": 5}), http.StatusBadRequest, "expected string")
	re.problem(re.doChecked("PATCH", path+"/setNote", "viewer", map[string]any{"note": "x"}), http.StatusForbidden, "")

	// Delete.
	re.problem(re.doChecked("DELETE", path, "viewer", nil), http.StatusForbidden, "")
	re.ok(re.doChecked("DELETE", path, "user", nil), http.StatusNoContent, nil)
	re.problem(re.doChecked("DELETE", path, "user", nil), http.StatusNotFound, "not found")
	re.problem(re.doChecked("GET", path, "viewer", nil), http.StatusNotFound, "not found")
}

func TestTaskInstances(t *testing.T) {
	t.Parallel()
	re := setupRuns(t)
	r1, r2, r3 := re.createRun("etl", 1), re.createRun("etl", 2), re.createRun("other", 1)
	start := time.Date(2024, 1, 2, 1, 0, 0, 0, time.UTC)
	re.setTI("etl", r1.RunID, "extract", func(ti *windsock.TaskInstance) {
		ti.State, ti.TryNumber, ti.StartDate, ti.Duration = windsock.TaskStateSuccess, 1, &start, runsPtr(30.0)
		ti.EndDate, ti.Hostname, ti.Executor = runsPtr(start.Add(30*time.Second)), "worker-1", "LocalExecutor"
	})
	re.setTI("etl", r1.RunID, "load", func(ti *windsock.TaskInstance) {
		ti.State, ti.TryNumber, ti.Pool = windsock.TaskStateFailed, 2, "big"
	})
	key := windsock.TaskInstanceKey{DagID: "etl", RunID: r1.RunID, TaskID: "extract", MapIndex: -1}
	mustDo(t, re.st.RenderedFieldsSet(re.ctx, key, []byte(`{"bash_command":"echo hi"}`)))
	mustDo(t, re.st.SlaMissInsert(re.ctx, &windsock.SlaMiss{DagID: "etl", TaskID: "extract", ExecutionDate: r1.LogicalDate,
		Timestamp: start, Description: "late"}))

	var l tiList
	re.ok(re.doChecked("GET", "/api/v1/dags/etl/dagRuns/"+r1.RunID+"/taskInstances", "viewer", nil), http.StatusOK, &l)
	if l.Total != 2 || !slices.Equal(l.ids(), []string{"etl/" + r1.RunID + "/extract", "etl/" + r1.RunID + "/load"}) {
		t.Fatalf("run 1 = %v", l.ids())
	}
	ex := l.TaskInstances[0]
	if ex.State == nil || *ex.State != "success" || ex.TryNumber != 1 || *ex.Duration != 30 || ex.Hostname != "worker-1" ||
		!ex.ExecutionDate.Equal(r1.LogicalDate) || string(ex.RenderedFields) != `{"bash_command":"echo hi"}` ||
		ex.SlaMiss == nil || *ex.SlaMiss.Description != "late" || ex.Operator == nil || *ex.Operator != "BashOperator" ||
		ex.TaskDisplayName != "extract" || ex.MaxTries != 1 || ex.Executor == nil || *ex.Executor != "LocalExecutor" {
		t.Fatalf("extract = %+v", ex)
	}
	re.ok(re.doChecked("GET", "/api/v1/dags/~/dagRuns/~/taskInstances", "viewer", nil), http.StatusOK, &l)
	if l.Total != 5 {
		t.Fatalf("all = %v", l.ids())
	}
	if l.TaskInstances[4].State != nil || string(l.TaskInstances[4].RenderedFields) != "{}" || l.TaskInstances[4].SlaMiss != nil {
		t.Fatalf("an unscheduled instance = %+v", l.TaskInstances[4])
	}
	for query, want := range map[string][]string{
		"state=none":                                  {"etl/" + r2.RunID + "/extract", "etl/" + r2.RunID + "/load", "other/" + r3.RunID + "/x"},
		"state=success&state=failed":                  {"etl/" + r1.RunID + "/extract", "etl/" + r1.RunID + "/load"},
		"pool=big":                                    {"etl/" + r1.RunID + "/load"},
		"queue=default&limit=1&offset=4":              {"other/" + r3.RunID + "/x"},
		"executor=LocalExecutor":                      {"etl/" + r1.RunID + "/extract"},
		"duration_gte=10&duration_lte=30":             {"etl/" + r1.RunID + "/extract"},
		"start_date_gte=2024-01-02T00:00:00Z":         {"etl/" + r1.RunID + "/extract"},
		"end_date_lte=2024-01-03T00:00:00Z":           {"etl/" + r1.RunID + "/extract"},
		"execution_date_gte=2024-01-03T00:00:00Z":     {"etl/" + r2.RunID + "/extract", "etl/" + r2.RunID + "/load"},
		"updated_at_lte=2000-01-01T00:00:00Z":         {},
		"order_by=-try_number&limit=2":                {"etl/" + r1.RunID + "/load", "etl/" + r1.RunID + "/extract"},
		"order_by=-execution_date&state=none&limit=1": {"etl/" + r2.RunID + "/extract"},
	} {
		re.ok(re.doChecked("GET", "/api/v1/dags/~/dagRuns/~/taskInstances?"+query, "viewer", nil), http.StatusOK, &l)
		if !slices.Equal(l.ids(), want) {
			t.Errorf("%s = %v, want %v", query, l.ids(), want)
		}
	}
	re.ok(re.doChecked("GET", "/api/v1/dags/~/dagRuns/~/taskInstances", "team", nil), http.StatusOK, &l)
	if l.Total != 4 {
		t.Fatalf("team sees %v", l.ids())
	}
	re.problem(re.doChecked("GET", "/api/v1/dags/other/dagRuns/~/taskInstances", "team", nil), http.StatusForbidden, "")
	re.problem(re.doChecked("GET", "/api/v1/dags/~/dagRuns/~/taskInstances?state=sleeping", "viewer", nil), http.StatusBadRequest, `"sleeping" is not a task instance state`)
	re.problem(re.doChecked("GET", "/api/v1/dags/~/dagRuns/~/taskInstances?duration_gte=long", "viewer", nil), http.StatusBadRequest, "duration_gte: expected a number")
	re.problem(re.doChecked("GET", "/api/v1/dags/~/dagRuns/~/taskInstances?order_by=pid", "viewer", nil), http.StatusBadRequest, "order_by")
	re.problem(re.doChecked("GET", "/api/v1/dags/~/dagRuns/~/taskInstances", "public", nil), http.StatusForbidden, "")

	// Batch.
	re.ok(re.doChecked("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", "viewer", map[string]any{
		"dag_ids": []string{"etl"}, "state": []any{nil, "failed"}, "page_limit": 2, "page_offset": 1}), http.StatusOK, &l)
	if l.Total != 3 || len(l.TaskInstances) != 2 {
		t.Fatalf("batch = %v (total %d)", l.ids(), l.Total)
	}
	re.ok(re.doChecked("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", "viewer", map[string]any{
		"dag_run_ids": []string{r3.RunID}, "task_ids": []string{"x"}, "duration_lte": 1}), http.StatusOK, &l)
	if l.Total != 0 {
		t.Fatalf("batch by duration = %v", l.ids())
	}
	re.ok(re.doChecked("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", "team", map[string]any{}), http.StatusOK, &l)
	if l.Total != 4 {
		t.Fatalf("team batch = %v", l.ids())
	}
	re.problem(re.doChecked("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", "team", map[string]any{"dag_ids": []string{"etl", "other"}}),
		http.StatusForbidden, "other")
	re.problem(re.doChecked("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", "viewer", map[string]any{"state": []string{"odd"}}), http.StatusBadRequest, "odd")
	re.problem(re.doChecked("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", "viewer", map[string]any{"pools": []string{"x"}}), http.StatusBadRequest, `unknown field "pools"`)
	re.problem(re.doChecked("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", "viewer", map[string]any{"task_ids": []string{"../x"}}), http.StatusBadRequest, "not allowed")

	// One task instance.
	tiPath := "/api/v1/dags/etl/dagRuns/" + r1.RunID + "/taskInstances/extract"
	var one taskInstanceJSON
	re.ok(re.doChecked("GET", tiPath, "viewer", nil), http.StatusOK, &one)
	if one.TaskID != "extract" || one.DagRunID != r1.RunID || one.SlaMiss == nil {
		t.Fatalf("get = %+v", one)
	}
	re.problem(re.doChecked("GET", "/api/v1/dags/etl/dagRuns/"+r1.RunID+"/taskInstances/nope", "viewer", nil), http.StatusNotFound, "Task instance not found")
	re.problem(re.doChecked("GET", "/api/v1/dags/other/dagRuns/"+r3.RunID+"/taskInstances/x", "team", nil), http.StatusForbidden, "")
}

func runsPtr[T any](v T) *T { return &v }

func TestPatchTaskInstance(t *testing.T) {
	t.Parallel()
	re := setupRuns(t)
	run := re.createRun("etl", 1)
	re.setTI("etl", run.RunID, "extract", func(ti *windsock.TaskInstance) { ti.State, ti.TryNumber = windsock.TaskStateFailed, 1 })
	re.setTI("etl", run.RunID, "load", func(ti *windsock.TaskInstance) { ti.State = windsock.TaskStateUpstreamFailed })
	path := "/api/v1/dags/etl/dagRuns/" + run.RunID + "/taskInstances/extract"
	state := func(task string) windsock.TaskInstanceState {
		ti, err := re.st.TaskInstanceGet(re.ctx, windsock.TaskInstanceKey{DagID: "etl", RunID: run.RunID, TaskID: task, MapIndex: -1})
		mustDo(t, err)
		return ti.State
	}
	var ref tiReferenceJSON
	re.ok(re.doChecked("PATCH", path, "user", map[string]any{"new_state": "success"}), http.StatusOK, &ref)
	if ref.TaskID != "extract" || ref.DagRunID != run.RunID || !ref.ExecutionDate.Equal(run.LogicalDate) || state("extract") != windsock.TaskStateFailed {
		t.Fatalf("dry run: %+v, extract %q", ref, state("extract"))
	}
	re.ok(re.doChecked("PATCH", path, "team", map[string]any{"new_state": "success", "dry_run": false}), http.StatusOK, &ref)
	if state("extract") != windsock.TaskStateSuccess || state("load") != windsock.TaskStateNone {
		t.Fatalf("after marking success: extract %q, load %q (want success, cleared)", state("extract"), state("load"))
	}
	re.problem(re.doChecked("PATCH", path, "user", map[string]any{"new_state": "running"}), http.StatusBadRequest, `"running" is not one of`)
	re.problem(re.doChecked("PATCH", path, "user", map[string]any{"dry_run": true}), http.StatusBadRequest, "new_state: required")
	re.problem(re.doChecked("PATCH", "/api/v1/dags/etl/dagRuns/"+run.RunID+"/taskInstances/ghost", "user", map[string]any{"new_state": "failed"}),
		http.StatusNotFound, "Task 'ghost' not found in DAG 'etl'")
	re.problem(re.doChecked("PATCH", "/api/v1/dags/etl/dagRuns/nope/taskInstances/extract", "user", map[string]any{"new_state": "failed"}),
		http.StatusNotFound, "Task instance not found")
	re.problem(re.doChecked("PATCH", "/api/v1/dags/nope/dagRuns/x/taskInstances/extract", "user", map[string]any{"new_state": "failed"}),
		http.StatusNotFound, "DAG with dag_id: 'nope' not found")
	re.problem(re.doChecked("PATCH", path, "viewer", map[string]any{"new_state": "failed"}), http.StatusForbidden, "")
}

func TestTaskInstanceTriesAndDependencies(t *testing.T) {
	t.Parallel()
	re := setupRuns(t)
	run := re.createRun("etl", 1)
	first := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	second := first.Add(time.Hour)
	re.setTI("etl", run.RunID, "extract", func(ti *windsock.TaskInstance) {
		ti.State, ti.TryNumber, ti.StartDate, ti.EndDate = windsock.TaskStateSuccess, 2, &second, runsPtr(second.Add(time.Minute))
	})
	mustDo(t, re.st.TaskFailInsert(re.ctx, &windsock.TaskFail{DagID: "etl", TaskID: "extract", RunID: run.RunID, MapIndex: -1,
		StartDate: &first, EndDate: runsPtr(first.Add(2 * time.Minute)), Duration: runsPtr(120)}))
	base := "/api/v1/dags/etl/dagRuns/" + run.RunID + "/taskInstances/extract"
	var l tiList
	re.ok(re.doChecked("GET", base+"/tries", "viewer", nil), http.StatusOK, &l)
	if l.Total != 2 || l.TaskInstances[0].TryNumber != 1 || *l.TaskInstances[0].State != "failed" ||
		*l.TaskInstances[0].Duration != 120 || l.TaskInstances[1].TryNumber != 2 || *l.TaskInstances[1].State != "success" {
		t.Fatalf("tries = %+v", l)
	}
	re.ok(re.doChecked("GET", base+"/tries?order_by=-try_number&limit=1", "viewer", nil), http.StatusOK, &l)
	if l.Total != 2 || len(l.TaskInstances) != 1 || l.TaskInstances[0].TryNumber != 2 {
		t.Fatalf("tries newest first = %+v", l)
	}
	var one taskInstanceJSON
	re.ok(re.doChecked("GET", base+"/tries/1", "viewer", nil), http.StatusOK, &one)
	if one.TryNumber != 1 || !one.StartDate.Equal(first) {
		t.Fatalf("try 1 = %+v", one)
	}
	re.problem(re.doChecked("GET", base+"/tries/3", "viewer", nil), http.StatusNotFound, "try 3")
	re.problem(re.doChecked("GET", base+"/tries/0", "viewer", nil), http.StatusBadRequest, "task_try_number")
	re.problem(re.doChecked("GET", base+"/tries?order_by=pid", "viewer", nil), http.StatusBadRequest, "order_by")

	// Tries an import brought into task_instance_history are shown whole,
	// in place of what task_fail tells.
	hcols := []string{"dag_id", "task_id", "run_id", "map_index", "try_number", "state", "start_date", "hostname", "pool", "pool_slots"}
	_, err := re.st.ImportRows(re.ctx, &store.ImportRowsParams{Source: "airflow", Table: "task_instance_history", Columns: hcols,
		Rows: [][]any{{"etl", "extract", run.RunID, -1, 1, "up_for_retry", first, "old-worker", "default_pool", 1}}})
	mustDo(t, err)
	re.ok(re.doChecked("GET", base+"/tries", "viewer", nil), http.StatusOK, &l)
	if l.Total != 2 || *l.TaskInstances[0].State != "up_for_retry" || l.TaskInstances[0].Hostname != "old-worker" ||
		l.TaskInstances[0].TryNumber != 1 || l.TaskInstances[1].TryNumber != 2 {
		t.Fatalf("tries from the history = %+v", l)
	}

	// load waits on extract... which succeeded: only the run's state and
	// the paused DAG hold it back. Then a failed upstream breaks its rule.
	mustDo(t, re.st.DAGSetPaused(re.ctx, "etl", true))
	var deps struct {
		Dependencies []dependencyJSON `json:"dependencies"`
	}
	load := "/api/v1/dags/etl/dagRuns/" + run.RunID + "/taskInstances/load/dependencies"
	re.ok(re.doChecked("GET", load, "viewer", nil), http.StatusOK, &deps)
	names := func() []string {
		var out []string
		for _, d := range deps.Dependencies {
			out = append(out, d.Name)
		}
		return out
	}
	if !slices.Equal(names(), []string{"Dag Not Paused", "Dagrun Running"}) {
		t.Fatalf("dependencies = %+v", deps)
	}
	re.setTI("etl", run.RunID, "extract", func(ti *windsock.TaskInstance) { ti.State = windsock.TaskStateRunning })
	mustDo(t, re.st.PoolUpsert(re.ctx, &windsock.Pool{Pool: windsock.DefaultPoolName, Slots: 1}))
	re.ok(re.doChecked("GET", load, "viewer", nil), http.StatusOK, &deps)
	if !slices.Equal(names(), []string{"Dag Not Paused", "Dagrun Running", "Trigger Rule", "Pool Slots Available"}) ||
		!strings.Contains(deps.Dependencies[2].Reason, "all_success") {
		t.Fatalf("dependencies = %+v", deps)
	}
	re.ok(re.doChecked("GET", base+"/dependencies", "viewer", nil), http.StatusOK, &deps)
	if len(deps.Dependencies) != 0 {
		t.Fatalf("a running instance has dependencies %+v", deps)
	}
	re.problem(re.doChecked("GET", base+"/dependencies", "public", nil), http.StatusForbidden, "")
}

func TestTaskLogs(t *testing.T) {
	t.Parallel()
	re := setupRuns(t)
	run := re.createRun("etl", 1)
	ti := re.setTI("etl", run.RunID, "extract", func(ti *windsock.TaskInstance) { ti.State, ti.TryNumber = windsock.TaskStateSuccess, 1 })
	f, err := tasklog.Open(re.logs, ti.TaskInstanceKey, 1, nil)
	mustDo(t, err)
	fmt.Fprintf(f, "hello\nworld\n")
	mustDo(t, f.Close())
	path := "/api/v1/dags/etl/dagRuns/" + run.RunID + "/taskInstances/extract/logs/1"
	var out struct {
		Content string `json:"content"`
		Token   string `json:"continuation_token"`
	}
	re.ok(re.doChecked("GET", path, "viewer", nil), http.StatusOK, &out)
	if !strings.Contains(out.Content, "{output} INFO - hello\n") || !strings.Contains(out.Content, "world") || out.Token == "" {
		t.Fatalf("log = %+v", out)
	}
	tok, err := (&Server{cfg: re.cfg}).parseLogToken(out.Token)
	if err != nil || tok.LogPos != int64(len(out.Content)) || !tok.EndOfLog {
		t.Fatalf("token = %+v, %v", tok, err)
	}
	// Continuing from the token gives what was written since.
	f, err = tasklog.Open(re.logs, ti.TaskInstanceKey, 1, nil)
	mustDo(t, err)
	fmt.Fprintf(f, "more\n")
	mustDo(t, f.Close())
	first := out.Content
	re.ok(re.doChecked("GET", path+"?token="+url.QueryEscape(out.Token), "viewer", nil), http.StatusOK, &out)
	if strings.Contains(out.Content, "hello") || !strings.Contains(out.Content, "more") {
		t.Fatalf("continued log = %q", out.Content)
	}
	// text/plain: the whole log.
	r := re.doWith("GET", path, nil, func(r *http.Request) {
		r.SetBasicAuth("viewer", password)
		r.Header.Set("Accept", "text/plain")
	})
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || string(r.body) != first+out.Content {
		t.Fatalf("text/plain: %d %s %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	// A log over one chunk: JSON gives 1 MiB at a time, full_content all.
	big := strings.Repeat("x", 1<<20)
	other := re.setTI("etl", run.RunID, "load", func(ti *windsock.TaskInstance) { ti.State, ti.TryNumber = windsock.TaskStateRunning, 1 })
	mustDo(t, os.MkdirAll(filepath.Dir(tasklog.Path(re.logs, other.TaskInstanceKey, 1)), 0o755))
	mustDo(t, os.WriteFile(tasklog.Path(re.logs, other.TaskInstanceKey, 1), []byte(big+"tail"), 0o644))
	loadPath := "/api/v1/dags/etl/dagRuns/" + run.RunID + "/taskInstances/load/logs/1"
	re.ok(re.doChecked("GET", loadPath, "viewer", nil), http.StatusOK, &out)
	if len(out.Content) != 1<<20 {
		t.Fatalf("first chunk = %d bytes", len(out.Content))
	}
	re.ok(re.doChecked("GET", loadPath+"?token="+url.QueryEscape(out.Token), "viewer", nil), http.StatusOK, &out)
	if out.Content != "tail" {
		t.Fatalf("second chunk = %q", out.Content)
	}
	if tok, _ := (&Server{cfg: re.cfg}).parseLogToken(out.Token); tok.EndOfLog {
		t.Error("a running try's log is marked ended")
	}
	re.ok(re.doChecked("GET", loadPath+"?full_content=true", "viewer", nil), http.StatusOK, &out)
	if len(out.Content) != 1<<20+4 {
		t.Fatalf("full content = %d bytes", len(out.Content))
	}

	tampered := strings.Replace(out.Token, out.Token[:4], "AAAA", 1)
	re.problem(re.doChecked("GET", path+"?token="+url.QueryEscape(tampered), "viewer", nil), http.StatusBadRequest, "Bad Signature")
	re.problem(re.doChecked("GET", path+"?token=garbage", "viewer", nil), http.StatusBadRequest, "Bad Signature")
	re.problem(re.doChecked("GET", "/api/v1/dags/etl/dagRuns/"+run.RunID+"/taskInstances/extract/logs/2", "viewer", nil),
		http.StatusNotFound, "looked for dag_id=etl/run_id="+run.RunID+"/task_id=extract/attempt=2.log")
	re.problem(re.doChecked("GET", "/api/v1/dags/etl/dagRuns/"+run.RunID+"/taskInstances/extract/logs/0", "viewer", nil), http.StatusBadRequest, "task_try_number")
	re.problem(re.doChecked("GET", "/api/v1/dags/etl/dagRuns/"+run.RunID+"/taskInstances/extract/logs/x", "viewer", nil), http.StatusBadRequest, "task_try_number")
	re.problem(re.doChecked("GET", path+"?full_content=maybe", "viewer", nil), http.StatusBadRequest, "full_content")
	re.problem(re.doChecked("GET", path+"?map_index=0", "viewer", nil), http.StatusNotFound, "Task instance not found")
	re.problem(re.doChecked("GET", "/api/v1/dags/etl/dagRuns/"+run.RunID+"/taskInstances/..%2F..%2Fetc/logs/1", "viewer", nil), http.StatusBadRequest, "not allowed")
	re.problem(re.doChecked("GET", path, "public", nil), http.StatusForbidden, "")
	re.ok(re.doChecked("GET", path, "team", nil), http.StatusOK, nil)
}

func TestWantsText(t *testing.T) {
	t.Parallel()
	for accept, want := range map[string]bool{
		"": false, "*/*": false, "application/json": false, "text/plain": true,
		"text/plain, application/json": true, "application/json, text/plain": false,
		"text/plain;q=0, application/json": false, "text/html, text/plain;q=0.5": true,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if got := wantsText(r); got != want {
			t.Errorf("Accept %q: text = %v, want %v", accept, got, want)
		}
	}
}

func TestXComEntries(t *testing.T) {
	t.Parallel()
	re := setupRuns(t)
	r1, r2 := re.createRun("etl", 1), re.createRun("other", 1)
	for _, x := range []*windsock.XCom{
		{TaskID: "extract", MapIndex: -1, Key: "return_value", DagID: "etl", RunID: r1.RunID, Value: []byte(`{"b": [1, 2.5, "it's"], "a": null}`)},
		{TaskID: "extract", MapIndex: -1, Key: "k", DagID: "etl", RunID: r1.RunID, Value: []byte(`"plain"`)},
		{TaskID: "load", MapIndex: -1, Key: "return_value", DagID: "etl", RunID: r1.RunID, Value: []byte(`true`)},
		{TaskID: "x", MapIndex: -1, Key: "return_value", DagID: "other", RunID: r2.RunID, Value: []byte(`1`)},
	} {
		mustDo(t, re.st.XComSet(re.ctx, x))
	}
	var l struct {
		Entries []map[string]any `json:"xcom_entries"`
		Total   int              `json:"total_entries"`
	}
	base := "/api/v1/dags/etl/dagRuns/" + r1.RunID + "/taskInstances/extract/xcomEntries"
	re.ok(re.doChecked("GET", base, "viewer", nil), http.StatusOK, &l)
	if l.Total != 2 || l.Entries[0]["key"] != "k" || l.Entries[0]["execution_date"] != "2024-01-02T00:00:00Z" || l.Entries[0]["value"] != nil {
		t.Fatalf("entries = %+v", l)
	}
	re.ok(re.doChecked("GET", "/api/v1/dags/~/dagRuns/~/taskInstances/~/xcomEntries?xcom_key=return_value&limit=2&offset=1", "viewer", nil), http.StatusOK, &l)
	if l.Total != 3 || len(l.Entries) != 2 || l.Entries[1]["dag_id"] != "other" {
		t.Fatalf("all return values = %+v", l)
	}
	re.ok(re.doChecked("GET", "/api/v1/dags/~/dagRuns/~/taskInstances/~/xcomEntries?map_index=0", "viewer", nil), http.StatusOK, &l)
	if l.Total != 0 {
		t.Fatalf("map index 0 = %+v", l)
	}
	re.ok(re.doChecked("GET", "/api/v1/dags/~/dagRuns/~/taskInstances/~/xcomEntries", "team", nil), http.StatusOK, &l)
	if l.Total != 3 {
		t.Fatalf("team sees %+v", l)
	}
	re.problem(re.doChecked("GET", "/api/v1/dags/other/dagRuns/~/taskInstances/~/xcomEntries", "team", nil), http.StatusForbidden, "")
	re.problem(re.doChecked("GET", base+"?map_index=x", "viewer", nil), http.StatusBadRequest, "map_index")

	var x map[string]any
	re.ok(re.doChecked("GET", base+"/return_value", "viewer", nil), http.StatusOK, &x)
	if x["value"] != `{'b': [1, 2.5, "it's"], 'a': None}` || x["key"] != "return_value" || x["task_id"] != "extract" {
		t.Fatalf("stringified = %+v", x)
	}
	re.ok(re.doChecked("GET", base+"/return_value?stringify=false&deserialize=true", "viewer", nil), http.StatusOK, &x)
	if v, ok := x["value"].(map[string]any); !ok || v["b"].([]any)[1] != 2.5 {
		t.Fatalf("native = %+v", x)
	}
	re.ok(re.doChecked("GET", base+"/k", "viewer", nil), http.StatusOK, &x)
	if x["value"] != "plain" {
		t.Fatalf("string value = %+v", x)
	}
	re.problem(re.doChecked("GET", base+"/nope", "viewer", nil), http.StatusNotFound, "XCom entry not found")
	re.problem(re.doChecked("GET", base+"/k?stringify=perhaps", "viewer", nil), http.StatusBadRequest, "stringify")
	re.problem(re.doChecked("GET", base+"/k", "public", nil), http.StatusForbidden, "")
}

func TestPythonStr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`"abc"`:                    `abc`,
		`1`:                        `1`,
		`1.0`:                      `1.0`,
		`1.50`:                     `1.5`,
		`1e20`:                     `1e+20`,
		`0.00001`:                  `1e-05`,
		`true`:                     `True`,
		`[null, false, "a'b"]`:     `[None, False, "a'b"]`,
		`{"z": 1, "a": {"k": []}}`: `{'z': 1, 'a': {'k': []}}`,
		`["tab\tnl\n\\ 'q\""]`:     `['tab\tnl\n\\ \'q"']`,
	} {
		got, err := pythonStr([]byte(in))
		if err != nil || got == nil || *got != want {
			t.Errorf("pythonStr(%s) = %v, %v; want %s", in, deref(got), err, want)
		}
	}
	if got, err := pythonStr([]byte(`null`)); got != nil || err != nil {
		t.Errorf("pythonStr(null) = %v, %v", got, err)
	}
}

// TestRunsAuthorizationMatrix checks each endpoint of the family against
// the built-in roles: exactly those Airflow's defaults allow get past
// authorization.
func TestRunsAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	re := setupRuns(t)
	run := re.createRun("etl", 1)
	runPath := "/api/v1/dags/etl/dagRuns/" + run.RunID
	readers := []string{"admin", "op", "user", "viewer", "team"}
	editors := []string{"admin", "op", "user", "team"}
	for _, tc := range []struct {
		name, method, path string
		body               any
		allowed            []string
	}{
		{"list runs", "GET", "/api/v1/dags/etl/dagRuns", nil, readers},
		{"batch runs", "POST", "/api/v1/dags/~/dagRuns/list", map[string]any{}, readers},
		{"get run", "GET", runPath, nil, readers},
		{"trigger", "POST", "/api/v1/dags/other/dagRuns", map[string]any{"dag_run_id": "m"}, []string{"admin", "op", "user"}},
		{"patch run", "PATCH", runPath, map[string]any{"state": "queued"}, editors},
		{"clear run", "POST", runPath + "/clear", map[string]any{}, editors},
		{"note", "PATCH", runPath + "/setNote", map[string]any{"note": "n"}, editors},
		{"list tis", "GET", runPath + "/taskInstances", nil, readers},
		{"batch tis", "POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", map[string]any{}, readers},
		{"get ti", "GET", runPath + "/taskInstances/extract", nil, readers},
		{"patch ti", "PATCH", runPath + "/taskInstances/extract", map[string]any{"new_state": "success"}, editors},
		{"tries", "GET", runPath + "/taskInstances/extract/tries", nil, readers},
		{"dependencies", "GET", runPath + "/taskInstances/extract/dependencies", nil, readers},
		{"log", "GET", runPath + "/taskInstances/extract/logs/1", nil, readers},
		{"xcoms", "GET", runPath + "/taskInstances/extract/xcomEntries", nil, readers},
		{"xcom", "GET", runPath + "/taskInstances/extract/xcomEntries/k", nil, readers},
		{"delete run", "DELETE", "/api/v1/dags/etl/dagRuns/ghost", nil, editors},
	} {
		for _, user := range []string{"admin", "op", "user", "viewer", "public", "team"} {
			r := re.doChecked(tc.method, tc.path, user, tc.body)
			want := slices.Contains(tc.allowed, user)
			if got := r.status != http.StatusForbidden; got != want || r.status == http.StatusUnauthorized || r.status >= 500 {
				t.Errorf("%s as %s: status %d, allowed %v; body %s", tc.name, user, r.status, want, r.body)
			}
		}
	}
}
