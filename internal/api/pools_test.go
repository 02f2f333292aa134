package api

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

type poolList struct {
	Pools []poolJSON `json:"pools"`
	Total int        `json:"total_entries"`
}

func (l poolList) names() []string {
	out := []string{}
	for _, p := range l.Pools {
		out = append(out, p.Name)
	}
	return out
}

// seedDefaultPool stores default_pool, as the application does at start.
func seedDefaultPool(t *testing.T, e *env) {
	t.Helper()
	if err := e.st.PoolUpsert(e.ctx, &windsock.Pool{Pool: windsock.DefaultPoolName, Slots: 128, Description: "Default pool"}); err != nil {
		t.Fatal(err)
	}
}

// seedTaskInstances stores a run of dagID whose task instances are in the
// given states, each using pool with the given slots.
func seedTaskInstances(t *testing.T, e *env, dagID, pool string, slots int, states ...windsock.TaskInstanceState) {
	t.Helper()
	logical := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	run := &windsock.DagRun{DagID: dagID, RunID: "manual__1", LogicalDate: logical, State: windsock.DagRunRunning,
		RunType: windsock.RunTypeManual}
	var tis []*windsock.TaskInstance
	for i := range states {
		tis = append(tis, &windsock.TaskInstance{
			TaskInstanceKey: windsock.TaskInstanceKey{DagID: dagID, TaskID: "t" + strconv.Itoa(i), RunID: run.RunID, MapIndex: -1},
			MaxTries:        1, Pool: pool, PoolSlots: slots, Queue: "default", PriorityWeight: 1})
	}
	if err := e.st.DagRunCreate(e.ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}); err != nil {
		t.Fatal(err)
	}
	for i, ti := range tis {
		ti.State = states[i]
		if _, err := e.st.TaskInstanceUpdate(e.ctx, ti); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPools(t *testing.T) {
	t.Parallel()
	e := setup(t)
	seedDefaultPool(t, e)
	var p poolJSON
	r := e.doChecked("POST", "/api/v1/pools", "op", map[string]any{"name": "gpu", "slots": 4, "description": "GPUs", "include_deferred": true})
	e.ok(r, http.StatusOK, &p)
	seedTaskInstances(t, e, "train", "gpu", 1, windsock.TaskStateRunning, windsock.TaskStateQueued,
		windsock.TaskStateScheduled, windsock.TaskStateDeferred, windsock.TaskStateSuccess)
	r = e.doChecked("GET", "/api/v1/pools/gpu", "viewer", nil)
	e.ok(r, http.StatusOK, &p)
	golden(t, "pool", r.body)
	if p.OccupiedSlots != 3 || p.OpenSlots != 1 || p.RunningSlots != 1 || p.QueuedSlots != 1 || p.ScheduledSlots != 1 || p.DeferredSlots != 1 {
		t.Errorf("gpu usage = %+v", p)
	}
	// Deferred slots count only when the pool says so; -1 slots is no limit.
	e.ok(e.doChecked("PATCH", "/api/v1/pools/gpu?update_mask=include_deferred,slots", "op", map[string]any{"include_deferred": false, "slots": -1}), http.StatusOK, &p)
	if p.OccupiedSlots != 2 || p.OpenSlots != -1 || p.Slots != -1 || p.Description == nil || *p.Description != "GPUs" {
		t.Errorf("after PATCH = %+v", p)
	}
	e.problem(e.doChecked("POST", "/api/v1/pools", "op", map[string]any{"name": "gpu", "slots": 1}), http.StatusConflict, "Pool: gpu already exists")
	e.ok(e.doChecked("POST", "/api/v1/pools", "op", map[string]any{"name": "etl", "slots": 10}), http.StatusOK, nil)

	var list poolList
	e.ok(e.doChecked("GET", "/api/v1/pools", "viewer", nil), http.StatusOK, &list)
	if list.Total != 3 || !slices.Equal(list.names(), []string{"default_pool", "gpu", "etl"}) {
		t.Fatalf("pools = %v (total %d)", list.names(), list.Total)
	}
	e.ok(e.doChecked("GET", "/api/v1/pools?order_by=-slots&limit=1&offset=1", "viewer", nil), http.StatusOK, &list)
	if list.Total != 3 || !slices.Equal(list.names(), []string{"etl"}) {
		t.Errorf("order_by=-slots&limit=1&offset=1 = %v", list.names())
	}
	e.ok(e.doChecked("GET", "/api/v1/pools?order_by=name", "viewer", nil), http.StatusOK, &list)
	if !slices.Equal(list.names(), []string{"default_pool", "etl", "gpu"}) {
		t.Errorf("order_by=name = %v", list.names())
	}
	e.problem(e.doChecked("GET", "/api/v1/pools?order_by=open_slots", "viewer", nil), http.StatusBadRequest, "order_by must be one of id, name, slots")

	// A full PATCH needs name and slots; a new name renames.
	e.problem(e.doChecked("PATCH", "/api/v1/pools/etl", "op", map[string]any{"slots": 3}), http.StatusBadRequest, "Missing required property(ies): ['name']")
	e.ok(e.doChecked("PATCH", "/api/v1/pools/etl", "op", map[string]any{"name": "batch", "slots": 3}), http.StatusOK, &p)
	if p.Name != "batch" || p.Slots != 3 {
		t.Errorf("renamed = %+v", p)
	}
	e.problem(e.doChecked("GET", "/api/v1/pools/etl", "viewer", nil), http.StatusNotFound, "Pool with name:'etl' not found")
	e.problem(e.doChecked("PATCH", "/api/v1/pools/batch", "op", map[string]any{"name": "gpu", "slots": 3}), http.StatusConflict, "Pool: gpu already exists")
	e.problem(e.doChecked("PATCH", "/api/v1/pools/batch?update_mask=colour", "op", map[string]any{"slots": 3}), http.StatusBadRequest, "'colour' in update_mask is unknown")
	e.problem(e.doChecked("PATCH", "/api/v1/pools/batch?update_mask=description", "op", map[string]any{"slots": 3}), http.StatusBadRequest, "not in the request body")
	e.problem(e.doChecked("PATCH", "/api/v1/pools/nope", "op", map[string]any{"name": "nope", "slots": 3}), http.StatusNotFound, "Pool with name:'nope' not found")

	// default_pool keeps its name and cannot be deleted.
	e.problem(e.doChecked("PATCH", "/api/v1/pools/default_pool", "op", map[string]any{"name": "renamed", "slots": 3}), http.StatusBadRequest, "Default Pool's name can't be modified")
	e.problem(e.doChecked("PATCH", "/api/v1/pools/default_pool", "op", map[string]any{"slots": 3}), http.StatusBadRequest, "Default Pool's name can't be modified")
	e.ok(e.doChecked("PATCH", "/api/v1/pools/default_pool?update_mask=slots", "op", map[string]any{"slots": 64}), http.StatusOK, &p)
	if p.Name != "default_pool" || p.Slots != 64 {
		t.Errorf("default_pool = %+v", p)
	}
	e.ok(e.doChecked("PATCH", "/api/v1/pools/default_pool", "op", map[string]any{"name": "default_pool", "slots": 32}), http.StatusOK, &p)
	e.problem(e.doChecked("DELETE", "/api/v1/pools/default_pool", "op", nil), http.StatusBadRequest, "Default Pool can't be deleted")

	// Bad bodies change nothing.
	for _, tc := range []struct {
		body   any
		detail string
	}{
		{map[string]any{"name": "x"}, "Missing required property(ies): ['slots']"},
		{map[string]any{}, "['name', 'slots']"},
		{map[string]any{"name": "x", "slots": -2}, "slots must be -1 (unlimited) or a number >= 0"},
		{map[string]any{"name": "a/b", "slots": 1}, "must not contain '/'"},
		{map[string]any{"name": "..", "slots": 1}, "'..' path segments"},
		{map[string]any{"name": " ", "slots": 1}, "name must not be empty"},
		{map[string]any{"name": "x", "slots": 1.5}, `field "slots": expected integer, got number`},
		{map[string]any{"name": "x", "slots": 1, "open_slots": 3}, `unknown field "open_slots"`},
	} {
		e.problem(e.doChecked("POST", "/api/v1/pools", "op", tc.body), http.StatusBadRequest, tc.detail)
	}
	e.ok(e.doChecked("GET", "/api/v1/pools", "viewer", nil), http.StatusOK, &list)
	if list.Total != 3 {
		t.Errorf("rejected requests changed the pools: %v", list.names())
	}

	e.ok(e.doChecked("DELETE", "/api/v1/pools/batch", "op", nil), http.StatusNoContent, nil)
	e.problem(e.doChecked("DELETE", "/api/v1/pools/batch", "op", nil), http.StatusNotFound, "not found")
}

func TestPoolsAuthorization(t *testing.T) {
	t.Parallel()
	e := setup(t)
	seedDefaultPool(t, e)
	// Viewers and Users read pools but change nothing.
	for _, user := range []string{"viewer", "user"} {
		e.ok(e.doChecked("GET", "/api/v1/pools", user, nil), http.StatusOK, nil)
		e.ok(e.doChecked("GET", "/api/v1/pools/default_pool", user, nil), http.StatusOK, nil)
		e.problem(e.doChecked("POST", "/api/v1/pools", user, map[string]any{"name": "x", "slots": 1}), http.StatusForbidden, "")
		e.problem(e.doChecked("PATCH", "/api/v1/pools/default_pool?update_mask=slots", user, map[string]any{"slots": 1}), http.StatusForbidden, "")
		e.problem(e.doChecked("DELETE", "/api/v1/pools/default_pool", user, nil), http.StatusForbidden, "")
	}
	e.problem(e.doChecked("GET", "/api/v1/pools", "public", nil), http.StatusForbidden, "")
	e.problem(e.doChecked("GET", "/api/v1/pools", "", nil), http.StatusUnauthorized, "")
}
