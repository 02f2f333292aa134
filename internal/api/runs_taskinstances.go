package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// taskInstanceSortable are the order_by values of task instance lists.
// Airflow 2.10 lists task instances in a fixed order; Windsock also takes
// order_by, as Airflow's later releases do.
func taskInstanceSortable() []string {
	return []string{"task_id", "dag_id", "dag_run_id", "map_index", "state", "start_date", "end_date", "duration",
		"priority_weight", "try_number", "pool", "queue", "execution_date", "updated_at", "operator", "executor",
		"queued_when", "max_tries", "pool_slots", "hostname"}
}

func taskInstanceOrder(orderBy string) string {
	return strings.Replace(orderBy, "dag_run_id", "run_id", 1)
}

// getTaskInstances is Airflow's get_task_instances; dag_id and dag_run_id
// may be "~" for every DAG the caller may read and every run.
func (s *Server) getTaskInstances(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pageParams(r, taskInstanceSortable())
	if err != nil {
		return err
	}
	params := store.TaskInstanceQueryParams{Limit: p.Limit, Offset: p.Offset, OrderBy: taskInstanceOrder(p.OrderBy)}
	if params.DagIDs, params.OnlyDagIDs, err = s.dagScope(r, auth.ResourceTaskInstance); err != nil {
		return err
	}
	if runID := r.PathValue("dag_run_id"); runID != wildcard {
		if err := checkPathID("dag_run_id", runID); err != nil {
			return err
		}
		params.RunIDs = []string{runID}
	}
	for name, dst := range map[string]*store.TimeRange{"execution_date": &params.LogicalDate,
		"start_date": &params.StartDate, "end_date": &params.EndDate, "updated_at": &params.UpdatedAt} {
		if *dst, err = queryTimeRange(r, name); err != nil {
			return err
		}
	}
	if params.DurationGTE, err = queryFloat(r, "duration_gte"); err != nil {
		return err
	}
	if params.DurationLTE, err = queryFloat(r, "duration_lte"); err != nil {
		return err
	}
	q := r.URL.Query()
	if params.States, err = taskStates("state", q["state"]); err != nil {
		return err
	}
	params.Pools, params.Queues, params.Executors = q["pool"], q["queue"], q["executor"]
	return s.writeTaskInstances(w, r, &params)
}

func (s *Server) writeTaskInstances(w http.ResponseWriter, r *http.Request, params *store.TaskInstanceQueryParams) error {
	tis, total, err := s.Store.TaskInstanceQuery(r.Context(), params)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, collection("task_instances", taskInstancesOut(tis), total))
}

// listTaskInstanceForm is Airflow's ListTaskInstanceForm, with the
// page_offset, page_limit and order_by its batch endpoint also reads.
type listTaskInstanceForm struct {
	PageOffset       *int      `json:"page_offset"`
	PageLimit        *int      `json:"page_limit"`
	OrderBy          *string   `json:"order_by"`
	DagIDs           []string  `json:"dag_ids"`
	DagRunIDs        []string  `json:"dag_run_ids"`
	TaskIDs          []string  `json:"task_ids"`
	DurationGTE      *float64  `json:"duration_gte"`
	DurationLTE      *float64  `json:"duration_lte"`
	ExecutionDateGTE *string   `json:"execution_date_gte"`
	ExecutionDateLTE *string   `json:"execution_date_lte"`
	StartDateGTE     *string   `json:"start_date_gte"`
	StartDateLTE     *string   `json:"start_date_lte"`
	EndDateGTE       *string   `json:"end_date_gte"`
	EndDateLTE       *string   `json:"end_date_lte"`
	Executor         []string  `json:"executor"`
	Pool             []string  `json:"pool"`
	Queue            []string  `json:"queue"`
	State            []*string `json:"state"`
}

// getTaskInstancesBatch is Airflow's get_task_instances_batch. As in
// Airflow, naming a DAG in dag_ids that the caller may not read is a 403.
func (s *Server) getTaskInstancesBatch(w http.ResponseWriter, r *http.Request) error {
	var in listTaskInstanceForm
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p, err := s.bodyPage(in.PageLimit, in.PageOffset, in.OrderBy, taskInstanceSortable())
	if err != nil {
		return err
	}
	params := store.TaskInstanceQueryParams{Limit: p.Limit, Offset: p.Offset, OrderBy: taskInstanceOrder(p.OrderBy),
		RunIDs: in.DagRunIDs, TaskIDs: in.TaskIDs, DurationGTE: in.DurationGTE, DurationLTE: in.DurationLTE,
		Pools: in.Pool, Queues: in.Queue, Executors: in.Executor}
	for field, ids := range map[string][]string{"dag_ids": in.DagIDs, "dag_run_ids": in.DagRunIDs, "task_ids": in.TaskIDs} {
		for _, id := range ids {
			if err := checkPathID(field, id); err != nil {
				return err
			}
		}
	}
	if len(in.DagIDs) > 0 {
		var denied []string
		for _, id := range in.DagIDs {
			if !s.authz.CanDAGEntity(r.Context(), userFrom(r), auth.ActionRead, auth.ResourceTaskInstance, id) {
				denied = append(denied, id)
			}
		}
		if len(denied) > 0 {
			return windsock.Errorf(windsock.EFORBIDDEN, "You do not have the permission to access these DAGs: %s", strings.Join(denied, ", "))
		}
		params.DagIDs, params.OnlyDagIDs = in.DagIDs, true
	} else {
		params.DagIDs, params.OnlyDagIDs = s.readableFilter(r.Context(), r)
	}
	states := make([]string, len(in.State))
	for i, st := range in.State {
		if st == nil {
			states[i] = "none"
		} else {
			states[i] = *st
		}
	}
	if params.States, err = taskStates("state", states); err != nil {
		return err
	}
	if params.LogicalDate, err = bodyTimeRange("execution_date", in.ExecutionDateGTE, in.ExecutionDateLTE); err != nil {
		return err
	}
	if params.StartDate, err = bodyTimeRange("start_date", in.StartDateGTE, in.StartDateLTE); err != nil {
		return err
	}
	if params.EndDate, err = bodyTimeRange("end_date", in.EndDateGTE, in.EndDateLTE); err != nil {
		return err
	}
	return s.writeTaskInstances(w, r, &params)
}

// taskInstanceFor reads the task instance the path names (the unmapped
// one, or the {map_index} of a mapped task), after checking the ids and
// that the caller may do action on resource of the DAG.
func (s *Server) taskInstanceFor(r *http.Request, action, resource string) (*store.TaskInstanceDetail, error) {
	ids, err := pathIDs(r, "dag_id", "dag_run_id", "task_id")
	if err != nil {
		return nil, err
	}
	mapIndex, err := pathMapIndex(r)
	if err != nil {
		return nil, err
	}
	if err := s.canDAGEntity(r, action, resource, ids[0]); err != nil {
		return nil, err
	}
	return s.taskInstance(r, ids[0], ids[1], ids[2], mapIndex)
}

// pathMapIndex reads {map_index} on the routes of mapped task instances;
// -1 (unmapped) on the others.
func pathMapIndex(r *http.Request) (int, error) {
	v := r.PathValue("map_index")
	if v == "" {
		return -1, nil
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < -1 {
		return 0, windsock.Errorf(windsock.EINVALID, "map_index: %q is not a map index", v)
	}
	return i, nil
}

func (s *Server) taskInstance(r *http.Request, dagID, runID, taskID string, mapIndex int) (*store.TaskInstanceDetail, error) {
	tis, _, err := s.Store.TaskInstanceQuery(r.Context(), &store.TaskInstanceQueryParams{DagIDs: []string{dagID},
		OnlyDagIDs: true, RunIDs: []string{runID}, TaskIDs: []string{taskID}, MapIndex: &mapIndex})
	if err != nil {
		return nil, err
	}
	if len(tis) == 0 {
		if mapIndex >= 0 {
			return nil, windsock.Errorf(windsock.ENOTFOUND, "Task instance not found: task %q map index %d of run %q of DAG %q", taskID, mapIndex, runID, dagID)
		}
		return nil, taskInstanceNotFound(dagID, runID, taskID)
	}
	return tis[0], nil
}

// getMappedTaskInstances is Airflow's get_mapped_task_instances: the
// instances of an expanded mapped task in one run, by map index unless
// order_by says otherwise. A mapped task that expanded to nothing lists
// none; a task that is not mapped is 404, as in Airflow.
func (s *Server) getMappedTaskInstances(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pageParams(r, taskInstanceSortable())
	if err != nil {
		return err
	}
	ids, err := pathIDs(r, "dag_id", "dag_run_id", "task_id")
	if err != nil {
		return err
	}
	dagID, runID, taskID := ids[0], ids[1], ids[2]
	if err := s.canDAGEntity(r, auth.ActionRead, auth.ResourceTaskInstance, dagID); err != nil {
		return err
	}
	order := taskInstanceOrder(p.OrderBy)
	if order == "" {
		order = "map_index"
	}
	params := store.TaskInstanceQueryParams{DagIDs: []string{dagID}, OnlyDagIDs: true, RunIDs: []string{runID},
		TaskIDs: []string{taskID}, OnlyMapped: true, Limit: p.Limit, Offset: p.Offset, OrderBy: order}
	for name, dst := range map[string]*store.TimeRange{"execution_date": &params.LogicalDate,
		"start_date": &params.StartDate, "end_date": &params.EndDate, "updated_at": &params.UpdatedAt} {
		if *dst, err = queryTimeRange(r, name); err != nil {
			return err
		}
	}
	if params.DurationGTE, err = queryFloat(r, "duration_gte"); err != nil {
		return err
	}
	if params.DurationLTE, err = queryFloat(r, "duration_lte"); err != nil {
		return err
	}
	q := r.URL.Query()
	if params.States, err = taskStates("state", q["state"]); err != nil {
		return err
	}
	params.Pools, params.Queues, params.Executors = q["pool"], q["queue"], q["executor"]
	tis, total, err := s.Store.TaskInstanceQuery(r.Context(), &params)
	if err != nil {
		return err
	}
	if total == 0 {
		d, _, err := s.runsDAG(r.Context(), dagID)
		if err != nil {
			return err
		}
		switch t := d.Task(taskID); {
		case t == nil:
			return windsock.Errorf(windsock.ENOTFOUND, "Task id %s not found", taskID)
		case !t.Mapped():
			return windsock.Errorf(windsock.ENOTFOUND, "Task id %s is not mapped", taskID)
		}
	}
	return writeJSON(w, http.StatusOK, collection("task_instances", taskInstancesOut(tis), total))
}

// getTaskInstance is Airflow's get_task_instance.
func (s *Server) getTaskInstance(w http.ResponseWriter, r *http.Request) error {
	ti, err := s.taskInstanceFor(r, auth.ActionRead, auth.ResourceTaskInstance)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, taskInstanceOut(ti))
}

// updateTaskInstanceInput is Airflow's UpdateTaskInstance.
type updateTaskInstanceInput struct {
	DryRun   *bool   `json:"dry_run"`
	NewState *string `json:"new_state"`
}

// patchTaskInstance is Airflow's patch_task_instance: mark one task
// instance success, failed or skipped (a dry run, the default, changes
// nothing). As Airflow's set_task_instance_state does, the failed and
// upstream_failed task instances downstream of it in the run are then
// cleared, so the run can go on.
func (s *Server) patchTaskInstance(w http.ResponseWriter, r *http.Request) error {
	ids, err := pathIDs(r, "dag_id", "dag_run_id", "task_id")
	if err != nil {
		return err
	}
	dagID, runID, taskID := ids[0], ids[1], ids[2]
	if err := s.canDAGEntity(r, auth.ActionEdit, auth.ResourceTaskInstance, dagID); err != nil {
		return err
	}
	var in updateTaskInstanceInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.NewState == nil {
		return windsock.Errorf(windsock.EINVALID, "new_state: required (success, failed or skipped)")
	}
	state := windsock.TaskInstanceState(*in.NewState)
	switch state {
	case windsock.TaskStateSuccess, windsock.TaskStateFailed, windsock.TaskStateSkipped:
	default:
		return windsock.Errorf(windsock.EINVALID, "new_state: %q is not one of success, failed, skipped", *in.NewState)
	}
	ctx := r.Context()
	d, g, err := s.runsDAG(ctx, dagID)
	if err != nil {
		return err
	}
	if !g.Has(taskID) {
		return windsock.Errorf(windsock.ENOTFOUND, "Task '%s' not found in DAG '%s'", taskID, dagID)
	}
	mapIndex, err := pathMapIndex(r)
	if err != nil {
		return err
	}
	ti, err := s.taskInstance(r, dagID, runID, taskID, mapIndex)
	if err != nil {
		return err
	}
	// Only an explicit false changes anything: Airflow's default is a dry
	// run.
	if in.DryRun != nil && !*in.DryRun {
		now := s.Clock().UTC()
		if err := scheduler.SetTaskInstanceState(ctx, s.Store, []*windsock.TaskInstance{ti.TaskInstance}, state, now); err != nil {
			return err
		}
		if down := g.Downstream(taskID); len(down) > 0 {
			if _, err := scheduler.ClearTaskInstances(ctx, s.Store, d, scheduler.ClearParams{RunIDs: []string{runID},
				TaskIDs: down, Downstream: true, OnlyFailed: true, Now: now}); err != nil {
				return err
			}
		}
		s.runChanged(dagID, runID)
	}
	return writeJSON(w, http.StatusOK, tiReferenceJSON{DagID: dagID, DagRunID: runID,
		ExecutionDate: ti.LogicalDate.UTC(), TaskID: taskID})
}

// taskTries returns a task instance's tries, oldest first. Windsock keeps
// the current try in task_instance and a task_fail row per failed try;
// Airflow 2.10's task_instance_history holds only what an import brought.
// Earlier tries come from that history when it has them all, whole; otherwise
// they are rebuilt from the task_fail rows (state failed, their dates and
// duration, the rest from the current row), numbered from 1, at most one
// per earlier try number.
func (s *Server) taskTries(r *http.Request, ti *store.TaskInstanceDetail) ([]taskInstanceJSON, error) {
	history, err := s.Store.TaskInstanceHistoryList(r.Context(), ti.TaskInstanceKey)
	if err != nil {
		return nil, err
	}
	if windsock.HistoryCovers(history, ti.TryNumber) {
		return historyTries(ti, history), nil
	}
	fails, err := s.Store.TaskFailList(r.Context(), ti.TaskInstanceKey)
	if err != nil {
		return nil, err
	}
	var out []taskInstanceJSON
	for _, f := range fails {
		n := len(out) + 1
		if n >= ti.TryNumber || (ti.StartDate != nil && f.StartDate != nil && f.StartDate.Equal(*ti.StartDate)) {
			// The current try's own failure: the current row shows it.
			continue
		}
		past := *ti.TaskInstance
		past.TryNumber, past.State = n, windsock.TaskStateFailed
		past.StartDate, past.EndDate, past.Duration = f.StartDate, f.EndDate, nil
		if f.Duration != nil {
			d := float64(*f.Duration)
			past.Duration = &d
		}
		past.Note = ""
		detail := *ti
		detail.TaskInstance, detail.RenderedFields, detail.SlaMiss = &past, nil, nil
		out = append(out, taskInstanceOut(&detail))
	}
	if ti.TryNumber > 0 {
		out = append(out, taskInstanceOut(ti))
	}
	return out, nil
}

// historyTries are the tries of task_instance_history before the current
// one, then the current one.
func historyTries(ti *store.TaskInstanceDetail, history []*windsock.TaskInstance) []taskInstanceJSON {
	var out []taskInstanceJSON
	for _, h := range history {
		if h.TryNumber >= ti.TryNumber {
			continue // the current row shows the current try
		}
		detail := *ti
		detail.TaskInstance, detail.RenderedFields, detail.SlaMiss = h, nil, nil
		out = append(out, taskInstanceOut(&detail))
	}
	if ti.TryNumber > 0 {
		out = append(out, taskInstanceOut(ti))
	}
	return out
}

// getTaskInstanceTries is Airflow's get_task_instance_tries (see
// taskTries for what Windsock can show).
func (s *Server) getTaskInstanceTries(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pageParams(r, []string{"try_number", "start_date", "end_date", "state", "duration"})
	if err != nil {
		return err
	}
	ti, err := s.taskInstanceFor(r, auth.ActionRead, auth.ResourceTaskInstance)
	if err != nil {
		return err
	}
	tries, err := s.taskTries(r, ti)
	if err != nil {
		return err
	}
	if p.OrderBy != "" {
		sortTries(tries, p.OrderBy)
	}
	total := len(tries)
	tries = tries[min(p.Offset, total):min(p.Offset+p.Limit, total)]
	return writeJSON(w, http.StatusOK, collection("task_instances", tries, total))
}

// sortTries orders tries by one of try_number, start_date, end_date,
// state, duration ("-" for descending), nulls last, stably.
func sortTries(tries []taskInstanceJSON, orderBy string) {
	key, desc := strings.CutPrefix(orderBy, "-")
	slices.SortStableFunc(tries, func(a, b taskInstanceJSON) int {
		c := 0
		switch key {
		case "try_number":
			c = a.TryNumber - b.TryNumber
		case "start_date":
			c = compareTimes(a.StartDate, b.StartDate)
		case "end_date":
			c = compareTimes(a.EndDate, b.EndDate)
		case "state":
			c = strings.Compare(deref(a.State), deref(b.State))
		case "duration":
			switch {
			case a.Duration == nil || b.Duration == nil:
			case *a.Duration < *b.Duration:
				c = -1
			case *a.Duration > *b.Duration:
				c = 1
			}
		}
		if desc {
			return -c
		}
		return c
	})
}

// getTaskInstanceTry is Airflow's get_task_instance_try_details.
func (s *Server) getTaskInstanceTry(w http.ResponseWriter, r *http.Request) error {
	n, err := tryNumber(r)
	if err != nil {
		return err
	}
	ti, err := s.taskInstanceFor(r, auth.ActionRead, auth.ResourceTaskInstance)
	if err != nil {
		return err
	}
	tries, err := s.taskTries(r, ti)
	if err != nil {
		return err
	}
	for _, t := range tries {
		if t.TryNumber == n {
			return writeJSON(w, http.StatusOK, t)
		}
	}
	return windsock.Errorf(windsock.ENOTFOUND, "Task Instance try not found: try %d of task %q of run %q of DAG %q",
		n, ti.TaskID, ti.RunID, ti.DagID)
}

// dependencyJSON is Airflow's TaskFailedDependency.
type dependencyJSON struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// getTaskInstanceDependencies is Airflow's get_task_instance_dependencies:
// for a task instance waiting to be queued (no state, or scheduled), what
// keeps it from running, with Airflow's dependency names. Other states have
// no blocking dependencies.
func (s *Server) getTaskInstanceDependencies(w http.ResponseWriter, r *http.Request) error {
	ti, err := s.taskInstanceFor(r, auth.ActionRead, auth.ResourceTaskInstance)
	if err != nil {
		return err
	}
	deps := []dependencyJSON{}
	if ti.State == windsock.TaskStateNone || ti.State == windsock.TaskStateScheduled {
		if deps, err = s.blockingDependencies(r, ti); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"dependencies": deps})
}
