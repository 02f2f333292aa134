package scheduler

import (
	"context"
	"fmt"
	"sort"
	"syscall"
	"time"

	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// updateNextDagrun computes when the scheduler next creates a run of a DAG,
// from its last scheduled run, and stores it in the dag row.
func (s *Scheduler) updateNextDagrun(ctx context.Context, dagID string, now time.Time) error {
	e, err := s.dags.get(ctx, dagID)
	if err != nil {
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return nil
		}
		return err
	}
	last, err := s.cfg.Store.DagRunList(ctx, &store.DagRunListParams{
		DagID: dagID, RunTypes: []windsock.RunType{windsock.RunTypeScheduled}, OrderBy: "-execution_date", Limit: 1,
	})
	if err != nil {
		return fmt.Errorf("last scheduled run of %s: %w", dagID, err)
	}
	var lastIv *schedule.DataInterval
	if len(last) > 0 && last[0].DataIntervalStart != nil && last[0].DataIntervalEnd != nil {
		lastIv = &schedule.DataInterval{Start: *last[0].DataIntervalStart, End: *last[0].DataIntervalEnd}
	}
	return s.setNext(ctx, s.cfg.Store, e, lastIv, now)
}

func restriction(d *windsock.DAG) schedule.Restriction {
	return schedule.Restriction{Earliest: d.StartDate, Latest: d.EndDate, Catchup: d.Catchup}
}

// setNext stores the run that follows lastIv (none when the timetable has
// no more).
func (s *Scheduler) setNext(ctx context.Context, q store.Queries, e *dagEntry, lastIv *schedule.DataInterval, now time.Time) error {
	p := &store.DAGSetNextDagrunParams{DagID: e.dag.DagID}
	if info, ok := e.tt.NextRun(lastIv, restriction(e.dag), now); ok {
		start, end, after := info.DataInterval.Start, info.DataInterval.End, info.RunAfter
		p.NextDagrun, p.NextDagrunDataIntervalStart, p.NextDagrunDataIntervalEnd, p.NextDagrunCreateAfter = &start, &start, &end, &after
	}
	if err := q.DAGSetNextDagrun(ctx, p); err != nil && windsock.ErrorCode(err) != windsock.ENOTFOUND {
		return fmt.Errorf("set next run of %s: %w", e.dag.DagID, err)
	}
	return nil
}

// createDueRuns creates the scheduled runs whose time has come, as many per
// DAG as max_active_runs leaves room for (catchup fills the gap run by run).
func (s *Scheduler) createDueRuns(ctx context.Context, now time.Time) error {
	due, err := s.cfg.Store.DAGListDue(ctx, now, 0)
	if err != nil {
		return fmt.Errorf("list due dags: %w", err)
	}
	if len(due) == 0 {
		return nil
	}
	active, err := s.cfg.Store.DagRunCounts(ctx, []windsock.DagRunState{windsock.DagRunQueued, windsock.DagRunRunning})
	if err != nil {
		return err
	}
	for _, m := range due {
		e, err := s.dags.get(ctx, m.DagID)
		if err != nil {
			s.cfg.Logger.Warn("cannot load due dag", "dag_id", m.DagID, "error", err)
			continue
		}
		for m.NextDagrunCreateAfter != nil && !m.NextDagrunCreateAfter.After(now) && active[m.DagID] < e.dag.MaxActiveRuns {
			iv := schedule.DataInterval{Start: *m.NextDagrunDataIntervalStart, End: *m.NextDagrunDataIntervalEnd}
			err := s.cfg.Store.InTx(ctx, func(q store.Queries) error {
				_, err := CreateRun(ctx, q, e.dag, e.graph, NewRun{
					RunType: windsock.RunTypeScheduled, LogicalDate: *m.NextDagrun, Interval: &iv, DagHash: e.hash, Now: now,
				})
				if windsock.ErrorCode(err) == windsock.ECONFLICT {
					err = nil // a run for that date exists (triggered, backfilled, or another scheduler)
				}
				if err != nil {
					return err
				}
				return s.setNext(ctx, q, e, &iv, now)
			})
			if err != nil {
				return fmt.Errorf("create scheduled run of %s: %w", m.DagID, err)
			}
			active[m.DagID]++
			fresh, err := s.cfg.Store.DAGGet(ctx, m.DagID)
			if err != nil {
				return err
			}
			m = fresh
		}
	}
	return nil
}

// startQueuedRuns moves queued runs to running within max_active_runs and
// marks them for evaluation.
func (s *Scheduler) startQueuedRuns(ctx context.Context, now time.Time, dirty map[RunRef]bool) error {
	queued, err := s.cfg.Store.DagRunList(ctx, &store.DagRunListParams{States: []windsock.DagRunState{windsock.DagRunQueued}, OrderBy: "execution_date"})
	if err != nil || len(queued) == 0 {
		return err
	}
	running, err := s.cfg.Store.DagRunCounts(ctx, []windsock.DagRunState{windsock.DagRunRunning})
	if err != nil {
		return err
	}
	limits := map[string]int{}
	paused := s.pausedLookup(ctx)
	var candidates []*windsock.DagRun
	for _, r := range queued {
		if s.only != nil && !s.only[RunRef{r.DagID, r.RunID}] {
			continue
		}
		if s.only == nil && paused(r.DagID) {
			continue // runs of paused DAGs wait, as in Airflow
		}
		e, err := s.dags.get(ctx, r.DagID)
		if err != nil {
			s.cfg.Logger.Warn("queued run of a dag that cannot be loaded", "dag_id", r.DagID, "run_id", r.RunID, "error", err)
			continue
		}
		limits[r.DagID] = e.dag.MaxActiveRuns
		candidates = append(candidates, r)
	}
	for _, r := range decide.RunsToStart(candidates, running, limits) {
		r.State = windsock.DagRunRunning
		r.StartDate = &now
		if err := s.cfg.Store.DagRunUpdate(ctx, r); err != nil {
			return fmt.Errorf("start run %s/%s: %w", r.DagID, r.RunID, err)
		}
		dirty[RunRef{r.DagID, r.RunID}] = true
	}
	return nil
}

// runState is the cached state of one running run.
type runState struct {
	run   *windsock.DagRun
	entry *dagEntry
	tis   map[string]*windsock.TaskInstance
	// states mirrors tis for the DAG's current tasks, kept up to date so
	// that a pass costs what changed, not the size of the run.
	states map[string]windsock.TaskInstanceState
}

func (st *runState) set(ti *windsock.TaskInstance) {
	st.tis[ti.TaskID] = ti
	if st.entry.graph.Has(ti.TaskID) {
		st.states[ti.TaskID] = ti.State
	}
}

// loadRun reads a run and its task instances; nil when the run is not
// running.
func (s *Scheduler) loadRun(ctx context.Context, ref RunRef, now time.Time) (*runState, error) {
	run, err := s.cfg.Store.DagRunGet(ctx, ref.DagID, ref.RunID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, nil
	}
	if err != nil || run.State != windsock.DagRunRunning {
		return nil, err
	}
	e, err := s.dags.get(ctx, run.DagID)
	if err != nil {
		return nil, err
	}
	tis, err := s.cfg.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: run.DagID, RunID: run.RunID})
	if err != nil {
		return nil, err
	}
	st := &runState{run: run, entry: e, tis: make(map[string]*windsock.TaskInstance, len(tis)), states: make(map[string]windsock.TaskInstanceState, len(tis))}
	for _, ti := range tis {
		st.tis[ti.TaskID] = ti
	}
	if err := s.verifyIntegrity(ctx, e, run, st.tis, st.states, now); err != nil {
		return nil, err
	}
	for id, ti := range st.tis {
		if e.graph.Has(id) {
			st.states[id] = ti.State
		}
	}
	return st, nil
}

// evaluateRun applies the dependency decisions for one running run. With
// its state cached and only tries finished since, it looks at what those
// tries affect; otherwise it re-reads the run and evaluates all of it.
func (s *Scheduler) evaluateRun(ctx context.Context, ref RunRef, finished []*windsock.TaskInstance, reload bool, now time.Time) error {
	st := s.runs[ref]
	var changed []string
	if st != nil && !reload {
		if e, err := s.dags.get(ctx, ref.DagID); err != nil || e != st.entry {
			st = nil // the definition changed: start over
		}
	}
	if st == nil || reload {
		var err error
		if st, err = s.loadRun(ctx, ref, now); err != nil || st == nil {
			s.forget(ref)
			return err
		}
		s.runs[ref] = st
		snapshot := *st.run
		s.running.Store(ref, &snapshot)
		changed = nil // evaluate everything
	} else {
		for _, ti := range finished {
			st.set(ti)
			changed = append(changed, ti.TaskID)
		}
	}
	full := changed == nil
	run, e := st.run, st.entry
	if e.dag.DagrunTimeout > 0 && run.StartDate != nil && now.Sub(*run.StartDate) > e.dag.DagrunTimeout.Std() {
		s.forget(ref)
		return s.timeoutRun(ctx, run, now)
	}
	rs := decide.RunState{States: st.states, Due: map[string]bool{}}
	due := func(ti *windsock.TaskInstance) {
		if (ti.State == windsock.TaskStateUpForRetry || ti.State == windsock.TaskStateUpForReschedule) && (ti.NextRetryAt == nil || !ti.NextRetryAt.After(now)) {
			rs.Due[ti.TaskID] = true
		}
	}
	if full {
		for _, ti := range st.tis {
			due(ti)
		}
	} else {
		// Retries that came due since are found by the periodic pass, which
		// reloads their runs; here only the tries just finished matter.
		for _, id := range changed {
			due(st.tis[id])
		}
	}
	var err error
	if rs.PastOK, err = s.pastOK(ctx, e, run); err != nil {
		return err
	}
	var dec decide.Decision
	if full {
		dec = e.graph.Evaluate(rs)
	} else {
		dec = e.graph.EvaluateChanged(rs, changed)
	}
	if len(dec.SetState) == 0 && len(dec.Schedule) == 0 && !dec.RunFinished {
		return nil
	}
	stale := false
	err = s.cfg.Store.InTx(ctx, func(q store.Queries) error {
		stale = false
		for id, state := range dec.SetState {
			ti := *st.tis[id]
			from := ti.State
			ti.State = state
			ti.StartDate, ti.EndDate = &now, &now
			zero := 0.0
			ti.Duration = &zero
			ok, err := q.TaskInstanceUpdate(ctx, &ti, from)
			if err != nil {
				return err
			}
			stale = stale || !ok
			st.set(&ti)
		}
		for _, id := range dec.Schedule {
			ti := *st.tis[id]
			from := ti.State
			if from != windsock.TaskStateUpForReschedule {
				ti.TryNumber++
			}
			ti.State = windsock.TaskStateScheduled
			ti.NextRetryAt = nil
			ok, err := q.TaskInstanceUpdate(ctx, &ti, from)
			if err != nil {
				return err
			}
			stale = stale || !ok
			st.set(&ti)
		}
		if !dec.RunFinished || stale {
			return nil
		}
		run.State = dec.RunState
		run.EndDate = &now
		return q.DagRunUpdate(ctx, run)
	})
	if err != nil || stale {
		// Someone else changed the run meanwhile: read it again next pass.
		s.forget(ref)
		if stale {
			s.RunChanged(ref.DagID, ref.RunID)
		}
		return err
	}
	if dec.RunFinished {
		s.forget(ref)
		if s.cfg.OnRunFinished != nil {
			s.cfg.OnRunFinished(run)
		}
	}
	return nil
}

// forget drops a run's cached state.
func (s *Scheduler) forget(ref RunRef) {
	delete(s.runs, ref)
	s.running.Delete(ref)
}

// verifyIntegrity adds task instances for tasks added to the DAG since the
// run was created and marks those of removed tasks removed, as Airflow's
// DagRun.verify_integrity does.
func (s *Scheduler) verifyIntegrity(ctx context.Context, e *dagEntry, run *windsock.DagRun, byTask map[string]*windsock.TaskInstance, states map[string]windsock.TaskInstanceState, now time.Time) error {
	var added []*windsock.TaskInstance
	for _, t := range e.dag.Tasks {
		if _, ok := byTask[t.TaskID]; !ok {
			ti := NewTaskInstance(e.dag, e.graph, t, run.RunID, now)
			added = append(added, ti)
			byTask[t.TaskID] = ti
			states[t.TaskID] = windsock.TaskStateNone
		}
	}
	if len(added) > 0 {
		if err := s.cfg.Store.TaskInstanceInsert(ctx, added); err != nil {
			return fmt.Errorf("add task instances of new tasks: %w", err)
		}
	}
	for id, ti := range byTask {
		if e.graph.Has(id) && ti.State == windsock.TaskStateRemoved {
			// The task is back in the DAG: it runs again, as Airflow's
			// verify_integrity restores it.
			ti.State = windsock.TaskStateNone
			if _, err := s.cfg.Store.TaskInstanceUpdate(ctx, ti, windsock.TaskStateRemoved); err != nil {
				return err
			}
			states[id] = windsock.TaskStateNone
			continue
		}
		if !e.graph.Has(id) && ti.State != windsock.TaskStateRemoved && !ti.State.Finished() {
			from := ti.State
			ti.State = windsock.TaskStateRemoved
			if _, err := s.cfg.Store.TaskInstanceUpdate(ctx, ti, from); err != nil {
				return err
			}
			delete(states, id)
		} else if !e.graph.Has(id) {
			delete(states, id)
		}
	}
	return nil
}

// pastOK answers depends_on_past for the run's tasks that use it.
func (s *Scheduler) pastOK(ctx context.Context, e *dagEntry, run *windsock.DagRun) (map[string]bool, error) {
	var tasks []*windsock.Task
	for _, t := range e.dag.Tasks {
		if t.DependsOnPast || t.WaitForDownstream {
			tasks = append(tasks, t)
		}
	}
	if len(tasks) == 0 {
		return nil, nil
	}
	before := run.LogicalDate.Add(-time.Microsecond)
	prev, err := s.cfg.Store.DagRunList(ctx, &store.DagRunListParams{DagID: run.DagID, LogicalDateLTE: &before, OrderBy: "-execution_date", Limit: 1})
	if err != nil || len(prev) == 0 {
		return nil, err // the first run does not depend on the past
	}
	tis, err := s.cfg.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: run.DagID, RunID: prev[0].RunID})
	if err != nil {
		return nil, err
	}
	prevState := map[string]windsock.TaskInstanceState{}
	for _, ti := range tis {
		prevState[ti.TaskID] = ti.State
	}
	done := func(id string) bool {
		st, ok := prevState[id]
		return !ok || st == windsock.TaskStateSuccess || st == windsock.TaskStateSkipped
	}
	ok := map[string]bool{}
	for _, t := range tasks {
		good := done(t.TaskID)
		if good && t.WaitForDownstream {
			for _, down := range e.graph.Downstream(t.TaskID) {
				if !done(down) {
					good = false
					break
				}
			}
		}
		ok[t.TaskID] = good
	}
	return ok, nil
}

// timeoutRun fails a run that exceeded dagrun_timeout; its unfinished task
// instances are skipped, as Airflow does (running tries see the change at
// their next heartbeat and are killed).
func (s *Scheduler) timeoutRun(ctx context.Context, run *windsock.DagRun, now time.Time) error {
	s.cfg.Logger.Info("run exceeded dagrun_timeout; marking it failed", "dag_id", run.DagID, "run_id", run.RunID)
	err := s.cfg.Store.InTx(ctx, func(q store.Queries) error {
		// Read the task instances inside the transaction: the cache may be
		// behind the executors.
		tis, err := q.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: run.DagID, RunID: run.RunID})
		if err != nil {
			return err
		}
		for _, ti := range tis {
			if ti.State.Finished() {
				continue
			}
			from := ti.State
			ti.State = windsock.TaskStateSkipped
			if _, err := q.TaskInstanceUpdate(ctx, ti, from); err != nil {
				return err
			}
		}
		run.State = windsock.DagRunFailed
		run.EndDate = &now
		return q.DagRunUpdate(ctx, run)
	})
	if err == nil && s.cfg.OnRunFinished != nil {
		s.cfg.OnRunFinished(run) // after the commit: listeners read the store
	}
	return err
}

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

// periodicDuties are the safety net: due retries and reschedules, zombies,
// task instances stuck in queued, and a re-evaluation of running runs.
func (s *Scheduler) periodicDuties(ctx context.Context, now time.Time, dirty map[RunRef]bool) error {
	due, err := s.cfg.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{
		States: []windsock.TaskInstanceState{windsock.TaskStateUpForRetry, windsock.TaskStateUpForReschedule}, DueBefore: &now,
	})
	if err != nil {
		return err
	}
	for _, ti := range due {
		ref := RunRef{ti.DagID, ti.RunID}
		dirty[ref] = true
		s.mu.Lock()
		s.reload[ref] = true
		s.mu.Unlock()
	}
	stale := now.Add(-s.cfg.ZombieThreshold)
	zombies, err := s.cfg.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{States: []windsock.TaskInstanceState{windsock.TaskStateRunning}, HeartbeatBefore: &stale})
	if err != nil {
		return err
	}
	for _, ti := range zombies {
		if err := s.failTry(ctx, ti, fmt.Sprintf("no heartbeat from the process running this try for %s (scheduler_zombie_task_threshold): it is presumed dead", s.cfg.ZombieThreshold), now); err != nil {
			return err
		}
		s.RunChanged(ti.DagID, ti.RunID)
	}
	if err := s.failStuckQueued(ctx, now); err != nil {
		return err
	}
	running, err := s.cfg.Store.DagRunList(ctx, &store.DagRunListParams{States: []windsock.DagRunState{windsock.DagRunRunning}})
	if err != nil {
		return err
	}
	for _, r := range running {
		if err := s.checkSLAs(ctx, r, now); err != nil {
			return err
		}
		ref := RunRef{r.DagID, r.RunID}
		dirty[ref] = true
		if _, cached := s.runs[ref]; !cached {
			s.mu.Lock()
			s.reload[ref] = true
			s.mu.Unlock()
		}
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
	ti.PID = nil
	ti.State = windsock.TaskStateFailed
	task := e.dag.Task(ti.TaskID)
	if task != nil && task.Retries > 0 && ti.TryNumber <= ti.MaxTries {
		ti.State = windsock.TaskStateUpForRetry
		at := now.Add(decide.RetryDelay(task, ti.DagID, run.LogicalDate, ti.TryNumber))
		ti.NextRetryAt = &at
	}
	return s.cfg.Store.InTx(ctx, func(q store.Queries) error {
		ok, err := q.TaskInstanceUpdate(ctx, ti, from)
		if err != nil || !ok {
			return err
		}
		return q.TaskFailInsert(ctx, &windsock.TaskFail{DagID: ti.DagID, TaskID: ti.TaskID, RunID: ti.RunID, MapIndex: ti.MapIndex, StartDate: ti.StartDate, EndDate: &now})
	})
}

// adoptOrphans handles what a previous scheduler process on this host left
// behind: tries whose process is gone fail at once (instead of waiting for
// the zombie threshold), and queued task instances are handed to the
// executor again.
func (s *Scheduler) adoptOrphans(ctx context.Context) error {
	now := s.now()
	running, err := s.cfg.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{States: []windsock.TaskInstanceState{windsock.TaskStateRunning}})
	if err != nil {
		return err
	}
	for _, ti := range running {
		if ti.Hostname != s.cfg.Hostname || (ti.PID != nil && processAlive(*ti.PID)) {
			continue
		}
		if err := s.failTry(ctx, ti, "the process that ran this try is gone (its scheduler stopped)", now); err != nil {
			return err
		}
		s.RunChanged(ti.DagID, ti.RunID)
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

// processAlive reports whether a process with that pid exists.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// pausedLookup returns a function telling whether a DAG is paused, reading
// each DAG's row at most once per call site.
func (s *Scheduler) pausedLookup(ctx context.Context) func(dagID string) bool {
	seen := map[string]bool{}
	return func(dagID string) bool {
		if p, ok := seen[dagID]; ok {
			return p
		}
		m, err := s.cfg.Store.DAGGet(ctx, dagID)
		p := err == nil && m.IsPaused
		seen[dagID] = p
		return p
	}
}

// failStuckQueued ends tries that stayed queued longer than
// scheduler.task_queued_timeout (no executor took them): they fail, and
// retries apply, so a task with retries is queued again.
func (s *Scheduler) failStuckQueued(ctx context.Context, now time.Time) error {
	queued, err := s.cfg.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{States: []windsock.TaskInstanceState{windsock.TaskStateQueued}})
	if err != nil {
		return err
	}
	for _, ti := range queued {
		if ti.QueuedDttm == nil || now.Sub(*ti.QueuedDttm) <= s.cfg.QueuedTimeout {
			continue
		}
		if err := s.failTry(ctx, ti, fmt.Sprintf("queued for longer than %s (scheduler.task_queued_timeout) without an executor taking it", s.cfg.QueuedTimeout), now); err != nil {
			return err
		}
		s.RunChanged(ti.DagID, ti.RunID)
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
		if st != nil {
			if ti := st.tis[t.TaskID]; ti != nil && (ti.State == windsock.TaskStateSuccess || ti.State == windsock.TaskStateSkipped) {
				continue
			}
		}
		err := s.cfg.Store.SlaMissInsert(ctx, &windsock.SlaMiss{
			DagID: run.DagID, TaskID: t.TaskID, ExecutionDate: run.LogicalDate, Timestamp: now,
			Description: fmt.Sprintf("task %s of run %s had not succeeded %s after its data interval ended", t.TaskID, run.RunID, t.SLA.Std()),
		})
		if err != nil {
			return fmt.Errorf("record sla miss: %w", err)
		}
	}
	return nil
}
