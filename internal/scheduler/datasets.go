package scheduler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Data-aware scheduling. A producer's successful try (or an external event
// through the API) records a dataset event and queues it for every DAG
// scheduled on the dataset, in the transaction that records the try, and
// wakes the schedulers on store.ChannelDatasetQueued. A woken scheduler
// looks at the consumers named: under the consumer's run-creation lock it
// reads the consumer's queued events, and when they meet its condition it
// deletes them (DELETE ... RETURNING) and creates the dataset_triggered
// run in the same transaction. The lock and the delete make the run
// exactly-once however many schedulers are woken; every scheduler tries,
// so no owner has to be alive for a consumer to be triggered. A periodic
// pass looks at every consumer with queued events, for notifications
// missed.

// RecordDatasetEvent records an update of a dataset within q's
// transaction and, when it commits, wakes the schedulers for the DAGs
// scheduled on it. ENOTFOUND when no DAG names the dataset.
func RecordDatasetEvent(ctx context.Context, q store.Queries, p *store.DatasetEventCreateParams) (*windsock.DatasetEvent, error) {
	ev, consumers, err := q.DatasetEventCreate(ctx, p)
	if err != nil {
		return nil, err
	}
	if len(consumers) > 0 {
		if err := q.Notify(ctx, store.ChannelDatasetQueued, strings.Join(consumers, ",")); err != nil {
			return nil, err
		}
	}
	return ev, nil
}

// DatasetsQueued tells the scheduler that dataset events were queued for
// these DAGs; it looks at once whether they are due a run.
func (s *Scheduler) DatasetsQueued(dagIDs []string) {
	s.mu.Lock()
	if s.datasetDAGs == nil {
		s.datasetDAGs = map[string]bool{}
	}
	for _, id := range dagIDs {
		s.datasetDAGs[id] = true
	}
	// Another scheduler may have created a run of a DAG this one owns.
	s.startRuns = true
	s.mu.Unlock()
	s.poke()
}

// listenDatasets follows the dataset-queued notifications of every
// process sharing the store (this one's too, delivered in process on
// SQLite).
func (s *Scheduler) listenDatasets(ctx context.Context) error {
	ch, err := s.cfg.Store.Listen(ctx, store.ChannelDatasetQueued)
	if err != nil {
		return err
	}
	go func() {
		for p := range ch {
			var ids []string
			if p != "" {
				ids = strings.Split(p, ",")
			}
			// "" (notifications may have been missed) wakes a look at
			// every queued consumer.
			s.mu.Lock()
			s.datasetsAll = s.datasetsAll || p == ""
			s.mu.Unlock()
			s.DatasetsQueued(ids)
		}
	}()
	return nil
}

// createDatasetRuns creates the dataset-triggered runs due among dagIDs
// (every DAG with queued events when all is set) and returns them.
func (s *Scheduler) createDatasetRuns(ctx context.Context, now time.Time, dagIDs map[string]bool, all bool) ([]RunRef, error) {
	if all {
		queued, err := s.cfg.Store.DatasetQueueList(ctx, &store.DatasetQueueParams{})
		if err != nil {
			return nil, fmt.Errorf("list queued dataset events: %w", err)
		}
		for _, q := range queued {
			dagIDs[q.TargetDagID] = true
		}
	}
	var created []RunRef
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(dagIDs)) {
		run, err := s.createDatasetRun(ctx, id, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("create dataset-triggered run of %s: %w", id, err))
			continue
		}
		if run != nil {
			created = append(created, RunRef{run.DagID, run.RunID})
		}
	}
	return created, errors.Join(errs...)
}

// createDatasetRun creates a dataset-triggered run of a DAG if its queued
// events meet its condition, and returns it (nil when none was due).
func (s *Scheduler) createDatasetRun(ctx context.Context, dagID string, now time.Time) (*windsock.DagRun, error) {
	e, err := s.dags.get(ctx, dagID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, nil // not parsed (yet): its events wait
	}
	if err != nil {
		return nil, err
	}
	cond := e.dag.Schedule.Datasets
	if cond == nil {
		return nil, nil
	}
	var run *windsock.DagRun
	err = s.cfg.Store.InTx(ctx, func(q store.Queries) error {
		run = nil
		// The lock of createDueRuns: one scheduler at a time decides on a
		// DAG's new runs, and reads the queue as the last one left it.
		if err := q.TxLock(ctx, "create_dag_run:"+dagID); err != nil {
			return err
		}
		m, err := q.DAGGet(ctx, dagID)
		if err != nil || m.IsPaused || !m.IsActive {
			return err // paused: the queued events wait, as in Airflow
		}
		queued, err := q.DatasetQueueList(ctx, &store.DatasetQueueParams{DagID: dagID})
		if err != nil || !decide.DatasetsReady(cond, queued) {
			return err
		}
		consumed, err := q.DatasetQueueDelete(ctx, &store.DatasetQueueParams{DagID: dagID})
		if err != nil || len(consumed) == 0 {
			return err
		}
		plan, err := datasetRunPlan(ctx, q, dagID, cond, consumed)
		if err != nil {
			return err
		}
		iv := schedule.DataInterval{Start: plan.IntervalStart, End: plan.IntervalEnd}
		run, err = CreateRun(ctx, q, e.dag, e.graph, NewRun{
			RunType: windsock.RunTypeDatasetTriggered, LogicalDate: plan.LogicalDate, Interval: &iv, DagHash: e.hash, Now: now,
		})
		if err != nil {
			return err
		}
		if err := q.DagRunDatasetEventsLink(ctx, run.ID, plan.EventIDs); err != nil {
			return err
		}
		if s.cfg.Shared {
			// Wakes the scheduler that owns the DAG, to start the run.
			return q.Notify(ctx, store.ChannelDatasetQueued, dagID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if run != nil {
		s.cfg.Logger.Info("created dataset-triggered run", "dag_id", dagID, "run_id", run.RunID)
	}
	return run, nil
}

// datasetRunPlan gathers the events triggering a run (those of the DAG's
// datasets since its previous dataset-triggered run, up to the latest
// consumed queue row) and plans the run at a logical date no other run of
// the DAG has.
func datasetRunPlan(ctx context.Context, q store.Queries, dagID string, cond *windsock.DatasetCondition, consumed []*windsock.DatasetQueuedEvent) (decide.DatasetRunPlan, error) {
	logical := decide.DatasetRun(consumed, nil).LogicalDate
	before := logical.Add(-time.Microsecond)
	prev, err := q.DagRunList(ctx, &store.DagRunListParams{
		DagID: dagID, RunTypes: []windsock.RunType{windsock.RunTypeDatasetTriggered}, LogicalDateLTE: &before, OrderBy: "-execution_date", Limit: 1,
	})
	if err != nil {
		return decide.DatasetRunPlan{}, err
	}
	params := &store.DatasetEventListParams{URIs: cond.URIs(), Before: &logical, OrderBy: "timestamp"}
	if len(prev) > 0 {
		params.After = &prev[0].LogicalDate
	}
	events, _, err := q.DatasetEventList(ctx, params)
	if err != nil {
		return decide.DatasetRunPlan{}, err
	}
	plan := decide.DatasetRun(consumed, events)
	// A scheduled run (DatasetOrTimeSchedule) or an earlier dataset run
	// may hold that logical date already: runs are unique per date.
	for range 100 {
		exists, err := q.DagRunList(ctx, &store.DagRunListParams{DagID: dagID, LogicalDateGTE: &plan.LogicalDate, LogicalDateLTE: &plan.LogicalDate, Limit: 1})
		if err != nil {
			return plan, err
		}
		if len(exists) == 0 {
			break
		}
		plan.LogicalDate = plan.LogicalDate.Add(time.Microsecond)
	}
	return plan, nil
}
