package api

import (
	"cmp"
	"fmt"
	"net/http"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// dagWarningJSON is Airflow's DagWarning.
type dagWarningJSON struct {
	DagID       string `json:"dag_id"`
	WarningType string `json:"warning_type"`
	Message     string `json:"message"`
	Timestamp   string `json:"timestamp"`
}

func dagWarningOrder() metaOrder[dagWarningJSON] {
	return metaOrder[dagWarningJSON]{
		"dag_id":       func(a, b dagWarningJSON) int { return cmp.Compare(a.DagID, b.DagID) },
		"warning_type": func(a, b dagWarningJSON) int { return cmp.Compare(a.WarningType, b.WarningType) },
		"message":      func(a, b dagWarningJSON) int { return cmp.Compare(a.Message, b.Message) },
		"timestamp":    func(a, b dagWarningJSON) int { return cmp.Compare(a.Timestamp, b.Timestamp) },
	}
}

// getDagWarnings is Airflow's get_dag_warnings. Windsock's warnings follow
// from a DAG's definition (tasks of provider classes the environment
// lacks), so they are read from the stored definitions of the active DAGs
// the user may read, dated when the definition was stored.
func (s *Server) getDagWarnings(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	order := dagWarningOrder()
	pg, err := s.pageParams(r, order.fields())
	if err != nil {
		return err
	}
	q := r.URL.Query()
	dagID, warningType := q.Get("dag_id"), q.Get("warning_type")
	all, readable := s.authz.ReadableDAGs(ctx, userFrom(r))
	dags, err := s.Store.DAGList(ctx, &store.DAGListParams{OnlyActive: true})
	if err != nil {
		return err
	}
	items := []dagWarningJSON{}
	for _, m := range dags {
		if (dagID != "" && m.DagID != dagID) || (!all && !readable[m.DagID]) {
			continue
		}
		sd, err := s.Store.SerializedDAGGet(ctx, m.DagID)
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			continue // deleted since the list was read
		}
		if err != nil {
			return err
		}
		var d windsock.DAG
		if err := windsock.DecodeJSON(sd.Data, &d); err != nil {
			return fmt.Errorf("decode definition of dag %s: %w", m.DagID, err)
		}
		for _, dw := range d.Warnings() {
			if warningType == "" || dw.WarningType == warningType {
				items = append(items, dagWarningJSON{DagID: dw.DagID, WarningType: dw.WarningType, Message: dw.Message,
					Timestamp: windsock.ISOFormat(sd.LastUpdated)})
			}
		}
	}
	total := len(items)
	return writeJSON(w, http.StatusOK, collection("dag_warnings", metaPage(items, pg, order, "timestamp"), total))
}
