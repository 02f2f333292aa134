package scheduler

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// FailedDependency is one of Airflow's task dependencies that a task
// instance does not meet: the dependency's name and why.
type FailedDependency struct {
	Name   string
	Reason string
}

// FailedDependencies explains why a task instance waiting to be queued is
// not: the checks of Airflow's scheduler dependencies that Windsock's
// scheduler makes too, each failed one with Airflow's name. d and g are
// the DAG's current definition, nil when it is no longer loaded. It serves
// the REST API's dependencies endpoint and `tasks failed-deps`.
func FailedDependencies(ctx context.Context, q store.Queries, d *windsock.DAG, g *decide.Graph, ti *windsock.TaskInstance, now time.Time) ([]FailedDependency, error) {
	deps := []FailedDependency{}
	dm, err := q.DAGGet(ctx, ti.DagID)
	if err != nil && windsock.ErrorCode(err) != windsock.ENOTFOUND {
		return nil, err
	}
	if dm != nil && dm.IsPaused {
		deps = append(deps, FailedDependency{"Dag Not Paused", fmt.Sprintf("Task's DAG '%s' is paused.", ti.DagID)})
	}
	run, err := q.DagRunGet(ctx, ti.DagID, ti.RunID)
	if err != nil {
		return nil, err
	}
	if run.State != windsock.DagRunRunning {
		deps = append(deps, FailedDependency{"Dagrun Running",
			fmt.Sprintf("Task instance's dagrun was not in the 'running' state but in the state '%s'.", run.State)})
	}
	if d == nil {
		return deps, nil
	}
	task := d.Task(ti.TaskID)
	if task == nil {
		return append(deps, FailedDependency{"Task Instance State",
			fmt.Sprintf("Task '%s' is no longer in DAG '%s'.", ti.TaskID, ti.DagID)}), nil
	}
	if up := g.Upstream(ti.TaskID); len(up) > 0 {
		tis, err := q.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: ti.DagID, RunID: ti.RunID, TaskIDs: up})
		if err != nil {
			return nil, err
		}
		var c decide.UpstreamCounts
		for _, u := range tis {
			c.Add(u.State)
		}
		if v := decide.Judge(task.TriggerRule, c); v != decide.Run {
			deps = append(deps, FailedDependency{"Trigger Rule", fmt.Sprintf(
				"Task's trigger rule '%s' is not met (verdict: %s). upstream_states=(upstream=%d, done=%d, success=%d, skipped=%d, failed=%d, upstream_failed=%d, removed=%d), upstream_task_ids=%s",
				task.TriggerRule, v, c.Upstream, c.Done, c.Success, c.Skipped, c.Failed, c.UpstreamFailed, c.Removed,
				strings.Join(up, ", "))})
		}
	}
	if ti.NextRetryAt != nil && ti.NextRetryAt.After(now) {
		deps = append(deps, FailedDependency{"Not In Retry Period", fmt.Sprintf(
			"Task is not ready for retry yet but will be retried automatically. Current date is %s and task will be retried at %s.",
			now.UTC().Format(time.RFC3339), ti.NextRetryAt.UTC().Format(time.RFC3339))})
	}
	usage, err := q.TaskInstanceSlotUsage(ctx)
	if err != nil {
		return nil, err
	}
	pool, err := q.PoolGet(ctx, ti.Pool)
	switch {
	case windsock.ErrorCode(err) == windsock.ENOTFOUND:
		deps = append(deps, FailedDependency{"Pool Slots Available",
			fmt.Sprintf("Tasks using non-existent pool '%s' will not be scheduled", ti.Pool)})
	case err != nil:
		return nil, err
	case pool.Slots >= 0 && pool.Slots-usage.PoolSlots[ti.Pool] < ti.PoolSlots:
		deps = append(deps, FailedDependency{"Pool Slots Available", fmt.Sprintf(
			"Not scheduling since there are %s open slots in pool %s and require %d pool slots",
			strconv.Itoa(max(pool.Slots-usage.PoolSlots[ti.Pool], 0)), ti.Pool, ti.PoolSlots)})
	}
	if d.MaxActiveTasks > 0 && usage.DagTasks[ti.DagID] >= d.MaxActiveTasks {
		deps = append(deps, FailedDependency{"Task Instance Slots Available", fmt.Sprintf(
			"The maximum number of running tasks (%d) for this task's DAG '%s' has been reached.", d.MaxActiveTasks, ti.DagID)})
	}
	return deps, nil
}
