package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/taskrun"
	"github.com/windsock/windsock/internal/windsock"
)

// TestOneShotEngineSeesRunsEndedElsewhere: a one-shot engine (dags test,
// backfill) reports its runs finished when another process ended them (a
// scheduler daemon that took a retry and finished the run, a user who
// deleted it), once each, so that the command waiting on them ends.
func TestOneShotEngineSeesRunsEndedElsewhere(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"o.yaml": `
elsewhere:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: work, operator: bash, bash_command: "true"}
`})
	ctx := context.Background()
	plain, err := env.NewEngine(EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dag, err := plain.Scheduler.DAG(ctx, "elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	var refs []scheduler.RunRef
	var runs []*windsock.DagRun
	for i := range 3 {
		run, err := scheduler.CreateRun(ctx, env.Store, dag, decide.NewGraph(dag), scheduler.NewRun{LogicalDate: day.AddDate(0, 0, i), State: windsock.DagRunRunning, Now: env.Clock()})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, scheduler.RunRef{DagID: run.DagID, RunID: run.RunID})
		runs = append(runs, run)
	}
	var ended []*windsock.DagRun
	// Not started: the test runs the passes, so nothing runs the tasks.
	engine, err := env.NewEngine(EngineOptions{OnlyRuns: refs, OnRunFinished: func(r *windsock.DagRun) { ended = append(ended, r) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Scheduler.Pass(ctx, true); err != nil {
		t.Fatal(err)
	}
	if len(ended) != 0 {
		t.Fatalf("%d runs reported ended before anything ended them", len(ended))
	}
	// Another process ends the first run and deletes the second.
	runs[0].State = windsock.DagRunSuccess
	if err := env.Store.DagRunUpdate(ctx, runs[0]); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.DagRunDelete(ctx, runs[1].DagID, runs[1].RunID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := engine.Scheduler.Pass(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	if len(ended) != 2 {
		t.Fatalf("reported %d ended runs, want 2 (once each)", len(ended))
	}
	got := map[string]windsock.DagRunState{}
	for _, r := range ended {
		got[r.RunID] = r.State
	}
	if st, ok := got[runs[0].RunID]; !ok || st != windsock.DagRunSuccess {
		t.Errorf("the run ended elsewhere was reported %v (%q), want success", ok, st)
	}
	if st, ok := got[runs[1].RunID]; !ok || st != "" {
		t.Errorf("the deleted run was reported %v (%q), want reported without a state", ok, st)
	}
}

// TestEngineDrainHandsBackTheSameTry: draining an engine told to hurry
// (a second signal) hands its running try back at once: recorded scheduled
// as the same try, no retry used, no task_fail row, for the next scheduler
// to run again.
func TestEngineDrainHandsBackTheSameTry(t *testing.T) {
	t.Parallel()
	env, er, run, tries := startLongTry(t, "drained", 1)
	hurry, cancel := context.WithCancel(context.Background())
	cancel()
	er.engine.Drain(hurry, time.Hour)
	out := <-tries
	if out.State != windsock.TaskStateScheduled || !errors.Is(out.Err, taskrun.ErrHandBack) || !out.Recorded {
		t.Fatalf("outcome = %s (%v, recorded %v), want a recorded hand-back", out.State, out.Err, out.Recorded)
	}
	ti := states(t, env, run)["long"]
	if ti.State != windsock.TaskStateScheduled || ti.TryNumber != 1 || ti.MaxTries != 1 || ti.EndDate != nil || ti.NextRetryAt != nil {
		t.Errorf("task instance = %s try %d max_tries %d end %v next %v, want scheduled as try 1 with its retry left", ti.State, ti.TryNumber, ti.MaxTries, ti.EndDate, ti.NextRetryAt)
	}
	if fails, _ := env.Store.TaskFailList(context.Background(), ti.TaskInstanceKey); len(fails) != 0 {
		t.Errorf("%d task_fail rows, want none: the try did not fail", len(fails))
	}
}
