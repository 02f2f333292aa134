package scheduler

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// queueScheduled queues scheduled task instances within pools,
// max_active_tasks and parallelism, and hands them to the executor. Several
// schedulers queue in turn: the reads and writes are one transaction under
// one lock, so each sees the slots the others took (Airflow 2's critical
// section).
func (s *Scheduler) queueScheduled(ctx context.Context, now time.Time) error {
	var queued []windsock.TaskInstanceKey
	// Alone on the store (SQLite), this scheduler reads what to queue
	// before its write transaction, which then holds the single write
	// connection only for the writes; the guarded updates keep it right.
	var queue []windsock.TaskInstanceKey
	if !s.cfg.Shared {
		var err error
		if queue, err = s.pickQueueable(ctx, s.cfg.Store); err != nil || len(queue) == 0 {
			return err
		}
	}
	err := s.cfg.Store.InTx(ctx, func(q store.Queries) error {
		queued = queued[:0]
		if s.cfg.Shared {
			if err := q.TxLock(ctx, "queue_task_instances"); err != nil {
				return err
			}
			var err error
			if queue, err = s.pickQueueable(ctx, q); err != nil || len(queue) == 0 {
				return err
			}
		}
		var err error
		if queued, err = q.TaskInstanceQueue(ctx, queue, now, s.jobID); err != nil {
			return err
		}
		if ts, ok := s.cfg.Executor.(TxSubmitter); ok {
			return ts.SubmitTx(ctx, q, queued)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue task instances: %w", err)
	}
	if _, inTx := s.cfg.Executor.(TxSubmitter); len(queued) > 0 && !inTx {
		s.cfg.Executor.Submit(queued)
	}
	return nil
}

// pickQueueable returns the scheduled task instances that fit in the open
// slots, highest priority first.
func (s *Scheduler) pickQueueable(ctx context.Context, q store.Queries) ([]windsock.TaskInstanceKey, error) {
	usage, err := q.TaskInstanceSlotUsage(ctx)
	if err != nil {
		return nil, err
	}
	open := s.cfg.Parallelism - usage.Total
	if open <= 0 {
		return nil, nil
	}
	pools, err := q.PoolList(ctx)
	if err != nil {
		return nil, err
	}
	paused := s.pausedLookup(ctx, q)
	// Read only the highest-priority candidates, as Airflow's
	// max_tis_per_query does: as many as there are open slots, and when
	// pools, DAG limits or pauses hold some of those back, once more with
	// room for others. A pass costs what can run now, not what waits.
	limit := open
	for {
		sched, err := q.TaskInstanceList(ctx, &store.TaskInstanceListParams{
			States: []windsock.TaskInstanceState{windsock.TaskStateScheduled}, OrderBy: "-priority_weight", Limit: limit,
		})
		if err != nil || len(sched) == 0 {
			return nil, err
		}
		queue := s.queueable(ctx, q, sched, pools, usage, open, paused)
		if len(queue) >= open || len(sched) < limit || limit >= open+queueLookahead {
			return queue, nil
		}
		limit = open + queueLookahead
	}
}

// queueable decides which of the scheduled task instances sched (highest
// priority first) fit in the open slots.
func (s *Scheduler) queueable(ctx context.Context, q store.Queries, sched []*windsock.TaskInstance, pools []*windsock.Pool, usage *store.SlotUsage, open int, paused func(string) bool) []windsock.TaskInstanceKey {
	lim := decide.Limits{PoolOpen: map[string]int{}, PoolTotal: map[string]int{}, DagRunning: usage.DagTasks, ParallelismOpen: open}
	for _, p := range pools {
		total := p.Slots
		if total < 0 {
			total = 1 << 30 // -1: unlimited
		}
		lim.PoolTotal[p.Pool] = total
		lim.PoolOpen[p.Pool] = total - usage.PoolSlots[p.Pool]
	}
	cands := make([]decide.Candidate, 0, len(sched))
	for _, ti := range sched {
		if s.only != nil && !s.only[RunRef{ti.DagID, ti.RunID}] {
			continue
		}
		if s.only == nil && paused(ti.DagID) {
			continue
		}
		maxTasks := 16
		c := decide.Candidate{Key: ti.TaskInstanceKey, PriorityWeight: ti.PriorityWeight, PoolSlots: ti.PoolSlots, Pool: ti.Pool}
		if e, err := s.dags.get(ctx, ti.DagID); err == nil {
			maxTasks = e.dag.MaxActiveTasks
			if t := e.dag.Task(ti.TaskID); t != nil {
				c.MaxActiveTIsPerDag, c.MaxActiveTIsPerDagrun = decide.MaxActiveTIsPerDag(t), decide.MaxActiveTIsPerDagrun(t)
			}
		}
		c.MaxActiveTasks = maxTasks
		cands = append(cands, c)
	}
	if err := taskLimitUsage(ctx, q, cands, &lim); err != nil {
		s.cfg.Logger.Error("count the running instances of tasks with max_active_tis_per_dag(run); not queueing them this pass", "error", err)
		cands = slices.DeleteFunc(cands, func(c decide.Candidate) bool { return c.MaxActiveTIsPerDag > 0 || c.MaxActiveTIsPerDagrun > 0 })
	}
	queue, _ := decide.Queueable(cands, lim)
	return queue
}

// taskLimitUsage counts the queued and running instances of the tasks
// among cands that have max_active_tis_per_dag or _per_dagrun (a mapped
// task's instances most often), per task and per task and run, for
// decide.Queueable. Tasks without those limits cost nothing here.
func taskLimitUsage(ctx context.Context, q store.Queries, cands []decide.Candidate, lim *decide.Limits) error {
	seen := map[decide.TaskRef]bool{}
	for _, c := range cands {
		ref := decide.TaskRef{DagID: c.Key.DagID, TaskID: c.Key.TaskID}
		if (c.MaxActiveTIsPerDag == 0 && c.MaxActiveTIsPerDagrun == 0) || seen[ref] {
			continue
		}
		seen[ref] = true
		active, err := q.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: ref.DagID, TaskIDs: []string{ref.TaskID},
			States: []windsock.TaskInstanceState{windsock.TaskStateQueued, windsock.TaskStateRunning}})
		if err != nil {
			return err
		}
		if lim.TaskRunning == nil {
			lim.TaskRunning, lim.RunTaskRunning = map[decide.TaskRef]int{}, map[decide.RunTaskRef]int{}
		}
		for _, ti := range active {
			lim.TaskRunning[ref]++
			lim.RunTaskRunning[decide.RunTaskRef{DagID: ti.DagID, RunID: ti.RunID, TaskID: ti.TaskID}]++
		}
	}
	return nil
}

// queueLookahead is how many scheduled task instances beyond the open
// slots a queueing pass considers when some are held back.
const queueLookahead = 16
