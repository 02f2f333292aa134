package web

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/web/dagview"
	"github.com/windsock/windsock/internal/windsock"
)

// ganttData is the Gantt page: when each task instance of one run was
// queued and ran, one bar per try.
type ganttData struct {
	*dagPage
	Run    *runView
	Runs   []runOption
	Chart  template.HTML
	Rows   []ganttRow
	Legend []string
}

// runOption is a run in a run picker.
type runOption struct {
	RunID    string
	Label    string
	Selected bool
}

// ganttRow is one task instance of the run with its tries, oldest first.
type ganttRow struct {
	TaskID string
	Label  string
	Href   string
	Tries  []ganttTry
}

// ganttTry is one try: queued (known for the current try, and for earlier
// ones an import's task_instance_history tells; the task_fail table keeps
// no queued time) and running.
type ganttTry struct {
	Number        int
	State         windsock.TaskInstanceState
	Queued, Start *time.Time
	End           *time.Time
	Duration      string
}

// first is the earliest instant the row knows of, for ordering rows as
// Airflow's Gantt does (by when they started).
func (r *ganttRow) first() (time.Time, bool) {
	var out time.Time
	for _, t := range r.Tries {
		for _, at := range []*time.Time{t.Queued, t.Start} {
			if at != nil && (out.IsZero() || at.Before(out)) {
				out = *at
			}
		}
	}
	return out, !out.IsZero()
}

// dagGantt is /dags/{dag_id}/gantt[?run_id=]: the chosen run, or the
// newest.
func (s *Server) dagGantt(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadDAG(r, "gantt")
	if err != nil {
		return err
	}
	d := &ganttData{dagPage: p, Legend: stateLegend()}
	if !p.Can.ReadRuns || !p.Can.ReadTIs {
		return forbidden()
	}
	ctx := r.Context()
	recent, err := s.Store.DagRunList(ctx, &store.DagRunListParams{DagID: p.DagID, OrderBy: "-execution_date", Limit: 25})
	if err != nil {
		return fmt.Errorf("gantt: list runs: %w", err)
	}
	runID := cmp.Or(r.URL.Query().Get("run_id"), r.URL.Query().Get("dag_run_id"))
	var run *windsock.DagRun
	switch {
	case runID != "":
		if run, err = s.Store.DagRunGet(ctx, p.DagID, runID); windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return windsock.Errorf(windsock.ENOTFOUND, "DAG %q has no run %q", p.DagID, runID)
		} else if err != nil {
			return fmt.Errorf("gantt: read run: %w", err)
		}
	case len(recent) > 0:
		run = recent[0]
	}
	d.Runs = runOptions(recent, run)
	if run == nil {
		return s.render(w, r, http.StatusOK, "dag_gantt", Page{Title: p.DagID + " gantt", Nav: "dags", Data: d})
	}
	v := newRunView(p, run, s.now())
	d.Run = &v
	if d.Rows, err = s.ganttRows(r, p, &v); err != nil {
		return err
	}
	d.Chart = ganttChart(d.Rows, s.now())
	return s.render(w, r, http.StatusOK, "dag_gantt", Page{Title: p.DagID + " gantt", Nav: "dags", Data: d})
}

// runOptions lists runs for a picker, the selected one included even when
// it is older than the ones listed.
func runOptions(runs []*windsock.DagRun, selected *windsock.DagRun) []runOption {
	out := make([]runOption, 0, len(runs)+1)
	found := false
	for _, run := range runs {
		sel := selected != nil && run.RunID == selected.RunID
		found = found || sel
		out = append(out, runOption{RunID: run.RunID, Label: run.LogicalDate.UTC().Format("2006-01-02 15:04") + " " + string(run.State) + " (" + run.RunID + ")", Selected: sel})
	}
	if selected != nil && !found {
		out = append(out, runOption{RunID: selected.RunID, Label: selected.RunID, Selected: true})
	}
	return out
}

// ganttRows reads the run's task instances and their earlier tries: from
// task_instance_history where an import brought every earlier try of an
// instance (read for retried instances only), else from task_fail, read
// for the whole run at once.
func (s *Server) ganttRows(r *http.Request, p *dagPage, run *runView) ([]ganttRow, error) {
	ctx := r.Context()
	tis, err := s.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: p.DagID, RunID: run.RunID, Timings: true})
	if err != nil {
		return nil, fmt.Errorf("gantt: list task instances: %w", err)
	}
	// Every earlier try of the run in one read, by instance.
	fails, err := s.Store.TaskFailListRun(ctx, p.DagID, run.RunID)
	if err != nil {
		return nil, fmt.Errorf("gantt: list failed tries: %w", err)
	}
	failsOf := map[windsock.TaskInstanceKey][]*windsock.TaskFail{}
	for _, f := range fails {
		k := windsock.TaskInstanceKey{DagID: f.DagID, TaskID: f.TaskID, RunID: f.RunID, MapIndex: f.MapIndex}
		failsOf[k] = append(failsOf[k], f)
	}
	base := p.Path + "/grid/" + run.Path + "/"
	rows := make([]ganttRow, 0, len(tis))
	for _, ti := range tis {
		if ti.TryNumber == 0 && ti.StartDate == nil && ti.QueuedDttm == nil {
			continue // never queued: nothing to draw
		}
		row := ganttRow{TaskID: ti.TaskID, Label: ti.TaskID, Href: base + url.PathEscape(ti.TaskID)}
		if ti.MapIndex >= 0 {
			row.Label += " [" + strconv.Itoa(ti.MapIndex) + "]"
			row.Href += "?map_index=" + strconv.Itoa(ti.MapIndex)
		}
		if ti.TryNumber > 1 {
			earlier, err := s.earlierTries(ctx, ti, func() ([]*windsock.TaskFail, error) { return failsOf[ti.TaskInstanceKey], nil })
			if err != nil {
				return nil, fmt.Errorf("gantt: %w", err)
			}
			for _, t := range earlier {
				row.Tries = append(row.Tries, ganttTry{Number: t.Number, State: t.State, Queued: t.Queued, Start: t.StartDate, End: t.EndDate, Duration: t.Duration})
			}
		}
		cur := ganttTry{Number: max(ti.TryNumber, 1), State: ti.State, Queued: ti.QueuedDttm, Start: ti.StartDate, End: ti.EndDate,
			Duration: dagview.SpanText(ti.StartDate, ti.EndDate, s.now())}
		row.Tries = append(row.Tries, cur)
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b ganttRow) int {
		at, aok := a.first()
		bt, bok := b.first()
		switch {
		case aok && bok && !at.Equal(bt):
			return at.Compare(bt)
		case aok != bok:
			if aok {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Label, b.Label)
	})
	return rows, nil
}

// Gantt geometry, in SVG pixels.
const (
	ganttLabelW = 220
	ganttPlotW  = 760
	ganttRowH   = 22
	ganttBarH   = 14
	ganttAxisH  = 28
	ganttRightW = 110
)

// ganttChart draws rows on a time axis: per try a hatched queued segment
// and a running segment in the state's colour; a state label after each
// row's last try, a hatch over failed tries, and a tooltip per try, so
// the chart reads without colour.
func ganttChart(rows []ganttRow, now time.Time) template.HTML {
	var from, to time.Time
	for _, row := range rows {
		for _, t := range row.Tries {
			for _, at := range []*time.Time{t.Queued, t.Start, t.End} {
				if at == nil {
					continue
				}
				if from.IsZero() || at.Before(from) {
					from = *at
				}
				if at.After(to) {
					to = *at
				}
			}
			if t.Start != nil && t.End == nil && now.After(to) {
				to = now
			}
		}
	}
	if !to.After(from) {
		to = from.Add(time.Second)
	}
	sc := timeScale{from: from, to: to, x0: ganttLabelW, x1: ganttLabelW + ganttPlotW}
	width := ganttLabelW + ganttPlotW + ganttRightW
	height := ganttAxisH + len(rows)*ganttRowH + 4
	var c svg
	c.b.Grow(len(rows)*700 + 4096)
	c.raw(`<svg class="chart gantt" id="gantt-chart" data-testid="gantt-chart" role="img" aria-labelledby="gantt-chart-title" width="`,
		strconv.Itoa(width), `" height="`, strconv.Itoa(height), `" viewBox="0 0 `, strconv.Itoa(width), " ", strconv.Itoa(height), `">`,
		`<title id="gantt-chart-title">Tries of each task instance on a time axis from `, esc(from.UTC().Format(time.DateTime)),
		` to `, esc(to.UTC().Format(time.DateTime)), ` UTC</title>`, hatchDefs)
	ticks, layout := timeTicks(from, to, 8)
	for _, t := range ticks {
		x := num(sc.x(t))
		c.raw(`<line class="grid-line" x1="`, x, `" x2="`, x, `" y1="`, strconv.Itoa(ganttAxisH-6), `" y2="`, strconv.Itoa(height), `"/>`,
			`<text class="axis-label" x="`, x, `" y="14" text-anchor="middle">`, esc(t.Format(layout)), `</text>`)
	}
	for i, row := range rows {
		y := ganttAxisH + i*ganttRowH
		by := num(float64(y + (ganttRowH-ganttBarH)/2))
		c.raw(`<a class="gantt-row" data-testid="gantt-row" data-task="`, esc(row.Label), `" href="`, esc(row.Href), `">`,
			`<text class="row-label" x="4" y="`, strconv.Itoa(y+15), `">`, esc(shorten(row.Label, 30)), `<title>`, esc(row.Label), `</title></text>`)
		lastX := float64(ganttLabelW)
		for _, t := range row.Tries {
			tip := row.Label + ": try " + strconv.Itoa(t.Number) + ", " + dagview.StateName(t.State)
			if t.Queued != nil {
				tip += ", queued " + t.Queued.UTC().Format(time.TimeOnly)
			}
			if t.Start != nil {
				tip += ", started " + t.Start.UTC().Format(time.TimeOnly)
			}
			if t.End != nil {
				tip += ", ended " + t.End.UTC().Format(time.TimeOnly)
			}
			if t.Duration != "" {
				tip += ", ran " + t.Duration
			}
			c.raw(`<g class="gantt-try" data-testid="gantt-try" data-try="`, strconv.Itoa(t.Number), `" data-state="`,
				esc(dagview.StateClass(string(t.State))), `"`, timeAttr("data-start", t.Start), timeAttr("data-end", t.End),
				`><title>`, esc(tip), `</title>`)
			if t.Queued != nil && t.Start != nil && t.Start.After(*t.Queued) {
				x0, x1 := sc.x(*t.Queued), sc.x(*t.Start)
				c.raw(`<rect class="gantt-queued" x="`, num(x0), `" y="`, by, `" width="`, num(max(x1-x0, 1)), `" height="`, strconv.Itoa(ganttBarH), `"/>`)
				lastX = max(lastX, x1)
			}
			if t.Start != nil {
				end := now
				if t.End != nil {
					end = *t.End
				}
				x0, x1 := sc.x(*t.Start), sc.x(end)
				w := num(max(x1-x0, 2))
				c.raw(`<rect class="bar state-`, esc(dagview.StateClass(string(t.State))), `" x="`, num(x0), `" y="`, by,
					`" width="`, w, `" height="`, strconv.Itoa(ganttBarH), `"/>`)
				if t.State == windsock.TaskStateFailed || t.State == windsock.TaskStateUpstreamFailed {
					c.raw(`<rect class="gantt-failed-mark" x="`, num(x0), `" y="`, by, `" width="`, w, `" height="`, strconv.Itoa(ganttBarH), `"/>`)
				}
				lastX = max(lastX, x0+max(x1-x0, 2))
			} else if t.Queued != nil {
				x := sc.x(*t.Queued)
				c.raw(`<rect class="gantt-queued" x="`, num(x), `" y="`, by, `" width="2" height="`, strconv.Itoa(ganttBarH), `"/>`)
				lastX = max(lastX, x+2)
			}
			c.raw(`</g>`)
		}
		last := row.Tries[len(row.Tries)-1]
		label := dagview.StateName(last.State)
		if len(row.Tries) > 1 {
			label += " (" + strconv.Itoa(len(row.Tries)) + " tries)"
		}
		c.raw(`<text class="bar-label" x="`, num(lastX+4), `" y="`, strconv.Itoa(y+15), `">`, esc(label), `</text></a>`)
	}
	c.raw(`</svg>`)
	return c.html()
}

// timeAttr is ` name="RFC 3339 time"`, or nothing for no time: the exact
// instants a try's bar stands for, which the tooltip gives to the second.
func timeAttr(name string, at *time.Time) string {
	if at == nil {
		return ""
	}
	return ` ` + name + `="` + at.UTC().Format(time.RFC3339) + `"`
}

// hatchDefs are the patterns that mark bars without relying on colour:
// queued segments are striped, failed tries cross-hatched.
const hatchDefs = `<defs><pattern id="hatch-queued" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
	`<rect width="6" height="6" fill="#d9d9d9"/><line x1="0" y1="0" x2="0" y2="6" stroke="#595959" stroke-width="2"/></pattern>` +
	`<pattern id="hatch-failed" width="6" height="6" patternUnits="userSpaceOnUse">` +
	`<path d="M0,0 L6,6 M6,0 L0,6" stroke="#000" stroke-width="1" fill="none"/></pattern></defs>`

// shorten cuts s to n characters with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
