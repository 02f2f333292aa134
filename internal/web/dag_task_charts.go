package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// taskChartKind is one of the per-task line charts over recent runs:
// what it measures and how its values read.
type taskChartKind struct {
	Tab, Title, YLabel, About string
	// measure is what the store reads per task instance; value turns it
	// into the chart's number for an instance of run.
	measure store.Measure
	value   func(measure float64, run *windsock.DagRun) float64
	// format shows a value on the axis and in tooltips.
	format func(float64) string
	// integer axes (tries) step by whole numbers.
	integer bool
}

func asIs(v float64, _ *windsock.DagRun) float64 { return v }

var (
	durationChart = taskChartKind{Tab: "duration", Title: "Task duration", YLabel: "Duration",
		About:   "How long each task's latest try ran, per run.",
		measure: store.MeasureDuration, value: asIs, format: fmtDurationSeconds}
	triesChart = taskChartKind{Tab: "tries", Title: "Task tries", YLabel: "Tries",
		About: "How many tries each task took, per run.", integer: true,
		measure: store.MeasureTries, value: asIs,
		format: func(v float64) string { return strconv.Itoa(int(math.Round(v))) }}
	landingChart = taskChartKind{Tab: "landing-times", Title: "Landing times", YLabel: "Landed after",
		About:   "When each task ended, measured from the end of its run's data interval (Airflow's landing time).",
		measure: store.MeasureEndDate,
		value: func(end float64, run *windsock.DagRun) float64 {
			ref := run.LogicalDate
			if run.DataIntervalEnd != nil {
				ref = *run.DataIntervalEnd
			}
			return end - float64(ref.UnixNano())/1e9
		},
		format: signedDuration}
)

// signedDuration shows seconds as HH:MM:SS, with a minus sign before the
// reference instant.
func signedDuration(v float64) string {
	if v < 0 {
		return "-" + fmtDurationSeconds(-v)
	}
	return fmtDurationSeconds(v)
}

func (s *Server) dagDuration(w http.ResponseWriter, r *http.Request) error {
	return s.taskChartPage(w, r, durationChart)
}

func (s *Server) dagTries(w http.ResponseWriter, r *http.Request) error {
	return s.taskChartPage(w, r, triesChart)
}

func (s *Server) dagLandingTimes(w http.ResponseWriter, r *http.Request) error {
	return s.taskChartPage(w, r, landingChart)
}

// taskChartData is a per-task line chart page.
type taskChartData struct {
	*dagPage
	Kind     taskChartKind
	NumRuns  int
	Options  []int
	BaseDate string
	Runs     int
	Chart    template.HTML
	Series   []chartSeries
	// Legend lists the series (built with the chart: for 500 tasks a
	// template loop would cost more than the chart).
	Legend template.HTML
	// NoPoints is set when the chart has too many points to mark each one
	// (the lines still show, with a tooltip per task).
	NoPoints bool
}

// chartSeries is one task's line: its name and the classes of its colour
// and dash pattern.
type chartSeries struct {
	Name  string
	Class string
}

// maxChartPoints bounds the points marked (each a tooltip) on one chart:
// 100 runs of a 200-task DAG, a few MB of page.
const maxChartPoints = 20000

// taskChartPage reads the runs of the range (?num_runs=, ?base_date= the
// newest logical date shown) and their task instances, and draws kind.
func (s *Server) taskChartPage(w http.ResponseWriter, r *http.Request, kind taskChartKind) error {
	p, err := s.loadDAG(r, kind.Tab)
	if err != nil {
		return err
	}
	if !p.Can.ReadRuns || !p.Can.ReadTIs {
		return forbidden()
	}
	d := &taskChartData{dagPage: p, Kind: kind, Options: []int{5, 25, 50, 100, 365}}
	if d.NumRuns, err = numRunsParam(r); err != nil {
		return err
	}
	runs, base, err := s.chartRuns(r, p.DagID, d.NumRuns)
	if err != nil {
		return err
	}
	d.BaseDate = base
	d.Runs = len(runs)
	if len(runs) > 0 {
		ids := make([]string, len(runs))
		for i, run := range runs {
			ids[i] = run.RunID
		}
		ms, err := s.Store.TaskInstanceMeasures(r.Context(), &store.TaskInstanceMeasureParams{DagID: p.DagID, RunIDs: ids, Measure: kind.measure})
		if err != nil {
			return fmt.Errorf("%s: read task instances: %w", kind.Tab, err)
		}
		d.Chart, d.Series, d.NoPoints = taskLineChart(kind, runs, ms)
		d.Legend = seriesLegend(d.Series)
	}
	return s.render(w, r, http.StatusOK, "dag_task_chart", Page{Title: p.DagID + " " + kind.Title, Nav: "dags", Data: d})
}

// chartRuns returns up to n runs of dagID, oldest first, ending at
// ?base_date= (a date or date-time, inclusive) or at the newest, with the
// base date as the form shows it.
func (s *Server) chartRuns(r *http.Request, dagID string, n int) ([]*windsock.DagRun, string, error) {
	params := &store.DagRunListParams{DagID: dagID, OrderBy: "-execution_date", Limit: n}
	raw := r.URL.Query().Get("base_date")
	if raw != "" {
		t, err := parseBaseDate(raw)
		if err != nil {
			return nil, "", err
		}
		params.LogicalDateLTE = &t
	}
	runs, err := s.Store.DagRunList(r.Context(), params)
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	slices.Reverse(runs)
	return runs, raw, nil
}

// parseBaseDate reads a date (the whole day counts) or an RFC 3339 time.
func parseBaseDate(raw string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, raw); err == nil {
		return t.Add(24*time.Hour - time.Nanosecond), nil
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, nil
	}
	return time.Time{}, windsock.Errorf(windsock.EINVALID, "base_date: expected a date (YYYY-MM-DD) or an RFC 3339 time, got %q", raw)
}

// Line chart geometry, in SVG pixels.
const (
	lineLeft   = 70
	lineTop    = 14
	linePlotW  = 720
	linePlotH  = 300
	lineRight  = 170
	lineBottom = 70
)

// taskLineChart draws one line per task across runs (oldest left), each
// point with a tooltip naming the task, the run and the value; series
// differ by colour and dash pattern and, for up to 30 tasks, carry their
// name at the line's end.
func taskLineChart(kind taskChartKind, runs []*windsock.DagRun, ms []store.TaskInstanceMeasure) (template.HTML, []chartSeries, bool) {
	col := make(map[string]int, len(runs))
	for i, run := range runs {
		col[run.RunID] = i
	}
	// values[task][run]; a mapped task's point is its longest instance.
	values := map[string][]float64{}
	has := map[string][]bool{}
	lo, hi := 0.0, 0.0
	// Rows come grouped by run more often than not: the run's column is
	// looked up again only when it changes.
	lastRun, j := "", -1
	for _, m := range ms {
		if m.RunID != lastRun {
			var ok bool
			if j, ok = col[m.RunID]; !ok {
				j = -1
			}
			lastRun = m.RunID
		}
		if j < 0 {
			continue
		}
		v := kind.value(m.Value, runs[j])
		vs, hs := values[m.TaskID], has[m.TaskID]
		if vs == nil {
			vs, hs = make([]float64, len(runs)), make([]bool, len(runs))
			values[m.TaskID], has[m.TaskID] = vs, hs
		}
		if !hs[j] || v > vs[j] {
			vs[j] = v
		}
		hs[j] = true
		lo, hi = min(lo, v), max(hi, v)
	}
	tasks := make([]string, 0, len(values))
	points := 0
	for id, hs := range has {
		tasks = append(tasks, id)
		for _, h := range hs {
			if h {
				points++
			}
		}
	}
	slices.Sort(tasks)
	top := niceMax(hi)
	bottom := 0.0
	if lo < 0 {
		bottom = -niceMax(-lo)
	}
	if kind.integer {
		top = math.Max(math.Ceil(hi), 1)
	}
	xOf := func(j int) float64 {
		if len(runs) == 1 {
			return lineLeft + linePlotW/2
		}
		return lineLeft + linePlotW*float64(j)/float64(len(runs)-1)
	}
	yOf := func(v float64) float64 { return lineTop + linePlotH*(top-v)/(top-bottom) }

	width, height := lineLeft+linePlotW+lineRight, lineTop+linePlotH+lineBottom
	var c svg
	// About 160 bytes a point: growing once spares copying megabytes.
	c.b.Grow(points*160 + len(tasks)*200 + 4096)
	c.raw(`<svg class="chart lines" id="task-chart" data-testid="task-chart" role="img" aria-labelledby="task-chart-title" width="`,
		strconv.Itoa(width), `" height="`, strconv.Itoa(height), `" viewBox="0 0 `, strconv.Itoa(width), " ", strconv.Itoa(height), `">`,
		`<title id="task-chart-title">`, esc(kind.Title), ` of `, strconv.Itoa(len(tasks)), ` tasks over `, strconv.Itoa(len(runs)), ` runs</title>`)
	// y axis: five steps between bottom and top.
	steps := 5
	if kind.integer {
		steps = int(top - bottom)
		for steps > 10 {
			steps = (steps + 1) / 2
		}
	}
	for i := 0; i <= steps; i++ {
		v := bottom + (top-bottom)*float64(i)/float64(steps)
		y := num(yOf(v))
		c.raw(`<line class="grid-line" x1="`, strconv.Itoa(lineLeft), `" x2="`, strconv.Itoa(lineLeft+linePlotW), `" y1="`, y, `" y2="`, y, `"/>`,
			`<text class="axis-label" x="`, strconv.Itoa(lineLeft-4), `" y="`, num(yOf(v)+4), `" text-anchor="end">`, esc(kind.format(v)), `</text>`)
	}
	c.raw(`<text class="axis-label" x="4" y="`, strconv.Itoa(lineTop+linePlotH/2), `">`, esc(kind.YLabel), `</text>`)
	// x axis: the runs' logical dates, at most about 12 labels.
	every := max(1, (len(runs)+11)/12)
	for j, run := range runs {
		if j%every != 0 && j != len(runs)-1 {
			continue
		}
		x := num(xOf(j))
		c.raw(`<text class="axis-label" data-testid="run-label" x="`, x, `" y="`, strconv.Itoa(lineTop+linePlotH+14),
			`" text-anchor="end" transform="rotate(-35 `, x, " ", strconv.Itoa(lineTop+linePlotH+14), `)">`,
			esc(run.LogicalDate.UTC().Format("2006-01-02 15:04")), `</text>`)
	}
	markPoints := points <= maxChartPoints
	series := make([]chartSeries, len(tasks))
	for i, task := range tasks {
		class := "s" + strconv.Itoa(i%10) + " d" + strconv.Itoa((i/10)%4)
		series[i] = chartSeries{Name: task, Class: class}
		vs, hs := values[task], has[task]
		c.raw(`<g class="task-series" data-testid="series" data-task="`, esc(task), `"><title>`, esc(task), `</title><path class="series `, class, `" d="`)
		pen := false
		lastJ := -1
		for j := range runs {
			if !hs[j] {
				pen = false
				continue
			}
			if pen {
				c.raw(" L", num(xOf(j)), " ", num(yOf(vs[j])))
			} else {
				c.raw(" M", num(xOf(j)), " ", num(yOf(vs[j])))
			}
			pen = true
			lastJ = j
		}
		c.raw(`"/>`)
		if markPoints {
			for j, run := range runs {
				if !hs[j] {
					continue
				}
				c.raw(`<circle class="point `, class, `" data-testid="point" cx="`, num(xOf(j)), `" cy="`, num(yOf(vs[j])), `" r="3"><title>`,
					esc(task), `, run `, esc(run.RunID), `: `, esc(kind.format(vs[j])), `</title></circle>`)
			}
		}
		if len(tasks) <= 30 && lastJ >= 0 {
			c.raw(`<text class="series-label" x="`, num(xOf(lastJ)+6), `" y="`, num(yOf(vs[lastJ])+4), `">`, esc(shorten(task, 24)), `</text>`)
		}
		c.raw(`</g>`)
	}
	c.raw(`<line class="axis" x1="`, strconv.Itoa(lineLeft), `" x2="`, strconv.Itoa(lineLeft), `" y1="`, strconv.Itoa(lineTop),
		`" y2="`, strconv.Itoa(lineTop+linePlotH), `"/><line class="axis" x1="`, strconv.Itoa(lineLeft), `" x2="`,
		strconv.Itoa(lineLeft+linePlotW), `" y1="`, num(yOf(bottom)), `" y2="`, num(yOf(bottom)), `"/></svg>`)
	return c.html(), series, !markPoints
}

// seriesLegend lists the series, each with a sample of its line (colour
// and dash pattern) and its name.
func seriesLegend(series []chartSeries) template.HTML {
	var c svg
	c.raw(`<ul class="legend series-legend" aria-label="Tasks">`)
	for _, s := range series {
		c.raw(`<li><svg class="chart" width="26" height="10" aria-hidden="true"><path class="series `, s.Class, `" d="M1 5 H25"/></svg>`, esc(s.Name), `</li>`)
	}
	c.raw(`</ul>`)
	return c.html()
}
