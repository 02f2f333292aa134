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
	// tis holds the instances of unmapped tasks and the map index -1
	// instances of mapped tasks not expanded yet; mtis those of expanded
	// mapped tasks, by map index.
	tis  map[string]*windsock.TaskInstance
	mtis map[string][]*windsock.TaskInstance
	// states and mapped mirror tis and mtis for the DAG's current tasks,
	// kept up to date so that a pass costs what changed, not the size of
	// the run.
	states map[string]windsock.TaskInstanceState
	mapped map[string][]windsock.TaskInstanceState
	// slaRecorded are the tasks whose SLA miss this scheduler recorded.
	slaRecorded map[string]bool
}

func newRunState(run *windsock.DagRun, e *dagEntry, n int) *runState {
	return &runState{
		run: run, entry: e,
		tis: make(map[string]*windsock.TaskInstance, n), mtis: map[string][]*windsock.TaskInstance{},
		states: make(map[string]windsock.TaskInstanceState, n), mapped: map[string][]windsock.TaskInstanceState{},
	}
}

func (st *runState) set(ti *windsock.TaskInstance) {
	id := ti.TaskID
	if ti.MapIndex < 0 {
		st.tis[id] = ti
		if st.entry.graph.Has(id) {
			st.states[id] = ti.State
		}
		return
	}
	list := st.mtis[id]
	for len(list) <= ti.MapIndex {
		list = append(list, nil)
	}
	list[ti.MapIndex] = ti
	st.mtis[id] = list
	if !st.entry.graph.Mapped(id) {
		return // an instance of a task gone, or no longer mapped
	}
	// Expanded: the map index -1 instance is gone.
	delete(st.tis, id)
	delete(st.states, id)
	ms := st.mapped[id]
	for len(ms) < len(list) {
		ms = append(ms, windsock.TaskStateNone)
	}
	ms[ti.MapIndex] = ti.State
	st.mapped[id] = ms
}

// get returns the cached instance with key k's task and map index.
func (st *runState) get(taskID string, mapIndex int) *windsock.TaskInstance {
	if mapIndex < 0 {
		return st.tis[taskID]
	}
	if list := st.mtis[taskID]; mapIndex < len(list) {
		return list[mapIndex]
	}
	return nil
}

// taskDone reports whether every instance of a task (one, or each map
// index of an expanded mapped task) succeeded or was skipped.
func (st *runState) taskDone(taskID string) bool {
	done := func(ti *windsock.TaskInstance) bool {
		return ti != nil && (ti.State == windsock.TaskStateSuccess || ti.State == windsock.TaskStateSkipped)
	}
	if list := st.mtis[taskID]; len(list) > 0 {
		for _, ti := range list {
			if !done(ti) {
				return false
			}
		}
		return true
	}
	return done(st.tis[taskID])
}

// all calls fn for every cached instance.
func (st *runState) all(fn func(*windsock.TaskInstance)) {
	for _, ti := range st.tis {
		fn(ti)
	}
	for _, list := range st.mtis {
		for _, ti := range list {
			if ti != nil {
				fn(ti)
			}
		}
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
	st := newRunState(run, e, len(tis))
	for _, ti := range tis {
		st.set(ti)
	}
	if err := s.verifyIntegrity(ctx, st, now); err != nil {
		return nil, err
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
	rs := decide.RunState{States: st.states, Mapped: st.mapped, Due: map[string]bool{}}
	due := func(ti *windsock.TaskInstance) {
		if (ti.State == windsock.TaskStateUpForRetry || ti.State == windsock.TaskStateUpForReschedule) && (ti.NextRetryAt == nil || !ti.NextRetryAt.After(now)) {
			if ti.MapIndex < 0 {
				rs.Due[ti.TaskID] = true
				return
			}
			if rs.DueMapped == nil {
				rs.DueMapped = map[decide.Ref]bool{}
			}
			rs.DueMapped[decide.Ref{TaskID: ti.TaskID, MapIndex: ti.MapIndex}] = true
		}
	}
	if full {
		st.all(due)
	} else {
		// Retries that came due since are found by the periodic pass, which
		// reloads their runs; here only the tries just finished matter.
		for _, ti := range finished {
			due(ti)
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

// applyDecision writes a decision for a cached run and returns the tasks
// to evaluate next: empty tasks it marked successful and mapped tasks it
// expanded.
func (s *Scheduler) applyDecision(ctx context.Context, ref RunRef, st *runState, dec decide.Decision, now time.Time) ([]string, error) {
	run, e := st.run, st.entry
	if len(dec.SetState) == 0 && len(dec.Schedule) == 0 && len(dec.SetStateMapped) == 0 &&
		len(dec.ScheduleMapped) == 0 && len(dec.Expand) == 0 && !dec.RunFinished {
		return nil, nil
	}
	var done []string
	var expanded []*expansion
	stale := false
	err := s.cfg.Store.InTx(ctx, func(q store.Queries) error {
		stale = false
		done, expanded = done[:0], expanded[:0]
		settle := func(cur *windsock.TaskInstance, state windsock.TaskInstanceState) error {
			ti := *cur
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
			return nil
		}
		for id, state := range dec.SetState {
			if err := settle(st.tis[id], state); err != nil {
				return err
			}
		}
		for r, state := range dec.SetStateMapped {
			if ti := st.get(r.TaskID, r.MapIndex); ti != nil {
				if err := settle(ti, state); err != nil {
					return err
				}
			}
		}
		// Tasks to schedule go in bulk, grouped by the state they leave
		// (most often all none, at a run's start); empty tasks succeed
		// here instead, one by one.
		toSchedule := make([]*windsock.TaskInstance, 0, len(dec.Schedule)+len(dec.ScheduleMapped))
		for _, id := range dec.Schedule {
			toSchedule = append(toSchedule, st.tis[id])
		}
		for _, r := range dec.ScheduleMapped {
			if ti := st.get(r.TaskID, r.MapIndex); ti != nil {
				toSchedule = append(toSchedule, ti)
			}
		}
		byFrom := map[windsock.TaskInstanceState][]windsock.TaskInstanceKey{}
		var fromOrder []windsock.TaskInstanceState
		for _, cur := range toSchedule {
			ti := *cur
			from := ti.State
			if !skipsExecutor(e.dag.Task(ti.TaskID)) {
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
			done = append(done, ti.TaskID)
		}
		for _, from := range fromOrder {
			keys := byFrom[from]
			moved, err := q.TaskInstanceSchedule(ctx, keys, from)
			if err != nil {
				return err
			}
			stale = stale || len(moved) != len(keys)
			for _, k := range moved {
				ti := *st.get(k.TaskID, k.MapIndex)
				if from != windsock.TaskStateUpForReschedule {
					ti.TryNumber++
				}
				ti.State, ti.NextRetryAt = windsock.TaskStateScheduled, nil
				st.set(&ti)
			}
		}
		seen := map[string]bool{}
		for _, id := range dec.Expand {
			// A mapped task group expands as one: its other tasks take the
			// same map indexes now, so that each index of them can follow
			// its own upstream index.
			for _, id := range s.expandTogether(st, id) {
				if seen[id] {
					continue
				}
				seen[id] = true
				x, err := s.expand(ctx, q, st, id, now)
				if err != nil {
					return err
				}
				stale = stale || x == nil
				if x != nil {
					expanded = append(expanded, x)
				}
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
	// Expansions change the cache only once committed: a transaction run
	// again must find the instances it replaces.
	for _, x := range expanded {
		for _, ti := range x.tis {
			st.set(ti)
		}
		done = append(done, x.taskID)
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
func (s *Scheduler) verifyIntegrity(ctx context.Context, st *runState, now time.Time) error {
	e, run := st.entry, st.run
	var added []*windsock.TaskInstance
	for _, t := range e.dag.Tasks {
		switch {
		case st.tis[t.TaskID] == nil && len(st.mtis[t.TaskID]) == 0:
			added = append(added, newTaskInstances(e.dag, e.graph, t, run.RunID, now)...)
		case st.tis[t.TaskID] == nil && !t.Mapped():
			// Mapped when the run began, no longer: its instances are
			// removed (below) and it runs once, unmapped.
			added = append(added, NewTaskInstance(e.dag, e.graph, t, run.RunID, now))
		}
	}
	if len(added) > 0 {
		if err := s.cfg.Store.TaskInstanceInsert(ctx, added); err != nil {
			return fmt.Errorf("add task instances of new tasks: %w", err)
		}
		for _, ti := range added {
			st.set(ti)
		}
	}
	var fix []*windsock.TaskInstance
	// An instance belongs when its task is in the DAG and, past map index
	// -1, still mapped.
	belongs := func(ti *windsock.TaskInstance) bool {
		return e.graph.Has(ti.TaskID) && (ti.MapIndex < 0 || e.graph.Mapped(ti.TaskID))
	}
	st.all(func(ti *windsock.TaskInstance) {
		in := belongs(ti)
		if in && ti.State == windsock.TaskStateRemoved || !in && ti.State != windsock.TaskStateRemoved && !ti.State.Finished() {
			fix = append(fix, ti)
		}
	})
	for _, ti := range fix {
		from := ti.State
		// A task back in the DAG runs again, as Airflow's verify_integrity
		// restores it; one gone from it is removed.
		ti.State = windsock.TaskStateNone
		if !belongs(ti) {
			ti.State = windsock.TaskStateRemoved
		}
		if _, err := s.cfg.Store.TaskInstanceUpdate(ctx, ti, from); err != nil {
			return err
		}
		st.set(ti)
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
	s.cfg.Metrics.DagRunFinished(run)
	if s.ended != nil {
		s.ended[RunRef{run.DagID, run.RunID}] = true
	}
	if s.cfg.OnRunFinished != nil {
		// Off the loop: a slow listener must not hold up scheduling. The
		// listener gets its own copy, as the loop goes on using run.
		ended, listen := *run, s.cfg.OnRunFinished
		s.hooks.do(RunRef{run.DagID, run.RunID}, func() { listen(&ended) })
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
		if listen := s.cfg.OnRunEndedElsewhere; listen != nil {
			s.hooks.do(ref, func() { listen(run) })
		}
	}
	return nil
}
