package api

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

type eventLogList struct {
	EventLogs []eventLogJSON `json:"event_logs"`
	Total     int            `json:"total_entries"`
}

func (l eventLogList) ids() []int64 {
	out := []int64{}
	for _, e := range l.EventLogs {
		out = append(out, e.EventLogID)
	}
	return out
}

// seedEvents stores a fixed event log: two DAGs' events and one without
// a DAG, in a fresh store (ids 1 to 5).
func seedEvents(t *testing.T, e *env) {
	t.Helper()
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	one, two := 1, 2
	exec := time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC)
	for _, ev := range []*windsock.EventLog{
		{Dttm: at, DagID: "etl", Event: "trigger", Owner: "admin", Extra: `{"conf":{}}`},
		{Dttm: at.Add(time.Minute), DagID: "etl", TaskID: "load", RunID: "manual__1", MapIndex: &one,
			TryNumber: &two, Event: "clear", Owner: "op", ExecutionDate: &exec},
		{Dttm: at.Add(2 * time.Minute), DagID: "secret", Event: "trigger", Owner: "admin"},
		{Dttm: at.Add(3 * time.Minute), Event: "cli_users_create", Owner: "root"},
		{Dttm: at.Add(4 * time.Minute), DagID: "etl", Event: "paused", Owner: "op"},
	} {
		if err := e.st.EventLogInsert(e.ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEventLogs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	seedEvents(t, e)
	var list eventLogList
	r := e.doChecked("GET", "/api/v1/eventLogs", "viewer", nil)
	e.ok(r, http.StatusOK, &list)
	golden(t, "event_logs", r.body)
	if list.Total != 5 || !slices.Equal(list.ids(), []int64{1, 2, 3, 4, 5}) {
		t.Fatalf("event logs = %v (total %d)", list.ids(), list.Total)
	}
	for _, tc := range []struct {
		query string
		want  []int64
		total int
	}{
		{"dag_id=etl", []int64{1, 2, 5}, 3},
		{"dag_id=etl&task_id=load&run_id=manual__1&map_index=1&try_number=2", []int64{2}, 1},
		{"map_index=2", []int64{}, 0},
		{"event=trigger&owner=admin", []int64{1, 3}, 2},
		{"before=2024-05-01T12:01:00Z", []int64{1, 2}, 2},
		{"after=2024-05-01T14:03:00%2B02:00", []int64{4, 5}, 2},
		{"included_events=clear,paused", []int64{2, 5}, 2},
		{"excluded_events=trigger,+paused", []int64{2, 4}, 2},
		{"order_by=-when&limit=2", []int64{5, 4}, 5},
		{"order_by=dag_id&offset=3", []int64{3, 4}, 5},
		{"order_by=-event_log_id&limit=2&offset=1", []int64{4, 3}, 5},
		{"limit=2&offset=4", []int64{5}, 5},
	} {
		e.ok(e.doChecked("GET", "/api/v1/eventLogs?"+tc.query, "viewer", nil), http.StatusOK, &list)
		if list.Total != tc.total || !slices.Equal(list.ids(), tc.want) {
			t.Errorf("?%s: %v (total %d), want %v (total %d)", tc.query, list.ids(), list.Total, tc.want, tc.total)
		}
	}
	for _, tc := range []struct{ query, detail string }{
		{"order_by=colour", "order_by must be one of event_log_id, when"},
		{"map_index=first", "map_index: expected an integer"},
		{"try_number=1.5", "try_number: expected an integer"},
		{"before=yesterday", "before: expected an ISO 8601 date-time"},
		{"after=2024-05-01", "after: expected an ISO 8601 date-time"},
		{"offset=-3", "offset"},
	} {
		e.problem(e.doChecked("GET", "/api/v1/eventLogs?"+tc.query, "viewer", nil), http.StatusBadRequest, tc.detail)
	}

	var ev eventLogJSON
	e.ok(e.doChecked("GET", "/api/v1/eventLogs/2", "viewer", nil), http.StatusOK, &ev)
	if ev.TaskID == nil || *ev.TaskID != "load" || *ev.MapIndex != 1 || *ev.TryNumber != 2 || ev.ExecutionDate == nil ||
		!ev.When.Equal(time.Date(2024, 5, 1, 12, 1, 0, 0, time.UTC)) {
		t.Errorf("event 2 = %+v", ev)
	}
	e.problem(e.doChecked("GET", "/api/v1/eventLogs/99", "viewer", nil), http.StatusNotFound, "Event Log not found")
	e.problem(e.doChecked("GET", "/api/v1/eventLogs/abc", "viewer", nil), http.StatusBadRequest, "event_log_id: expected an integer")
	e.problem(e.doChecked("GET", "/api/v1/eventLogs", "public", nil), http.StatusForbidden, "")
	e.problem(e.doChecked("GET", "/api/v1/eventLogs/1", "public", nil), http.StatusForbidden, "")
	e.problem(e.doChecked("GET", "/api/v1/eventLogs", "", nil), http.StatusUnauthorized, "")
}

// TestEventLogsPerDAG: a role limited to some DAGs sees only their events
// (and those of no DAG), and gets a 403 for the others'.
func TestEventLogsPerDAG(t *testing.T) {
	t.Parallel()
	e := setup(t)
	seedEvents(t, e)
	// Made in the store, not through the API, so that no event is added.
	if err := e.st.RoleCreate(e.ctx, &windsock.Role{Name: "etl-team", Permissions: []windsock.Permission{
		{Action: "can_read", Resource: "DAG:etl"}, {Action: "can_read", Resource: "Audit Logs"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.UserCreate(e.ctx, &windsock.User{Username: "etl-dev", FirstName: "E", LastName: "D",
		Email: "etl@example.com", Password: passwordHash(), Active: true, Roles: []string{"etl-team"}}); err != nil {
		t.Fatal(err)
	}
	var list eventLogList
	e.ok(e.doChecked("GET", "/api/v1/eventLogs", "etl-dev", nil), http.StatusOK, &list)
	if list.Total != 4 || !slices.Equal(list.ids(), []int64{1, 2, 4, 5}) {
		t.Errorf("etl-dev sees %v (total %d)", list.ids(), list.Total)
	}
	e.ok(e.doChecked("GET", "/api/v1/eventLogs?event=trigger", "etl-dev", nil), http.StatusOK, &list)
	if list.Total != 1 || !slices.Equal(list.ids(), []int64{1}) {
		t.Errorf("etl-dev triggers %v (total %d)", list.ids(), list.Total)
	}
	e.problem(e.doChecked("GET", "/api/v1/eventLogs?dag_id=secret", "etl-dev", nil), http.StatusForbidden, "")
	e.problem(e.doChecked("GET", "/api/v1/eventLogs/3", "etl-dev", nil), http.StatusForbidden, "")
	for _, id := range []int{1, 4} {
		e.ok(e.doChecked("GET", "/api/v1/eventLogs/"+strconv.Itoa(id), "etl-dev", nil), http.StatusOK, nil)
	}
	// Viewers read every DAG, so every event.
	e.ok(e.doChecked("GET", "/api/v1/eventLogs?dag_id=secret", "viewer", nil), http.StatusOK, &list)
	if list.Total != 1 {
		t.Errorf("viewer dag_id=secret: %v", list.ids())
	}
}
