package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// tiActionDAG checks the dag_id path value and that the user may change
// the DAG's task instances: edit the DAG, its runs and task instances, as
// Airflow's TASK_INSTANCE access entity requires.
func (s *Server) tiActionDAG(r *http.Request) (string, error) {
	ids, err := pathIDs(r, "dag_id")
	if err != nil {
		return "", err
	}
	for _, res := range []string{auth.ResourceDAGRun, auth.ResourceTaskInstance} {
		if err := s.canDAGEntity(r, auth.ActionEdit, res, ids[0]); err != nil {
			return "", err
		}
	}
	return ids[0], nil
}

// clearTaskInstancesInput is Airflow's ClearTaskInstances. Subdags do not
// exist in Windsock: include_subdags and include_parentdag are accepted
// and change nothing.
type clearTaskInstancesInput struct {
	DagRunID          *string `json:"dag_run_id"`
	DryRun            *bool   `json:"dry_run"`
	StartDate         *string `json:"start_date"`
	EndDate           *string `json:"end_date"`
	IncludeDownstream *bool   `json:"include_downstream"`
	IncludeFuture     *bool   `json:"include_future"`
	IncludeParentdag  *bool   `json:"include_parentdag"`
	IncludePast       *bool   `json:"include_past"`
	IncludeSubdags    *bool   `json:"include_subdags"`
	IncludeUpstream   *bool   `json:"include_upstream"`
	OnlyFailed        *bool   `json:"only_failed"`
	OnlyRunning       *bool   `json:"only_running"`
	ResetDagRuns      *bool   `json:"reset_dag_runs"`
	// TaskIDs holds task ids, or [task_id, map_index] pairs that clear
	// one instance of a mapped task (as Airflow's clear form takes them).
	TaskIDs *[]taskIDOrPair `json:"task_ids"`
}

// taskIDOrPair is one item of task_ids: "task_id" or ["task_id", 3].
type taskIDOrPair struct {
	TaskID   string
	MapIndex *int
}

// UnmarshalJSON reads either form.
func (t *taskIDOrPair) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &t.TaskID); err == nil {
		return nil
	}
	var pair []json.RawMessage
	var idx int
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 ||
		json.Unmarshal(pair[0], &t.TaskID) != nil || json.Unmarshal(pair[1], &idx) != nil {
		return windsock.Errorf(windsock.EINVALID, "task_ids: each item is a task id or a [task_id, map_index] pair")
	}
	t.MapIndex = &idx
	return nil
}

// boolOr is a boolean body field, or its default when absent.
func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// clearParams checks a ClearTaskInstances body as Airflow's form does and
// turns it into the scheduler's parameters, less the run selection.
func (in *clearTaskInstancesInput) clearParams() (scheduler.ClearParams, error) {
	p := scheduler.ClearParams{
		OnlyFailed:  boolOr(in.OnlyFailed, true),
		OnlyRunning: boolOr(in.OnlyRunning, false),
		Downstream:  boolOr(in.IncludeDownstream, false),
		Upstream:    boolOr(in.IncludeUpstream, false),
		DryRun:      boolOr(in.DryRun, true),
	}
	var err error
	if p.StartDate, err = bodyTime("start_date", in.StartDate); err != nil {
		return p, err
	}
	if p.EndDate, err = bodyTime("end_date", in.EndDate); err != nil {
		return p, err
	}
	switch {
	case p.OnlyFailed && p.OnlyRunning:
		return p, windsock.Errorf(windsock.EINVALID, "only_failed and only_running both are set to True")
	case p.StartDate != nil && p.EndDate != nil && p.StartDate.After(*p.EndDate):
		return p, windsock.Errorf(windsock.EINVALID, "end_date is sooner than start_date")
	case in.DagRunID != nil && (p.StartDate != nil || p.EndDate != nil):
		return p, windsock.Errorf(windsock.EINVALID, "Exactly one of dag_run_id or (start_date and end_date) must be provided")
	}
	if in.DagRunID != nil {
		if err := checkPathID("dag_run_id", *in.DagRunID); err != nil {
			return p, err
		}
	}
	if in.TaskIDs != nil {
		if len(*in.TaskIDs) == 0 {
			return p, windsock.Errorf(windsock.EINVALID, "task_ids: give at least one task id, or leave it out for every task")
		}
		whole := map[string]bool{}
		for _, item := range *in.TaskIDs {
			if err := checkPathID("task_ids", item.TaskID); err != nil {
				return p, err
			}
			if !slices.Contains(p.TaskIDs, item.TaskID) {
				p.TaskIDs = append(p.TaskIDs, item.TaskID)
			}
			if item.MapIndex == nil {
				whole[item.TaskID] = true
				continue
			}
			if p.MapIndexes == nil {
				p.MapIndexes = map[string][]int{}
			}
			p.MapIndexes[item.TaskID] = append(p.MapIndexes[item.TaskID], *item.MapIndex)
		}
		for id := range whole {
			delete(p.MapIndexes, id) // the whole task wins over some of its indexes
		}
	}
	return p, nil
}

// postClearTaskInstances is Airflow's post_clear_task_instances. With
// dag_run_id, the run's logical date bounds the clear, and include_past /
// include_future open either bound. A dry run (the default) changes
// nothing and answers what would be cleared.
//
// reset_dag_runs is accepted, but the runs of cleared task instances are
// always queued again: the scheduler only runs task instances of active
// runs.
func (s *Server) postClearTaskInstances(w http.ResponseWriter, r *http.Request) error {
	dagID, err := s.tiActionDAG(r)
	if err != nil {
		return err
	}
	var in clearTaskInstancesInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p, err := in.clearParams()
	if err != nil {
		return err
	}
	ctx := r.Context()
	d, _, err := s.runsDAG(ctx, dagID)
	if err != nil {
		return err
	}
	if in.DagRunID != nil {
		run, err := s.Store.DagRunGet(ctx, dagID, *in.DagRunID)
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return windsock.Errorf(windsock.ENOTFOUND, "Dag Run id %s not found in dag %s", *in.DagRunID, dagID)
		}
		if err != nil {
			return err
		}
		past, future := boolOr(in.IncludePast, false), boolOr(in.IncludeFuture, false)
		if !past && !future {
			p.RunIDs = []string{run.RunID}
		} else {
			if !past {
				p.StartDate = &run.LogicalDate
			}
			if !future {
				p.EndDate = &run.LogicalDate
			}
		}
	}
	p.Now = s.Clock().UTC()
	cleared, err := scheduler.ClearTaskInstances(ctx, s.Store, d, p)
	if err != nil {
		return err
	}
	refs, err := s.tiReferences(ctx, dagID, cleared)
	if err != nil {
		return err
	}
	if !p.DryRun {
		s.runsChanged(dagID, cleared)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"task_instances": refs})
}

// tiReferences answers task instances as Airflow's TaskInstanceReference,
// with their runs' logical dates.
func (s *Server) tiReferences(ctx context.Context, dagID string, tis []*windsock.TaskInstance) ([]tiReferenceJSON, error) {
	logical := map[string]time.Time{}
	refs := make([]tiReferenceJSON, len(tis))
	for i, ti := range tis {
		date, ok := logical[ti.RunID]
		if !ok {
			run, err := s.Store.DagRunGet(ctx, dagID, ti.RunID)
			if err != nil {
				return nil, err
			}
			date = run.LogicalDate.UTC()
			logical[ti.RunID] = date
		}
		refs[i] = tiReferenceJSON{DagID: dagID, DagRunID: ti.RunID, ExecutionDate: date, TaskID: ti.TaskID}
	}
	return refs, nil
}

// runsChanged tells the in-process scheduler about every run of tis.
func (s *Server) runsChanged(dagID string, tis []*windsock.TaskInstance) {
	seen := map[string]bool{}
	for _, ti := range tis {
		if !seen[ti.RunID] {
			seen[ti.RunID] = true
			s.runChanged(dagID, ti.RunID)
		}
	}
}

// updateTaskInstancesStateInput is Airflow's UpdateTaskInstancesState.
// As in Airflow's form, the four include_* flags are required.
type updateTaskInstancesStateInput struct {
	DagRunID          *string `json:"dag_run_id"`
	DryRun            *bool   `json:"dry_run"`
	ExecutionDate     *string `json:"execution_date"`
	IncludeDownstream *bool   `json:"include_downstream"`
	IncludeFuture     *bool   `json:"include_future"`
	IncludePast       *bool   `json:"include_past"`
	IncludeUpstream   *bool   `json:"include_upstream"`
	NewState          *string `json:"new_state"`
	TaskID            *string `json:"task_id"`
}

// check validates the body as Airflow's form does and returns the new
// state and the execution date, if given.
func (in *updateTaskInstancesStateInput) check() (windsock.TaskInstanceState, *time.Time, error) {
	for _, f := range []struct {
		name string
		v    *bool
	}{
		{"include_upstream", in.IncludeUpstream}, {"include_downstream", in.IncludeDownstream},
		{"include_future", in.IncludeFuture}, {"include_past", in.IncludePast},
	} {
		if f.v == nil {
			return "", nil, windsock.Errorf(windsock.EINVALID, "%s: Missing data for required field.", f.name)
		}
	}
	if in.TaskID == nil {
		return "", nil, windsock.Errorf(windsock.EINVALID, "task_id: Missing data for required field.")
	}
	if err := checkPathID("task_id", *in.TaskID); err != nil {
		return "", nil, err
	}
	if in.NewState == nil {
		return "", nil, windsock.Errorf(windsock.EINVALID, "new_state: Missing data for required field.")
	}
	state := windsock.TaskInstanceState(*in.NewState)
	switch state {
	case windsock.TaskStateSuccess, windsock.TaskStateFailed, windsock.TaskStateSkipped:
	default:
		return "", nil, windsock.Errorf(windsock.EINVALID, "new_state: must be one of success, failed, skipped; got %q", *in.NewState)
	}
	if (in.ExecutionDate == nil) == (in.DagRunID == nil) {
		return "", nil, windsock.Errorf(windsock.EINVALID, "Exactly one of execution_date or dag_run_id must be provided")
	}
	if in.DagRunID != nil {
		if err := checkPathID("dag_run_id", *in.DagRunID); err != nil {
			return "", nil, err
		}
	}
	date, err := bodyTime("execution_date", in.ExecutionDate)
	return state, date, err
}

// postSetTaskInstancesState is Airflow's post_set_task_instances_state:
// mark a task (and optionally its upstream and downstream tasks, in its
// run and optionally past and future runs) success, failed or skipped.
// Task instances already in that state are left alone. As in Airflow, the
// failed and upstream_failed tasks downstream of the task are then
// cleared in the same runs, so that they are decided again.
func (s *Server) postSetTaskInstancesState(w http.ResponseWriter, r *http.Request) error {
	dagID, err := s.tiActionDAG(r)
	if err != nil {
		return err
	}
	var in updateTaskInstancesStateInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	state, date, err := in.check()
	if err != nil {
		return err
	}
	ctx := r.Context()
	d, _, err := s.runsDAG(ctx, dagID)
	if err != nil {
		return err
	}
	taskID := *in.TaskID
	if d.Task(taskID) == nil {
		return windsock.Errorf(windsock.ENOTFOUND, "Task ID %s not found", taskID)
	}
	run, err := s.stateRun(ctx, dagID, taskID, in.DagRunID, date)
	if err != nil {
		return err
	}
	past, future := *in.IncludePast, *in.IncludeFuture
	runs := &store.DagRunListParams{DagID: dagID}
	if !past {
		runs.LogicalDateGTE = &run.LogicalDate
	}
	if !future {
		runs.LogicalDateLTE = &run.LogicalDate
	}
	affected, err := s.Store.DagRunList(ctx, runs)
	if err != nil {
		return err
	}
	runIDs := make([]string, len(affected))
	for i, rr := range affected {
		runIDs[i] = rr.RunID
	}
	tasks := scheduler.ExpandTasks(d, []string{taskID}, *in.IncludeDownstream, *in.IncludeUpstream)
	tis, err := s.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: dagID, RunIDs: runIDs, TaskIDs: tasks})
	if err != nil {
		return err
	}
	tis = slices.DeleteFunc(tis, func(ti *windsock.TaskInstance) bool { return ti.State == state })
	refs, err := s.tiReferences(ctx, dagID, tis)
	if err != nil {
		return err
	}
	if !boolOr(in.DryRun, true) && len(tis) > 0 {
		now := s.Clock().UTC()
		if err := scheduler.SetTaskInstanceState(ctx, s.Store, tis, state, now); err != nil {
			return err
		}
		downstream := slices.DeleteFunc(scheduler.ExpandTasks(d, []string{taskID}, true, false), func(id string) bool { return id == taskID })
		if len(downstream) > 0 {
			cleared, err := scheduler.ClearTaskInstances(ctx, s.Store, d, scheduler.ClearParams{
				StartDate: runs.LogicalDateGTE, EndDate: runs.LogicalDateLTE, TaskIDs: downstream, OnlyFailed: true, Now: now})
			if err != nil {
				return err
			}
			tis = append(tis, cleared...)
		}
		s.runsChanged(dagID, tis)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"task_instances": refs})
}

// stateRun finds the run an UpdateTaskInstancesState names, by id or by
// logical date, and checks that the task has an instance there; 404 in
// Airflow's words otherwise.
func (s *Server) stateRun(ctx context.Context, dagID, taskID string, runID *string, date *time.Time) (*windsock.DagRun, error) {
	var run *windsock.DagRun
	if runID != nil {
		got, err := s.Store.DagRunGet(ctx, dagID, *runID)
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return nil, windsock.Errorf(windsock.ENOTFOUND, "Task instance not found for task '%s' on DAG run with ID '%s'", taskID, *runID)
		}
		if err != nil {
			return nil, err
		}
		run = got
	} else {
		runs, err := s.Store.DagRunList(ctx, &store.DagRunListParams{DagID: dagID, LogicalDateGTE: date, LogicalDateLTE: date})
		if err != nil {
			return nil, err
		}
		if len(runs) == 0 {
			return nil, windsock.Errorf(windsock.ENOTFOUND, "Task instance not found for task '%s' on execution_date %s",
				taskID, windsock.ISOFormat(*date))
		}
		run = runs[0]
	}
	// Any instance will do: a mapped task has no map index -1 one once
	// expanded.
	tis, err := s.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: dagID, RunID: run.RunID, TaskIDs: []string{taskID}, Limit: 1})
	if err == nil && len(tis) == 0 {
		if runID != nil {
			return nil, windsock.Errorf(windsock.ENOTFOUND, "Task instance not found for task '%s' on DAG run with ID '%s'", taskID, *runID)
		}
		return nil, windsock.Errorf(windsock.ENOTFOUND, "Task instance not found for task '%s' on execution_date %s",
			taskID, windsock.ISOFormat(*date))
	}
	if err != nil {
		return nil, err
	}
	return run, nil
}
