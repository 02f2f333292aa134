package decide

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// Candidate is a scheduled task instance that may be queued.
type Candidate struct {
	Key         windsock.TaskInstanceKey
	LogicalDate time.Time
	// PriorityWeight is the instance's effective weight
	// (Graph.PriorityWeight).
	PriorityWeight int
	// Pool names the pool the instance takes PoolSlots slots of (values
	// below 1 count as 1).
	Pool      string
	PoolSlots int
	// MaxActiveTasks is its DAG's max_active_tasks; 0 means no limit.
	MaxActiveTasks int
	// MaxActiveTIsPerDag and MaxActiveTIsPerDagrun are the task's limits
	// (MaxActiveTIsPerDag and MaxActiveTIsPerDagrun of its Task); 0 means
	// no limit.
	MaxActiveTIsPerDag    int
	MaxActiveTIsPerDagrun int
}

// TaskRef names a task of a DAG, across its runs.
type TaskRef struct{ DagID, TaskID string }

// RunTaskRef names a task within one DAG run.
type RunTaskRef struct{ DagID, RunID, TaskID string }

// Limits is the capacity left when queueing starts. Queueable does not
// modify the maps.
type Limits struct {
	// PoolOpen maps each pool to its open slots (slots minus those taken by
	// queued and running instances, and deferred ones when the pool
	// includes them). A pool missing from the map does not exist.
	PoolOpen map[string]int
	// PoolTotal optionally maps pools to their total slots, for messages
	// and to tell an instance that can never fit from one that must wait.
	PoolTotal map[string]int
	// DagRunning counts queued and running instances per DAG, all runs.
	DagRunning map[string]int
	// TaskRunning counts queued and running instances per task, all runs;
	// RunTaskRunning per task and run. Only needed for tasks with
	// max_active_tis_per_dag(run).
	TaskRunning    map[TaskRef]int
	RunTaskRunning map[RunTaskRef]int
	// ParallelismOpen is the number of instances the executor may still
	// take ([core] parallelism minus those queued and running).
	ParallelismOpen int
}

// Queueable picks the candidates that may be queued now, in Airflow's
// order: priority weight descending, then logical date ascending, then (for
// a stable order) DAG id, task id, map index and run id. It walks them as
// the scheduler's _executable_task_instances_to_queued does: a candidate
// whose pool does not exist, has no open slot or too few, whose DAG is at
// max_active_tasks or whose task is at max_active_tis_per_dag(run) is
// passed over and the walk goes on, so a lower-priority candidate needing
// fewer slots may still get them; each queued candidate uses up its pool
// slots, a place in its DAG's and task's limits and one executor slot.
// Every candidate passed over is returned in starved with the reason.
func Queueable(cands []Candidate, lim Limits) (queue []windsock.TaskInstanceKey, starved map[windsock.TaskInstanceKey]string) {
	sorted := slices.Clone(cands)
	slices.SortStableFunc(sorted, compareCandidates)
	open := maps.Clone(lim.PoolOpen)
	dagRunning := maps.Clone(lim.DagRunning)
	if dagRunning == nil {
		dagRunning = map[string]int{}
	}
	taskRunning := maps.Clone(lim.TaskRunning)
	if taskRunning == nil {
		taskRunning = map[TaskRef]int{}
	}
	runTaskRunning := maps.Clone(lim.RunTaskRunning)
	if runTaskRunning == nil {
		runTaskRunning = map[RunTaskRef]int{}
	}
	parallelism := lim.ParallelismOpen
	starve := func(c Candidate, reason string) {
		if starved == nil {
			starved = make(map[windsock.TaskInstanceKey]string)
		}
		starved[c.Key] = reason
	}
	for _, c := range sorted {
		if reason := blocked(c, lim, open, dagRunning, taskRunning, runTaskRunning, parallelism); reason != "" {
			starve(c, reason)
			continue
		}
		queue = append(queue, c.Key)
		open[c.Pool] -= slots(c)
		dagRunning[c.Key.DagID]++
		taskRunning[TaskRef{c.Key.DagID, c.Key.TaskID}]++
		runTaskRunning[RunTaskRef{c.Key.DagID, c.Key.RunID, c.Key.TaskID}]++
		parallelism--
	}
	return queue, starved
}

// blocked returns why c cannot be queued now, or "".
func blocked(c Candidate, lim Limits, open, dagRunning map[string]int, taskRunning map[TaskRef]int, runTaskRunning map[RunTaskRef]int, parallelism int) string {
	if parallelism <= 0 {
		return "no open executor slots (core.parallelism reached)"
	}
	free, ok := open[c.Pool]
	if !ok {
		return fmt.Sprintf("pool %s does not exist", c.Pool)
	}
	total, haveTotal := lim.PoolTotal[c.Pool]
	of := ""
	if haveTotal {
		of = fmt.Sprintf(" of %d", total)
	}
	need := slots(c)
	switch {
	case free <= 0:
		return fmt.Sprintf("pool %s has %d%s slots open", c.Pool, max(free, 0), of)
	case haveTotal && need > total:
		return fmt.Sprintf("task needs %d slots but pool %s has only %d", need, c.Pool, total)
	case need > free:
		return fmt.Sprintf("task needs %d slots but pool %s has %d%s slots open", need, c.Pool, free, of)
	}
	if c.MaxActiveTasks > 0 && dagRunning[c.Key.DagID] >= c.MaxActiveTasks {
		return fmt.Sprintf("dag %s has %d of max_active_tasks %d running", c.Key.DagID, dagRunning[c.Key.DagID], c.MaxActiveTasks)
	}
	if n := taskRunning[TaskRef{c.Key.DagID, c.Key.TaskID}]; c.MaxActiveTIsPerDag > 0 && n >= c.MaxActiveTIsPerDag {
		return fmt.Sprintf("task %s has %d of max_active_tis_per_dag %d running", c.Key.TaskID, n, c.MaxActiveTIsPerDag)
	}
	if n := runTaskRunning[RunTaskRef{c.Key.DagID, c.Key.RunID, c.Key.TaskID}]; c.MaxActiveTIsPerDagrun > 0 && n >= c.MaxActiveTIsPerDagrun {
		return fmt.Sprintf("task %s has %d of max_active_tis_per_dagrun %d running in run %s", c.Key.TaskID, n, c.MaxActiveTIsPerDagrun, c.Key.RunID)
	}
	return ""
}

func slots(c Candidate) int { return max(c.PoolSlots, 1) }

func compareCandidates(a, b Candidate) int {
	if c := cmp.Compare(b.PriorityWeight, a.PriorityWeight); c != 0 {
		return c
	}
	if c := a.LogicalDate.Compare(b.LogicalDate); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Key.DagID, b.Key.DagID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Key.TaskID, b.Key.TaskID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Key.MapIndex, b.Key.MapIndex); c != 0 {
		return c
	}
	return cmp.Compare(a.Key.RunID, b.Key.RunID)
}

// RunsToStart picks the queued runs to move to running: per DAG, oldest
// logical date first, as many as its max_active_runs leaves room for beside
// its running runs. A DAG missing from maxActiveRuns is unknown (deleted or
// not parsed) and none of its runs start. The result is ordered by DAG id,
// then logical date.
func RunsToStart(queued []*windsock.DagRun, runningPerDag map[string]int, maxActiveRuns map[string]int) []*windsock.DagRun {
	sorted := slices.DeleteFunc(slices.Clone(queued), func(r *windsock.DagRun) bool { return r == nil })
	slices.SortStableFunc(sorted, func(a, b *windsock.DagRun) int {
		if c := cmp.Compare(a.DagID, b.DagID); c != 0 {
			return c
		}
		if c := a.LogicalDate.Compare(b.LogicalDate); c != 0 {
			return c
		}
		return cmp.Compare(a.RunID, b.RunID)
	})
	started := map[string]int{}
	var out []*windsock.DagRun
	for _, r := range sorted {
		limit, ok := maxActiveRuns[r.DagID]
		if !ok || runningPerDag[r.DagID]+started[r.DagID] >= limit {
			continue
		}
		started[r.DagID]++
		out = append(out, r)
	}
	return out
}
