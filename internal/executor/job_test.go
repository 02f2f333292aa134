package executor_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/executor"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/bash"
	"github.com/windsock/windsock/internal/osproc"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/taskrun"
	"github.com/windsock/windsock/internal/windsock"
)

// TestExecutorRecordsItsJob: an executor records a WorkerJob row naming
// its process and log server, heartbeats it, claims tries under its id
// (what schedulers check the tries' liveness by) and ends it on Stop.
func TestExecutorRecordsItsJob(t *testing.T) {
	t.Parallel()
	ctx, dir, db := setup(t)
	logical := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	dag := &windsock.DAG{DagID: "etl", Tasks: []*windsock.Task{{TaskID: "t", Operator: "bash", OperatorClass: "BashOperator",
		Args: map[string]any{"bash_command": "true"}, Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: "default", PriorityWeight: 1}}}
	run := &windsock.DagRun{DagID: "etl", RunID: "r", LogicalDate: logical, State: windsock.DagRunRunning, RunType: windsock.RunTypeManual,
		DataIntervalStart: &logical, DataIntervalEnd: &logical}
	now := time.Now().UTC()
	ti := &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "etl", TaskID: "t", RunID: "r", MapIndex: -1},
		State: windsock.TaskStateQueued, QueuedDttm: &now, Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: "default", PriorityWeight: 1, Operator: "BashOperator"}
	if err := db.DagRunCreate(ctx, &store.DagRunCreateParams{Run: run, TaskInstances: []*windsock.TaskInstance{ti}}); err != nil {
		t.Fatal(err)
	}
	ops := operator.NewRegistry()
	ops.Add("bash", bash.New(bash.Options{}))
	runner := &taskrun.Runner{
		Store: db, Operators: ops, Specs: operator.Builtins(),
		Variables: &secrets.Variables{Store: db}, Connections: &secrets.Connections{Store: db},
		LogFolder: filepath.Join(dir, "logs"), DagsFolder: dir, Environ: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir},
	}
	done := make(chan *taskrun.Outcome, 1)
	e, err := executor.New(executor.Config{
		Store: db, Runner: runner, Hostname: "w", LogServer: "w:40123", HeartbeatInterval: 20 * time.Millisecond,
		DAG:    func(context.Context, string) (*windsock.DAG, error) { return dag, nil },
		OnDone: func(_ *taskrun.Try, out *taskrun.Outcome) { done <- out },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	job, err := db.JobGet(ctx, e.JobID())
	if err != nil {
		t.Fatal(err)
	}
	self := osproc.Self()
	if job.JobType != windsock.JobTypeWorker || job.State != windsock.JobRunning || job.ExecutorClass != "LocalExecutor" ||
		job.Hostname != "w" || job.PID != self.PID || job.ProcessStart != self.Start || job.LogServer != "w:40123" {
		t.Fatalf("job %+v: want a running WorkerJob naming this process and its log server", job)
	}
	first := job.LatestHeartbeat

	e.Submit([]windsock.TaskInstanceKey{ti.TaskInstanceKey})
	select {
	case out := <-done:
		if out.State != windsock.TaskStateSuccess {
			t.Fatalf("try ended %s: %v", out.State, out.Err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the try did not end within 30 s")
	}
	got, err := db.TaskInstanceGet(ctx, ti.TaskInstanceKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.JobID == nil || *got.JobID != job.ID {
		t.Fatalf("the try was claimed under job %v, want the executor's %d", got.JobID, job.ID)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		j, err := db.JobGet(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.LatestHeartbeat.After(first) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the executor did not heartbeat its job within 30 s")
		}
		time.Sleep(10 * time.Millisecond) // the heartbeat ticker's writes: nothing to wait on
	}
	e.Stop()
	if j, err := db.JobGet(ctx, job.ID); err != nil || j.State != windsock.JobSuccess || j.EndDate == nil {
		t.Fatalf("job after Stop: %+v (%v), want ended success", j, err)
	}
}
