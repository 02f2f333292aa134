package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// maxDagIDPatternLength bounds dag_id_pattern: twice a dag_id, so that a
// fully escaped id still fits.
const maxDagIDPatternLength = 2 * maxIDLength

// canDAG returns forbidden() unless the request's user may do action on
// the DAG.
func (s *Server) canDAG(r *http.Request, action, dagID string) error {
	if !s.authz.CanDAG(r.Context(), userFrom(r), action, dagID) {
		return forbidden()
	}
	return nil
}

// dagPathID reads and checks the dag_id path value, then checks that the
// user may do action on that DAG. As in Airflow, access is decided before
// the DAG is looked up: a user limited to some DAGs gets 403, not 404,
// for any other id.
func (s *Server) dagPathID(r *http.Request, action string) (string, error) {
	ids, err := pathIDs(r, "dag_id")
	if err != nil {
		return "", err
	}
	return ids[0], s.canDAG(r, action, ids[0])
}

// dagListFilter is what get_dags and patch_dags share: tags, only_active
// and dag_id_pattern.
func dagListFilter(r *http.Request) (*store.DAGQueryParams, error) {
	q := r.URL.Query()
	onlyActive, err := queryBool(r, "only_active")
	if err != nil {
		return nil, err
	}
	p := &store.DAGQueryParams{OnlyActive: onlyActive == nil || *onlyActive}
	for _, t := range q["tags"] {
		if t != "" {
			p.Tags = append(p.Tags, t)
		}
	}
	p.DagIDPattern = q.Get("dag_id_pattern")
	if len(p.DagIDPattern) > maxDagIDPatternLength {
		return nil, windsock.Errorf(windsock.EINVALID, "dag_id_pattern must be at most %d characters, got %d",
			maxDagIDPatternLength, len(p.DagIDPattern))
	}
	return p, nil
}

// getDags is Airflow's get_dags.
func (s *Server) getDags(w http.ResponseWriter, r *http.Request) error {
	pg, err := s.pageParams(r, []string{"dag_id"})
	if err != nil {
		return err
	}
	params, err := dagListFilter(r)
	if err != nil {
		return err
	}
	if params.Paused, err = queryBool(r, "paused"); err != nil {
		return err
	}
	fields, err := returnFields(r, dagFields())
	if err != nil {
		return err
	}
	// Airflow lets a user list DAGs only if they may read at least one.
	ids, only := s.readableFilter(r.Context(), r)
	if only && len(ids) == 0 {
		return forbidden()
	}
	params.RestrictDAGs, params.DagIDs = only, ids
	params.OrderBy, params.Limit, params.Offset = pg.OrderBy, pg.Limit, pg.Offset
	dags, total, err := s.Store.DAGQuery(r.Context(), params)
	if err != nil {
		return err
	}
	return s.writeDags(w, dags, total, fields)
}

// writeDags answers a DAGCollection.
func (s *Server) writeDags(w http.ResponseWriter, dags []*windsock.DAGModel, total int, fields []string) error {
	items := make([]any, len(dags))
	for i, m := range dags {
		v, err := onlyFields(s.dagOut(m), fields)
		if err != nil {
			return err
		}
		items[i] = v
	}
	return writeJSON(w, http.StatusOK, collection("dags", items, total))
}

// getDag is Airflow's get_dag: the dag row only.
func (s *Server) getDag(w http.ResponseWriter, r *http.Request) error {
	dagID, err := s.dagPathID(r, auth.ActionRead)
	if err != nil {
		return err
	}
	fields, err := returnFields(r, dagFields())
	if err != nil {
		return err
	}
	m, err := s.dagModel(r.Context(), dagID)
	if err != nil {
		return err
	}
	v, err := onlyFields(s.dagOut(m), fields)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// dagModel returns the dag row; 404 in Airflow's words when there is none.
func (s *Server) dagModel(ctx context.Context, dagID string) (*windsock.DAGModel, error) {
	m, err := s.Store.DAGGet(ctx, dagID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "The DAG with dag_id: %s was not found", dagID)
	}
	return m, err
}

// getDagDetails is Airflow's get_dag_details: the dag row and the
// definition.
func (s *Server) getDagDetails(w http.ResponseWriter, r *http.Request) error {
	dagID, err := s.dagPathID(r, auth.ActionRead)
	if err != nil {
		return err
	}
	fields, err := returnFields(r, dagDetailFields())
	if err != nil {
		return err
	}
	m, err := s.dagModel(r.Context(), dagID)
	if err != nil {
		return err
	}
	d, _, err := s.runsDAG(r.Context(), dagID)
	if err != nil {
		return err
	}
	v, err := onlyFields(s.dagDetailOut(m, d), fields)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// dagPatchInput is a DAG in a PATCH body: only is_paused may change;
// every other DAG field is read-only, so it is an unknown field here.
type dagPatchInput struct {
	IsPaused *bool `json:"is_paused"`
}

// pausedFrom reads a DAG PATCH body and its update_mask, which may only
// name is_paused, as in Airflow.
func pausedFrom(r *http.Request) (bool, error) {
	var in dagPatchInput
	if err := decodeJSON(r, &in); err != nil {
		return false, err
	}
	for _, v := range r.URL.Query()["update_mask"] {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" && f != "is_paused" {
				return false, windsock.Errorf(windsock.EINVALID, "Only `is_paused` field can be updated through the REST API")
			}
		}
	}
	if in.IsPaused == nil {
		return false, windsock.Errorf(windsock.EINVALID, "is_paused: a boolean is required")
	}
	return *in.IsPaused, nil
}

// patchDag is Airflow's patch_dag: pause or unpause one DAG.
func (s *Server) patchDag(w http.ResponseWriter, r *http.Request) error {
	dagID, err := s.dagPathID(r, auth.ActionEdit)
	if err != nil {
		return err
	}
	paused, err := pausedFrom(r)
	if err != nil {
		return err
	}
	err = s.Store.DAGSetPaused(r.Context(), dagID, paused)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return windsock.Errorf(windsock.ENOTFOUND, "Dag with id: '%s' not found", dagID)
	}
	if err != nil {
		return err
	}
	m, err := s.dagModel(r.Context(), dagID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.dagOut(m))
}

// patchDags is Airflow's patch_dags: pause or unpause one page of the
// DAGs the user may edit whose dag_id matches dag_id_pattern ("~" for
// all), ordered by dag_id. The answer is that page, after the change.
func (s *Server) patchDags(w http.ResponseWriter, r *http.Request) error {
	ctx, user := r.Context(), userFrom(r)
	editAll := s.authz.Can(ctx, user, auth.ActionEdit, auth.ResourceDAG)
	if !editAll && !s.canEditAnyDAG(ctx, user) {
		return forbidden()
	}
	pg, err := s.pageParams(r, nil)
	if err != nil {
		return err
	}
	params, err := dagListFilter(r)
	if err != nil {
		return err
	}
	if !r.URL.Query().Has("dag_id_pattern") {
		return windsock.Errorf(windsock.EINVALID, "dag_id_pattern is required (use ~ for every DAG)")
	}
	if params.DagIDPattern == wildcard {
		params.DagIDPattern = ""
	}
	paused, err := pausedFrom(r)
	if err != nil {
		return err
	}
	// Editable DAGs are decided per DAG unless the user may edit them
	// all, so the matching DAGs are read whole and paged here.
	if !editAll {
		params.Limit, params.Offset = 0, 0
	} else {
		params.Limit, params.Offset = pg.Limit, pg.Offset
	}
	dags, total, err := s.Store.DAGQuery(ctx, params)
	if err != nil {
		return err
	}
	if !editAll {
		dags = slices.DeleteFunc(dags, func(m *windsock.DAGModel) bool {
			return !s.authz.CanDAG(ctx, user, auth.ActionEdit, m.DagID)
		})
		total = len(dags)
		dags = dags[min(pg.Offset, len(dags)):min(pg.Offset+pg.Limit, len(dags))]
	}
	ids := make([]string, len(dags))
	for i, m := range dags {
		ids[i] = m.DagID
		m.IsPaused = paused
	}
	if err := s.Store.DAGSetPausedMany(ctx, ids, paused); err != nil {
		return err
	}
	return s.writeDags(w, dags, total, nil)
}

// canEditAnyDAG reports whether the user may edit at least one DAG, which
// Airflow requires before a bulk change.
func (s *Server) canEditAnyDAG(ctx context.Context, user *windsock.User) bool {
	all, err := s.Store.DAGList(ctx, nil)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(all, func(m *windsock.DAGModel) bool {
		return s.authz.CanDAG(ctx, user, auth.ActionEdit, m.DagID)
	})
}

// deleteDag is Airflow's delete_dag.
func (s *Server) deleteDag(w http.ResponseWriter, r *http.Request) error {
	dagID, err := s.dagPathID(r, auth.ActionDelete)
	if err != nil {
		return err
	}
	if err := s.Store.DAGDelete(r.Context(), dagID); err != nil {
		return err
	}
	return noContent(w)
}
