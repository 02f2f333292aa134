package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// queueScheduled queues scheduled task instances within pools,
// max_active_tasks and parallelism, and hands them to the executor.
func (s *Scheduler) queueScheduled(ctx context.Context, now time.Time) error {
	usage, err := s.cfg.Store.TaskInstanceSlotUsage(ctx)
	if err != nil {
		return err
	}
	open := s.cfg.Parallelism - usage.Total
	if open <= 0 {
		return nil
	}
	// Read only the highest-priority candidates, as Airflow's
	// max_tis_per_query does, with room for some to be held back by
	// pools: a pass costs what can run now, not what waits.
	sched, err := s.cfg.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{
		States: []windsock.TaskInstanceState{windsock.TaskStateScheduled}, OrderBy: "-priority_weight", Limit: open + queueLookahead,
	})
	if err != nil || len(sched) == 0 {
		return err
	}
	pools, err := s.cfg.Store.PoolList(ctx)
	if err != nil {
		return err
	}
	lim := decide.Limits{PoolOpen: map[string]int{}, PoolTotal: map[string]int{}, DagRunning: usage.DagTasks, ParallelismOpen: s.cfg.Parallelism - usage.Total}
	for _, p := range pools {
		total := p.Slots
		if total < 0 {
			total = 1 << 30 // -1: unlimited
		}
		lim.PoolTotal[p.Pool] = total
		lim.PoolOpen[p.Pool] = total - usage.PoolSlots[p.Pool]
	}
	byKey := make(map[windsock.TaskInstanceKey]*windsock.TaskInstance, len(sched))
	cands := make([]decide.Candidate, 0, len(sched))
	paused := s.pausedLookup(ctx)
	for _, ti := range sched {
		if s.only != nil && !s.only[RunRef{ti.DagID, ti.RunID}] {
			continue
		}
		if s.only == nil && paused(ti.DagID) {
			continue
		}
		maxTasks := 16
		if e, err := s.dags.get(ctx, ti.DagID); err == nil {
			maxTasks = e.dag.MaxActiveTasks
		}
		byKey[ti.TaskInstanceKey] = ti
		cands = append(cands, decide.Candidate{Key: ti.TaskInstanceKey, PriorityWeight: ti.PriorityWeight, PoolSlots: ti.PoolSlots, Pool: ti.Pool, MaxActiveTasks: maxTasks})
	}
	queue, _ := decide.Queueable(cands, lim)
	if len(queue) == 0 {
		return nil
	}
	var queued []windsock.TaskInstanceKey
	err = s.cfg.Store.InTx(ctx, func(q store.Queries) error {
		queued = queued[:0]
		for _, key := range queue {
			ti := byKey[key]
			ti.State = windsock.TaskStateQueued
			ti.QueuedDttm = &now
			job := s.jobID
			ti.QueuedByJobID = &job
			ok, err := q.TaskInstanceUpdate(ctx, ti, windsock.TaskStateScheduled)
			if err != nil {
				return err
			}
			if ok {
				queued = append(queued, key)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue task instances: %w", err)
	}
	s.cfg.Executor.Submit(queued)
	return nil
}

// queueLookahead is how many scheduled task instances beyond the open
// slots a queueing pass considers, for those that pools hold back.
const queueLookahead = 16
