package e2e

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// The chart views (Gantt, task duration, calendar), the grid's details
// panel and cluster activity, in a real browser.

// retryYAML's flaky task fails its first try and succeeds on the retry
// (MARK is a file it leaves behind); steady runs once after it.
const retryYAML = `
e2e_retry:
  schedule: null
  start_date: 2024-01-01
  default_args:
    retries: 1
    retry_delay_sec: 1
  tasks:
    flaky:
      operator: bash
      bash_command: 'if [ -e "MARK" ]; then echo second try; else touch "MARK"; echo first try fails; exit 1; fi'
    steady:
      operator: bash
      bash_command: echo steady
      dependencies: [flaky]
`

// longDatasetURI is a dataset whose URI is wider than a phone's screen.
const longDatasetURI = "s3://an-example-bucket-with-a-long-name/warehouse/orders/daily_partitioned/orders_by_region_and_day.parquet"

// datasetsYAML produces longDatasetURI and has a DAG scheduled on it.
const datasetsYAML = `
e2e_producer:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: load, operator: empty, outlets: ['` + longDatasetURI + `']}
e2e_consumer:
  schedule: ['` + longDatasetURI + `']
  start_date: 2024-01-01
  tasks:
    - {task_id: report, operator: empty}
`

// chartsYAML is a DAG that never runs by itself: the tests store its runs.
const chartsYAML = `
e2e_charts:
  schedule: null
  start_date: 2024-01-01
  tasks:
    extract:
      operator: empty
    load:
      operator: empty
      dependencies: [extract]
`

// startRun unpauses dagID and creates a run through the scheduler, as a
// trigger does.
func (s *server) startRun(t *testing.T, dagID string) *windsock.DagRun {
	t.Helper()
	ctx := t.Context()
	if err := s.env.Store.DAGSetPaused(ctx, dagID, false); err != nil {
		t.Fatal(err)
	}
	d, err := scheduler.NewDAGCache(s.env.Store, time.Minute).DAG(ctx, dagID)
	if err != nil {
		t.Fatal(err)
	}
	run, err := scheduler.CreateRun(ctx, s.env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: time.Now().UTC().Truncate(time.Second), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// waitRunEnd waits until the run has ended (success or failed), checking
// the store every 50 ms.
func (s *server) waitRunEnd(t *testing.T, dagID, runID string) *windsock.DagRun {
	t.Helper()
	deadline := time.Now().Add(2 * waitTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		run, err := s.env.Store.DagRunGet(t.Context(), dagID, runID)
		if err != nil {
			t.Fatal(err)
		}
		if run.State == windsock.DagRunSuccess || run.State == windsock.DagRunFailed {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s of %s still %s", runID, dagID, run.State)
		}
		<-tick.C
	}
}

// seedRuns stores finished runs of dagID (tasks extract and load) at the
// given logical dates; failed names the dates whose runs failed.
func (s *server) seedRuns(t *testing.T, dagID string, dates []time.Time, failed map[time.Time]bool) []*windsock.DagRun {
	t.Helper()
	ctx := t.Context()
	var runs []*windsock.DagRun
	err := s.env.Store.InTx(ctx, func(q store.Queries) error {
		for i, ld := range dates {
			state, tiState := windsock.DagRunSuccess, windsock.TaskStateSuccess
			if failed[ld] {
				state, tiState = windsock.DagRunFailed, windsock.TaskStateFailed
			}
			start, end, die := ld.Add(time.Hour), ld.Add(time.Hour+10*time.Minute), ld.Add(24*time.Hour)
			run := &windsock.DagRun{DagID: dagID, RunID: windsock.RunID(windsock.RunTypeScheduled, ld), LogicalDate: ld, State: state,
				RunType: windsock.RunTypeScheduled, StartDate: &start, EndDate: &end, DataIntervalStart: &ld, DataIntervalEnd: &die}
			var tis []*windsock.TaskInstance
			for j, task := range []string{"extract", "load"} {
				s0 := start.Add(time.Duration(j) * time.Minute)
				e0 := s0.Add(time.Duration(20+i+30*j) * time.Second)
				dur := e0.Sub(s0).Seconds()
				tis = append(tis, &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: dagID, TaskID: task, RunID: run.RunID, MapIndex: -1},
					State: tiState, TryNumber: 1, MaxTries: 0, StartDate: &s0, EndDate: &e0, Duration: &dur, QueuedDttm: &s0,
					Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: "default", PriorityWeight: 1, Operator: "EmptyOperator"})
			}
			if err := q.DagRunCreate(ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}); err != nil {
				return err
			}
			runs = append(runs, run)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// phoneFits switches to a 390 px wide phone screen, reopens path and
// fails when the page scrolls sideways (charts scroll inside their own
// box), then takes a screenshot.
func (tb *tab) phoneFits(path, sel, shot string) {
	tb.t.Helper()
	tb.run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	defer tb.run("desktop viewport", chromedp.EmulateViewport(1280, 900))
	tb.open(path, sel)
	var overflow int
	if err := tb.eval(`document.documentElement.scrollWidth - document.documentElement.clientWidth`, &overflow); err != nil {
		tb.t.Fatal(err)
	}
	if overflow > 0 {
		tb.t.Errorf("%s is %dpx wider than a 390px screen", path, overflow)
	}
	tb.screenshot(artifactDir(tb.t), shot)
}

// TestGanttShowsEachTry runs a DAG whose first task fails once and
// succeeds on its retry, then opens the finished run's Gantt: one bar per
// try, the first failed and the second successful, the other task once.
func TestGanttShowsEachTry(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	mark := filepath.Join(t.TempDir(), "flaky-ran")
	srv := startServer(t, strings.ReplaceAll(retryYAML, "MARK", mark))
	run := srv.startRun(t, "e2e_retry")
	if got := srv.waitRunEnd(t, "e2e_retry", run.RunID); got.State != windsock.DagRunSuccess {
		t.Fatalf("run ended %s, want success after flaky's retry", got.State)
	}
	tb := b.tab(t, srv.url)
	tb.login("admin")
	path := "/dags/e2e_retry/gantt?run_id=" + url.QueryEscape(run.RunID)
	tb.open(path, "#gantt-chart")
	var tries []string
	if err := tb.eval(`Array.from(document.querySelectorAll('#gantt-chart [data-testid="gantt-row"]')).map(function (row) {
		return row.getAttribute("data-task") + ":" + Array.from(row.querySelectorAll('[data-testid="gantt-try"]')).map(function (g) {
			return g.getAttribute("data-try") + "=" + g.getAttribute("data-state") + (g.querySelector("rect.bar") ? "" : "(no bar)");
		}).join(",");
	})`, &tries); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tries, " "); got != "flaky:1=failed,2=success steady:1=success" {
		t.Errorf("Gantt tries = %q, want flaky's two tries then steady's one", got)
	}
	// Each bar has a width, and the retry starts after the first try.
	var ordered bool
	if err := tb.eval(`(function(){var r=document.querySelectorAll('[data-task="flaky"] rect.bar');
		return r.length === 2 && +r[0].getAttribute("width") > 0 && +r[1].getAttribute("x") >= +r[0].getAttribute("x")})()`, &ordered); err != nil {
		t.Fatal(err)
	}
	if !ordered {
		t.Error("flaky's bars are not drawn one after the other")
	}
	// Readable without colour: a label and a tooltip say the states.
	if label := tb.text(`[data-task="flaky"] .bar-label`); label != "success (2 tries)" {
		t.Errorf("flaky's label = %q", label)
	}
	if tip := tb.text(`[data-task="flaky"] [data-try="1"] title`); !strings.Contains(tip, "try 1, failed") {
		t.Errorf("try 1's tooltip = %q", tip)
	}
	tb.screenshot(artifactDir(t), "gantt")
	tb.phoneFits(path, "#gantt-chart", "gantt_phone")
}

// TestDurationChartOf30Runs opens the task duration chart of a DAG with
// 30 runs: a line per task with a point per run, each with its tooltip;
// the range selector narrows it to 10 runs.
func TestDurationChartOf30Runs(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	srv := startServer(t, chartsYAML)
	var dates []time.Time
	for i := range 30 {
		dates = append(dates, time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i))
	}
	srv.seedRuns(t, "e2e_charts", dates, nil)
	tb := b.tab(t, srv.url)
	tb.login("viewer")
	tb.open("/dags/e2e_charts/grid", "#grid")
	tb.run("open the duration tab", chromedp.Click("#tab-duration", q), chromedp.WaitVisible("#task-chart", q))
	// 25 runs by default, as the grid; 50 shows all 30.
	tb.waitJS("25 runs by default", `document.querySelectorAll('#task-chart [data-task="extract"] circle').length === 25`)
	tb.run("show 50 runs", chromedp.SetValue("#num-runs", "50", q), chromedp.Submit("#chart-filters", q))
	tb.waitJS("two lines of 30 points", `document.querySelectorAll('#task-chart [data-testid="series"]').length === 2 &&
		document.querySelectorAll('#task-chart [data-task="extract"] circle').length === 30 &&
		document.querySelectorAll('#task-chart [data-task="load"] circle').length === 30`)
	// The newest run's load took 30+29+20 seconds.
	last := windsock.RunID(windsock.RunTypeScheduled, dates[29])
	if tip := tb.text(`#task-chart [data-task="load"] circle:last-of-type title`); tip != "load, run "+last+": 00:01:19" {
		t.Errorf("the last point's tooltip = %q", tip)
	}
	if got := strings.TrimSpace(tb.text(`#task-chart [data-task="load"] .series-label`)); got != "load" {
		t.Errorf("the line's label = %q", got)
	}
	tb.screenshot(artifactDir(t), "duration")

	// The range: 10 runs up to April 20.
	tb.run("choose 10 runs up to April 20",
		chromedp.SetValue("#num-runs", "5", q),
		chromedp.SetValue("#base-date", "2024-04-20", q),
		chromedp.Submit("#chart-filters", q))
	tb.waitJS("5 points per line", `location.search.indexOf("base_date=2024-04-20") >= 0 &&
		document.querySelectorAll('#task-chart [data-task="extract"] circle').length === 5`)
	labels := tb.text(`#task-chart`)
	if !strings.Contains(labels, "2024-04-20 00:00") || strings.Contains(labels, "2024-04-21 00:00") || strings.Contains(labels, "2024-04-15 00:00") {
		t.Errorf("the axis of 5 runs up to April 20 reads %q", labels)
	}
	tb.phoneFits("/dags/e2e_charts/duration", "#task-chart", "duration_phone")
}

// TestCalendarShowsAFailedDay opens the calendar of a DAG with two runs a
// day over two months, one day of which failed: that day is coloured as
// failed (and crossed), the others as success.
func TestCalendarShowsAFailedDay(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	srv := startServer(t, chartsYAML)
	var dates []time.Time
	failed := map[time.Time]bool{}
	for day := range 60 {
		for _, h := range []int{3, 15} {
			at := time.Date(2024, 5, 1, h, 0, 0, 0, time.UTC).AddDate(0, 0, day)
			dates = append(dates, at)
			if day == 40 && h == 15 { // June 10th's second run
				failed[at] = true
			}
		}
	}
	srv.seedRuns(t, "e2e_charts", dates, failed)
	tb := b.tab(t, srv.url)
	tb.login("viewer")
	tb.open("/dags/e2e_charts/calendar", `[data-testid="calendar-year"]`)
	tb.waitJS("60 days with runs", `document.querySelectorAll('[data-testid="calendar-day"]').length === 60`)
	var states map[string]string
	if err := tb.eval(`(function(){var out={};document.querySelectorAll('[data-testid="calendar-day"]').forEach(function(g){
		out[g.getAttribute("data-date")] = g.getAttribute("data-state") + " " + getComputedStyle(g.querySelector("rect")).fill;});return out})()`, &states); err != nil {
		t.Fatal(err)
	}
	for date, got := range states {
		want := "success rgb(0, 128, 0)"
		if date == "2024-06-10" {
			want = "failed rgb(255, 0, 0)"
		}
		if got != want {
			t.Errorf("%s: %q, want %q", date, got, want)
		}
	}
	if tip := tb.text(`[data-date="2024-06-10"] title`); tip != "2024-06-10: 1 success, 1 failed" {
		t.Errorf("the failed day's tooltip = %q", tip)
	}
	if !tb.exists(`[data-date="2024-06-10"] .day-mark`) {
		t.Error("the failed day has no mark besides its colour")
	}
	if got := tb.text(`[data-testid="failed-days"]`); !strings.Contains(got, "2024-06-10") {
		t.Errorf("the failed days listed: %q", got)
	}
	tb.screenshot(artifactDir(t), "calendar")
	tb.phoneFits("/dags/e2e_charts/calendar", `[data-testid="calendar-year"]`, "calendar_phone")
}

// TestGridDetailsPanel runs the flow, then opens a task instance's details
// from its grid cell: the panel beside the grid shows its state, try,
// operator and log without leaving the page; a run's bar shows the run.
func TestGridDetailsPanel(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	srv := startServer(t)
	srv.openGate(t)
	run := srv.startRun(t, dagID)
	if got := srv.waitRunEnd(t, dagID, run.RunID); got.State != windsock.DagRunSuccess {
		t.Fatalf("run ended %s", got.State)
	}
	tb := b.tab(t, srv.url)
	tb.login("admin")
	tb.open("/dags/"+dagID+"/grid", "#grid")
	if !tb.exists(`#grid [data-testid="duration-axis"]`) || strings.TrimSpace(tb.text(`#grid .run-date`)) == "" {
		t.Error("the run bars have no duration axis or date")
	}
	tb.run("mark the page", chromedp.Evaluate(`window.__samePage = true`, nil))
	tb.run("click greet's cell", chromedp.Click(`#grid tr[data-row="greet"] a.cell`, q), chromedp.WaitVisible(`#details-panel #ti`, q))
	tb.waitJS("greet's log in the panel", `document.querySelector("#details-panel #log").textContent.indexOf("hello from windsock") >= 0`)
	var where string
	if err := tb.eval(`(window.__samePage === true) + " " + location.pathname`, &where); err != nil {
		t.Fatal(err)
	}
	if where != "true /dags/"+dagID+"/grid" {
		t.Errorf("after the click: %q, want the same grid page", where)
	}
	for sel, want := range map[string]string{"#ti-task-id": "greet", "#ti-state": "success", "#ti-try": "1"} {
		if got := strings.TrimSpace(tb.text("#details-panel " + sel)); got != want {
			t.Errorf("panel %s = %q, want %q", sel, got, want)
		}
	}
	for _, sel := range []string{`#details-panel [data-testid="clear-form"]`, `#details-panel [data-testid="ti-mark-success"]`, `#details-panel #rendered-title`} {
		if !tb.exists(sel) {
			t.Errorf("the panel lacks %s", sel)
		}
	}
	if !tb.exists(`#grid tr[data-row="greet"] a.cell.selected`) {
		t.Error("the clicked cell is not marked selected")
	}
	tb.screenshot(artifactDir(t), "grid_details")
	// The address names what the panel shows: a reload opens it again.
	var search string
	if err := tb.eval(`new URLSearchParams(location.search).get("task_id") + " " + new URLSearchParams(location.search).get("run_id")`, &search); err != nil {
		t.Fatal(err)
	}
	if search != "greet "+run.RunID {
		t.Errorf("address after the click names %q, want greet and the run", search)
	}
	tb.run("reload", chromedp.Reload(), chromedp.WaitVisible(`#details-panel #ti`, q))
	tb.waitJS("greet's log after the reload", `document.querySelector("#details-panel #log").textContent.indexOf("hello from windsock") >= 0`)

	// A run's bar: the run's details replace the task's.
	tb.run("click the run's bar", chromedp.Click(`#grid a.run-bar`, q), chromedp.WaitVisible(`#details-panel #run-panel`, q))
	if got := strings.TrimSpace(tb.text(`#details-panel #run-state`)); got != "success" || tb.exists(`#details-panel #ti`) {
		t.Errorf("run panel state = %q (task panel still there: %v)", got, tb.exists(`#details-panel #ti`))
	}
	tb.run("close the panel", chromedp.Click(`[data-testid="details-close"]`, q))
	tb.waitJS("the panel to close", `document.getElementById("details-panel").hidden`)
	tb.phoneFits("/dags/"+dagID+"/grid?run_id="+url.QueryEscape(run.RunID), "#run-panel", "grid_details_phone")
}

// TestNewPagesFitAPhone opens the other new pages on a 390 px wide phone
// screen: none may scroll sideways.
func TestNewPagesFitAPhone(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	srv := startServer(t, chartsYAML, datasetsYAML)
	srv.seedRuns(t, "e2e_charts", []time.Time{time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)}, nil)
	// An event with an extra, so that the dataset page's events table is
	// drawn too.
	if _, _, err := srv.env.Store.DatasetEventCreate(t.Context(), &store.DatasetEventCreateParams{URI: longDatasetURI,
		Extra: map[string]any{"rows": 1250, "note": "written by an external loader"}, SourceMapIndex: -1, Timestamp: time.Now()}); err != nil {
		t.Fatal(err)
	}
	tb := b.tab(t, srv.url)
	tb.login("admin")
	for path, sel := range map[string]string{
		"/datasets/detail?uri=" + url.QueryEscape(longDatasetURI): "#dataset-events",
		"/datasets":                      "#datasets-table",
		"/xcom/list":                     "#list-filter",
		"/configuration":                 "#config-hidden",
		"/provider/list":                 "#providers-table",
		"/plugin/list":                   "#plugins-note",
		"/dag-dependencies":              "h1",
		"/dags/e2e_charts/audit_log":     "#list-filter",
		"/dags/e2e_charts/tries":         "#task-chart",
		"/dags/e2e_charts/landing-times": "#task-chart",
	} {
		name := strings.NewReplacer("/", "_", "-", "_").Replace(strings.Trim(path, "/"))
		if before, _, ok := strings.Cut(name, "?"); ok {
			name = before
		}
		tb.phoneFits(path, sel, name+"_phone")
	}
}

// TestGridDetailsPanelRefreshes opens the details of a running task
// instance from its grid cell: the panel fetches itself again while the
// try runs and shows it succeed, without a reload of the page, then stops
// refreshing.
func TestGridDetailsPanelRefreshes(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	srv := startServer(t)
	run := srv.startRun(t, dagID)
	tb := b.tab(t, srv.url)
	tb.login("admin")
	tb.open("/dags/"+dagID+"/grid", "#grid")
	tb.run("mark the page", chromedp.Evaluate(`window.__samePage = true`, nil))
	tb.run("click greet's cell", chromedp.Click(`#grid tr[data-row="greet"] a.cell`, q), chromedp.WaitVisible(`#details-panel #ti`, q))
	if state := strings.TrimSpace(tb.text("#details-panel #ti-state")); state == "success" {
		t.Fatalf("greet is %s before its gate opened", state)
	}
	tb.waitJS("the panel refreshing", `document.getElementById("details-panel").getAttribute("data-refreshing") === "true"`)
	// While the try runs, refreshes that find its state unchanged leave the
	// panel (and its streamed log) in place, though its duration grows.
	tb.run("count the panel's fetches", chromedp.Evaluate(`(function () {
		document.querySelector("#details-panel #ti").__kept = true;
		window.__panelFetches = 0;
		var f = window.fetch;
		window.fetch = function (u) {
			if (String(u).indexOf("panel=1") >= 0) { window.__panelFetches++; }
			return f.apply(this, arguments);
		};
	})()`, nil))
	tb.waitJS("three refreshes", `window.__panelFetches >= 3`)
	var kept bool
	if err := tb.eval(`document.querySelector("#details-panel #ti").__kept === true`, &kept); err != nil {
		t.Fatal(err)
	}
	if !kept {
		t.Error("a refresh that found the running try unchanged replaced the panel")
	}
	srv.openGate(t)
	tb.waitJS("greet's success in the panel", `document.querySelector("#details-panel #ti-state").textContent.trim() === "success"`)
	tb.waitJS("the refreshing to stop", `!document.getElementById("details-panel").hasAttribute("data-refreshing")`)
	var same bool
	if err := tb.eval(`window.__samePage === true`, &same); err != nil {
		t.Fatal(err)
	}
	if !same {
		t.Error("the page was reloaded: the panel should refresh itself")
	}
	srv.waitRunEnd(t, dagID, run.RunID)
}
