package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// blockingDependencies explains why a task instance waiting to be queued
// is not: the checks of Airflow's scheduler dependencies that Windsock's
// scheduler makes too, each failed one with Airflow's name.
func (s *Server) blockingDependencies(r *http.Request, ti *store.TaskInstanceDetail) ([]dependencyJSON, error) {
	ctx := r.Context()
	deps := []dependencyJSON{}
	dm, err := s.Store.DAGGet(ctx, ti.DagID)
	if err != nil && windsock.ErrorCode(err) != windsock.ENOTFOUND {
		return nil, err
	}
	if dm != nil && dm.IsPaused {
		deps = append(deps, dependencyJSON{"Dag Not Paused", fmt.Sprintf("Task's DAG '%s' is paused.", ti.DagID)})
	}
	run, err := s.Store.DagRunGet(ctx, ti.DagID, ti.RunID)
	if err != nil {
		return nil, err
	}
	if run.State != windsock.DagRunRunning {
		deps = append(deps, dependencyJSON{"Dagrun Running",
			fmt.Sprintf("Task instance's dagrun was not in the 'running' state but in the state '%s'.", run.State)})
	}
	d, g, err := s.runsDAG(ctx, ti.DagID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return deps, nil
	}
	if err != nil {
		return nil, err
	}
	task := d.Task(ti.TaskID)
	if task == nil {
		return append(deps, dependencyJSON{"Task Instance State",
			fmt.Sprintf("Task '%s' is no longer in DAG '%s'.", ti.TaskID, ti.DagID)}), nil
	}
	if up := g.Upstream(ti.TaskID); len(up) > 0 {
		tis, err := s.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: ti.DagID, RunID: ti.RunID, TaskIDs: up})
		if err != nil {
			return nil, err
		}
		var c decide.UpstreamCounts
		for _, u := range tis {
			c.Add(u.State)
		}
		if v := decide.Judge(task.TriggerRule, c); v != decide.Run {
			deps = append(deps, dependencyJSON{"Trigger Rule", fmt.Sprintf(
				"Task's trigger rule '%s' is not met (verdict: %s). upstream_states=(upstream=%d, done=%d, success=%d, skipped=%d, failed=%d, upstream_failed=%d, removed=%d), upstream_task_ids=%s",
				task.TriggerRule, v, c.Upstream, c.Done, c.Success, c.Skipped, c.Failed, c.UpstreamFailed, c.Removed,
				strings.Join(up, ", "))})
		}
	}
	if ti.NextRetryAt != nil && ti.NextRetryAt.After(s.Clock()) {
		deps = append(deps, dependencyJSON{"Not In Retry Period", fmt.Sprintf(
			"Task is not ready for retry yet but will be retried automatically. Current date is %s and task will be retried at %s.",
			s.Clock().UTC().Format(time.RFC3339), ti.NextRetryAt.UTC().Format(time.RFC3339))})
	}
	usage, err := s.Store.TaskInstanceSlotUsage(ctx)
	if err != nil {
		return nil, err
	}
	pool, err := s.Store.PoolGet(ctx, ti.Pool)
	switch {
	case windsock.ErrorCode(err) == windsock.ENOTFOUND:
		deps = append(deps, dependencyJSON{"Pool Slots Available",
			fmt.Sprintf("Tasks using non-existent pool '%s' will not be scheduled", ti.Pool)})
	case err != nil:
		return nil, err
	case pool.Slots >= 0 && pool.Slots-usage.PoolSlots[ti.Pool] < ti.PoolSlots:
		deps = append(deps, dependencyJSON{"Pool Slots Available", fmt.Sprintf(
			"Not scheduling since there are %s open slots in pool %s and require %d pool slots",
			strconv.Itoa(max(pool.Slots-usage.PoolSlots[ti.Pool], 0)), ti.Pool, ti.PoolSlots)})
	}
	if d.MaxActiveTasks > 0 && usage.DagTasks[ti.DagID] >= d.MaxActiveTasks {
		deps = append(deps, dependencyJSON{"Task Instance Slots Available", fmt.Sprintf(
			"The maximum number of running tasks (%d) for this task's DAG '%s' has been reached.", d.MaxActiveTasks, ti.DagID)})
	}
	return deps, nil
}

// compareTimes orders times ascending with nil last.
func compareTimes(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// tryNumber reads the task_try_number path value: an integer >= 1.
func tryNumber(r *http.Request) (int, error) {
	v := r.PathValue("task_try_number")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, windsock.Errorf(windsock.EINVALID, "task_try_number: expected an integer >= 1, got %q", v)
	}
	return n, nil
}
