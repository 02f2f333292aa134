package api

import (
	"net/http"
	"slices"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// dagStatsJSON is Airflow's DagStatsCollectionItem.
type dagStatsJSON struct {
	DagID string        `json:"dag_id"`
	Stats []dagStatJSON `json:"stats"`
}

// dagStatJSON is Airflow's DagStatsStateCollectionItem.
type dagStatJSON struct {
	State string `json:"state"`
	Count int    `json:"count"`
}

// getDagStats is Airflow's get_dag_stats (2.10 shape): for each DAG of
// dag_ids that exists and that the user may read, the number of its runs
// in every run state, zeros included. DAGs come in dag_id order.
func (s *Server) getDagStats(w http.ResponseWriter, r *http.Request) error {
	var requested []string
	for _, v := range r.URL.Query()["dag_ids"] {
		for _, id := range commaList(v) {
			if err := checkPathID("dag_ids", id); err != nil {
				return err
			}
			requested = append(requested, id)
		}
	}
	if len(requested) == 0 {
		return windsock.Errorf(windsock.EINVALID, "dag_ids is required: one or more DAG ids separated by commas")
	}
	ctx := r.Context()
	if readable, only := s.readableFilter(ctx, r); only {
		requested = slices.DeleteFunc(requested, func(id string) bool { return !slices.Contains(readable, id) })
	}
	var dags []*windsock.DAGModel
	if len(requested) > 0 {
		var err error
		if dags, _, err = s.Store.DAGQuery(ctx, &store.DAGQueryParams{RestrictDAGs: true, DagIDs: requested}); err != nil {
			return err
		}
	}
	states := []windsock.DagRunState{windsock.DagRunQueued, windsock.DagRunRunning, windsock.DagRunSuccess, windsock.DagRunFailed}
	counts := make([]map[string]int, len(states))
	for i, st := range states {
		if len(dags) == 0 {
			break
		}
		var err error
		if counts[i], err = s.Store.DagRunCounts(ctx, []windsock.DagRunState{st}); err != nil {
			return err
		}
	}
	out := make([]dagStatsJSON, len(dags))
	for i, m := range dags {
		out[i] = dagStatsJSON{DagID: m.DagID, Stats: make([]dagStatJSON, len(states))}
		for j, st := range states {
			out[i].Stats[j] = dagStatJSON{State: string(st), Count: counts[j][m.DagID]}
		}
	}
	return writeJSON(w, http.StatusOK, collection("dags", out, len(out)))
}
