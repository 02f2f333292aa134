package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// BenchTaskInstanceLifecycle measures one task hop on st, a migrated
// store, as the engine makes it: a worker claims the queued task
// instance, marks it success (guarded from running), pushes its return
// value, and the next task instance of the chain moves from none to
// queued. Runs of 500 chained tasks are created outside the timer as the
// chains end; finished instances stay in the table, as they do in a real
// database. Every driver's benchmark calls it, so that the figures compare.
func BenchTaskInstanceLifecycle(b *testing.B, st store.Store) {
	ctx := b.Context()
	const chain = 500
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var run *windsock.DagRun
	var tis []*windsock.TaskInstance
	newChain := func(n int) {
		logical := start.Add(time.Duration(n) * time.Hour)
		run = &windsock.DagRun{DagID: "chain", RunID: windsock.RunID(windsock.RunTypeScheduled, logical),
			LogicalDate: logical, State: windsock.DagRunRunning, RunType: windsock.RunTypeScheduled}
		tis = make([]*windsock.TaskInstance, chain)
		for i := range tis {
			tis[i] = &windsock.TaskInstance{
				TaskInstanceKey: windsock.TaskInstanceKey{DagID: "chain", TaskID: fmt.Sprintf("task_%03d", i), RunID: run.RunID, MapIndex: -1},
				MaxTries:        1, Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: "default", PriorityWeight: chain - i,
				Operator: "BashOperator",
			}
		}
		tis[0].State, tis[0].TryNumber, tis[0].QueuedDttm = windsock.TaskStateQueued, 1, &logical
		if err := st.DagRunCreate(ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}); err != nil {
			b.Fatal(err)
		}
	}
	jobID := int64(1)
	claim := store.TaskInstanceClaimParams{Queues: []string{"default"}, Limit: 1, Hostname: "worker-1",
		Unixname: "airflow", JobID: &jobID}
	value := []byte(`{"rows": 1234, "path": "s3://bucket/key"}`)
	chains, hop := 0, chain
	for b.Loop() {
		if hop == chain-1 || run == nil {
			b.StopTimer()
			newChain(chains)
			chains++
			hop = 0
			b.StartTimer()
		}
		now := time.Now()
		claim.Now = now
		claimed, err := st.TaskInstanceClaim(ctx, &claim)
		if err != nil || len(claimed) != 1 || claimed[0].TaskID != tis[hop].TaskID {
			b.Fatalf("claim: %v, %d claimed", err, len(claimed))
		}
		ti := claimed[0]
		ti.State, ti.EndDate = windsock.TaskStateSuccess, &now
		if ok, err := st.TaskInstanceUpdate(ctx, ti, windsock.TaskStateRunning); err != nil || !ok {
			b.Fatalf("finish: %v, updated %v", err, ok)
		}
		if err := st.XComSet(ctx, &windsock.XCom{DagRunID: run.ID, TaskID: ti.TaskID, MapIndex: -1,
			Key: windsock.XComReturnKey, DagID: ti.DagID, RunID: ti.RunID, Value: value, Timestamp: now}); err != nil {
			b.Fatal(err)
		}
		next := tis[hop+1]
		next.State, next.TryNumber, next.QueuedDttm = windsock.TaskStateQueued, 1, &now
		if ok, err := st.TaskInstanceUpdate(ctx, next, windsock.TaskStateNone); err != nil || !ok {
			b.Fatalf("queue next: %v, updated %v", err, ok)
		}
		hop++
	}
}

// BenchQueueCandidates measures the read a queueing pass makes: the four
// highest-priority scheduled task instances (four open slots), on st, a
// migrated store holding `scheduled` of them, all of equal priority as in
// a large fan-out. Its cost must not grow with how many wait: compare the
// figures for 100 and 10,000.
func BenchQueueCandidates(b *testing.B, st store.Store, scheduled int) {
	ctx := b.Context()
	logical := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	run := &windsock.DagRun{DagID: "fan", RunID: windsock.RunID(windsock.RunTypeManual, logical),
		LogicalDate: logical, State: windsock.DagRunRunning, RunType: windsock.RunTypeManual}
	tis := make([]*windsock.TaskInstance, scheduled)
	for i := range tis {
		tis[i] = &windsock.TaskInstance{
			TaskInstanceKey: windsock.TaskInstanceKey{DagID: "fan", TaskID: fmt.Sprintf("task_%05d", i), RunID: run.RunID, MapIndex: -1},
			State:           windsock.TaskStateScheduled, MaxTries: 1, Pool: windsock.DefaultPoolName, PoolSlots: 1,
			Queue: "default", PriorityWeight: 1, Operator: "BashOperator",
		}
	}
	if err := st.DagRunCreate(ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}); err != nil {
		b.Fatal(err)
	}
	params := &store.TaskInstanceListParams{States: []windsock.TaskInstanceState{windsock.TaskStateScheduled},
		OrderBy: "-priority_weight", Limit: 4}
	for b.Loop() {
		got, err := st.TaskInstanceList(ctx, params)
		if err != nil || len(got) != 4 || got[0].TaskID != "task_00000" {
			b.Fatalf("read %d candidates (%v)", len(got), err)
		}
	}
}
