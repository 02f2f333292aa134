package decide

import "github.com/windsock/windsock/internal/windsock"

// RunState is the snapshot of one DAG run that Evaluate decides on.
type RunState struct {
	// States maps task id to the state of its task instance; a task
	// missing from the map is in state none. Entries for tasks the DAG no
	// longer has are ignored.
	States map[string]windsock.TaskInstanceState
	// PastOK says, for depends_on_past and wait_for_downstream tasks,
	// whether the previous run (by logical date) allows this one: its
	// instance of the task ended success or skipped and, for
	// wait_for_downstream, so did that instance's direct downstream ones.
	// The caller computes it (true for the first run, or with
	// ignore_first_depends_on_past). A missing entry means true.
	PastOK map[string]bool
	// Due marks the up_for_retry and up_for_reschedule instances whose
	// retry delay or reschedule date has passed; only those may be
	// scheduled again. The caller compares NextRetryAt with its clock.
	Due map[string]bool
	// Mapped holds, for each mapped task already expanded into instances
	// with map indexes 0..n-1, their states by map index; such a task has
	// no entry in States. A mapped task not yet expanded is in States,
	// as its one instance with map index -1. Evaluate never modifies the
	// slices.
	Mapped map[string][]windsock.TaskInstanceState
	// DueMapped is Due for the instances of expanded mapped tasks.
	DueMapped map[Ref]bool
}

// Ref names one task instance of a run: a task and its map index (-1 for
// an unmapped task, or a mapped one not yet expanded).
type Ref struct {
	TaskID   string
	MapIndex int
}

// Decision is what Evaluate wants done to one run. The caller applies
// SetState and Schedule (in one transaction) and, when RunFinished, sets
// the run's state.
type Decision struct {
	// Schedule lists, in topological order, the instances whose
	// dependencies are met and that become scheduled.
	Schedule []string
	// SetState maps task ids to the upstream_failed or skipped state their
	// trigger rule settles them in; nil when there are none.
	SetState map[string]windsock.TaskInstanceState
	// ScheduleMapped and SetStateMapped are Schedule and SetState for the
	// instances of expanded mapped tasks.
	ScheduleMapped []Ref
	SetStateMapped map[Ref]windsock.TaskInstanceState
	// Expand lists the mapped tasks not yet expanded whose trigger rule
	// lets them run. The caller resolves what they are mapped over,
	// replaces their map index -1 instance by instances 0..n-1 (or marks
	// it skipped when n is 0, as Airflow does) and evaluates them again.
	Expand []string
	// RunFinished says the run is over, with RunState success or failed.
	RunFinished bool
	RunState    windsock.DagRunState
	// Reason is Airflow's word for why the run finished, passed to the
	// DAG's callbacks: ReasonSuccess, ReasonTaskFailure or ReasonDeadlock.
	Reason string
}

// Reasons a run finishes, as Airflow's DAG callbacks receive them.
const (
	ReasonSuccess     = "success"
	ReasonTaskFailure = "task_failure"
	ReasonDeadlock    = "all_tasks_deadlocked"
)

// Evaluate decides on one run: which task instances become scheduled,
// which become upstream_failed or skipped because their trigger rule can
// no longer be met, and whether the run is finished.
//
// Only instances in state none, or up_for_retry/up_for_reschedule marked
// Due, are scheduled; scheduled, queued, running, deferred and restarting
// ones are left alone. Propagation is transitive within one call: where
// Airflow settles one level of a failed chain per scheduler pass, Evaluate
// walks the tasks in topological order so a failure at the head marks the
// whole all_success chain upstream_failed at once, and a task that
// propagation unblocks (an all_done after them) is scheduled in the same
// call.
//
// The run finishes as DagRun.update_state decides, on the states after
// this decision: when every instance is finished it failed if a leaf
// (ignoring removed leaves) is failed or upstream_failed and succeeded
// otherwise; when unfinished instances remain but none is in flight, none
// can be scheduled and none is an up_for_retry/up_for_reschedule instance
// waiting for its time, the run is deadlocked and failed. As in Airflow a
// run holding an unfinished depends_on_past, wait_for_downstream or
// max_active_tis_per_dag(run) task is never called deadlocked, since
// another run may free it. Windsock also treats every in-flight instance
// (and an instance in a state it does not know) as keeping the run alive,
// where Airflow would still check a running instance's trigger rule.
func (g *Graph) Evaluate(rs RunState) Decision {
	e := g.newEvaluation(&rs)
	e.arr = make([]windsock.TaskInstanceState, len(g.ids))
	for p, id := range g.ids {
		e.arr[p] = rs.States[id]
	}
	for p := range g.ids {
		e.step(p)
	}
	e.finish(false)
	return e.d
}

// EvaluateChanged is Evaluate for a run whose last evaluation was applied
// and in which only the instances named in changed have changed state
// since (a task finished or was cleared), or whose Due or PastOK entry
// changed (an up_for_retry instance became due). It examines
// those instances and, in topological order, the downstream instances a
// change can affect, so one finished task costs in proportion to its
// downstream rather than the whole DAG; the finished check scans the run
// only until it meets an instance in flight. Unknown ids are ignored. Fed
// the same snapshot, it returns what Evaluate returns whenever the earlier
// evaluation was applied.
func (g *Graph) EvaluateChanged(rs RunState, changed []string) Decision {
	e := g.newEvaluation(&rs)
	var w worklist
	w.init(len(g.ids))
	for _, id := range changed {
		p, ok := g.index[id]
		if !ok {
			continue
		}
		w.push(p)
		for _, q := range g.down[p] {
			w.push(q)
		}
	}
	for !w.empty() {
		p := w.pop()
		if e.step(p) {
			for _, q := range g.down[p] {
				w.push(q)
			}
		}
	}
	e.finish(true)
	return e.d
}

// evaluation is one Evaluate call's working state: the snapshot plus the
// decisions made so far, which later steps must see.
type evaluation struct {
	g  *Graph
	rs *RunState
	// arr holds every task's state by position (full evaluation); when nil
	// states are read from rs.States with over on top.
	arr  []windsock.TaskInstanceState
	over map[int]windsock.TaskInstanceState
	// mover holds the mapped tasks' index states this evaluation changed.
	mover map[int][]windsock.TaskInstanceState
	d     Decision
}

func (g *Graph) newEvaluation(rs *RunState) *evaluation {
	return &evaluation{g: g, rs: rs}
}

func (e *evaluation) state(p int) windsock.TaskInstanceState {
	if e.arr != nil {
		return e.arr[p]
	}
	if s, ok := e.over[p]; ok {
		return s
	}
	return e.rs.States[e.g.ids[p]]
}

func (e *evaluation) set(p int, s windsock.TaskInstanceState) {
	if e.arr != nil {
		e.arr[p] = s
		return
	}
	if e.over == nil {
		e.over = make(map[int]windsock.TaskInstanceState)
	}
	e.over[p] = s
}

// counts tallies p's upstream instances; an expanded mapped upstream counts
// each of its instances, as Airflow's trigger rule does.
func (e *evaluation) counts(p int) UpstreamCounts { return e.countsAt(p, -1) }

// countsAt is counts for map index i of the task at p (-1: the task as a
// whole): an upstream task in the same mapped task group counts only its
// instance i, as Airflow's _get_relevant_upstream_map_indexes decides.
func (e *evaluation) countsAt(p, i int) UpstreamCounts {
	var c UpstreamCounts
	var same []bool
	if i >= 0 && e.g.perIndex != nil {
		same = e.g.perIndex[p]
	}
	for k, q := range e.g.up[p] {
		if ms := e.mappedStates(q); ms != nil {
			if same != nil && same[k] {
				if i < len(ms) {
					c.Add(ms[i])
				}
				continue
			}
			for _, s := range ms {
				c.Add(s)
			}
			continue
		}
		c.Add(e.state(q))
	}
	return c
}

// step decides on the task at position p and reports whether it settled
// it as upstream_failed or skipped, which its downstream tasks must see.
func (e *evaluation) step(p int) bool {
	if ms := e.mappedStates(p); ms != nil {
		return e.stepMapped(p, ms)
	}
	s := e.state(p)
	if !schedulable(s) {
		return false
	}
	id := e.g.ids[p]
	switch Judge(e.g.rule[p], e.counts(p)) {
	case MarkUpstreamFailed:
		e.settle(p, id, windsock.TaskStateUpstreamFailed)
		return true
	case MarkSkipped:
		e.settle(p, id, windsock.TaskStateSkipped)
		return true
	case Run:
		if s != windsock.TaskStateNone && !e.rs.Due[id] {
			return false
		}
		if e.g.pastDep[p] && !e.pastOK(id) {
			return false
		}
		if e.g.mapped[p] {
			// Not expanded yet: what it is mapped over is known now.
			e.d.Expand = append(e.d.Expand, id)
			return false
		}
		e.set(p, windsock.TaskStateScheduled)
		e.d.Schedule = append(e.d.Schedule, id)
	}
	return false
}

// stepMapped decides on every instance of the expanded mapped task at p.
// They share their upstream, so one verdict serves them all; each index
// is then scheduled, or settled, on its own (a failed index is retried
// alone).
func (e *evaluation) stepMapped(p int, ms []windsock.TaskInstanceState) bool {
	id := e.g.ids[p]
	var verdict Verdict
	judged, settled := false, false
	// In a mapped task group each index has its own upstream instances,
	// so its own verdict.
	perIndex := e.g.perIndex != nil && e.g.perIndex[p] != nil
	for i, s := range ms {
		if !schedulable(s) {
			continue
		}
		if perIndex {
			verdict = Judge(e.g.rule[p], e.countsAt(p, i))
		} else if !judged {
			verdict, judged = Judge(e.g.rule[p], e.counts(p)), true
		}
		ref := Ref{id, i}
		switch verdict {
		case MarkUpstreamFailed, MarkSkipped:
			st := windsock.TaskStateUpstreamFailed
			if verdict == MarkSkipped {
				st = windsock.TaskStateSkipped
			}
			e.setMapped(p, i, st)
			if e.d.SetStateMapped == nil {
				e.d.SetStateMapped = make(map[Ref]windsock.TaskInstanceState)
			}
			e.d.SetStateMapped[ref] = st
			settled = true
		case Run:
			if s != windsock.TaskStateNone && !e.rs.DueMapped[ref] {
				continue
			}
			if e.g.pastDep[p] && !e.pastOK(id) {
				return false
			}
			e.setMapped(p, i, windsock.TaskStateScheduled)
			e.d.ScheduleMapped = append(e.d.ScheduleMapped, ref)
		}
	}
	return settled
}

// mappedStates returns the instance states of the expanded mapped task at
// p, with this evaluation's decisions applied; nil when the task is not
// mapped or not expanded.
func (e *evaluation) mappedStates(p int) []windsock.TaskInstanceState {
	if !e.g.mapped[p] {
		return nil
	}
	if ms, ok := e.mover[p]; ok {
		return ms
	}
	return e.rs.Mapped[e.g.ids[p]]
}

// setMapped changes one index's state on a copy: the caller's slices stay
// as they were.
func (e *evaluation) setMapped(p, i int, s windsock.TaskInstanceState) {
	ms, ok := e.mover[p]
	if !ok {
		ms = append([]windsock.TaskInstanceState(nil), e.rs.Mapped[e.g.ids[p]]...)
		if e.mover == nil {
			e.mover = make(map[int][]windsock.TaskInstanceState)
		}
		e.mover[p] = ms
	}
	ms[i] = s
}

func (e *evaluation) settle(p int, id string, s windsock.TaskInstanceState) {
	e.set(p, s)
	if e.d.SetState == nil {
		e.d.SetState = make(map[string]windsock.TaskInstanceState)
	}
	e.d.SetState[id] = s
}

func (e *evaluation) pastOK(id string) bool {
	ok, set := e.rs.PastOK[id]
	return ok || !set
}

// finish decides whether the run is over. quick first looks through the
// snapshot for an instance in flight, which keeps the run going; that
// usually ends after a few entries, where the full check reads every task.
func (e *evaluation) finish(quick bool) {
	if len(e.d.Schedule) > 0 || len(e.d.ScheduleMapped) > 0 || len(e.d.Expand) > 0 {
		return
	}
	if quick {
		for id, s := range e.rs.States {
			if active(s) && e.g.Has(id) {
				return
			}
		}
		for id, ms := range e.rs.Mapped {
			if !e.g.Has(id) {
				continue
			}
			for _, s := range ms {
				if active(s) {
					return
				}
			}
		}
	}
	unfinished := false
	var one [1]windsock.TaskInstanceState
	for p := range e.g.ids {
		index := e.mappedStates(p) != nil
		for i, s := range e.instanceStates(p, &one) {
			if s.Finished() {
				continue
			}
			unfinished = true
			if !index {
				i = -1
			}
			if e.alive(p, i, s) {
				return
			}
		}
	}
	e.d.RunFinished = true
	e.d.RunState = windsock.DagRunFailed
	if unfinished {
		e.d.Reason = ReasonDeadlock
		return
	}
	for p, leaf := range e.g.isLeaf {
		if !leaf {
			continue
		}
		for _, s := range e.instanceStates(p, &one) {
			switch s {
			case windsock.TaskStateFailed, windsock.TaskStateUpstreamFailed:
				e.d.Reason = ReasonTaskFailure
				return
			}
		}
	}
	e.d.RunState = windsock.DagRunSuccess
	e.d.Reason = ReasonSuccess
}

// instanceStates returns the states of the task's instances at p: one, or
// one per map index of an expanded mapped task.
// one is the caller's storage for an unmapped task's state, so that the
// common case allocates nothing.
func (e *evaluation) instanceStates(p int, one *[1]windsock.TaskInstanceState) []windsock.TaskInstanceState {
	if ms := e.mappedStates(p); ms != nil {
		return ms
	}
	one[0] = e.state(p)
	return one[:]
}

// alive reports whether the unfinished task at p may still make progress
// on its own, which rules out a deadlock.
// i is the instance's map index, -1 for an unmapped or unexpanded task.
func (e *evaluation) alive(p, i int, s windsock.TaskInstanceState) bool {
	if active(s) || e.g.pastDep[p] || e.g.limited[p] {
		return true
	}
	if s == windsock.TaskStateUpForRetry || s == windsock.TaskStateUpForReschedule {
		// Waiting for its retry time, like Airflow's "premature" check.
		return Judge(e.g.rule[p], e.countsAt(p, i)) == Run
	}
	return false
}

// schedulable reports whether an instance in state s may be scheduled
// (Airflow's SCHEDULEABLE_STATES).
func schedulable(s windsock.TaskInstanceState) bool {
	switch s {
	case windsock.TaskStateNone, windsock.TaskStateUpForRetry, windsock.TaskStateUpForReschedule:
		return true
	}
	return false
}

// active reports whether an instance in state s is in flight: neither
// finished nor waiting to be scheduled. States Windsock does not know
// count as in flight so that they never end a run.
func active(s windsock.TaskInstanceState) bool {
	return !s.Finished() && !schedulable(s)
}

// worklist is a min-heap of task positions that remembers every position
// ever pushed, so tasks are examined in topological order and at most
// once: a task is only pushed by an upstream one, which pops earlier.
type worklist struct {
	heap []int
	in   []uint64
}

func (w *worklist) init(n int) { w.in = make([]uint64, (n+63)/64) }

func (w *worklist) empty() bool { return len(w.heap) == 0 }

func (w *worklist) push(p int) {
	if w.in[p/64]&(1<<(p%64)) != 0 {
		return
	}
	w.in[p/64] |= 1 << (p % 64)
	w.heap = append(w.heap, p)
	for i := len(w.heap) - 1; i > 0; {
		parent := (i - 1) / 2
		if w.heap[parent] <= w.heap[i] {
			break
		}
		w.heap[parent], w.heap[i] = w.heap[i], w.heap[parent]
		i = parent
	}
}

func (w *worklist) pop() int {
	top := w.heap[0]
	last := len(w.heap) - 1
	w.heap[0] = w.heap[last]
	w.heap = w.heap[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && w.heap[l] < w.heap[m] {
			m = l
		}
		if r < last && w.heap[r] < w.heap[m] {
			m = r
		}
		if m == i {
			break
		}
		w.heap[i], w.heap[m] = w.heap[m], w.heap[i]
		i = m
	}
	return top
}
