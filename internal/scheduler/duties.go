package scheduler

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/windsock/windsock/internal/osproc"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// periodicDuties are the safety net: due retries and reschedules, zombies,
// task instances stuck in queued, and a re-evaluation of running runs.
func (s *Scheduler) periodicDuties(ctx context.Context, now time.Time, dirty, reload map[RunRef]bool) error {
	due, err := s.cfg.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{
		States: []windsock.TaskInstanceState{windsock.TaskStateUpForRetry, windsock.TaskStateUpForReschedule}, DueBefore: &now,
	})
	if err != nil {
		return err
	}
	for _, ti := range due {
		ref := RunRef{ti.DagID, ti.RunID}
		if !s.ownsRun(ref) {
			continue
		}
		// This pass's maps: a due retry is started by the pass that finds
		// it, not by a later one (an event-driven pass in between would
		// take a flag set for "the next pass" without evaluating the run).
		dirty[ref], reload[ref] = true, true
	}
	if err := s.failDeadWorkers(ctx, now, dirty, reload, false); err != nil {
		return err
	}
	if err := s.failZombies(ctx, now, dirty, reload); err != nil {
		return err
	}
	if err := s.failStuckQueued(ctx, now, dirty, reload); err != nil {
		return err
	}
	running, err := s.cfg.Store.DagRunList(ctx, &store.DagRunListParams{States: []windsock.DagRunState{windsock.DagRunRunning}})
	if err != nil {
		return err
	}
	for _, r := range running {
		if !s.ownsRun(RunRef{r.DagID, r.RunID}) {
			continue
		}
		if err := s.checkSLAs(ctx, r, now); err != nil {
			return err
		}
		ref := RunRef{r.DagID, r.RunID}
		dirty[ref] = true
		if _, cached := s.runs[ref]; !cached {
			reload[ref] = true
		}
	}
	return s.notifySLAMisses(ctx)
}

// failZombies fails the running tries whose heartbeat is older than the
// zombie threshold, counted from when this scheduler last began to reach
// the database, and none while it cannot (decide.StaleBefore).
func (s *Scheduler) failZombies(ctx context.Context, now time.Time, dirty, reload map[RunRef]bool) error {
	stale, ok := decide.StaleBefore(now, s.contact, s.cfg.ZombieThreshold)
	if !ok {
		return nil
	}
	zombies, err := s.cfg.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{States: []windsock.TaskInstanceState{windsock.TaskStateRunning}, HeartbeatBefore: &stale})
	if err != nil {
		return err
	}
	for _, ti := range zombies {
		if !s.ownsRun(RunRef{ti.DagID, ti.RunID}) {
			continue
		}
		// A zombie of this host whose claiming process is dead (its pid
		// reused, say, so adoptOrphans took it for alive) may have left
		// processes behind, as an orphan does.
		if s.cfg.EndOrphan != nil && ti.Hostname == s.cfg.Hostname && ti.PID != nil && !processAlive(*ti.PID) {
			s.cfg.EndOrphan(ti)
		}
		if err := s.failTry(ctx, ti, fmt.Sprintf("no heartbeat from the process running this try for %s (scheduler_zombie_task_threshold): it is presumed dead", s.cfg.ZombieThreshold), now); err != nil {
			return err
		}
		s.cfg.Metrics.ZombiesKilled(1)
		// Evaluated again in this pass, from the store: a retry due at
		// once starts now.
		ref := RunRef{ti.DagID, ti.RunID}
		dirty[ref], reload[ref] = true, true
	}
	return nil
}

// failTry ends a try whose process is gone: up_for_retry when retries are
// left, failed otherwise, with a task_fail row, as Airflow handles zombies.
func (s *Scheduler) failTry(ctx context.Context, ti *windsock.TaskInstance, reason string, now time.Time) error {
	e, err := s.dags.get(ctx, ti.DagID)
	if err != nil {
		return err
	}
	run, err := s.cfg.Store.DagRunGet(ctx, ti.DagID, ti.RunID)
	if err != nil {
		return err
	}
	s.cfg.Logger.Warn("failing a task instance whose process is gone", "dag_id", ti.DagID, "task_id", ti.TaskID, "run_id", ti.RunID, "try_number", ti.TryNumber, "reason", reason)
	from := ti.State
	ti.EndDate = &now
	ti.State = windsock.TaskStateFailed
	task := e.dag.Task(ti.TaskID)
	if task != nil && task.Retries > 0 && ti.TryNumber <= ti.MaxTries {
		ti.State = windsock.TaskStateUpForRetry
		at := now.Add(decide.RetryDelay(task, ti.DagID, run.LogicalDate, ti.TryNumber))
		ti.NextRetryAt = &at
	}
	recorded := false
	err = s.cfg.Store.InTx(ctx, func(q store.Queries) error {
		ok, err := q.TaskInstanceUpdate(ctx, ti, from)
		if err != nil || !ok {
			return err
		}
		recorded = true
		return q.TaskFailInsert(ctx, &windsock.TaskFail{DagID: ti.DagID, TaskID: ti.TaskID, RunID: ti.RunID, MapIndex: ti.MapIndex, StartDate: ti.StartDate, EndDate: &now})
	})
	if err == nil && recorded && s.cfg.OnTryLost != nil {
		lost := *ti
		s.lost.Add(1)
		go func() {
			defer s.lost.Done()
			s.cfg.OnTryLost(&lost, reason)
		}()
	}
	return err
}

// adoptOrphans handles what a previous process on this host left behind:
// tries whose process is gone are handed back or failed at once (instead
// of waiting for a threshold), after the processes they left are ended
// (see failDeadWorkers), and queued task instances are handed to the
// executor again. A scheduler limited to some runs (dags test, backfill)
// leaves other processes' tries alone: the scheduler daemon that owns
// them does this.
func (s *Scheduler) adoptOrphans(ctx context.Context) error {
	now := s.now()
	if s.only == nil {
		dirty, reload := map[RunRef]bool{}, map[RunRef]bool{}
		if err := s.failDeadWorkers(ctx, now, dirty, reload, true); err != nil {
			return err
		}
		for ref := range dirty {
			s.RunChanged(ref.DagID, ref.RunID)
		}
	}
	queued, err := s.cfg.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{States: []windsock.TaskInstanceState{windsock.TaskStateQueued}})
	if err != nil {
		return err
	}
	keys := make([]windsock.TaskInstanceKey, 0, len(queued))
	for _, ti := range queued {
		if s.only == nil || s.only[RunRef{ti.DagID, ti.RunID}] {
			keys = append(keys, ti.TaskInstanceKey)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].TaskID < keys[j].TaskID })
	if len(keys) > 0 {
		s.cfg.Executor.Submit(keys)
	}
	return nil
}

// adoptQueued hands this scheduler's executor the task instances that
// schedulers now dead queued and nobody claimed. Claims are atomic, so one
// handed to two executors still runs once.
func (s *Scheduler) adoptQueued(ctx context.Context) error {
	queued, err := s.cfg.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{States: []windsock.TaskInstanceState{windsock.TaskStateQueued}})
	if err != nil {
		return err
	}
	live := map[int64]bool{}
	for _, id := range s.own.live() {
		live[id] = true
	}
	var keys []windsock.TaskInstanceKey
	for _, ti := range queued {
		if ti.QueuedByJobID == nil || !live[*ti.QueuedByJobID] {
			keys = append(keys, ti.TaskInstanceKey)
		}
	}
	if len(keys) > 0 {
		s.cfg.Logger.Info("adopting task instances queued by schedulers that are gone", "count", len(keys))
		s.cfg.Executor.Submit(keys)
	}
	return nil
}

// processAlive reports whether a process with that pid exists.
func processAlive(pid int) bool {
	return !osproc.Identity{PID: pid}.Gone()
}

// failStuckQueued ends tries that stayed queued longer than
// scheduler.task_queued_timeout (no executor took them): they fail, and
// retries apply, so a task with retries is queued again.
func (s *Scheduler) failStuckQueued(ctx context.Context, now time.Time, dirty, reload map[RunRef]bool) error {
	// After an outage the workers claim what waited meanwhile: it is not
	// stuck (decide.StaleBefore).
	stale, ok := decide.StaleBefore(now, s.contact, s.cfg.QueuedTimeout)
	if !ok {
		return nil
	}
	queued, err := s.cfg.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{States: []windsock.TaskInstanceState{windsock.TaskStateQueued}})
	if err != nil {
		return err
	}
	for _, ti := range queued {
		if ti.QueuedDttm == nil || !ti.QueuedDttm.Before(stale) || !s.ownsRun(RunRef{ti.DagID, ti.RunID}) {
			continue
		}
		if err := s.failTry(ctx, ti, fmt.Sprintf("queued for longer than %s (scheduler.task_queued_timeout) without an executor taking it", s.cfg.QueuedTimeout), now); err != nil {
			return err
		}
		ref := RunRef{ti.DagID, ti.RunID}
		dirty[ref], reload[ref] = true, true
	}
	return nil
}

// checkSLAs records an sla_miss for each task of a scheduled run that has
// not succeeded by the end of the run's data interval plus the task's sla,
// as Airflow does for scheduled runs.
func (s *Scheduler) checkSLAs(ctx context.Context, run *windsock.DagRun, now time.Time) error {
	if run.RunType != windsock.RunTypeScheduled || run.DataIntervalEnd == nil {
		return nil
	}
	e, err := s.dags.get(ctx, run.DagID)
	if err != nil {
		return nil // a DAG that cannot be loaded is reported elsewhere
	}
	var late []*windsock.Task
	for _, t := range e.dag.Tasks {
		if t.SLA > 0 && now.After(run.DataIntervalEnd.Add(t.SLA.Std())) {
			late = append(late, t)
		}
	}
	if len(late) == 0 {
		return nil
	}
	st := s.runs[RunRef{run.DagID, run.RunID}]
	for _, t := range late {
		if st != nil && (st.taskDone(t.TaskID) || st.slaRecorded[t.TaskID]) {
			continue
		}
		s.slaMissesPending = true
		err := s.cfg.Store.SlaMissInsert(ctx, &windsock.SlaMiss{
			DagID: run.DagID, TaskID: t.TaskID, ExecutionDate: run.LogicalDate, Timestamp: now,
			Description: fmt.Sprintf("task %s of run %s had not succeeded %s after its data interval ended", t.TaskID, run.RunID, t.SLA.Std()),
		})
		if err != nil {
			return fmt.Errorf("record sla miss: %w", err)
		}
		if st != nil {
			// Recorded once per run and task: later passes neither write
			// the row again nor ask for notifications.
			if st.slaRecorded == nil {
				st.slaRecorded = map[string]bool{}
			}
			st.slaRecorded[t.TaskID] = true
		}
	}
	return nil
}
