package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// clusterData is the cluster activity page: the environment's components
// with their health, its pools, and runs and task instances by state over
// the last days.
type clusterData struct {
	Components []componentRow
	Unhealthy  int
	// Threshold is how old a heartbeat may be for a scheduler, DAG
	// processor or triggerer to count as healthy; WorkerThreshold, for a
	// worker.
	Threshold, WorkerThreshold string
	ShowPools                  bool
	Pools                      []poolRow
	Days                       int
	DayOpts                    []int
	RunChart                   template.HTML
	RunDays                    []runDay
	RunTotals                  map[string]int
	TIStates                   []stateCount
	// Scoped is set when the user may read only some DAGs: the counts are
	// theirs alone.
	Scoped bool
}

// componentRow is one job: a scheduler, DAG processor, triggerer or
// worker, with how long ago it last heartbeat. Dead is set for a job a
// scheduler has ended as failed (a killed worker).
type componentRow struct {
	*windsock.Job
	Kind          string
	Healthy, Dead bool
	Age           string
}

// runDay is one day's runs (by start date) counted by state.
type runDay struct {
	Day    time.Time
	Counts map[string]int
}

type stateCount struct {
	State string
	N     int
}

// componentKind names a job type as people call the component.
func componentKind(jobType string) string {
	switch jobType {
	case windsock.JobTypeScheduler:
		return "Scheduler"
	case windsock.JobTypeDagProcessor:
		return "DAG processor"
	case windsock.JobTypeTriggerer:
		return "Triggerer"
	case windsock.JobTypeLocalTask:
		return "Task runner"
	}
	if jobType == "" {
		return "Unknown"
	}
	// WorkerJob and whatever other components record: their type without
	// the "Job" suffix.
	if n := len(jobType); n > 3 && jobType[n-3:] == "Job" {
		return jobType[:n-3]
	}
	return jobType
}

// clusterActivity is /cluster_activity.
func (s *Server) clusterActivity(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, auth.ActionRead, auth.ResourceClusterActivity); err != nil {
		return err
	}
	ctx := r.Context()
	d := &clusterData{Days: 14, DayOpts: []int{7, 14, 30}}
	if raw := r.URL.Query().Get("days"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 90 {
			return windsock.Errorf(windsock.EINVALID, "days: expected a number from 1 to 90, got %q", raw)
		}
		d.Days = n
	}
	now := s.now()
	d.Threshold = s.cfg.Scheduler.SchedulerHealthCheckThreshold.String()
	d.WorkerThreshold = s.cfg.Scheduler.WorkerHealthCheckThreshold.String()
	if s.can(r, auth.ActionRead, auth.ResourceJob) {
		if err := s.clusterComponents(r, d, now); err != nil {
			return err
		}
	}
	if d.ShowPools = s.can(r, auth.ActionRead, auth.ResourcePool); d.ShowPools {
		pools, err := s.Store.PoolList(ctx)
		if err != nil {
			return fmt.Errorf("cluster activity: list pools: %w", err)
		}
		used, err := s.Store.PoolSlotsByState(ctx)
		if err != nil {
			return fmt.Errorf("cluster activity: pool slots: %w", err)
		}
		for _, p := range pools {
			u := used[p.Pool]
			d.Pools = append(d.Pools, poolRow{Pool: p, Running: u[windsock.TaskStateRunning], Queued: u[windsock.TaskStateQueued],
				Scheduled: u[windsock.TaskStateScheduled], Deferred: u[windsock.TaskStateDeferred]})
		}
	}
	sc := s.scope(r, "")
	d.Scoped = sc.restrict
	if err := s.clusterCounts(r, d, sc, now); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "cluster_activity", Page{Title: "Cluster activity", Nav: "cluster", Data: d})
}

// clusterCounts counts the readable DAGs' runs per day and state (by
// start date) and their task instances per state (updated in the
// window): one grouped query each, whatever the number of days.
func (s *Server) clusterCounts(r *http.Request, d *clusterData, sc browseScope, now time.Time) error {
	ctx := r.Context()
	today := now.UTC().Truncate(24 * time.Hour)
	from := today.AddDate(0, 0, -(d.Days - 1))
	d.RunTotals = map[string]int{}
	if s.can(r, auth.ActionRead, auth.ResourceDAGRun) {
		bounds := make([]time.Time, d.Days+1)
		for i := range bounds {
			bounds[i] = from.AddDate(0, 0, i)
		}
		counts, err := s.Store.DagRunCountsByPeriod(ctx, &store.DagRunPeriodCountParams{DagIDs: sc.ids, OnlyDagIDs: sc.restrict, Bounds: bounds})
		if err != nil {
			return fmt.Errorf("cluster activity: count runs: %w", err)
		}
		for i, byState := range counts {
			rd := runDay{Day: bounds[i], Counts: map[string]int{}}
			for _, st := range dagRunStates {
				n := byState[windsock.DagRunState(st)]
				rd.Counts[st] = n
				d.RunTotals[st] += n
			}
			d.RunDays = append(d.RunDays, rd)
		}
		d.RunChart = runDaysChart(d.RunDays)
	}
	if s.can(r, auth.ActionRead, auth.ResourceTaskInstance) {
		end := now
		counts, err := s.Store.TaskInstanceStateCounts(ctx, &store.TaskInstanceQueryParams{DagIDs: sc.ids, OnlyDagIDs: sc.restrict,
			UpdatedAt: store.TimeRange{GTE: &from, LTE: &end}})
		if err != nil {
			return fmt.Errorf("cluster activity: count task instances: %w", err)
		}
		for _, st := range taskStates {
			d.TIStates = append(d.TIStates, stateCount{State: st, N: counts[windsock.TaskInstanceState(stateValue(st))]})
		}
	}
	return nil
}

// clusterComponents lists the running jobs, each judged by its own
// threshold (scheduler.worker_health_check_threshold for a worker, as the
// scheduler that hands back a dead worker's tries judges it;
// scheduler.scheduler_health_check_threshold for the others), and the
// jobs a scheduler has ended as failed in the page's window (a killed
// worker, once its tries are handed back), shown as unhealthy until a job
// of the same kind on the same host starts after it: the one that
// replaced it.
func (s *Server) clusterComponents(r *http.Request, d *clusterData, now time.Time) error {
	ctx := r.Context()
	running, err := s.Store.JobList(ctx, &store.JobListParams{State: windsock.JobRunning, Limit: 500})
	if err != nil {
		return fmt.Errorf("cluster activity: list jobs: %w", err)
	}
	// Failed jobs per component kind: task runners' jobs (one per failed
	// task, and an imported job table's) would crowd a shared limit.
	var failed []*windsock.Job
	for _, kind := range []string{windsock.JobTypeScheduler, windsock.JobTypeDagProcessor, windsock.JobTypeTriggerer, windsock.JobTypeWorker} {
		jobs, err := s.Store.JobList(ctx, &store.JobListParams{JobType: kind, State: windsock.JobFailed, Limit: 50})
		if err != nil {
			return fmt.Errorf("cluster activity: list failed jobs: %w", err)
		}
		failed = append(failed, jobs...)
	}
	since := now.AddDate(0, 0, -d.Days)
	thresholds := s.cfg.Scheduler.HealthThresholds()
	for _, j := range running {
		d.Components = append(d.Components, componentRow{Job: j, Kind: componentKind(j.JobType), Healthy: j.Healthy(now, thresholds),
			Age: fmtAge(now.Sub(j.LatestHeartbeat))})
	}
	for _, j := range failed {
		if j.LatestHeartbeat.Before(since) || replaced(j, running) {
			continue
		}
		d.Components = append(d.Components, componentRow{Job: j, Kind: componentKind(j.JobType), Dead: true,
			Age: fmtAge(now.Sub(j.LatestHeartbeat))})
	}
	for _, c := range d.Components {
		if !c.Healthy {
			d.Unhealthy++
		}
	}
	return nil
}

// replaced reports whether a running job of dead's kind on its host
// started after dead's last heartbeat.
func replaced(dead *windsock.Job, running []*windsock.Job) bool {
	for _, j := range running {
		if j.JobType == dead.JobType && j.Hostname == dead.Hostname && j.StartDate.After(dead.LatestHeartbeat) {
			return true
		}
	}
	return false
}

// stateValue is a state as stored: "none" is the empty state.
func stateValue(name string) string {
	if name == "none" {
		return ""
	}
	return name
}

// fmtAge shows how long ago a heartbeat was, to the second.
func fmtAge(d time.Duration) string {
	if d < time.Second {
		return "just now"
	}
	return d.Round(time.Second).String() + " ago"
}

// Run chart geometry.
const (
	rcLeft  = 40
	rcTop   = 10
	rcPlotH = 160
	rcBar   = 22
	rcStep  = 30
)

// runDaysChart draws a stacked bar of runs per day (success at the
// bottom, then failed, running, queued), each segment with a tooltip and
// each bar with its total written above it.
func runDaysChart(days []runDay) template.HTML {
	top := 0
	for _, d := range days {
		total := 0
		for _, n := range d.Counts {
			total += n
		}
		top = max(top, total)
	}
	scale := niceMax(float64(top))
	width, height := rcLeft+len(days)*rcStep+10, rcTop+rcPlotH+40
	yOf := func(v float64) float64 { return rcTop + rcPlotH*(1-v/scale) }
	var c svg
	c.raw(`<svg class="chart runs-by-day" id="runs-chart" data-testid="runs-chart" role="img" aria-labelledby="runs-chart-title" width="`,
		strconv.Itoa(width), `" height="`, strconv.Itoa(height), `" viewBox="0 0 `, strconv.Itoa(width), " ", strconv.Itoa(height),
		`"><title id="runs-chart-title">DAG runs started per day, by state</title>`)
	for _, v := range []float64{0, scale / 2, scale} {
		y := num(yOf(v))
		c.raw(`<line class="grid-line" x1="`, strconv.Itoa(rcLeft), `" x2="`, strconv.Itoa(width), `" y1="`, y, `" y2="`, y, `"/>`,
			`<text class="axis-label" x="`, strconv.Itoa(rcLeft-4), `" y="`, num(yOf(v)+4), `" text-anchor="end">`, strconv.FormatFloat(v, 'f', -1, 64), `</text>`)
	}
	for i, d := range days {
		x := rcLeft + i*rcStep + (rcStep-rcBar)/2
		base, total := 0.0, 0
		for _, st := range []string{"success", "failed", "running", "queued"} {
			n := d.Counts[st]
			if n == 0 {
				continue
			}
			y0, y1 := yOf(base), yOf(base+float64(n))
			c.raw(`<rect class="bar state-`, st, `" x="`, strconv.Itoa(x), `" y="`, num(y1), `" width="`, strconv.Itoa(rcBar), `" height="`,
				num(y0-y1), `"><title>`, d.Day.Format(time.DateOnly), `: `, strconv.Itoa(n), " ", st, `</title></rect>`)
			base += float64(n)
			total += n
		}
		cx := strconv.Itoa(x + rcBar/2)
		if total > 0 {
			c.raw(`<text class="bar-label" x="`, cx, `" y="`, num(yOf(base)-3), `" text-anchor="middle">`, strconv.Itoa(total), `</text>`)
		}
		// A label every other day at most: "01-02" is as wide as a bar's
		// step. Every bar's tooltip has its date.
		if i%max(1, (len(days)+9)/10) == 0 {
			c.raw(`<text class="axis-label" x="`, cx, `" y="`, strconv.Itoa(rcTop+rcPlotH+14), `" text-anchor="middle">`, d.Day.Format("01-02"), `</text>`)
		}
	}
	c.raw(`</svg>`)
	return c.html()
}
