package executor

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/bash"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/taskrun"
	"github.com/windsock/windsock/internal/windsock"
)

// The tests in this file drive the executor one pass at a time: the test
// writes queued task instances to the store, runs one claim pass or one
// heartbeat pass (what the dispatch loop does on each wake-up or tick),
// waits for the tries that pass started, and checks the store and the
// outcomes handed on.

// execHarness is an executor over a fresh SQLite store, whose tries are
// real bash processes.
type execHarness struct {
	t    *testing.T
	ctx  context.Context
	st   store.Store
	dag  *windsock.DAG
	ex   *Local
	mu   sync.Mutex
	done []string // "task state" per outcome handed on, in order
}

// newExecHarness stores a running run of a DAG whose tasks run the given
// bash commands, each task instance queued in the queue named by queues
// (default "default").
func newExecHarness(t *testing.T, tune func(*Config), commands map[string]string, queues map[string]string) *execHarness {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	logical := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	h := &execHarness{t: t, ctx: ctx, st: st, dag: &windsock.DAG{DagID: "etl"}}
	run := &windsock.DagRun{DagID: "etl", RunID: "r", LogicalDate: logical, State: windsock.DagRunRunning, RunType: windsock.RunTypeManual,
		DataIntervalStart: &logical, DataIntervalEnd: &logical}
	now := time.Now().UTC()
	var tis []*windsock.TaskInstance
	ids := make([]string, 0, len(commands))
	for id := range commands {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		q := queues[id]
		if q == "" {
			q = "default"
		}
		h.dag.Tasks = append(h.dag.Tasks, &windsock.Task{TaskID: id, Operator: "bash", OperatorClass: "BashOperator",
			Args: map[string]any{"bash_command": commands[id]}, Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: q, PriorityWeight: 1})
		tis = append(tis, &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "etl", TaskID: id, RunID: "r", MapIndex: -1},
			State: windsock.TaskStateQueued, QueuedDttm: &now, Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: q, PriorityWeight: 1,
			Operator: "BashOperator", MaxTries: 1, TryNumber: 1}) // numbered when scheduled, as in Airflow 2.10
	}
	if err := st.DagRunCreate(ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}); err != nil {
		t.Fatal(err)
	}
	ops := operator.NewRegistry()
	ops.Add("bash", bash.New(bash.Options{KillGrace: time.Second}))
	runner := &taskrun.Runner{
		Store: st, Operators: ops, Specs: operator.Builtins(),
		Variables: &secrets.Variables{Store: st}, Connections: &secrets.Connections{Store: st},
		LogFolder: filepath.Join(dir, "logs"), DagsFolder: dir, Environ: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir},
	}
	cfg := Config{
		Store: st, Runner: runner, Hostname: "w", Slots: 8,
		DAG: func(context.Context, string) (*windsock.DAG, error) { return h.dag, nil },
		OnDone: func(try *taskrun.Try, out *taskrun.Outcome) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.done = append(h.done, try.TI.TaskID+" "+string(out.State))
		},
	}
	if tune != nil {
		tune(&cfg)
	}
	if h.ex, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.ex.cancelAll(context.Canceled)
		h.ex.wg.Wait()
	})
	return h
}

func (h *execHarness) key(taskID string) windsock.TaskInstanceKey {
	return windsock.TaskInstanceKey{DagID: "etl", TaskID: taskID, RunID: "r", MapIndex: -1}
}

// claimPass runs one claim pass and returns the tasks it started.
func (h *execHarness) claimPass() []string {
	h.ex.claimAndStart(h.ctx)
	h.ex.mu.Lock()
	defer h.ex.mu.Unlock()
	var ids []string
	for k := range h.ex.running {
		ids = append(ids, k.TaskID)
	}
	slices.Sort(ids)
	return ids
}

// settle waits for the tries under way to end and returns the outcomes
// handed on since the last call, sorted.
func (h *execHarness) settle() []string {
	h.ex.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.done
	h.done = nil
	slices.Sort(out)
	return out
}

func (h *execHarness) ti(taskID string) *windsock.TaskInstance {
	h.t.Helper()
	ti, err := h.st.TaskInstanceGet(h.ctx, h.key(taskID))
	if err != nil {
		h.t.Fatal(err)
	}
	return ti
}

// TestClaimPassTakesWhatWasSubmittedUpToItsSlots: one pass claims the
// submitted task instances up to the free slots, marks them running on
// this host and process, and runs them; the rest stay queued.
func TestClaimPassTakesWhatWasSubmittedUpToItsSlots(t *testing.T) {
	t.Parallel()
	h := newExecHarness(t, func(c *Config) { c.Slots = 2 }, map[string]string{"a": "true", "b": "true", "c": "true"}, nil)
	h.ex.Submit([]windsock.TaskInstanceKey{h.key("a"), h.key("b"), h.key("c")})
	if started := h.claimPass(); !slices.Equal(started, []string{"a", "b"}) {
		t.Fatalf("one pass started %q, want a and b", started)
	}
	for _, id := range []string{"a", "b"} {
		if ti := h.ti(id); ti.Hostname != "w" || ti.PID == nil || *ti.PID != os.Getpid() || ti.TryNumber != 1 {
			t.Fatalf("%s claimed as host %q pid %v try %d", id, ti.Hostname, ti.PID, ti.TryNumber)
		}
	}
	if got := h.settle(); !slices.Equal(got, []string{"a success", "b success"}) {
		t.Fatalf("outcomes %q", got)
	}
	if ti := h.ti("c"); ti.State != windsock.TaskStateQueued {
		t.Fatalf("c is %s, want still queued", ti.State)
	}
	if started := h.claimPass(); !slices.Equal(started, []string{"c"}) {
		t.Fatalf("the next pass started %q, want c", started)
	}
	if got := h.settle(); !slices.Equal(got, []string{"c success"}) {
		t.Fatalf("outcomes %q", got)
	}
}

// TestClaimPassOfAWorkerTakesOnlyItsQueues: a worker claims what is
// queued without being handed it, only from its queues.
func TestClaimPassOfAWorkerTakesOnlyItsQueues(t *testing.T) {
	t.Parallel()
	h := newExecHarness(t, func(c *Config) { c.ClaimQueued, c.Queues = true, []string{"gpu"} },
		map[string]string{"train": "true", "report": "true"}, map[string]string{"train": "gpu"})
	if started := h.claimPass(); !slices.Equal(started, []string{"train"}) {
		t.Fatalf("one pass started %q, want train (queue gpu) only", started)
	}
	if got := h.settle(); !slices.Equal(got, []string{"train success"}) {
		t.Fatalf("outcomes %q", got)
	}
	if ti := h.ti("report"); ti.State != windsock.TaskStateQueued {
		t.Fatalf("report (queue default) is %s, want still queued", ti.State)
	}
}

// TestHeartbeatPassKillsATryChangedElsewhere: a heartbeat pass that finds
// a running try's task instance marked from outside (here failed by a
// user) kills the try rather than heartbeating it; the other try is
// heartbeated and goes on.
func TestHeartbeatPassKillsATryChangedElsewhere(t *testing.T) {
	t.Parallel()
	h := newExecHarness(t, nil, map[string]string{"marked": "sleep 300", "going": "sleep 300"}, nil)
	h.ex.Submit([]windsock.TaskInstanceKey{h.key("marked"), h.key("going")})
	if started := h.claimPass(); len(started) != 2 {
		t.Fatalf("started %q", started)
	}
	marked := h.ti("marked")
	marked.State = windsock.TaskStateFailed
	if _, err := h.st.TaskInstanceUpdate(h.ctx, marked); err != nil {
		t.Fatal(err)
	}
	before := h.ti("going").LastHeartbeatAt
	h.ex.heartbeat(h.ctx)
	h.ex.mu.Lock()
	_, stillMarked := h.ex.running[h.key("marked")]
	h.ex.mu.Unlock()
	// The kill is under way; wait for the try to be gone.
	for stillMarked {
		h.ex.mu.Lock()
		_, stillMarked = h.ex.running[h.key("marked")]
		h.ex.mu.Unlock()
		if stillMarked {
			<-h.ex.wake // each ending try pokes the dispatcher
		}
	}
	after := h.ti("going")
	if after.State != windsock.TaskStateRunning || after.LastHeartbeatAt == nil || (before != nil && !after.LastHeartbeatAt.After(*before)) {
		t.Fatalf("going after the heartbeat pass: %s, heartbeat %v (before %v)", after.State, after.LastHeartbeatAt, before)
	}
	if ti := h.ti("marked"); ti.State != windsock.TaskStateFailed {
		t.Fatalf("marked is %s after its kill, want failed as the user marked it", ti.State)
	}
}
