package decide

import (
	"slices"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

// Short state names keep the tables readable.
const (
	none     = windsock.TaskStateNone
	sched    = windsock.TaskStateScheduled
	queued   = windsock.TaskStateQueued
	running  = windsock.TaskStateRunning
	success  = windsock.TaskStateSuccess
	failed   = windsock.TaskStateFailed
	skipped  = windsock.TaskStateSkipped
	upFailed = windsock.TaskStateUpstreamFailed
	removed  = windsock.TaskStateRemoved
	retry    = windsock.TaskStateUpForRetry
	resched  = windsock.TaskStateUpForReschedule
	deferred = windsock.TaskStateDeferred
)

// task returns a task as the DAG file parser would produce it, with
// Airflow's defaults for weight.
func task(id string, rule windsock.TriggerRule, upstream ...string) *windsock.Task {
	return &windsock.Task{
		TaskID: id, TriggerRule: rule, Upstream: upstream,
		Pool: "default_pool", PoolSlots: 1, PriorityWeight: 1, WeightRule: windsock.WeightDownstream,
	}
}

// graph builds the Graph of a DAG holding tasks.
func graph(t *testing.T, tasks ...*windsock.Task) *Graph {
	t.Helper()
	return NewGraph(&windsock.DAG{DagID: "d", Tasks: tasks, MaxActiveRuns: 16, MaxActiveTasks: 16})
}

// states builds a state map from id, state pairs.
func states(pairs ...any) map[string]windsock.TaskInstanceState {
	m := make(map[string]windsock.TaskInstanceState, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		m[pairs[i].(string)] = pairs[i+1].(windsock.TaskInstanceState)
	}
	return m
}

// apply returns a copy of s with decision d applied, as the scheduler loop
// would.
func apply(s map[string]windsock.TaskInstanceState, d Decision) map[string]windsock.TaskInstanceState {
	out := make(map[string]windsock.TaskInstanceState, len(s))
	for k, v := range s {
		out[k] = v
	}
	for k, v := range d.SetState {
		out[k] = v
	}
	for _, k := range d.Schedule {
		out[k] = sched
	}
	return out
}

// sameDecision compares decisions, Schedule order included.
func sameDecision(a, b Decision) bool {
	if !slices.Equal(a.Schedule, b.Schedule) || len(a.SetState) != len(b.SetState) {
		return false
	}
	for k, v := range a.SetState {
		if b.SetState[k] != v {
			return false
		}
	}
	return a.RunFinished == b.RunFinished && a.RunState == b.RunState && a.Reason == b.Reason
}
