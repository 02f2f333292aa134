package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// datasetRow is one dataset of the Datasets page with its latest event.
type datasetRow struct {
	*windsock.Dataset
	Latest *windsock.DatasetEvent
	// Hidden counts the producers and consumers the user may not read
	// (left out); LatestHidden is set when the latest event came from a
	// DAG they may not read.
	Hidden       int
	LatestHidden bool
}

type datasetsData struct {
	Filters []filterField
	Pager   pager
	Rows    []datasetRow
}

// datasetsPage lists the datasets with the tasks that update them, the
// DAGs scheduled on them and their latest event, as Airflow's Datasets
// view does.
func (s *Server) datasetsPage(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, auth.ActionRead, auth.ResourceDataset); err != nil {
		return err
	}
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	search := strings.TrimSpace(r.URL.Query().Get("uri"))
	ds, total, err := s.Store.DatasetList(r.Context(), &store.DatasetListParams{URIPattern: search, OrderBy: "uri",
		Limit: s.PageSize, Offset: (page - 1) * s.PageSize})
	if err != nil {
		return err
	}
	rows := make([]datasetRow, len(ds))
	for i, d := range ds {
		rows[i].Dataset = d
		// One query per dataset of the page: a page is small, and the
		// (dataset_id, timestamp) index answers each at once.
		evs, _, err := s.Store.DatasetEventList(r.Context(), &store.DatasetEventListParams{DatasetID: d.ID, Limit: 1})
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			rows[i].Latest = evs[0]
		}
	}
	s.datasetLinks(r, rows)
	data := datasetsData{Rows: rows, Pager: newPager(r, page, s.PageSize, total),
		Filters: []filterField{{Name: "uri", Label: "URI contains", Value: search}}}
	return s.render(w, r, http.StatusOK, "datasets", Page{Title: "Datasets", Nav: "datasets", Data: data})
}

// isDatasetScheduled reports whether a DAG row's schedule waits for
// datasets (alone or with a time schedule), from the timetable
// description the DAG processor stores.
func isDatasetScheduled(d *windsock.DAGModel) bool {
	return strings.HasPrefix(d.TimetableDescription, "Triggered by datasets")
}

// consumedDatasets returns, for the dataset-scheduled DAGs among dags,
// the URIs each is scheduled on: one query for the page.
func (s *Server) consumedDatasets(r *http.Request, dags []*windsock.DAGModel) (map[string][]string, error) {
	var ids []string
	for _, d := range dags {
		if isDatasetScheduled(d) {
			ids = append(ids, d.DagID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	ds, _, err := s.Store.DatasetList(r.Context(), &store.DatasetListParams{DagIDs: ids, OrderBy: "uri"})
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, d := range ds {
		for _, c := range d.ConsumingDAGs {
			if slices.Contains(ids, c.DagID) {
				out[c.DagID] = append(out[c.DagID], d.URI)
			}
		}
	}
	return out, nil
}
