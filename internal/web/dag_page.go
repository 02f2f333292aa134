package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/web/dagview"
	"github.com/windsock/windsock/internal/windsock"
)

// dagPage is what every DAG page shows above its own content: the DAG, the
// tabs between its views and the actions the user may take.
type dagPage struct {
	DagID string
	// Tab is the current view: grid, graph, runs, calendar, duration,
	// tries, landing-times, gantt, code or details.
	Tab string
	// Path is "/dags/<dag_id>" and APIPath "/api/v1/dags/<dag_id>", with
	// the id escaped for a path.
	Path    string
	APIPath string
	Model   *windsock.DAGModel
	DAG     *windsock.DAG
	Can     dagPerms
	// TriggerConf is the trigger form's default configuration: the DAG's
	// params as JSON.
	TriggerConf string
}

// dagPerms are what the user may do on the DAG. The API decides for
// real; these only choose which buttons to show.
type dagPerms struct {
	Edit     bool // pause and unpause
	Trigger  bool
	ReadRuns bool
	EditRuns bool
	ReadTIs  bool
	EditTIs  bool
	ReadCode bool
	ReadLogs bool
	ReadXCom bool
	// ReadAuditLog needs Audit Logs besides the DAG, as Airflow's tab.
	ReadAuditLog bool
}

// Tabs are the views of a DAG, in the order the page shows them.
func (p *dagPage) Tabs() []dagTab {
	tabs := []dagTab{{"grid", "Grid"}, {"graph", "Graph"}, {"runs", "Runs"}}
	if p.Can.ReadRuns && p.Can.ReadTIs {
		tabs = append(tabs, dagTab{"calendar", "Calendar"}, dagTab{"duration", "Task duration"}, dagTab{"tries", "Task tries"},
			dagTab{"landing-times", "Landing times"}, dagTab{"gantt", "Gantt"})
	} else if p.Can.ReadRuns {
		tabs = append(tabs, dagTab{"calendar", "Calendar"})
	}
	if p.Can.ReadCode {
		tabs = append(tabs, dagTab{"code", "Code"})
	}
	tabs = append(tabs, dagTab{"details", "Details"})
	if p.Can.ReadAuditLog {
		tabs = append(tabs, dagTab{"audit_log", "Audit log"})
	}
	return tabs
}

// dagTab is one view of a DAG.
type dagTab struct{ Name, Label string }

// Paused reports whether the DAG is paused.
func (p *dagPage) Paused() bool { return p.Model.IsPaused }

// loadDAG reads the DAG a page is about (path value dag_id) and what the
// user may do with it: ENOTFOUND for an unknown DAG, EFORBIDDEN for a DAG
// the user may not read.
func (s *Server) loadDAG(r *http.Request, tab string) (*dagPage, error) {
	dagID := r.PathValue("dag_id")
	ctx := r.Context()
	model, err := s.Store.DAGGet(ctx, dagID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "DAG %q not found", dagID)
	}
	if err != nil {
		return nil, fmt.Errorf("load dag: %w", err)
	}
	if !s.canDAG(r, auth.ActionRead, dagID) {
		return nil, forbidden()
	}
	sd, err := s.Store.SerializedDAGGet(ctx, dagID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "DAG %q has not been parsed yet (no definition is stored)", dagID)
	}
	if err != nil {
		return nil, fmt.Errorf("load dag definition: %w", err)
	}
	var d windsock.DAG
	if err := windsock.DecodeJSON(sd.Data, &d); err != nil {
		return nil, fmt.Errorf("decode dag definition %s: %w", dagID, err)
	}
	p := &dagPage{DagID: dagID, Tab: tab, Path: "/dags/" + url.PathEscape(dagID),
		APIPath: "/api/v1/dags/" + url.PathEscape(dagID), Model: model, DAG: &d}
	p.Can = dagPerms{
		Edit:     s.canDAG(r, auth.ActionEdit, dagID),
		Trigger:  s.canDAGEntity(r, auth.ActionCreate, auth.ResourceDAGRun, dagID),
		ReadRuns: s.canDAGEntity(r, auth.ActionRead, auth.ResourceDAGRun, dagID),
		EditRuns: s.canDAGEntity(r, auth.ActionEdit, auth.ResourceDAGRun, dagID),
		ReadTIs:  s.canDAGEntity(r, auth.ActionRead, auth.ResourceTaskInstance, dagID),
		EditTIs:  s.canDAGEntity(r, auth.ActionEdit, auth.ResourceTaskInstance, dagID),
		ReadCode: s.can(r, auth.ActionRead, auth.ResourceDAGCode),
		ReadLogs: s.canDAGEntity(r, auth.ActionRead, auth.ResourceTaskLog, dagID),
		ReadXCom: s.canDAGEntity(r, auth.ActionRead, auth.ResourceXCom, dagID),
	}
	p.Can.ReadAuditLog = s.can(r, auth.ActionRead, auth.ResourceAuditLog)
	p.TriggerConf = "{}"
	if len(d.Params) > 0 {
		if b, err := json.MarshalIndent(d.Params, "", "  "); err == nil {
			p.TriggerConf = string(b)
		}
	}
	return p, nil
}

// dagIndex sends /dags/<id> to the DAG's default view, the grid.
func (s *Server) dagIndex(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.loadDAG(r, "grid"); err != nil {
		return err
	}
	http.Redirect(w, r, "/dags/"+url.PathEscape(r.PathValue("dag_id"))+"/grid", http.StatusSeeOther)
	return nil
}

// runView is a DAG run as pages show it, with its links precomputed.
type runView struct {
	*windsock.DagRun
	// Path is the run id escaped for a path; APIPath the run's API path.
	Path     string
	APIPath  string
	Duration string
	Active   bool
	ConfJSON string
}

func newRunView(p *dagPage, run *windsock.DagRun, now time.Time) runView {
	v := runView{DagRun: run, Path: url.PathEscape(run.RunID), Active: runActive(run.State), ConfJSON: jsonText(run.Conf)}
	v.APIPath = p.APIPath + "/dagRuns/" + v.Path
	v.Duration = dagview.SpanText(run.StartDate, run.EndDate, now)
	return v
}

// clearForm is the clear form of a run (TaskID empty) or of a task
// instance: the script previews with dry_run, then clears.
type clearForm struct {
	ID         string
	DagAPIPath string
	RunID      string
	TaskID     string
	// MapIndex names one instance of a mapped task; -1 means the whole
	// task. A run's form (no TaskID) ignores it.
	MapIndex int
}

// stateLegend lists the task states in the order the legend shows them.
func stateLegend() []string {
	return []string{"success", "running", "failed", "upstream_failed", "up_for_retry", "up_for_reschedule",
		"queued", "scheduled", "deferred", "restarting", "skipped", "removed", "none"}
}

// runActive reports whether a run may still change by itself.
func runActive(s windsock.DagRunState) bool {
	return s == windsock.DagRunQueued || s == windsock.DagRunRunning
}

// tiActive reports whether a task instance may still change by itself.
func tiActive(s windsock.TaskInstanceState) bool {
	switch s {
	case windsock.TaskStateSuccess, windsock.TaskStateFailed, windsock.TaskStateSkipped,
		windsock.TaskStateUpstreamFailed, windsock.TaskStateRemoved:
		return false
	}
	return true
}

// numRunsParam reads ?num_runs= (default 25, at most 365), as Airflow's
// grid offers.
func numRunsParam(r *http.Request) (int, error) {
	raw := r.URL.Query().Get("num_runs")
	if raw == "" {
		return 25, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 365 {
		return 0, windsock.Errorf(windsock.EINVALID, "num_runs: expected a number from 1 to 365, got %q", raw)
	}
	return n, nil
}

// jsonText shows a JSON-able value indented, "" when it is empty.
func jsonText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case map[string]any:
		if len(x) == 0 {
			return ""
		}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
