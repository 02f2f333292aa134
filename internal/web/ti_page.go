package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/pyvalue"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/web/dagview"
	"github.com/windsock/windsock/internal/windsock"
)

// tiData is the task-instance page: the instance, its tries, rendered
// template fields, XCom entries and the log of one try.
type tiData struct {
	*dagPage
	Run  runView
	TI   *store.TaskInstanceDetail
	Task *windsock.Task // nil when the task left the DAG
	// Path is the page's own path; APIPath the instance's API path.
	PagePath string
	TIAPI    string
	Duration string
	Active   bool
	Tries    []tryView
	// LogTry is the try whose log is shown, 0 before the first try.
	LogTry   int
	LogURL   string
	LogLive  bool
	Rendered []fieldView
	// RenderedAsWritten is set when Rendered are the templated fields as
	// written: the try stored none because they held no template.
	RenderedAsWritten bool
	XComs             []fieldView
	Clear             clearForm
	// MapIndex is set for one instance of a mapped task. LogAPI is the
	// task's API path the logs endpoint hangs off (it takes map_index as
	// a parameter); query starts the page's own query string ("?", or
	// "?map_index=N&").
	MapIndex *int
	LogAPI   string
	query    string
}

// mappedData is the page of a mapped task in one run: its instances, one
// row per map index, each linking to its own page.
type mappedData struct {
	*dagPage
	Run    runView
	TaskID string
	Task   *windsock.Task
	Counts []dagview.StateCount
	Rows   []mappedRow
}

type mappedRow struct {
	MapIndex int
	// Name is the instance's rendered map_index_template.
	Name      string
	State     windsock.TaskInstanceState
	TryNumber int
	StartDate *time.Time
	EndDate   *time.Time
	Href      string
}

// mappedInstancesPage lists the instances of an expanded mapped task:
// what the grid's mapped cell expands to.
func (s *Server) mappedInstancesPage(w http.ResponseWriter, r *http.Request, p *dagPage, run *windsock.DagRun, taskID string) error {
	tis, err := s.Store.TaskInstanceList(r.Context(), &store.TaskInstanceListParams{DagID: p.DagID, RunID: run.RunID, TaskIDs: []string{taskID}})
	if err != nil {
		return fmt.Errorf("mapped task page: list instances: %w", err)
	}
	d := &mappedData{dagPage: p, Run: newRunView(p, run, s.now()), TaskID: taskID, Task: p.DAG.Task(taskID), Counts: dagview.CountStates(tis)}
	base := p.Path + "/grid/" + d.Run.Path + "/" + url.PathEscape(taskID) + "?map_index="
	for _, ti := range tis {
		d.Rows = append(d.Rows, mappedRow{MapIndex: ti.MapIndex, Name: ti.RenderedMapIndex, State: ti.State, TryNumber: ti.TryNumber,
			StartDate: ti.StartDate, EndDate: ti.EndDate, Href: base + strconv.Itoa(ti.MapIndex)})
	}
	return s.render(w, r, http.StatusOK, "ti_mapped", Page{Title: taskID + " - " + p.DagID, Nav: "dags", Data: d})
}

// tryView is one try of a task instance.
type tryView struct {
	Number    int
	State     windsock.TaskInstanceState
	Queued    *time.Time // known from task_instance_history only
	StartDate *time.Time
	EndDate   *time.Time
	Duration  string
	// Href shows this try's log.
	Href string
}

// fieldView is a named value shown as text: a rendered template field or
// an XCom entry.
type fieldView struct {
	Name  string
	Value string
	When  *time.Time
}

// taskInstancePage is /dags/{dag_id}/grid/{run_id}/{task_id}[?try=N].
func (s *Server) taskInstancePage(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadDAG(r, "grid")
	if err != nil {
		return err
	}
	if !p.Can.ReadRuns || !p.Can.ReadTIs {
		return forbidden()
	}
	ctx := r.Context()
	runID, taskID := r.PathValue("run_id"), r.PathValue("task_id")
	run, err := s.Store.DagRunGet(ctx, p.DagID, runID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return windsock.Errorf(windsock.ENOTFOUND, "DAG %q has no run %q", p.DagID, runID)
	}
	if err != nil {
		return fmt.Errorf("task instance page: read run: %w", err)
	}
	mapIndex := -1
	if raw := r.URL.Query().Get("map_index"); raw != "" {
		if mapIndex, err = strconv.Atoi(raw); err != nil || mapIndex < -1 {
			return windsock.Errorf(windsock.EINVALID, "map_index: expected a map index, got %q", raw)
		}
	}
	tis, _, err := s.Store.TaskInstanceQuery(ctx, &store.TaskInstanceQueryParams{DagIDs: []string{p.DagID}, OnlyDagIDs: true,
		RunIDs: []string{runID}, TaskIDs: []string{taskID}, MapIndex: &mapIndex, Limit: 1})
	if err != nil {
		return fmt.Errorf("task instance page: read task instance: %w", err)
	}
	if len(tis) == 0 && mapIndex < 0 && p.DAG.Task(taskID).Mapped() {
		return s.mappedInstancesPage(w, r, p, run, taskID)
	}
	if len(tis) == 0 {
		return windsock.Errorf(windsock.ENOTFOUND, "Run %q of DAG %q has no task instance %q", runID, p.DagID, taskID)
	}
	ti := tis[0]
	d := &tiData{dagPage: p, Run: newRunView(p, run, s.now()), TI: ti, Task: p.DAG.Task(taskID),
		Active: tiActive(ti.State)}
	d.PagePath = p.Path + "/grid/" + d.Run.Path + "/" + url.PathEscape(taskID)
	d.TIAPI = d.Run.APIPath + "/taskInstances/" + url.PathEscape(taskID)
	d.LogAPI, d.query = d.TIAPI, "?"
	if mapIndex >= 0 {
		// One instance of a mapped task: the API's {map_index} routes, and
		// the logs endpoint's map_index parameter.
		d.MapIndex = &mapIndex
		d.query = "?map_index=" + strconv.Itoa(mapIndex) + "&"
		d.TIAPI += "/" + strconv.Itoa(mapIndex)
	}
	d.Duration = dagview.SpanText(ti.StartDate, ti.EndDate, s.now())
	d.Clear = clearForm{ID: "ti-clear", DagAPIPath: p.APIPath, RunID: runID, TaskID: taskID, MapIndex: mapIndex}
	if d.Tries, err = s.tries(r, d); err != nil {
		return err
	}
	if err := d.chooseLog(r); err != nil {
		return err
	}
	d.Rendered = renderedFields(ti.RenderedFields)
	if len(d.Rendered) == 0 && ti.TryNumber > 0 && d.Task != nil {
		// Tries whose templated fields hold no template store nothing (they
		// render to themselves): show the fields as written.
		d.Rendered = writtenFields(s.operators, d.Task)
		d.RenderedAsWritten = len(d.Rendered) > 0
	}
	if p.Can.ReadXCom {
		xs, err := s.Store.XComList(ctx, p.DagID, runID, taskID)
		if err != nil {
			return fmt.Errorf("task instance page: list xcom: %w", err)
		}
		for _, x := range xs {
			if x.MapIndex != mapIndex {
				continue
			}
			when := x.Timestamp
			d.XComs = append(d.XComs, fieldView{Name: x.Key, Value: jsonBytesText(x.Value), When: &when})
		}
	}
	if isPanel(r) {
		return s.renderFragment(w, r, "ti_instance", "ti-details", d)
	}
	return s.render(w, r, http.StatusOK, "ti_instance", Page{Title: taskID + " - " + p.DagID, Nav: "dags", Data: d})
}

// tries lists a task instance's tries, as the API's tries endpoint does:
// the earlier ones (earlierTries), then the current one.
func (s *Server) tries(r *http.Request, d *tiData) ([]tryView, error) {
	ti := d.TI
	out, err := s.earlierTries(r.Context(), ti.TaskInstance, func() ([]*windsock.TaskFail, error) {
		return s.Store.TaskFailList(r.Context(), ti.TaskInstanceKey)
	})
	if err != nil {
		return nil, fmt.Errorf("task instance page: %w", err)
	}
	if ti.TryNumber > 0 {
		out = append(out, tryView{Number: ti.TryNumber, State: ti.State, StartDate: ti.StartDate, EndDate: ti.EndDate, Duration: d.Duration})
	}
	for i := range out {
		out[i].Href = d.PagePath + d.query + "try=" + strconv.Itoa(out[i].Number) + "#log"
	}
	return out, nil
}

// earlierTries are a task instance's tries before its current one: from
// task_instance_history when an import brought them all (Airflow 2.10's
// rows, whole: state, queued, start and end), else the failed ones the
// task_fail table remembers, which fails reads (the Gantt has read the
// whole run's at once).
func (s *Server) earlierTries(ctx context.Context, ti *windsock.TaskInstance, fails func() ([]*windsock.TaskFail, error)) ([]tryView, error) {
	history, err := s.Store.TaskInstanceHistoryList(ctx, ti.TaskInstanceKey)
	if err != nil {
		return nil, fmt.Errorf("list earlier tries: %w", err)
	}
	if windsock.HistoryCovers(history, ti.TryNumber) {
		return historyTries(ti, history), nil
	}
	failed, err := fails()
	if err != nil {
		return nil, fmt.Errorf("list failures: %w", err)
	}
	return pastTries(ti, failed), nil
}

// pastTries are the failed tries before a task instance's current one,
// as the task_fail table remembers them (numbered in order).
func pastTries(ti *windsock.TaskInstance, fails []*windsock.TaskFail) []tryView {
	var out []tryView
	for _, f := range fails {
		n := len(out) + 1
		if n >= ti.TryNumber || (ti.StartDate != nil && f.StartDate != nil && f.StartDate.Equal(*ti.StartDate)) {
			continue // the current try's own failure: its row shows it
		}
		tv := tryView{Number: n, State: windsock.TaskStateFailed, StartDate: f.StartDate, EndDate: f.EndDate}
		if f.Duration != nil {
			tv.Duration = dagview.FormatDuration(time.Duration(*f.Duration) * time.Second)
		}
		out = append(out, tv)
	}
	return out
}

// historyTries are the tries of task_instance_history before a task
// instance's current one.
func historyTries(ti *windsock.TaskInstance, history []*windsock.TaskInstance) []tryView {
	var out []tryView
	for _, h := range history {
		if h.TryNumber >= ti.TryNumber {
			continue // the current row shows the current try
		}
		tv := tryView{Number: h.TryNumber, State: h.State, Queued: h.QueuedDttm, StartDate: h.StartDate, EndDate: h.EndDate}
		switch {
		case h.Duration != nil:
			tv.Duration = dagview.FormatDuration(time.Duration(*h.Duration * float64(time.Second)))
		case h.StartDate != nil && h.EndDate != nil:
			tv.Duration = dagview.SpanText(h.StartDate, h.EndDate, *h.EndDate)
		}
		out = append(out, tv)
	}
	return out
}

// chooseLog picks the try whose log the page shows: ?try=N, or the
// latest.
func (d *tiData) chooseLog(r *http.Request) error {
	latest := d.TI.TryNumber
	d.LogTry = latest
	if raw := r.URL.Query().Get("try"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > max(latest, 1) {
			return windsock.Errorf(windsock.EINVALID, "try: expected a try number from 1 to %d, got %q", max(latest, 1), raw)
		}
		d.LogTry = n
	}
	if d.LogTry == 0 || !d.Can.ReadLogs {
		return nil
	}
	d.LogURL = d.LogAPI + "/logs/" + strconv.Itoa(d.LogTry)
	if d.MapIndex != nil {
		d.LogURL += "?map_index=" + strconv.Itoa(*d.MapIndex)
	}
	d.LogLive = d.LogTry == latest && d.Active
	// Tries without a row of their own (their failure went unrecorded)
	// still get a tab.
	for n := 1; n <= latest; n++ {
		if !slices.ContainsFunc(d.Tries, func(t tryView) bool { return t.Number == n }) {
			d.Tries = append(d.Tries, tryView{Number: n, Href: d.PagePath + d.query + "try=" + strconv.Itoa(n) + "#log"})
		}
	}
	slices.SortFunc(d.Tries, func(a, b tryView) int { return a.Number - b.Number })
	return nil
}

// writtenFields returns a task's templated arguments as written, by name.
func writtenFields(c *operator.Catalog, t *windsock.Task) []fieldView {
	args, templated := t.Args, map[string]bool{}
	if t.Python != nil {
		// A task of a Python file: its class's template_fields, as the
		// file passed them.
		args = t.Python.Kwargs
		for _, name := range t.Python.TemplateFields {
			templated[name] = true
		}
	} else if spec, ok := c.Lookup(t.Operator); ok {
		for _, a := range spec.Args {
			templated[a.Name] = a.Templated
		}
	}
	var out []fieldView
	for name, v := range args {
		if !templated[name] || v == nil {
			continue
		}
		// As Airflow shows them: strings as they are, other values as
		// Python's repr.
		out = append(out, fieldView{Name: name, Value: pyvalue.Str(v)})
	}
	slices.SortFunc(out, func(a, b fieldView) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// renderedFields turns the stored JSON of rendered template fields into
// name/value rows, sorted by name; strings are shown as they are, other
// values as Python's repr, as Airflow's rendered template view does.
func renderedFields(raw []byte) []fieldView {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if err := windsock.DecodeJSON(raw, &m); err != nil {
		return []fieldView{{Name: "(raw)", Value: string(raw)}}
	}
	out := make([]fieldView, 0, len(m))
	for k, v := range m {
		out = append(out, fieldView{Name: k, Value: pyvalue.Str(v)})
	}
	slices.SortFunc(out, func(a, b fieldView) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// jsonBytesText shows stored JSON indented (a string value unquoted).
func jsonBytesText(b []byte) string {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return string(b)
	}
	return out.String()
}
