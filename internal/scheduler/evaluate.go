package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

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
	full := false // whether the run was (re)read and must be evaluated whole
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
		full = true
	} else {
		for _, ti := range finished {
			st.set(ti)
			changed = append(changed, ti.TaskID)
		}
	}
	run, e := st.run, st.entry
	if e.dag.DagrunTimeout > 0 && run.StartDate != nil && now.Sub(*run.StartDate) > e.dag.DagrunTimeout.Std() {
		s.forget(ref)
		s.mu.Lock()
		s.startRuns = true
		s.mu.Unlock()
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
	for {
		done, err := s.applyDecision(ctx, ref, st, dec, now)
		if err != nil || len(done) == 0 {
			return err
		}
		// Empty tasks succeeded without running: what follows them is due
		// at once.
		dec = e.graph.EvaluateChanged(rs, done)
	}
}

// skipsExecutor reports whether a task is an EmptyOperator the scheduler
// marks successful itself, as Airflow does for EmptyOperator tasks without
// on_execute_callback, on_success_callback or outlets: nothing would run.
func skipsExecutor(t *windsock.Task) bool {
	if t == nil || t.Operator != "empty" {
		return false
	}
	for _, k := range []string{"on_execute_callback", "on_success_callback", "outlets"} {
		if v, ok := t.Args[k]; ok && v != nil {
			return false
		}
	}
	return true
}

// applyDecision writes a decision for a cached run and returns the empty
// tasks it marked successful (whose downstream tasks are to be evaluated
// next).
func (s *Scheduler) applyDecision(ctx context.Context, ref RunRef, st *runState, dec decide.Decision, now time.Time) ([]string, error) {
	run, e := st.run, st.entry
	if len(dec.SetState) == 0 && len(dec.Schedule) == 0 && !dec.RunFinished {
		return nil, nil
	}
	var done []string
	stale := false
	err := s.cfg.Store.InTx(ctx, func(q store.Queries) error {
		stale = false
		done = done[:0]
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
		// Tasks to schedule go in bulk, grouped by the state they leave
		// (most often all none, at a run's start); empty tasks succeed
		// here instead, one by one.
		byFrom := map[windsock.TaskInstanceState][]windsock.TaskInstanceKey{}
		var fromOrder []windsock.TaskInstanceState
		for _, id := range dec.Schedule {
			ti := *st.tis[id]
			from := ti.State
			if !skipsExecutor(e.dag.Task(id)) {
				if _, seen := byFrom[from]; !seen {
					fromOrder = append(fromOrder, from)
				}
				byFrom[from] = append(byFrom[from], ti.TaskInstanceKey)
				continue
			}
			if from != windsock.TaskStateUpForReschedule {
				ti.TryNumber++
			}
			zero := 0.0
			ti.State, ti.StartDate, ti.EndDate, ti.Duration = windsock.TaskStateSuccess, &now, &now, &zero
			ti.Hostname, ti.NextRetryAt = "", nil
			ok, err := q.TaskInstanceUpdate(ctx, &ti, from)
			if err != nil {
				return err
			}
			stale = stale || !ok
			st.set(&ti)
			done = append(done, id)
		}
		for _, from := range fromOrder {
			keys := byFrom[from]
			moved, err := q.TaskInstanceSchedule(ctx, keys, from)
			if err != nil {
				return err
			}
			stale = stale || len(moved) != len(keys)
			for _, k := range moved {
				ti := *st.tis[k.TaskID]
				if from != windsock.TaskStateUpForReschedule {
					ti.TryNumber++
				}
				ti.State, ti.NextRetryAt = windsock.TaskStateScheduled, nil
				st.set(&ti)
			}
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
		return nil, err
	}
	if dec.RunFinished {
		s.forget(ref)
		s.mu.Lock()
		s.startRuns = true // its max_active_runs slot is free
		s.mu.Unlock()
		s.poke()
		s.runFinished(run)
		return nil, nil
	}
	return done, nil
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
	if err == nil {
		s.runFinished(run) // after the commit: listeners read the store
	}
	return err
}

// runFinished reports a run this scheduler ended.
func (s *Scheduler) runFinished(run *windsock.DagRun) {
	if s.ended != nil {
		s.ended[RunRef{run.DagID, run.RunID}] = true
	}
	if s.cfg.OnRunFinished != nil {
		s.cfg.OnRunFinished(run)
	}
}

// findRunsEndedElsewhere reports the runs of a one-shot scheduler that
// another process ended: a scheduler daemon sharing the store may take a
// retry of one of them and finish the run, and this scheduler, which only
// reports the runs it ends itself, would otherwise wait for them forever.
// A point read per run still going, each periodic pass.
func (s *Scheduler) findRunsEndedElsewhere(ctx context.Context) error {
	for ref := range s.only {
		if s.ended[ref] {
			continue
		}
		run, err := s.cfg.Store.DagRunGet(ctx, ref.DagID, ref.RunID)
		switch {
		case windsock.ErrorCode(err) == windsock.ENOTFOUND:
			run = &windsock.DagRun{DagID: ref.DagID, RunID: ref.RunID}
		case err != nil:
			return fmt.Errorf("read run %s/%s: %w", ref.DagID, ref.RunID, err)
		case run.State != windsock.DagRunSuccess && run.State != windsock.DagRunFailed:
			continue
		}
		s.forget(ref)
		s.ended[ref] = true
		s.cfg.Logger.Info("run ended by another process", "dag_id", ref.DagID, "run_id", ref.RunID, "state", run.State)
		if s.cfg.OnRunEndedElsewhere != nil {
			s.cfg.OnRunEndedElsewhere(run)
		}
	}
	return nil
}
