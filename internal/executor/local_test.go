package executor_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/executor"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/bash"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/taskrun"
	"github.com/windsock/windsock/internal/windsock"
)

// awayStore is a real store whose transactions fail, as a stopped
// database's would, while away is set; attempts reports each refused one.
// Claims and reads still work: what the test watches is whether the worker
// claims while it owes the database an outcome.
type awayStore struct {
	store.Store
	away     atomic.Bool
	attempts chan struct{}
	claims   atomic.Int32
}

var errAway = errors.New("connection refused")

func (s *awayStore) InTx(ctx context.Context, fn func(q store.Queries) error) error {
	if s.away.Load() {
		select {
		case s.attempts <- struct{}{}:
		default:
		}
		return errAway
	}
	return s.Store.InTx(ctx, fn)
}

func (s *awayStore) TaskInstanceClaim(ctx context.Context, p *store.TaskInstanceClaimParams) ([]*windsock.TaskInstance, error) {
	tis, err := s.Store.TaskInstanceClaim(ctx, p)
	s.claims.Add(int32(len(tis)))
	return tis, err
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.b.String(), s)
}

// TestWorkerRecordsJournalBeforeClaiming: a worker starting with an
// outcome in its journal that the database does not take yet claims
// nothing, however often it tries, and says so once; once the outcome is
// recorded it claims and runs the queued work.
func TestWorkerRecordsJournalBeforeClaiming(t *testing.T) {
	t.Parallel()
	ctx, dir, db := setup(t)
	logical := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	dag := &windsock.DAG{DagID: "etl"}
	run := &windsock.DagRun{DagID: "etl", RunID: "r", LogicalDate: logical, State: windsock.DagRunRunning, RunType: windsock.RunTypeManual,
		DataIntervalStart: &logical, DataIntervalEnd: &logical}
	now := time.Now().UTC()
	var tis []*windsock.TaskInstance
	for _, id := range []string{"done", "next"} {
		dag.Tasks = append(dag.Tasks, &windsock.Task{TaskID: id, Operator: "bash", OperatorClass: "BashOperator", Args: map[string]any{"bash_command": "true"},
			Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: "default", PriorityWeight: 1})
		tis = append(tis, &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "etl", TaskID: id, RunID: "r", MapIndex: -1},
			Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: "default", PriorityWeight: 1, Operator: "BashOperator"})
	}
	// "done" ran as try 1 on this worker, which crashed before the
	// database took its success; "next" waits to be claimed.
	tis[0].State, tis[0].TryNumber, tis[0].StartDate, tis[0].Hostname = windsock.TaskStateRunning, 1, &now, "w"
	tis[1].State, tis[1].QueuedDttm = windsock.TaskStateQueued, &now
	if err := db.DagRunCreate(ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}); err != nil {
		t.Fatal(err)
	}
	journal, err := taskrun.OpenJournal(filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	ended := now.Add(time.Second)
	finished := *tis[0]
	finished.State, finished.EndDate = windsock.TaskStateSuccess, &ended
	if err := journal.Write(&taskrun.Finish{TI: finished, Now: ended}); err != nil {
		t.Fatal(err)
	}

	st := &awayStore{Store: db, attempts: make(chan struct{})}
	st.away.Store(true)
	ops := operator.NewRegistry()
	ops.Add("bash", bash.New(bash.Options{}))
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	runner := &taskrun.Runner{
		Store: st, Operators: ops, Specs: operator.Builtins(),
		Variables: &secrets.Variables{Store: st}, Connections: &secrets.Connections{Store: st},
		LogFolder: filepath.Join(dir, "logs"), DagsFolder: dir, Environ: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir},
		Logger: logger, Journal: journal,
	}
	done := make(chan string, 2)
	w, err := executor.New(executor.Config{
		Store: st, Runner: runner, Hostname: "w", ClaimQueued: true, PollInterval: 10 * time.Millisecond,
		DAG:    func(context.Context, string) (*windsock.DAG, error) { return dag, nil },
		OnDone: func(try *taskrun.Try, out *taskrun.Outcome) { done <- try.TI.TaskID + " " + string(out.State) },
		// A 400 ms cap on the backoff: the test sees several attempts soon.
		LostContactAfter: 1600 * time.Millisecond,
		Logger:           logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	for range 4 {
		select {
		case <-st.attempts:
		case <-time.After(30 * time.Second):
			t.Fatal("the worker stopped trying to record its journal")
		}
	}
	if n := st.claims.Load(); n != 0 {
		t.Fatalf("the worker claimed %d task instances before recording its journal", n)
	}
	if n := logs.count("metadata database unreachable"); n != 1 {
		t.Fatalf("%d lines report the database unreachable over 4 attempts, want 1:\n%s", n, logs.b.String())
	}

	st.away.Store(false)
	for _, want := range []string{"done success", "next success"} {
		select {
		case got := <-done:
			if got != want {
				t.Fatalf("try done: %q, want %q", got, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no %q within 30 s:\n%s", want, logs.b.String())
		}
	}
	ti, err := db.TaskInstanceGet(ctx, tis[0].TaskInstanceKey)
	if err != nil {
		t.Fatal(err)
	}
	if ti.State != windsock.TaskStateSuccess || ti.EndDate == nil || ti.EndDate.Sub(ended).Abs() > time.Millisecond {
		t.Fatalf("journaled try recorded as %s ending %v, want its success ending %v", ti.State, ti.EndDate, ended)
	}
	if left, err := journal.Entries(); err != nil || len(left) != 0 {
		t.Fatalf("journal after recording: %d entries, %v", len(left), err)
	}
	if n := logs.count("metadata database back"); n != 1 {
		t.Errorf("%d lines report the database back, want 1", n)
	}
}

// setup returns a context, a folder and a migrated SQLite store in it.
func setup(t *testing.T) (context.Context, string, store.Store) {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx, dir, db
}
