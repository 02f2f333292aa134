package scheduler

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// ClearParams selects the task instances to clear.
type ClearParams struct {
	// RunIDs limits the clear to these runs; with none, StartDate/EndDate
	// bound the runs' logical dates (inclusive; nil for open).
	RunIDs    []string
	StartDate *time.Time
	EndDate   *time.Time
	// TaskIDs are the tasks to clear (all when empty).
	TaskIDs []string
	// MapIndexes limits the clear of a mapped task (by id) to these map
	// indexes; its other instances stay as they are.
	MapIndexes  map[string][]int
	Downstream  bool
	Upstream    bool
	OnlyFailed  bool
	OnlyRunning bool
	// DryRun returns what would be cleared and changes nothing.
	DryRun bool
	Now    time.Time
}

// ClearTaskInstances resets task instances so the scheduler runs them
// again, as Airflow's clear does: finished ones go back to no state with
// their retries renewed, running ones become restarting, and their runs
// go back to queued. It returns the task instances cleared.
func ClearTaskInstances(ctx context.Context, st store.Store, d *windsock.DAG, p ClearParams) ([]*windsock.TaskInstance, error) {
	tasks := ExpandTasks(d, p.TaskIDs, p.Downstream, p.Upstream)
	runs, err := st.DagRunList(ctx, &store.DagRunListParams{DagID: d.DagID, LogicalDateGTE: p.StartDate, LogicalDateLTE: p.EndDate})
	if err != nil {
		return nil, err
	}
	wantRun := map[string]bool{}
	for _, id := range p.RunIDs {
		wantRun[id] = true
	}
	var selected []*windsock.DagRun
	for _, r := range runs {
		if len(p.RunIDs) == 0 || wantRun[r.RunID] {
			selected = append(selected, r)
		}
	}
	if len(selected) == 0 {
		return nil, nil
	}
	runIDs := make([]string, len(selected))
	for i, r := range selected {
		runIDs[i] = r.RunID
	}
	tis, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: d.DagID, RunIDs: runIDs, TaskIDs: tasks})
	if err != nil {
		return nil, err
	}
	var out []*windsock.TaskInstance
	for _, ti := range tis {
		switch {
		case p.MapIndexes[ti.TaskID] != nil && !slices.Contains(p.MapIndexes[ti.TaskID], ti.MapIndex):
		case p.OnlyFailed && ti.State != windsock.TaskStateFailed && ti.State != windsock.TaskStateUpstreamFailed:
		case p.OnlyRunning && ti.State != windsock.TaskStateRunning:
		default:
			out = append(out, ti)
		}
	}
	if p.DryRun || len(out) == 0 {
		return out, nil
	}
	touched := map[string]bool{}
	collapse := collapsible(d, tis, out)
	err = st.InTx(ctx, func(q store.Queries) error {
		for _, c := range collapse {
			if _, err := q.TaskInstanceReplace(ctx, c.old, nil, []*windsock.TaskInstance{c.ti}); err != nil {
				return err
			}
			touched[c.ti.RunID] = true
		}
		for _, ti := range out {
			if ti.MapIndex >= 0 && collapse[collapseKey{ti.RunID, ti.TaskID}] != nil {
				continue
			}
			from := ti.State
			if task := d.Task(ti.TaskID); task != nil {
				ti.MaxTries = ti.TryNumber + task.Retries
			}
			if from == windsock.TaskStateRunning {
				ti.State = windsock.TaskStateRestarting
			} else {
				ti.State = windsock.TaskStateNone
				ti.NextRetryAt = nil
			}
			if _, err := q.TaskInstanceUpdate(ctx, ti, from); err != nil {
				return err
			}
			touched[ti.RunID] = true
		}
		for _, r := range selected {
			if !touched[r.RunID] {
				continue
			}
			r.State = windsock.DagRunQueued
			r.StartDate, r.EndDate = nil, nil
			r.QueuedAt = &p.Now
			r.ClearNumber++
			if err := q.DagRunUpdate(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("clear task instances: %w", err)
	}
	return out, nil
}

type collapseKey struct{ runID, taskID string }

// collapsed is a mapped task's instances in one run cleared back into one.
type collapsed struct {
	old []windsock.TaskInstanceKey
	ti  *windsock.TaskInstance
}

// collapsible finds the mapped tasks, mapped over an upstream's XCom,
// whose every instance in a run is being cleared: they go back to one
// unexpanded instance (map index -1), to be expanded again from what the
// upstream pushes next, which may have another length. It keeps the
// highest try number, so later tries never reuse a log. (Airflow keeps the
// instances and revises their number when it schedules them; history rows
// of the replaced instances, such as task_fail, go with them here.)
func collapsible(d *windsock.DAG, all, cleared []*windsock.TaskInstance) map[collapseKey]*collapsed {
	total := map[collapseKey]int{}
	for _, ti := range all {
		if ti.MapIndex >= 0 {
			total[collapseKey{ti.RunID, ti.TaskID}]++
		}
	}
	picked := map[collapseKey][]*windsock.TaskInstance{}
	for _, ti := range cleared {
		if t := d.Task(ti.TaskID); ti.MapIndex >= 0 && t.Mapped() && !t.Expand.LiteralOnly() {
			k := collapseKey{ti.RunID, ti.TaskID}
			picked[k] = append(picked[k], ti)
			if !ti.State.Finished() && ti.State != windsock.TaskStateNone && ti.State != windsock.TaskStateScheduled {
				// A try in flight keeps its row: it is restarted instead.
				total[k] = -1
			}
		}
	}
	out := map[collapseKey]*collapsed{}
	for k, tis := range picked {
		if len(tis) != total[k] {
			continue
		}
		c := &collapsed{ti: &windsock.TaskInstance{}}
		*c.ti = *tis[0]
		c.ti.MapIndex, c.ti.State, c.ti.NextRetryAt = -1, windsock.TaskStateNone, nil
		c.ti.StartDate, c.ti.EndDate, c.ti.Duration, c.ti.Hostname, c.ti.PID, c.ti.Note = nil, nil, nil, "", nil, ""
		for _, ti := range tis {
			c.old = append(c.old, ti.TaskInstanceKey)
			c.ti.TryNumber = max(c.ti.TryNumber, ti.TryNumber)
		}
		c.ti.MaxTries = c.ti.TryNumber + d.Task(k.taskID).Retries
		out[k] = c
	}
	return out
}

// ExpandTasks returns the given tasks with their downstream and/or upstream
// tasks (transitively), sorted; nil when ids is empty (meaning all tasks).
func ExpandTasks(d *windsock.DAG, ids []string, down, up bool) []string {
	if len(ids) == 0 {
		return nil
	}
	downstream := map[string][]string{}
	for _, t := range d.Tasks {
		for _, u := range t.Upstream {
			downstream[u] = append(downstream[u], t.TaskID)
		}
	}
	seen := map[string]bool{}
	var walk func(id string, next func(string) []string)
	walk = func(id string, next func(string) []string) {
		for _, n := range next(id) {
			if !seen[n] {
				seen[n] = true
				walk(n, next)
			}
		}
	}
	for _, id := range ids {
		seen[id] = true
	}
	for _, id := range ids {
		if down {
			walk(id, func(x string) []string { return downstream[x] })
		}
		if up {
			walk(id, func(x string) []string {
				if t := d.Task(x); t != nil {
					return t.Upstream
				}
				return nil
			})
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// SetTaskInstanceState marks task instances success, failed or skipped by
// hand (Airflow's "mark success/failed"); their runs are re-evaluated.
func SetTaskInstanceState(ctx context.Context, st store.Store, tis []*windsock.TaskInstance, state windsock.TaskInstanceState, now time.Time) error {
	switch state {
	case windsock.TaskStateSuccess, windsock.TaskStateFailed, windsock.TaskStateSkipped:
	default:
		return windsock.Errorf(windsock.EINVALID, "new_state must be success, failed or skipped, got %q", state)
	}
	return st.InTx(ctx, func(q store.Queries) error {
		for _, ti := range tis {
			from := ti.State
			ti.State = state
			if ti.StartDate == nil {
				ti.StartDate = &now
			}
			ti.EndDate = &now
			ti.NextRetryAt = nil
			if _, err := q.TaskInstanceUpdate(ctx, ti, from); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetDagRunState marks a run queued, success or failed by hand. Marking a
// run success or failed finishes its unfinished task instances the same
// way, as Airflow does (failed marks running ones failed and the rest
// skipped).
func SetDagRunState(ctx context.Context, st store.Store, run *windsock.DagRun, state windsock.DagRunState, now time.Time) error {
	switch state {
	case windsock.DagRunQueued, windsock.DagRunSuccess, windsock.DagRunFailed:
	default:
		return windsock.Errorf(windsock.EINVALID, "state must be queued, success or failed, got %q", state)
	}
	return st.InTx(ctx, func(q store.Queries) error {
		if state != windsock.DagRunQueued {
			tis, err := q.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: run.DagID, RunID: run.RunID})
			if err != nil {
				return err
			}
			for _, ti := range tis {
				if ti.State.Finished() {
					continue
				}
				from := ti.State
				switch {
				case state == windsock.DagRunSuccess:
					ti.State = windsock.TaskStateSuccess
				case from == windsock.TaskStateRunning:
					ti.State = windsock.TaskStateFailed
				default:
					ti.State = windsock.TaskStateSkipped
				}
				ti.EndDate = &now
				if _, err := q.TaskInstanceUpdate(ctx, ti, from); err != nil {
					return err
				}
			}
			run.EndDate = &now
		} else {
			run.QueuedAt = &now
			run.StartDate, run.EndDate = nil, nil
		}
		run.State = state
		return q.DagRunUpdate(ctx, run)
	})
}
