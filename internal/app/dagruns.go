package app

import (
	"context"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// dagRunTrigger lets operators (TriggerDagRunOperator) create, clear and
// follow runs of other DAGs through the path the REST API's trigger takes:
// the target's stored definition, the clash check, scheduler.CreateRun,
// and then the scheduler told so that the run starts at once.
type dagRunTrigger struct {
	store store.Store
	dags  *scheduler.DAGCache
	clock func() time.Time
	// notify announces a new or cleared run to the scheduler that runs it.
	notify func(dagID, runID string)
}

// newDagRunTrigger returns the environment's operator.DagRunTrigger;
// notify tells the scheduler about a changed run.
func (e *Environment) newDagRunTrigger(notify func(dagID, runID string)) *dagRunTrigger {
	return &dagRunTrigger{store: e.Store, dags: scheduler.NewDAGCache(e.Store, workerDAGMaxAge), clock: e.Clock, notify: notify}
}

// dag returns the target's definition, with Airflow's trigger_dag words
// when it does not exist.
func (t *dagRunTrigger) dag(ctx context.Context, dagID string) (*windsock.DAG, error) {
	if _, err := t.store.DAGGet(ctx, dagID); err != nil {
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return nil, windsock.Errorf(windsock.ENOTFOUND, "Dag id %s not found in DagModel", dagID)
		}
		return nil, err
	}
	d, err := t.dags.DAG(ctx, dagID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "Dag id %s not found", dagID)
	}
	return d, err
}

// TriggerDagRun creates a queued manual run of p.DagID.
func (t *dagRunTrigger) TriggerDagRun(ctx context.Context, p operator.TriggerParams) (*windsock.DagRun, error) {
	d, err := t.dag(ctx, p.DagID)
	if err != nil {
		return nil, err
	}
	logical := p.LogicalDate.UTC()
	runID := p.RunID
	if runID == "" {
		runID = windsock.RunID(windsock.RunTypeManual, logical)
	}
	if err := t.inTheWay(ctx, p.DagID, runID, logical); err != nil {
		return nil, err
	}
	run, err := scheduler.CreateRun(ctx, t.store, d, decide.NewGraph(d), scheduler.NewRun{
		RunType: windsock.RunTypeManual, RunID: runID, LogicalDate: logical, Conf: p.Conf, Now: t.clock(),
	})
	if windsock.ErrorCode(err) == windsock.ECONFLICT {
		// Created by someone else since the check: report that run.
		if err := t.inTheWay(ctx, p.DagID, runID, logical); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	t.notify(run.DagID, run.RunID)
	return run, nil
}

// inTheWay returns a *operator.RunExistsError when the DAG has a run with
// runID or at logical.
func (t *dagRunTrigger) inTheWay(ctx context.Context, dagID, runID string, logical time.Time) error {
	existing, err := scheduler.ExistingRun(ctx, t.store, dagID, runID, logical)
	if err != nil {
		return err
	}
	if existing != nil {
		return &operator.RunExistsError{Run: existing}
	}
	return nil
}

// ClearDagRun clears every task instance of the run and queues it again.
func (t *dagRunTrigger) ClearDagRun(ctx context.Context, dagID, runID string) error {
	d, err := t.dag(ctx, dagID)
	if err != nil {
		return err
	}
	if _, err := scheduler.ClearTaskInstances(ctx, t.store, d, scheduler.ClearParams{RunIDs: []string{runID}, Now: t.clock().UTC()}); err != nil {
		return err
	}
	t.notify(dagID, runID)
	return nil
}

// DagRunState returns the run's state as stored.
func (t *dagRunTrigger) DagRunState(ctx context.Context, dagID, runID string) (windsock.DagRunState, error) {
	run, err := t.store.DagRunGet(ctx, dagID, runID)
	if err != nil {
		return "", err
	}
	return run.State, nil
}
