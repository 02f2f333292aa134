package scheduler

import (
	"context"
	"time"

	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/taskmap"
	"github.com/windsock/windsock/internal/windsock"
)

// expansion is what expanding one mapped task wrote: its new instances
// (0..n-1), or its map index -1 instance settled (skipped for n = 0).
type expansion struct {
	taskID string
	tis    []*windsock.TaskInstance
}

// expand turns a mapped task's map index -1 instance into its instances,
// now that the upstream values it is mapped over are known (Airflow's
// expand_mapped_task): n instances with map indexes 0..n-1, or the -1
// instance skipped when n is 0. When the values cannot be mapped (the
// upstream pushed nothing, as after being marked successful by hand) the
// instance becomes upstream_failed. nil means the instance changed under
// us.
func (s *Scheduler) expand(ctx context.Context, q store.Queries, st *runState, taskID string, now time.Time) (*expansion, error) {
	cur, t := st.tis[taskID], st.entry.dag.Task(taskID)
	if cur == nil || !t.Mapped() {
		return nil, nil
	}
	in, err := taskmap.Inputs(ctx, q, st.entry.dag, st.run.RunID, t.Expand)
	if err != nil {
		return nil, err
	}
	n, lerr := t.Expand.Length(in)
	if lerr != nil || n == 0 {
		ti := *cur
		from := ti.State
		ti.State = windsock.TaskStateSkipped
		if lerr != nil {
			s.cfg.Logger.Warn("cannot expand mapped task", "dag_id", ti.DagID, "run_id", ti.RunID, "task_id", taskID, "error", lerr)
			ti.State = windsock.TaskStateUpstreamFailed
		}
		zero := 0.0
		ti.StartDate, ti.EndDate, ti.Duration = &now, &now, &zero
		ok, err := q.TaskInstanceUpdate(ctx, &ti, from)
		if err != nil || !ok {
			return nil, err
		}
		return &expansion{taskID: taskID, tis: []*windsock.TaskInstance{&ti}}, nil
	}
	tis := ExpandTaskInstance(cur, n, now)
	ok, err := q.TaskInstanceReplace(ctx, []windsock.TaskInstanceKey{cur.TaskInstanceKey}, []windsock.TaskInstanceState{cur.State}, tis)
	if err != nil || !ok {
		return nil, err
	}
	return &expansion{taskID: taskID, tis: tis}, nil
}

// expandTogether returns the tasks to expand when taskID is: itself and,
// for a task of a mapped task group, the group's other tasks not expanded
// yet (their unexpanded instance still waiting in state none).
func (s *Scheduler) expandTogether(st *runState, taskID string) []string {
	ids := []string{taskID}
	t := st.entry.dag.Task(taskID)
	if t == nil || t.ExpandGroup == "" {
		return ids
	}
	for _, o := range st.entry.dag.Tasks {
		if o.TaskID == taskID || o.ExpandGroup != t.ExpandGroup {
			continue
		}
		if cur := st.tis[o.TaskID]; cur != nil && cur.State == windsock.TaskStateNone {
			ids = append(ids, o.TaskID)
		}
	}
	return ids
}

// ExpandTaskInstance returns the n instances (map indexes 0..n-1) that
// replace a mapped task's unexpanded one, in state none. They carry its
// try number, so that a task cleared back into one instance and expanded
// again never reuses a try's log.
func ExpandTaskInstance(ti *windsock.TaskInstance, n int, now time.Time) []*windsock.TaskInstance {
	out := make([]*windsock.TaskInstance, n)
	for i := range out {
		out[i] = &windsock.TaskInstance{
			TaskInstanceKey: windsock.TaskInstanceKey{DagID: ti.DagID, TaskID: ti.TaskID, RunID: ti.RunID, MapIndex: i},
			TryNumber:       ti.TryNumber, MaxTries: ti.MaxTries, Pool: ti.Pool, PoolSlots: ti.PoolSlots, Queue: ti.Queue,
			PriorityWeight: ti.PriorityWeight, Operator: ti.Operator, UpdatedAt: now,
		}
	}
	return out
}

// newTaskInstances returns a task's first instances in a run: one, or for
// a task mapped over literals only one per map index, as Airflow expands
// those when it creates the run.
func newTaskInstances(d *windsock.DAG, g *decide.Graph, t *windsock.Task, runID string, now time.Time) []*windsock.TaskInstance {
	ti := NewTaskInstance(d, g, t, runID, now)
	if n, ok := g.LiteralMapLength(t.TaskID); ok && n > 0 {
		return ExpandTaskInstance(ti, n, now)
	}
	return []*windsock.TaskInstance{ti}
}
