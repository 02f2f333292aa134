package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// dagRunSortable are the order_by values of DAG run lists, as Airflow
// allows them.
func dagRunSortable() []string {
	return []string{"id", "state", "dag_id", "execution_date", "logical_date", "dag_run_id", "start_date",
		"end_date", "updated_at", "run_type", "queued_at"}
}

// dagRunOrder maps an API order_by to the store's column ("id" by
// default, as Airflow orders runs).
func dagRunOrder(orderBy string) string {
	if orderBy == "" {
		return "id"
	}
	return strings.Replace(orderBy, "dag_run_id", "run_id", 1)
}

// returnFields reads the "fields" parameter (repeated or comma-separated):
// the fields to answer with; nil for all.
func returnFields(r *http.Request, allowed []string) ([]string, error) {
	var out []string
	for _, v := range r.URL.Query()["fields"] {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			if !slices.Contains(allowed, f) {
				return nil, windsock.Errorf(windsock.EINVALID, "fields: %q is not a field of the response; allowed: %s", f, strings.Join(allowed, ", "))
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// onlyFields returns v (any JSON object) reduced to fields; v itself when
// fields is nil.
func onlyFields(v any, fields []string) (any, error) {
	if fields == nil {
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(fields))
	for _, f := range fields {
		out[f] = all[f]
	}
	return out, nil
}

// writeDagRuns answers a DAGRunCollection.
func writeDagRuns(w http.ResponseWriter, runs []*windsock.DagRun, total int, fields []string) error {
	items := make([]any, len(runs))
	for i, run := range runs {
		v, err := onlyFields(dagRunOut(run), fields)
		if err != nil {
			return err
		}
		items[i] = v
	}
	return writeJSON(w, http.StatusOK, collection("dag_runs", items, total))
}

// getDagRuns is Airflow's get_dag_runs; dag_id "~" lists the runs of
// every DAG the caller may read.
func (s *Server) getDagRuns(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pageParams(r, dagRunSortable())
	if err != nil {
		return err
	}
	params := store.DagRunQueryParams{Limit: p.Limit, Offset: p.Offset, OrderBy: dagRunOrder(p.OrderBy)}
	if params.DagIDs, params.OnlyDagIDs, err = s.dagScope(r, auth.ResourceDAGRun); err != nil {
		return err
	}
	for name, dst := range map[string]*store.TimeRange{"execution_date": &params.LogicalDate,
		"start_date": &params.StartDate, "end_date": &params.EndDate, "updated_at": &params.UpdatedAt} {
		if *dst, err = queryTimeRange(r, name); err != nil {
			return err
		}
	}
	if params.States, err = dagRunStates("state", r.URL.Query()["state"]); err != nil {
		return err
	}
	fields, err := returnFields(r, dagRunFields())
	if err != nil {
		return err
	}
	runs, total, err := s.Store.DagRunQuery(r.Context(), &params)
	if err != nil {
		return err
	}
	return writeDagRuns(w, runs, total, fields)
}

// listDagRunsForm is Airflow's ListDagRunsForm.
type listDagRunsForm struct {
	PageOffset       *int     `json:"page_offset"`
	PageLimit        *int     `json:"page_limit"`
	OrderBy          *string  `json:"order_by"`
	DagIDs           []string `json:"dag_ids"`
	States           []string `json:"states"`
	ExecutionDateGTE *string  `json:"execution_date_gte"`
	ExecutionDateLTE *string  `json:"execution_date_lte"`
	StartDateGTE     *string  `json:"start_date_gte"`
	StartDateLTE     *string  `json:"start_date_lte"`
	EndDateGTE       *string  `json:"end_date_gte"`
	EndDateLTE       *string  `json:"end_date_lte"`
}

// getDagRunsBatch is Airflow's get_dag_runs_batch: as get_dag_runs, with
// the filters in the body. DAGs named in dag_ids that the caller may not
// read are left out, as Airflow leaves them out.
func (s *Server) getDagRunsBatch(w http.ResponseWriter, r *http.Request) error {
	var in listDagRunsForm
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p, err := s.bodyPage(in.PageLimit, in.PageOffset, in.OrderBy, dagRunSortable())
	if err != nil {
		return err
	}
	params := store.DagRunQueryParams{Limit: p.Limit, Offset: p.Offset, OrderBy: dagRunOrder(p.OrderBy)}
	for _, id := range in.DagIDs {
		if err := checkPathID("dag_ids", id); err != nil {
			return err
		}
	}
	readable, only := s.readableFilter(r.Context(), r)
	switch {
	case len(in.DagIDs) > 0 && only:
		params.DagIDs = slices.DeleteFunc(slices.Clone(in.DagIDs), func(id string) bool { return !slices.Contains(readable, id) })
		params.OnlyDagIDs = true
	case len(in.DagIDs) > 0:
		params.DagIDs, params.OnlyDagIDs = in.DagIDs, true
	default:
		params.DagIDs, params.OnlyDagIDs = readable, only
	}
	if params.States, err = dagRunStates("states", in.States); err != nil {
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
	runs, total, err := s.Store.DagRunQuery(r.Context(), &params)
	if err != nil {
		return err
	}
	return writeDagRuns(w, runs, total, nil)
}

// dagRunFor reads a run from the path after checking the ids and that the
// caller may do action on the DAG's runs.
func (s *Server) dagRunFor(r *http.Request, action string) (*windsock.DagRun, error) {
	ids, err := pathIDs(r, "dag_id", "dag_run_id")
	if err != nil {
		return nil, err
	}
	if err := s.canDAGEntity(r, action, auth.ResourceDAGRun, ids[0]); err != nil {
		return nil, err
	}
	return s.dagRun(r.Context(), ids[0], ids[1])
}

// dagRun reads a run, 404 in Airflow's words when absent.
func (s *Server) dagRun(ctx context.Context, dagID, runID string) (*windsock.DagRun, error) {
	run, err := s.Store.DagRunGet(ctx, dagID, runID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, dagRunNotFound(dagID, runID)
	}
	return run, err
}

// getDagRun is Airflow's get_dag_run.
func (s *Server) getDagRun(w http.ResponseWriter, r *http.Request) error {
	fields, err := returnFields(r, dagRunFields())
	if err != nil {
		return err
	}
	run, err := s.dagRunFor(r, auth.ActionRead)
	if err != nil {
		return err
	}
	v, err := onlyFields(dagRunOut(run), fields)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// dagRunInput is a DAGRun in a trigger request: only the fields a client
// may set; the read-only ones are unknown fields, as Airflow refuses them.
type dagRunInput struct {
	DagRunID          *string         `json:"dag_run_id"`
	LogicalDate       *string         `json:"logical_date"`
	ExecutionDate     *string         `json:"execution_date"`
	DataIntervalStart *string         `json:"data_interval_start"`
	DataIntervalEnd   *string         `json:"data_interval_end"`
	Conf              *map[string]any `json:"conf"`
	Note              *string         `json:"note"`
}

// postDagRun is Airflow's post_dag_run: a manual run, queued; the
// scheduler starts it unless the DAG is paused.
func (s *Server) postDagRun(w http.ResponseWriter, r *http.Request) error {
	ids, err := pathIDs(r, "dag_id")
	if err != nil {
		return err
	}
	dagID := ids[0]
	if err := s.canDAGEntity(r, auth.ActionCreate, auth.ResourceDAGRun, dagID); err != nil {
		return err
	}
	var in dagRunInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	nr, err := s.newRunFrom(&in)
	if err != nil {
		return err
	}
	ctx := r.Context()
	dm, err := s.Store.DAGGet(ctx, dagID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return dagNotFound(dagID)
	}
	if err != nil {
		return err
	}
	if dm.HasImportErrors {
		return windsock.Errorf(windsock.EINVALID, "DAG with dag_id: '%s' has import errors", dagID)
	}
	d, g, err := s.runsDAG(ctx, dagID)
	if err != nil {
		return err
	}
	if nr.RunID == "" {
		nr.RunID = windsock.RunID(windsock.RunTypeManual, nr.LogicalDate)
	}
	if err := s.checkRunClash(ctx, dagID, nr); err != nil {
		return err
	}
	run, err := scheduler.CreateRun(ctx, s.Store, d, g, *nr)
	if windsock.ErrorCode(err) == windsock.ECONFLICT {
		return windsock.Errorf(windsock.ECONFLICT, "DAGRun with DAG ID: '%s' and DAGRun ID: '%s' already exists", dagID, nr.RunID)
	}
	if err != nil {
		return err
	}
	s.runChanged(dagID, run.RunID)
	stored, err := s.dagRun(ctx, dagID, run.RunID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, dagRunOut(stored))
}

// newRunFrom checks a trigger request's fields, with Airflow's defaults:
// the logical date is now and the data interval the timetable's.
func (s *Server) newRunFrom(in *dagRunInput) (*scheduler.NewRun, error) {
	nr := &scheduler.NewRun{RunType: windsock.RunTypeManual, Now: s.Clock()}
	logical, err := bodyTime("logical_date", in.LogicalDate)
	if err != nil {
		return nil, err
	}
	execution, err := bodyTime("execution_date", in.ExecutionDate)
	if err != nil {
		return nil, err
	}
	switch {
	case logical != nil && execution != nil && !logical.Equal(*execution):
		return nil, windsock.Errorf(windsock.EINVALID, "logical_date conflicts with execution_date")
	case logical != nil:
		nr.LogicalDate = *logical
	case execution != nil:
		nr.LogicalDate = *execution
	default:
		nr.LogicalDate = nr.Now
	}
	nr.LogicalDate = nr.LogicalDate.UTC()
	start, err := bodyTime("data_interval_start", in.DataIntervalStart)
	if err != nil {
		return nil, err
	}
	end, err := bodyTime("data_interval_end", in.DataIntervalEnd)
	if err != nil {
		return nil, err
	}
	switch {
	case (start == nil) != (end == nil):
		return nil, windsock.Errorf(windsock.EINVALID, "When providing data_interval_start or data_interval_end, both must be provided")
	case start != nil && start.After(*end):
		return nil, windsock.Errorf(windsock.EINVALID, "data_interval_start must not be after data_interval_end")
	case start != nil:
		nr.Interval = &schedule.DataInterval{Start: start.UTC(), End: end.UTC()}
	}
	if in.DagRunID != nil {
		id := *in.DagRunID
		if len(id) > maxIDLength || !allowedRunID.MatchString(id) {
			return nil, windsock.Errorf(windsock.EINVALID,
				"The run_id provided '%s' does not match the pattern '%s' or is longer than %d characters",
				id, allowedRunID.String(), maxIDLength)
		}
		nr.RunID = id
	}
	if in.Conf != nil {
		nr.Conf = *in.Conf
	}
	if in.Note != nil {
		if len(*in.Note) > maxNoteLength {
			return nil, windsock.Errorf(windsock.EINVALID, "note: at most %d characters, got %d", maxNoteLength, len(*in.Note))
		}
		nr.Note = *in.Note
	}
	return nr, nil
}

// checkRunClash answers 409 in Airflow's words when the DAG already has a
// run with the id or logical date.
func (s *Server) checkRunClash(ctx context.Context, dagID string, nr *scheduler.NewRun) error {
	run, err := scheduler.ExistingRun(ctx, s.Store, dagID, nr.RunID, nr.LogicalDate)
	switch {
	case err != nil:
		return err
	case run == nil:
		return nil
	case run.RunID == nr.RunID:
		return windsock.Errorf(windsock.ECONFLICT, "DAGRun with DAG ID: '%s' and DAGRun ID: '%s' already exists", dagID, nr.RunID)
	}
	return windsock.Errorf(windsock.ECONFLICT, "DAGRun with DAG ID: '%s' and DAGRun logical date: '%s' already exists",
		dagID, windsock.ISOFormat(nr.LogicalDate))
}

// updateDagRunState is the body of update_dag_run_state.
type updateDagRunState struct {
	State *string `json:"state"`
}

// patchDagRun is Airflow's update_dag_run_state: mark a run success or
// failed (finishing its task instances) or queued.
func (s *Server) patchDagRun(w http.ResponseWriter, r *http.Request) error {
	run, err := s.dagRunFor(r, auth.ActionEdit)
	if err != nil {
		return err
	}
	var in updateDagRunState
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.State == nil {
		return windsock.Errorf(windsock.EINVALID, "state: required (success, failed or queued)")
	}
	state := windsock.DagRunState(*in.State)
	switch state {
	case windsock.DagRunSuccess, windsock.DagRunFailed, windsock.DagRunQueued:
	default:
		return windsock.Errorf(windsock.EINVALID, "state: %q is not one of success, failed, queued", *in.State)
	}
	if err := scheduler.SetDagRunState(r.Context(), s.Store, run, state, s.Clock().UTC()); err != nil {
		return err
	}
	s.runChanged(run.DagID, run.RunID)
	return s.writeDagRun(w, r, run.DagID, run.RunID)
}

func (s *Server) writeDagRun(w http.ResponseWriter, r *http.Request, dagID, runID string) error {
	run, err := s.dagRun(r.Context(), dagID, runID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, dagRunOut(run))
}

// deleteDagRun is Airflow's delete_dag_run; the run's task instances,
// XComs and the rest go with it.
func (s *Server) deleteDagRun(w http.ResponseWriter, r *http.Request) error {
	ids, err := pathIDs(r, "dag_id", "dag_run_id")
	if err != nil {
		return err
	}
	if err := s.canDAGEntity(r, auth.ActionDelete, auth.ResourceDAGRun, ids[0]); err != nil {
		return err
	}
	err = s.Store.DagRunDelete(r.Context(), ids[0], ids[1])
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return dagRunNotFound(ids[0], ids[1])
	}
	if err != nil {
		return err
	}
	s.runChanged(ids[0], ids[1])
	return noContent(w)
}

// clearDagRunInput is Airflow's ClearDagRun.
type clearDagRunInput struct {
	DryRun *bool `json:"dry_run"`
}

// clearDagRun is Airflow's clear_dag_run: every task instance of the run
// is cleared and the run queued again. A dry run (the default, as in
// Airflow) answers the task instances that would be cleared; otherwise the
// run is answered.
func (s *Server) clearDagRun(w http.ResponseWriter, r *http.Request) error {
	run, err := s.dagRunFor(r, auth.ActionEdit)
	if err != nil {
		return err
	}
	var in clearDagRunInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	dryRun := in.DryRun == nil || *in.DryRun
	ctx := r.Context()
	d, _, err := s.runsDAG(ctx, run.DagID)
	if err != nil {
		return err
	}
	cleared, err := scheduler.ClearTaskInstances(ctx, s.Store, d, scheduler.ClearParams{
		RunIDs: []string{run.RunID}, DryRun: dryRun, Now: s.Clock().UTC()})
	if err != nil {
		return err
	}
	if !dryRun {
		s.runChanged(run.DagID, run.RunID)
		return s.writeDagRun(w, r, run.DagID, run.RunID)
	}
	if len(cleared) == 0 {
		return writeJSON(w, http.StatusOK, collection("task_instances", []taskInstanceJSON{}, 0))
	}
	taskIDs := make([]string, len(cleared))
	for i, ti := range cleared {
		taskIDs[i] = ti.TaskID
	}
	details, total, err := s.Store.TaskInstanceQuery(ctx, &store.TaskInstanceQueryParams{
		DagIDs: []string{run.DagID}, OnlyDagIDs: true, RunIDs: []string{run.RunID}, TaskIDs: taskIDs})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, collection("task_instances", taskInstancesOut(details), total))
}

// setNoteInput is Airflow's SetDagRunNote and SetTaskInstanceNote.
type setNoteInput struct {
	Note *string `json:"note"`
}

func (in *setNoteInput) check() error {
	if in.Note == nil {
		return windsock.Errorf(windsock.EINVALID, "note: required")
	}
	if len(*in.Note) > maxNoteLength {
		return windsock.Errorf(windsock.EINVALID, "note: at most %d characters, got %d", maxNoteLength, len(*in.Note))
	}
	return nil
}

// setDagRunNote is Airflow's set_dag_run_note.
func (s *Server) setDagRunNote(w http.ResponseWriter, r *http.Request) error {
	run, err := s.dagRunFor(r, auth.ActionEdit)
	if err != nil {
		return err
	}
	var in setNoteInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	run.Note = *in.Note
	if err := s.Store.DagRunUpdate(r.Context(), run); err != nil {
		return err
	}
	return s.writeDagRun(w, r, run.DagID, run.RunID)
}

// dagScope reads the dag_id path value of a list endpoint: "~" means every
// DAG the caller may read (only set: the ids are the whole filter), a DAG
// id is checked and needs read access on resource for that DAG.
func (s *Server) dagScope(r *http.Request, resource string) (ids []string, only bool, err error) {
	dagID := r.PathValue("dag_id")
	if dagID == wildcard {
		ids, only = s.readableFilter(r.Context(), r)
		return ids, only, nil
	}
	if err := checkPathID("dag_id", dagID); err != nil {
		return nil, false, err
	}
	if err := s.canDAGEntity(r, auth.ActionRead, resource, dagID); err != nil {
		return nil, false, err
	}
	return []string{dagID}, true, nil
}
