package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// browseScope is which DAGs' rows a Browse page may show, narrowed to the
// dag_id filter when one is given: only (restrict) the ids in ids, or all.
type browseScope struct {
	restrict bool
	ids      []string
}

// scope returns the DAGs whose rows the request's user may see, narrowed
// to dagID when not "".
func (s *Server) scope(r *http.Request, dagID string) browseScope {
	all, readable := s.authz.ReadableDAGs(r.Context(), currentUser(r))
	switch {
	case dagID != "" && (all || readable[dagID]):
		return browseScope{restrict: true, ids: []string{dagID}}
	case dagID != "":
		return browseScope{restrict: true}
	case all:
		return browseScope{}
	}
	return browseScope{restrict: true, ids: mapKeys(readable)}
}

// filterField is one filter input of a Browse page.
type filterField struct {
	Name, Label, Value string
	Options            []string // a select when set ("" is "any")
}

type browseData struct {
	Filters []filterField
	Pager   pager
	Rows    any
	Note    string
}

var dagRunStates = []string{"queued", "running", "success", "failed"}

var taskStates = []string{"none", "scheduled", "queued", "running", "success", "failed", "up_for_retry",
	"up_for_reschedule", "upstream_failed", "skipped", "removed", "restarting", "deferred"}

// oneOf returns an EINVALID error unless v is "" or in allowed.
func oneOf(name, v string, allowed []string) error {
	if v == "" || slices.Contains(allowed, v) {
		return nil
	}
	return windsock.Errorf(windsock.EINVALID, "%s: expected one of %s, got %q", name, strings.Join(allowed, ", "), v)
}

type runRow struct {
	*windsock.DagRun
	GridURL string
}

// dagRunList is Browse > DAG Runs: runs of the readable DAGs, newest
// first, filtered by DAG and state.
func (s *Server) dagRunList(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, auth.ActionRead, auth.ResourceDAGRun); err != nil {
		return err
	}
	q := r.URL.Query()
	dagID, state := strings.TrimSpace(q.Get("dag_id")), q.Get("state")
	if err := oneOf("state", state, dagRunStates); err != nil {
		return err
	}
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	sc := s.scope(r, dagID)
	p := &store.DagRunQueryParams{DagIDs: sc.ids, OnlyDagIDs: sc.restrict, OrderBy: "-execution_date",
		Limit: s.PageSize, Offset: (page - 1) * s.PageSize}
	if state != "" {
		p.States = []windsock.DagRunState{windsock.DagRunState(state)}
	}
	runs, total, err := s.Store.DagRunQuery(r.Context(), p)
	if err != nil {
		return err
	}
	rows := make([]runRow, len(runs))
	for i, run := range runs {
		rows[i] = runRow{DagRun: run, GridURL: "/dags/" + url.PathEscape(run.DagID) + "/grid?run_id=" + url.QueryEscape(run.RunID)}
	}
	d := browseData{Rows: rows, Pager: newPager(r, page, s.PageSize, total), Filters: []filterField{
		{Name: "dag_id", Label: "DAG id", Value: dagID},
		{Name: "state", Label: "State", Value: state, Options: dagRunStates},
	}}
	return s.render(w, r, http.StatusOK, "browse_dagruns", Page{Title: "DAG Runs", Nav: "browse", Data: d})
}

type tiRow struct {
	*store.TaskInstanceDetail
	URL string
}

// taskInstanceList is Browse > Task Instances: task instances of the
// readable DAGs, newest run first, filtered by DAG, task and state.
func (s *Server) taskInstanceList(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, auth.ActionRead, auth.ResourceTaskInstance); err != nil {
		return err
	}
	q := r.URL.Query()
	dagID, taskID, state := strings.TrimSpace(q.Get("dag_id")), strings.TrimSpace(q.Get("task_id")), q.Get("state")
	if err := oneOf("state", state, taskStates); err != nil {
		return err
	}
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	sc := s.scope(r, dagID)
	p := &store.TaskInstanceQueryParams{DagIDs: sc.ids, OnlyDagIDs: sc.restrict, OrderBy: "-execution_date",
		Limit: s.PageSize, Offset: (page - 1) * s.PageSize}
	if taskID != "" {
		p.TaskIDs = []string{taskID}
	}
	switch state {
	case "":
	case "none":
		p.States = []windsock.TaskInstanceState{windsock.TaskStateNone}
	default:
		p.States = []windsock.TaskInstanceState{windsock.TaskInstanceState(state)}
	}
	tis, total, err := s.Store.TaskInstanceQuery(r.Context(), p)
	if err != nil {
		return err
	}
	rows := make([]tiRow, len(tis))
	for i, ti := range tis {
		rows[i] = tiRow{TaskInstanceDetail: ti, URL: "/dags/" + url.PathEscape(ti.DagID) + "/grid/" +
			url.PathEscape(ti.RunID) + "/" + url.PathEscape(ti.TaskID)}
	}
	d := browseData{Rows: rows, Pager: newPager(r, page, s.PageSize, total), Filters: []filterField{
		{Name: "dag_id", Label: "DAG id", Value: dagID},
		{Name: "task_id", Label: "Task id", Value: taskID},
		{Name: "state", Label: "State", Value: state, Options: taskStates},
	}}
	return s.render(w, r, http.StatusOK, "browse_taskinstances", Page{Title: "Task Instances", Nav: "browse", Data: d})
}

// eventLogList is Browse > Audit Logs: the event log, newest first, rows
// of unreadable DAGs left out.
func (s *Server) eventLogList(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, auth.ActionRead, auth.ResourceAuditLog); err != nil {
		return err
	}
	q := r.URL.Query()
	dagID, event, owner := strings.TrimSpace(q.Get("dag_id")), strings.TrimSpace(q.Get("event")), strings.TrimSpace(q.Get("owner"))
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	all, readable := s.authz.ReadableDAGs(r.Context(), currentUser(r))
	p := &store.EventLogQueryParams{DagID: dagID, Event: event, Owner: owner, OrderBy: "-event_log_id",
		Limit: s.PageSize, Offset: (page - 1) * s.PageSize}
	if !all {
		p.RestrictDAGs, p.DagIDs = true, mapKeys(readable)
	}
	rows, total, err := s.Store.EventLogQuery(r.Context(), p)
	if err != nil {
		return err
	}
	d := browseData{Rows: rows, Pager: newPager(r, page, s.PageSize, total), Filters: []filterField{
		{Name: "dag_id", Label: "DAG id", Value: dagID},
		{Name: "event", Label: "Event", Value: event},
		{Name: "owner", Label: "Owner", Value: owner},
	}}
	return s.render(w, r, http.StatusOK, "browse_eventlogs", Page{Title: "Audit Logs", Nav: "browse", Data: d})
}

// slaMissList is Browse > SLA Misses of one DAG (chosen with dag_id).
func (s *Server) slaMissList(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, auth.ActionRead, auth.ResourceSLAMiss); err != nil {
		return err
	}
	dagID := strings.TrimSpace(r.URL.Query().Get("dag_id"))
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	d := browseData{Filters: []filterField{{Name: "dag_id", Label: "DAG id", Value: dagID}}}
	var misses []*windsock.SlaMiss
	switch {
	case dagID == "":
		// The newest misses of the DAGs this user may read.
		var ids []string
		if all, readable := s.authz.ReadableDAGs(r.Context(), currentUser(r)); !all {
			ids = []string{}
			for id := range readable {
				ids = append(ids, id)
			}
		}
		if misses, err = s.Store.SlaMissRecent(r.Context(), ids, slaMissesShown); err != nil {
			return err
		}
		if len(misses) == slaMissesShown {
			d.Note = fmt.Sprintf("The %d newest SLA misses; filter by DAG id to see all of one DAG's.", slaMissesShown)
		}
	case !s.canDAG(r, auth.ActionRead, dagID):
		return forbidden()
	default:
		if misses, err = s.Store.SlaMissList(r.Context(), dagID); err != nil {
			return err
		}
		slices.Reverse(misses) // newest first
	}
	d.Pager = newPager(r, page, s.PageSize, len(misses))
	lo := min((page-1)*s.PageSize, len(misses))
	d.Rows = misses[lo:min(lo+s.PageSize, len(misses))]
	return s.render(w, r, http.StatusOK, "browse_slamisses", Page{Title: "SLA Misses", Nav: "browse", Data: d})
}

// slaMissesShown is how many misses the SLA page lists across DAGs.
const slaMissesShown = 500
