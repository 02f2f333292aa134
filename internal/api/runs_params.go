package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// wildcard is Airflow's "every DAG" / "every run" / "every task" path value.
const wildcard = "~"

// maxIDLength is the longest dag_id, run_id, task_id or XCom key Airflow
// stores (String(250) columns; ID_LEN).
const maxIDLength = windsock.MaxIDLength

// maxNoteLength is the longest note Airflow accepts for a run or task
// instance.
const maxNoteLength = 1000

// allowedRunID is Airflow's default scheduler.allowed_run_id_pattern: what
// a user-supplied dag_run_id may contain.
var allowedRunID = regexp.MustCompile(`^[A-Za-z0-9_.~:+-]+$`)

// checkPathID refuses an id that cannot name anything (windsock.CheckPathID,
// the rule the DAG file parser applies too). Such ids would otherwise reach
// log paths and queries.
func checkPathID(name, v string) error {
	return windsock.CheckPathID(name, v)
}

// pathIDs reads and checks the named path values.
func pathIDs(r *http.Request, names ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = r.PathValue(n)
		if err := checkPathID(n, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// queryTimeRange reads <name>_gte and <name>_lte.
func queryTimeRange(r *http.Request, name string) (store.TimeRange, error) {
	gte, err := queryTime(r, name+"_gte")
	if err != nil {
		return store.TimeRange{}, err
	}
	lte, err := queryTime(r, name+"_lte")
	if err != nil {
		return store.TimeRange{}, err
	}
	return store.TimeRange{GTE: gte, LTE: lte}, nil
}

// queryFloat reads a number query parameter; nil when absent.
func queryFloat(r *http.Request, name string) (*float64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "%s: expected a number, got %q", name, v)
	}
	return &f, nil
}

// queryInt reads an integer query parameter; nil when absent.
func queryInt(r *http.Request, name string) (*int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "%s: expected an integer, got %q", name, v)
	}
	return &n, nil
}

// bodyTime parses an ISO 8601 date-time from a request body field; nil
// when absent.
func bodyTime(name string, v *string) (*time.Time, error) {
	if v == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "%s: expected an ISO 8601 date-time with a time zone (e.g. 2024-01-01T00:00:00Z), got %q", name, *v)
	}
	return &t, nil
}

// bodyTimeRange parses a <name>_gte, <name>_lte pair of body fields.
func bodyTimeRange(name string, gte, lte *string) (store.TimeRange, error) {
	g, err := bodyTime(name+"_gte", gte)
	if err != nil {
		return store.TimeRange{}, err
	}
	l, err := bodyTime(name+"_lte", lte)
	if err != nil {
		return store.TimeRange{}, err
	}
	return store.TimeRange{GTE: g, LTE: l}, nil
}

// dagRunStates checks DAG run state filter values.
func dagRunStates(name string, values []string) ([]windsock.DagRunState, error) {
	out := make([]windsock.DagRunState, 0, len(values))
	for _, v := range values {
		switch s := windsock.DagRunState(v); s {
		case windsock.DagRunQueued, windsock.DagRunRunning, windsock.DagRunSuccess, windsock.DagRunFailed:
			out = append(out, s)
		default:
			return nil, windsock.Errorf(windsock.EINVALID, "%s: %q is not a DAG run state; expected queued, running, success or failed", name, v)
		}
	}
	return out, nil
}

// taskStateNames are the task instance states a filter may name; "none"
// (and "null") is an instance with no state yet.
func taskStateNames() []string {
	return []string{"none", "null", "removed", "scheduled", "queued", "running", "success", "restarting", "failed",
		"up_for_retry", "up_for_reschedule", "upstream_failed", "skipped", "deferred"}
}

// taskStates checks task instance state filter values.
func taskStates(name string, values []string) ([]windsock.TaskInstanceState, error) {
	out := make([]windsock.TaskInstanceState, 0, len(values))
	for _, v := range values {
		if !slices.Contains(taskStateNames(), v) {
			return nil, windsock.Errorf(windsock.EINVALID, "%s: %q is not a task instance state; expected one of %s",
				name, v, strings.Join(taskStateNames(), ", "))
		}
		if v == "none" || v == "null" {
			v = ""
		}
		out = append(out, windsock.TaskInstanceState(v))
	}
	return out, nil
}

// readableFilter turns what a user may read into a store filter: nil ids
// and only false when the user may read every DAG.
func (s *Server) readableFilter(ctx context.Context, r *http.Request) (ids []string, only bool) {
	all, readable := s.authz.ReadableDAGs(ctx, userFrom(r))
	if all {
		return nil, false
	}
	ids = make([]string, 0, len(readable))
	for id := range readable {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, true
}

// canDAGEntity returns forbidden() unless the request's user may do action
// on resource of the DAG.
func (s *Server) canDAGEntity(r *http.Request, action, resource, dagID string) error {
	if !s.authz.CanDAGEntity(r.Context(), userFrom(r), action, resource, dagID) {
		return forbidden()
	}
	return nil
}

// runsDAG returns a DAG's stored definition and its graph; 404 in
// Airflow's words when the DAG is unknown.
func (s *Server) runsDAG(ctx context.Context, dagID string) (*windsock.DAG, *decide.Graph, error) {
	sd, err := s.Store.SerializedDAGGet(ctx, dagID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, nil, dagNotFound(dagID)
	}
	if err != nil {
		return nil, nil, err
	}
	var d windsock.DAG
	if err := windsock.DecodeJSON(sd.Data, &d); err != nil {
		return nil, nil, fmt.Errorf("decode definition of dag %s: %w", dagID, err)
	}
	return &d, decide.NewGraph(&d), nil
}

func dagNotFound(dagID string) error {
	return windsock.Errorf(windsock.ENOTFOUND, "DAG with dag_id: '%s' not found", dagID)
}

func dagRunNotFound(dagID, runID string) error {
	return windsock.Errorf(windsock.ENOTFOUND, "DAGRun with DAG ID: '%s' and DagRun ID: '%s' not found", dagID, runID)
}

func taskInstanceNotFound(dagID, runID, taskID string) error {
	return windsock.Errorf(windsock.ENOTFOUND, "Task instance not found: task %q of run %q of DAG %q", taskID, runID, dagID)
}

// bodyPage reads page_limit and page_offset from a batch request's body
// the way pageParams reads limit and offset.
func (s *Server) bodyPage(limit, offset *int, orderBy *string, sortable []string) (page, error) {
	p := page{Limit: s.cfg.API.FallbackPageLimit}
	if limit != nil {
		if *limit < 1 {
			return page{}, windsock.Errorf(windsock.EINVALID, "page_limit: expected a positive integer, got %d", *limit)
		}
		p.Limit = *limit
	}
	if max := s.cfg.API.MaximumPageLimit; max > 0 && p.Limit > max {
		p.Limit = max
	}
	if offset != nil {
		if *offset < 0 {
			return page{}, windsock.Errorf(windsock.EINVALID, "page_offset: expected an integer >= 0, got %d", *offset)
		}
		p.Offset = *offset
	}
	if orderBy != nil && *orderBy != "" {
		if !slices.Contains(sortable, strings.TrimPrefix(*orderBy, "-")) {
			return page{}, windsock.Errorf(windsock.EINVALID,
				"Ordering with '%s' is disallowed or the attribute does not exist on the model; order_by must be one of %s, optionally prefixed with '-'",
				*orderBy, strings.Join(sortable, ", "))
		}
		p.OrderBy = *orderBy
	}
	return p, nil
}
