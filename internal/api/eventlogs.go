package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// eventLogJSON is Airflow's EventLog.
type eventLogJSON struct {
	EventLogID    int64      `json:"event_log_id"`
	When          time.Time  `json:"when"`
	DagID         *string    `json:"dag_id"`
	TaskID        *string    `json:"task_id"`
	RunID         *string    `json:"run_id"`
	MapIndex      *int       `json:"map_index"`
	TryNumber     *int       `json:"try_number"`
	Event         string     `json:"event"`
	ExecutionDate *time.Time `json:"execution_date"`
	Owner         *string    `json:"owner"`
	Extra         *string    `json:"extra"`
}

func eventLogOut(e *windsock.EventLog) eventLogJSON {
	out := eventLogJSON{
		EventLogID: e.ID, When: e.Dttm.UTC(), DagID: metaNullable(e.DagID), TaskID: metaNullable(e.TaskID),
		RunID: metaNullable(e.RunID), MapIndex: e.MapIndex, TryNumber: e.TryNumber, Event: e.Event,
		Owner: metaNullable(e.Owner), Extra: metaNullable(e.Extra),
	}
	if e.ExecutionDate != nil {
		t := e.ExecutionDate.UTC()
		out.ExecutionDate = &t
	}
	return out
}

// eventLogSortable are the fields get_event_logs may order by.
func eventLogSortable() []string {
	return []string{"event_log_id", "when", "dag_id", "task_id", "run_id", "map_index", "try_number",
		"event", "execution_date", "owner", "extra"}
}

// getEventLogs is Airflow's get_event_logs. Rows of DAGs the user may not
// read are left out; naming such a DAG in dag_id is a 403.
func (s *Server) getEventLogs(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pageParams(r, eventLogSortable())
	if err != nil {
		return err
	}
	params, err := eventLogFilter(r)
	if err != nil {
		return err
	}
	params.OrderBy, params.Limit, params.Offset = p.OrderBy, p.Limit, p.Offset
	user := userFrom(r)
	if params.DagID != "" && !s.authz.CanDAG(r.Context(), user, auth.ActionRead, params.DagID) {
		return forbidden()
	}
	if all, ids := s.authz.ReadableDAGs(r.Context(), user); !all {
		params.RestrictDAGs = true
		for id := range ids {
			params.DagIDs = append(params.DagIDs, id)
		}
	}
	events, total, err := s.Store.EventLogQuery(r.Context(), params)
	if err != nil {
		return err
	}
	out := make([]eventLogJSON, len(events))
	for i, e := range events {
		out[i] = eventLogOut(e)
	}
	return writeJSON(w, http.StatusOK, collection("event_logs", out, total))
}

// eventLogFilter reads get_event_logs' filters.
func eventLogFilter(r *http.Request) (*store.EventLogQueryParams, error) {
	q := r.URL.Query()
	params := &store.EventLogQueryParams{
		DagID: q.Get("dag_id"), TaskID: q.Get("task_id"), RunID: q.Get("run_id"),
		Event: q.Get("event"), Owner: q.Get("owner"),
		IncludedEvents: commaList(q.Get("included_events")),
		ExcludedEvents: commaList(q.Get("excluded_events")),
	}
	var err error
	if params.MapIndex, err = metaQueryInt(r, "map_index"); err != nil {
		return nil, err
	}
	if params.TryNumber, err = metaQueryInt(r, "try_number"); err != nil {
		return nil, err
	}
	if params.Before, err = queryTime(r, "before"); err != nil {
		return nil, err
	}
	if params.After, err = queryTime(r, "after"); err != nil {
		return nil, err
	}
	return params, nil
}

// commaList splits Airflow's comma-separated list parameters, dropping
// blanks; nil when there is nothing.
func commaList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// getEventLog is Airflow's get_event_log; an event of a DAG the user may
// not read is a 403.
func (s *Server) getEventLog(w http.ResponseWriter, r *http.Request) error {
	v := r.PathValue("event_log_id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return windsock.Errorf(windsock.EINVALID, "event_log_id: expected an integer, got %q", v)
	}
	e, err := s.Store.EventLogGet(r.Context(), id)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return windsock.Errorf(windsock.ENOTFOUND, "Event Log not found")
	}
	if err != nil {
		return err
	}
	if e.DagID != "" && !s.authz.CanDAG(r.Context(), userFrom(r), auth.ActionRead, e.DagID) {
		return forbidden()
	}
	return writeJSON(w, http.StatusOK, eventLogOut(e))
}
