package scheduler

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// The tests in this file drive the scheduler one pass at a time, as
// Nomad's scheduler harness does: the test writes the store's state, runs
// one pass with a fixed clock, and checks what the pass did: the task
// instances it queued and handed to the executor, the runs it ended, the
// listeners it called. No loop, no executor running anything.

// handedOver is an executor that records what the scheduler hands it and
// runs nothing: the boundary the scheduler talks to.
type handedOver struct {
	mu   sync.Mutex
	keys []windsock.TaskInstanceKey
}

func (h *handedOver) Submit(keys []windsock.TaskInstanceKey) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.keys = append(h.keys, keys...)
}

// take returns the task ids handed over since the last call, sorted.
func (h *handedOver) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for _, k := range h.keys {
		ids = append(ids, k.TaskID)
	}
	h.keys = nil
	slices.Sort(ids)
	return ids
}

// passHarness is a scheduler over a fresh SQLite store, with a clock that
// only the test moves.
type passHarness struct {
	t     *testing.T
	ctx   context.Context
	st    store.Store
	now   time.Time
	exec  *handedOver
	sched *Scheduler
	ended []*windsock.DagRun // what OnRunFinished was told, in order
}

// newPassHarness stores dags (parsed as the DAG processor would) and
// returns a scheduler over them; tune adjusts its config.
func newPassHarness(t *testing.T, tune func(*Config), dags ...*windsock.DAG) *passHarness {
	t.Helper()
	ctx := context.Background()
	st := freshStore(t)
	h := &passHarness{t: t, ctx: ctx, st: st, now: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC), exec: &handedOver{}}
	for _, d := range dags {
		h.storeDAG(d)
	}
	cfg := Config{Store: st, Executor: h.exec, Clock: func() time.Time { return h.now },
		OnRunFinished: func(r *windsock.DagRun) { h.ended = append(h.ended, r) }}
	if tune != nil {
		tune(&cfg)
	}
	sched, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.sched = sched
	return h
}

// freshStore is a migrated SQLite store in a temporary folder whose
// default pool has 128 slots.
func freshStore(tb testing.TB) store.Store {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "windsock.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := st.PoolUpsert(ctx, &windsock.Pool{Pool: windsock.DefaultPoolName, Slots: 128}); err != nil {
		tb.Fatal(err)
	}
	return st
}

// bashDAG is an unscheduled DAG of bash tasks; deps maps a task to its
// upstream tasks.
func bashDAG(id string, tasks []string, deps map[string][]string) *windsock.DAG {
	d := &windsock.DAG{DagID: id, Fileloc: "/dags/" + id + ".yaml", Owners: []string{"airflow"}, Timezone: "UTC",
		Schedule: windsock.Schedule{Kind: windsock.ScheduleNone}, MaxActiveRuns: 16, MaxActiveTasks: 16}
	for _, t := range tasks {
		d.Tasks = append(d.Tasks, &windsock.Task{TaskID: t, Operator: "bash", OperatorClass: "BashOperator", TriggerRule: windsock.TriggerAllSuccess,
			Upstream: deps[t], Pool: windsock.DefaultPoolName, PoolSlots: 1, PriorityWeight: 1, WeightRule: windsock.WeightDownstream, Queue: "default",
			Args: map[string]any{"bash_command": "true"}})
	}
	return d
}

func (h *passHarness) storeDAG(d *windsock.DAG) {
	h.t.Helper()
	data, err := json.Marshal(d)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.st.DAGUpsert(h.ctx, &store.DAGUpsertParams{DagID: d.DagID, Fileloc: d.Fileloc, MaxActiveTasks: d.MaxActiveTasks,
		MaxActiveRuns: d.MaxActiveRuns, LastParsedTime: h.now}); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.st.SerializedDAGUpsert(h.ctx, &windsock.SerializedDAG{DagID: d.DagID, Fileloc: d.Fileloc, Data: data,
		DagHash: d.DagID + "-1", LastUpdated: h.now}); err != nil {
		h.t.Fatal(err)
	}
}

// trigger stores a manual run of d, as the API does, and tells the
// scheduler.
func (h *passHarness) trigger(d *windsock.DAG, logical time.Time) *windsock.DagRun {
	h.t.Helper()
	run, err := CreateRun(h.ctx, h.st, d, decide.NewGraph(d), NewRun{LogicalDate: logical, Now: h.now})
	if err != nil {
		h.t.Fatal(err)
	}
	h.sched.RunChanged(run.DagID, run.RunID)
	return run
}

// pass runs one scheduling pass.
func (h *passHarness) pass(periodic bool) {
	h.t.Helper()
	if err := h.sched.Pass(h.ctx, periodic); err != nil {
		h.t.Fatal(err)
	}
}

// finish records a try of taskID as an executor would and tells the
// scheduler.
func (h *passHarness) finish(run *windsock.DagRun, taskID string, state windsock.TaskInstanceState) {
	h.t.Helper()
	ti, err := h.st.TaskInstanceGet(h.ctx, windsock.TaskInstanceKey{DagID: run.DagID, TaskID: taskID, RunID: run.RunID, MapIndex: -1})
	if err != nil {
		h.t.Fatal(err)
	}
	end := h.now
	ti.State, ti.TryNumber, ti.StartDate, ti.EndDate = state, ti.TryNumber+1, &end, &end
	if _, err := h.st.TaskInstanceUpdate(h.ctx, ti); err != nil {
		h.t.Fatal(err)
	}
	h.sched.TryDone(ti, run.DagID, run.RunID, nil)
}

// states returns the state of each task instance of run ("" for none).
func (h *passHarness) states(run *windsock.DagRun) map[string]windsock.TaskInstanceState {
	h.t.Helper()
	tis, err := h.st.TaskInstanceList(h.ctx, &store.TaskInstanceListParams{DagID: run.DagID, RunID: run.RunID})
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]windsock.TaskInstanceState{}
	for _, ti := range tis {
		out[ti.TaskID] = ti.State
	}
	return out
}

func (h *passHarness) runState(run *windsock.DagRun) windsock.DagRunState {
	h.t.Helper()
	r, err := h.st.DagRunGet(h.ctx, run.DagID, run.RunID)
	if err != nil {
		h.t.Fatal(err)
	}
	return r.State
}

func wantHanded(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("handed to the executor %q, want %q", got, want)
	}
}

// TestPassQueuesTheRootsOfATriggeredRun: one pass after a trigger starts
// the run, queues the tasks without upstreams and hands exactly those to
// the executor; the others wait.
func TestPassQueuesTheRootsOfATriggeredRun(t *testing.T) {
	t.Parallel()
	d := bashDAG("etl", []string{"extract", "load", "transform"}, map[string][]string{"transform": {"extract"}, "load": {"transform"}})
	h := newPassHarness(t, nil, d)
	run := h.trigger(d, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	h.pass(false)
	wantHanded(t, h.exec.take(), "extract")
	if got := h.runState(run); got != windsock.DagRunRunning {
		t.Fatalf("run is %s after the pass, want running", got)
	}
	st := h.states(run)
	if st["extract"] != windsock.TaskStateQueued || st["transform"] != "" || st["load"] != "" {
		t.Fatalf("states after one pass: %v", st)
	}
}

// TestPassFollowsAFinishedTry: a recorded success makes the next pass
// queue what follows, and nothing else.
func TestPassFollowsAFinishedTry(t *testing.T) {
	t.Parallel()
	d := bashDAG("etl", []string{"extract", "load", "transform"}, map[string][]string{"transform": {"extract"}, "load": {"transform"}})
	h := newPassHarness(t, nil, d)
	run := h.trigger(d, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	h.pass(false)
	h.exec.take()
	h.finish(run, "extract", windsock.TaskStateSuccess)
	h.pass(false)
	wantHanded(t, h.exec.take(), "transform")
	h.pass(false) // nothing changed: nothing more is handed over
	wantHanded(t, h.exec.take())
}

// TestPassHoldsTasksBeyondParallelism: a pass hands over no more than
// core.parallelism task instances; the rest stay scheduled for a later
// pass, which takes them once slots free.
func TestPassHoldsTasksBeyondParallelism(t *testing.T) {
	t.Parallel()
	d := bashDAG("fan", []string{"a", "b", "c", "d", "e"}, nil)
	h := newPassHarness(t, func(c *Config) { c.Parallelism = 2 }, d)
	run := h.trigger(d, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	h.pass(false)
	first := h.exec.take()
	if len(first) != 2 {
		t.Fatalf("handed over %q, want 2 task instances", first)
	}
	scheduled := 0
	for _, s := range h.states(run) {
		if s == windsock.TaskStateScheduled {
			scheduled++
		}
	}
	if scheduled != 3 {
		t.Fatalf("%d task instances wait scheduled, want 3: %v", scheduled, h.states(run))
	}
	for _, id := range first {
		h.finish(run, id, windsock.TaskStateSuccess)
	}
	h.pass(false)
	if next := h.exec.take(); len(next) != 2 || slices.ContainsFunc(next, func(id string) bool { return slices.Contains(first, id) }) {
		t.Fatalf("after two tries ended, handed over %q, want 2 others than %q", next, first)
	}
}

// TestPassEndsARunAndTellsItsListener: the pass that sees the last task
// end marks the run and calls OnRunFinished once, with the ended run.
func TestPassEndsARunAndTellsItsListener(t *testing.T) {
	t.Parallel()
	d := bashDAG("pair", []string{"ok", "bad"}, nil)
	h := newPassHarness(t, nil, d)
	run := h.trigger(d, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	h.pass(false)
	h.finish(run, "ok", windsock.TaskStateSuccess)
	h.pass(false)
	if len(h.ended) != 0 {
		t.Fatalf("run reported ended with a task still queued: %v", h.ended[0].State)
	}
	h.finish(run, "bad", windsock.TaskStateFailed)
	h.pass(false)
	if got := h.runState(run); got != windsock.DagRunFailed {
		t.Fatalf("run is %s, want failed", got)
	}
	if len(h.ended) != 1 || h.ended[0].RunID != run.RunID || h.ended[0].State != windsock.DagRunFailed {
		t.Fatalf("OnRunFinished was told %v, want the failed run once", h.ended)
	}
	h.pass(true)
	if len(h.ended) != 1 {
		t.Fatalf("OnRunFinished called %d times, want once", len(h.ended))
	}
}

// TestPassRetriesAfterTheDelay: a try recorded up_for_retry is handed over
// again only by a pass after its next_retry_at (strictly, as Airflow's
// ready_for_retry).
func TestPassRetriesAfterTheDelay(t *testing.T) {
	t.Parallel()
	d := bashDAG("flaky", []string{"call"}, nil)
	h := newPassHarness(t, nil, d)
	run := h.trigger(d, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	h.pass(false)
	h.exec.take()
	ti, err := h.st.TaskInstanceGet(h.ctx, windsock.TaskInstanceKey{DagID: "flaky", TaskID: "call", RunID: run.RunID, MapIndex: -1})
	if err != nil {
		t.Fatal(err)
	}
	retryAt := h.now.Add(5 * time.Minute)
	ti.State, ti.TryNumber, ti.NextRetryAt, ti.MaxTries = windsock.TaskStateUpForRetry, 1, &retryAt, 1
	if _, err := h.st.TaskInstanceUpdate(h.ctx, ti); err != nil {
		t.Fatal(err)
	}
	h.sched.TryDone(ti, run.DagID, run.RunID, nil)
	h.pass(true)
	wantHanded(t, h.exec.take())
	h.now = retryAt.Add(time.Second)
	h.pass(true)
	wantHanded(t, h.exec.take(), "call")
}
