package api

import (
	"net/http"
	"strconv"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// getDagSource is Airflow's get_dag_source: the source of the file a
// file_token names, as text/plain or as JSON {"content": ...} depending on
// Accept. A token the server did not sign is 404, as in Airflow; a user
// who may not read every DAG of the file gets 403.
func (s *Server) getDagSource(w http.ResponseWriter, r *http.Request) error {
	notFound := windsock.Errorf(windsock.ENOTFOUND, "Dag source not found")
	hash, ok := s.filelocHashOf(r.PathValue("file_token"))
	if !ok {
		return notFound
	}
	code, err := s.Store.DAGCodeGet(r.Context(), hash)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return notFound
	}
	if err != nil {
		return err
	}
	dags, err := s.Store.DAGList(r.Context(), &store.DAGListParams{Fileloc: code.Fileloc})
	if err != nil {
		return err
	}
	for _, m := range dags {
		if err := s.canDAG(r, auth.ActionRead, m.DagID); err != nil {
			return err
		}
	}
	// Without Accept, text/plain: the first of Airflow's offers.
	mediaType := "text/plain"
	if len(r.Header.Values("Accept")) > 0 {
		if mediaType, err = negotiate(r, "text/plain", "application/json"); err != nil {
			return err
		}
	}
	if mediaType == "application/json" {
		return writeJSON(w, http.StatusOK, map[string]string{"content": code.SourceCode})
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(code.SourceCode)))
	w.WriteHeader(http.StatusOK)
	// A failed write means the client went away.
	_, _ = w.Write([]byte(code.SourceCode))
	return nil
}
