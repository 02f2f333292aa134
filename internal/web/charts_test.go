package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// chartPages are the DAG views drawn as charts, %s for the DAG id.
var chartPages = []string{"/dags/%s/gantt", "/dags/%s/duration", "/dags/%s/tries", "/dags/%s/landing-times", "/dags/%s/calendar"}

// TestChartPagesAuthorization: a role limited to etl sees etl's charts and
// none of other's (403), and nothing of other's runs on etl's pages;
// viewers see both; everyone needs a session.
func TestChartPagesAuthorization(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	otherRun := de.createRun(de.other, 5, windsock.DagRunFailed)
	for _, p := range chartPages {
		etl, other := strings.ReplaceAll(p, "%s", "etl"), strings.ReplaceAll(p, "%s", "other")
		body := de.page(etl, "limited", http.StatusOK)
		lacks(t, body, otherRun.RunID, plusEsc(otherRun.RunID))
		de.page(other, "limited", http.StatusForbidden)
		de.page(other, "viewer", http.StatusOK)
		if r := de.get(etl, ""); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login?next=") {
			t.Errorf("%s without a session: %d %s", etl, r.status, r.header.Get("Location"))
		}
		de.page(strings.ReplaceAll(p, "%s", "nope"), "admin", http.StatusNotFound)
		for _, problem := range a11yProblems(t, de.page(etl, "admin", http.StatusOK)) {
			t.Errorf("%s: %s", etl, problem)
		}
	}
	// Asking etl's Gantt for other's run by id finds nothing: runs are
	// read within the page's DAG.
	de.page("/dags/etl/gantt?run_id="+url.QueryEscape(otherRun.RunID), "limited", http.StatusNotFound)
	// The tabs lead to the charts.
	contains(t, de.page("/dags/etl/grid", "limited", http.StatusOK), `id="tab-gantt"`, `id="tab-calendar"`, `id="tab-duration"`,
		`id="tab-tries"`, `id="tab-landing-times"`)
}

// TestGanttPage: one group per try (a retried task has two, its first
// from task_fail), a queued segment before the current try's running one,
// a state label per row, and the same as a table.
func TestGanttPage(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	start := de.done.LogicalDate.Add(time.Hour)
	firstStart, firstEnd := start.Add(-3*time.Minute), start.Add(-2*time.Minute)
	minute := 60
	if err := de.st.TaskFailInsert(de.ctx, &windsock.TaskFail{DagID: "etl", TaskID: "extract", RunID: de.done.RunID, MapIndex: -1,
		StartDate: &firstStart, EndDate: &firstEnd, Duration: &minute}); err != nil {
		t.Fatal(err)
	}
	de.setTI(de.done, "extract", func(ti *windsock.TaskInstance) {
		queued := start.Add(-30 * time.Second)
		ti.TryNumber, ti.QueuedDttm = 2, &queued
	})
	body := de.page("/dags/etl/gantt?run_id="+url.QueryEscape(de.done.RunID), "admin", http.StatusOK)
	contains(t, body, `id="tab-gantt" data-testid="tab-gantt" aria-current="page"`, `data-testid="gantt-chart"`,
		`data-task="extract" href="/dags/etl/grid/`+url.PathEscape(de.done.RunID)+`/extract"`,
		`data-try="1" data-state="failed"`+tryTimes(firstStart, firstEnd)+`><title>extract: try 1, failed, started 00:57:00, ended 00:58:00, ran 00:01:00</title>`,
		`data-try="2" data-state="success"`+tryTimes(start, start.Add(90*time.Second))+`><title>extract: try 2, success, queued 00:59:30, started 01:00:00, ended 01:01:30, ran 00:01:30</title>`,
		`class="gantt-queued"`, `class="gantt-failed-mark"`, `success (2 tries)</text>`, `data-testid="gantt-table"`)
	if n := strings.Count(body, `data-testid="gantt-try"`); n != 5 {
		t.Errorf("%d tries drawn, want 5 (4 tasks, extract twice)", n)
	}
	if n := strings.Count(body, `data-testid="gantt-row"`); n != 4 {
		t.Errorf("%d rows, want 4", n)
	}
	// Rows by start: extract (its first try started earliest) first.
	rows := regexp.MustCompile(`data-testid="gantt-row" data-task="([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(rows) == 0 || rows[0][1] != "extract" {
		t.Errorf("rows = %v, want extract first", rows)
	}
	// Without run_id: the newest run, whose running task's bar ends now.
	live := de.page("/dags/etl/gantt", "admin", http.StatusOK)
	contains(t, live, `data-try="2" data-state="running"`, `running</text>`)
	// A DAG without runs says so.
	contains(t, de.page("/dags/other/gantt", "admin", http.StatusOK), `id="no-runs"`)
}

// TestGanttImportedTries: the earlier tries of a run imported from
// Airflow 2.10 are drawn from its task_instance_history when that holds
// every earlier try (their real state, queued, start and end, though
// task_fail has rows of its own for them), and from task_fail when it
// does not (an instance cleared and retried after the import).
func TestGanttImportedTries(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	run := de.done.RunID
	t0 := de.done.LogicalDate.Add(time.Hour)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	// extract: tries 1 and 2 in the history, try 3 the current one.
	de.setTI(de.done, "extract", func(ti *windsock.TaskInstance) {
		s, e := at(30), at(31)
		ti.TryNumber, ti.StartDate, ti.EndDate = 3, &s, &e
	})
	// load: try 3, but the history has try 1 only: task_fail tells.
	de.setTI(de.done, "load", func(ti *windsock.TaskInstance) {
		s, e := at(40), at(41)
		ti.TryNumber, ti.StartDate, ti.EndDate = 3, &s, &e
	})
	cols := []string{"dag_id", "task_id", "run_id", "map_index", "try_number", "state", "queued_dttm", "start_date", "end_date", "duration", "pool", "pool_slots"}
	if _, err := de.st.ImportRows(de.ctx, &store.ImportRowsParams{Source: "airflow-2.10", Table: "task_instance_history", Columns: cols, Rows: [][]any{
		{"etl", "extract", run, -1, 1, "failed", at(0), at(1), at(5), 240.0, "default_pool", 1},
		{"etl", "extract", run, -1, 2, "up_for_retry", at(10), at(12), at(13), 60.0, "default_pool", 1},
		{"etl", "load", run, -1, 1, "failed", at(2), at(3), at(4), 60.0, "default_pool", 1},
	}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		task       string
		start, end int
	}{{"extract", 100, 101}, {"load", 20, 21}, {"load", 25, 26}} {
		s, e, d := at(f.start), at(f.end), 60
		if err := de.st.TaskFailInsert(de.ctx, &windsock.TaskFail{DagID: "etl", TaskID: f.task, RunID: run, MapIndex: -1,
			StartDate: &s, EndDate: &e, Duration: &d}); err != nil {
			t.Fatal(err)
		}
	}

	body := de.page("/dags/etl/gantt?run_id="+url.QueryEscape(run), "admin", http.StatusOK)
	contains(t, body,
		`data-try="1" data-state="failed"`+tryTimes(at(1), at(5))+`><title>extract: try 1, failed, queued 01:00:00, started 01:01:00, ended 01:05:00, ran 00:04:00</title>`,
		`data-try="2" data-state="up_for_retry"`+tryTimes(at(12), at(13))+`><title>extract: try 2, up_for_retry, queued 01:10:00, started 01:12:00`,
		`data-try="3" data-state="success"`+tryTimes(at(30), at(31)),
		`data-try="1" data-state="failed"`+tryTimes(at(20), at(21))+`><title>load: try 1`,
		`data-try="2" data-state="failed"`+tryTimes(at(25), at(26))+`><title>load: try 2`,
		`data-try="3" data-state="success"`+tryTimes(at(40), at(41)))
	lacks(t, body, tryTimes(at(100), at(101)), tryTimes(at(3), at(4)))
	// The table below the chart says the same, queued times included.
	contains(t, body, `<td>1</td><td><span class="state state-failed label">failed</span></td><td>`+fmtTime(at(0))+`</td>`)
}

// tryTimes are the data-start and data-end attributes of a Gantt try.
func tryTimes(start, end time.Time) string {
	return ` data-start="` + start.UTC().Format(time.RFC3339) + `" data-end="` + end.UTC().Format(time.RFC3339) + `"`
}

// TestTaskChartPages: a DAG with 30 runs gives one line per task with a
// point per run, the range selector limits the runs, and each kind
// measures its own value.
func TestTaskChartPages(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	for n := 3; n <= 30; n++ {
		run := de.createRun(de.etl, n, windsock.DagRunSuccess)
		for i, id := range []string{"extract", "transform.clean", "transform.join", "load"} {
			de.setTI(run, id, func(ti *windsock.TaskInstance) {
				start := run.LogicalDate.Add(time.Hour)
				end := start.Add(time.Duration(10*n+i) * time.Second)
				d := end.Sub(start).Seconds()
				ti.State, ti.TryNumber, ti.StartDate, ti.EndDate, ti.Duration = windsock.TaskStateSuccess, 1+n%3, &start, &end, &d
			})
		}
	}
	body := de.page("/dags/etl/duration?num_runs=50", "admin", http.StatusOK)
	contains(t, body, `id="tab-duration" data-testid="tab-duration" aria-current="page"`, `data-runs="30"`,
		`<title>load, run `+runIDOn(30)+`: 00:05:03</title>`, `class="series-label"`)
	if n := strings.Count(body, `data-testid="series"`); n != 4 {
		t.Errorf("%d lines, want 4", n)
	}
	// 28 runs with every task done, the first with all four, the live one
	// with extract only (no duration: not ended).
	if n := strings.Count(body, `data-testid="point"`); n != 4*29 {
		t.Errorf("%d points, want %d", n, 4*29)
	}
	ten := de.page("/dags/etl/duration?num_runs=10&base_date=2024-01-20", "admin", http.StatusOK)
	contains(t, ten, `data-runs="10"`, `2024-01-20 00:00`, `2024-01-11 00:00`)
	lacks(t, ten, `2024-01-21 00:00`, `2024-01-10 00:00`)
	de.page("/dags/etl/duration?base_date=yesterday", "admin", http.StatusBadRequest)

	tries := de.page("/dags/etl/tries?num_runs=50", "admin", http.StatusOK)
	contains(t, tries, `<title>load, run `+runIDOn(29)+`: 3</title>`)
	// Landing time: end minus the end of the run's data interval.
	landing := de.page("/dags/etl/landing-times?num_runs=50", "admin", http.StatusOK)
	if !regexp.MustCompile(`<title>extract, run ` + regexp.QuoteMeta(runIDOn(30)) + `: -?\d\d:\d\d:\d\d</title>`).MatchString(landing) {
		t.Error("landing times: no point for extract on day 30")
	}
}

// runIDOn is the id of the manual run createRun makes on day n of 2024.
func runIDOn(n int) string {
	return windsock.RunID(windsock.RunTypeManual, time.Date(2024, 1, n, 0, 0, 0, 0, time.UTC))
}

// TestCalendarPage: runs over two months, one day with a failed run: that
// day is coloured (and marked) failed, the others success, and the
// failed day is listed in text.
func TestCalendarPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := etlDAG("etl")
	e.storeDAG(d, "")
	for day := 0; day < 45; day++ {
		state := windsock.DagRunSuccess
		if day == 40 {
			state = windsock.DagRunFailed
		}
		for h := 0; h < 2; h++ {
			e.addRunAt("etl", time.Date(2024, 1, 1, h*6, 0, 0, 0, time.UTC).AddDate(0, 0, day), state)
		}
	}
	body := e.page("/dags/etl/calendar", "admin", http.StatusOK)
	contains(t, body, `data-testid="calendar-year" data-year="2024"`,
		`data-date="2024-02-10" data-state="failed"><title>2024-02-10: 2 failed</title>`,
		`data-date="2024-02-09" data-state="success"><title>2024-02-09: 2 success</title>`,
		`class="day-mark"`, `<title>2024-03-01: no runs</title>`, `2024-02-10: 2 failed</time>`)
	if n := strings.Count(body, `data-testid="calendar-day"`); n != 45 {
		t.Errorf("%d days with runs, want 45", n)
	}
	if n := strings.Count(body, `data-state="failed"`); n != 1 {
		t.Errorf("%d failed days, want 1", n)
	}
}

// addRunAt stores a run of dagID at logical date at in state.
func (e *env) addRunAt(dagID string, at time.Time, state windsock.DagRunState) {
	e.t.Helper()
	run, tis := newRun(dagID, 1, state)
	run.LogicalDate, run.RunID = at, windsock.RunID(windsock.RunTypeScheduled, at)
	if err := e.st.DagRunCreate(e.ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}); err != nil {
		e.t.Fatal(err)
	}
}

// TestClusterActivityPage: a component whose heartbeat is older than the
// threshold shows as unhealthy, a fresh one as healthy; pools show their
// slots; run counts cover only the DAGs the user may read.
func TestClusterActivityPage(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	now := time.Now()
	fresh := &windsock.Job{State: windsock.JobRunning, JobType: windsock.JobTypeScheduler, StartDate: now, LatestHeartbeat: now, Hostname: "sched-1"}
	stale := &windsock.Job{State: windsock.JobRunning, JobType: "WorkerJob", StartDate: now.Add(-time.Hour), LatestHeartbeat: now.Add(-5 * time.Minute), Hostname: "worker-9"}
	for _, j := range []*windsock.Job{fresh, stale} {
		if err := de.st.JobCreate(de.ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if err := de.st.PoolUpsert(de.ctx, &windsock.Pool{Pool: "small", Slots: 3}); err != nil {
		t.Fatal(err)
	}
	// Runs started today: one of etl, two of other.
	startToday := func(run *windsock.DagRun) {
		s := now.Add(-time.Minute)
		run.StartDate = &s
		if err := de.st.DagRunUpdate(de.ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	startToday(de.live)
	startToday(de.createRun(de.other, 7, windsock.DagRunFailed))
	startToday(de.createRun(de.other, 8, windsock.DagRunFailed))

	body := de.page("/cluster_activity", "viewer", http.StatusOK)
	contains(t, body, `data-job-type="SchedulerJob" data-healthy="true"`, `data-job-type="WorkerJob" data-healthy="false"`,
		`<td>Worker</td><td>worker-9</td>`, `unhealthy</span>`, `id="unhealthy-count">1 unhealthy.`, `data-pool="small"`,
		`<strong data-state="failed">2</strong>`, `<strong data-state="running">1</strong>`, `data-testid="runs-chart"`,
		`id="nav-cluster"`)
	for _, problem := range a11yProblems(t, body) {
		t.Errorf("/cluster_activity: %s", problem)
	}
	de.page("/cluster_activity?days=0", "viewer", http.StatusBadRequest)

	// The limited role has no Cluster Activity permission: refused, and
	// no link.
	de.page("/cluster_activity", "limited", http.StatusForbidden)
	lacks(t, de.page("/dags/etl/grid", "limited", http.StatusOK), `id="nav-cluster"`)
}

// TestClusterActivityScoped: a role limited to etl, given Cluster
// Activity, sees only etl's runs: other's two failed runs are not
// counted, and no jobs or pools (it may not read them).
func TestClusterActivityScoped(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	if err := de.st.RolePermissionsAdd(de.ctx, "etl-readers", []windsock.Permission{{Action: auth.ActionRead, Resource: auth.ResourceClusterActivity}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := de.st.JobCreate(de.ctx, &windsock.Job{State: windsock.JobRunning, JobType: "WorkerJob", StartDate: now, LatestHeartbeat: now, Hostname: "worker-9"}); err != nil {
		t.Fatal(err)
	}
	for _, run := range []*windsock.DagRun{de.live, de.createRun(de.other, 7, windsock.DagRunFailed), de.createRun(de.other, 8, windsock.DagRunFailed)} {
		s := now.Add(-time.Minute)
		run.StartDate = &s
		if err := de.st.DagRunUpdate(de.ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	contains(t, de.page("/cluster_activity", "viewer", http.StatusOK), `<strong data-state="failed">2</strong>`)
	limited := de.page("/cluster_activity", "limited", http.StatusOK)
	contains(t, limited, `id="scoped-note"`, `<strong data-state="failed">0</strong>`, `<strong data-state="running">1</strong>`, `id="nav-cluster"`)
	lacks(t, limited, "worker-9", `data-pool="default_pool"`)
}

// TestClusterActivityJudgesEachKind: a worker is judged by
// scheduler.worker_health_check_threshold and a scheduler by
// scheduler.scheduler_health_check_threshold; a worker a scheduler ended
// as failed stays listed as dead and unhealthy, until a worker on its host
// starts after it; a task runner's failed job is no component.
func TestClusterActivityJudgesEachKind(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *config.Config) {
		c.Scheduler.SchedulerHealthCheckThreshold = 30 * time.Second
		c.Scheduler.WorkerHealthCheckThreshold = 10 * time.Minute
	})
	now := time.Now()
	job := func(typ, state, host string, started, beat time.Duration) *windsock.Job {
		j := &windsock.Job{State: state, JobType: typ, StartDate: now.Add(-started), LatestHeartbeat: now.Add(-beat), Hostname: host}
		if err := e.st.JobCreate(e.ctx, j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	slowWorker := job(windsock.JobTypeWorker, windsock.JobRunning, "w-slow", time.Hour, 2*time.Minute)
	lateScheduler := job(windsock.JobTypeScheduler, windsock.JobRunning, "s-1", time.Hour, 2*time.Minute)
	killed := job(windsock.JobTypeWorker, windsock.JobFailed, "w-killed", time.Hour, 3*time.Minute)
	restarted := job(windsock.JobTypeWorker, windsock.JobFailed, "w-back", 2*time.Hour, time.Hour)
	job(windsock.JobTypeWorker, windsock.JobRunning, "w-back", 30*time.Minute, 0)
	taskRunner := job(windsock.JobTypeLocalTask, windsock.JobFailed, "w-slow", time.Hour, time.Minute)
	old := job(windsock.JobTypeWorker, windsock.JobFailed, "w-old", 40*24*time.Hour, 30*24*time.Hour)

	b := e.page("/cluster_activity", "viewer", http.StatusOK)
	row := func(j *windsock.Job) string {
		return fmt.Sprintf(`data-job-id="%d" data-job-type="%s"`, j.ID, j.JobType)
	}
	contains(t, b, row(slowWorker)+` data-healthy="true" data-dead="false"`,
		row(lateScheduler)+` data-healthy="false" data-dead="false"`,
		row(killed)+` data-healthy="false" data-dead="true"`, "unhealthy (dead)",
		`id="unhealthy-count">2 unhealthy.`, "(scheduler.worker_health_check_threshold)")
	lacks(t, b, row(restarted), row(taskRunner), row(old))
}
