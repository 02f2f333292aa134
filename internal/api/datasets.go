package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// datasetRoutes are Airflow's dataset endpoints (2.4+, queued events
// 2.9, external events 2.9/2.10). A dataset URI in a path is its
// URL-encoded form, as in Airflow; unencoded slashes are accepted too.
func (s *Server) datasetRoutes() []route {
	read, del := need(auth.ActionRead, auth.ResourceDataset), need(auth.ActionDelete, auth.ResourceDataset)
	return []route{
		{"GET /datasets", "get_datasets", read, s.getDatasets},
		{"GET /datasets/events", "get_dataset_events", read, s.getDatasetEvents},
		{"POST /datasets/events", "create_dataset_event", need(auth.ActionCreate, auth.ResourceDataset), s.createDatasetEvent},
		{"GET /datasets/queuedEvent/{uri...}", "get_dataset_queued_events", read, s.getQueuedEvents},
		{"DELETE /datasets/queuedEvent/{uri...}", "delete_dataset_queued_events", del, s.deleteQueuedEvents},
		{"GET /datasets/{uri...}", "get_dataset", read, s.getDataset},
		{"GET /dags/{dag_id}/datasets/queuedEvent", "get_dag_dataset_queued_events", read, s.getQueuedEvents},
		{"DELETE /dags/{dag_id}/datasets/queuedEvent", "delete_dag_dataset_queued_events", del, s.deleteQueuedEvents},
		{"GET /dags/{dag_id}/datasets/queuedEvent/{uri...}", "get_dag_dataset_queued_event", read, s.getQueuedEvents},
		{"DELETE /dags/{dag_id}/datasets/queuedEvent/{uri...}", "delete_dag_dataset_queued_event", del, s.deleteQueuedEvents},
		{"GET /dags/{dag_id}/dagRuns/{dag_run_id}/upstreamDatasetEvents", "get_upstream_dataset_events", read, s.getUpstreamDatasetEvents},
	}
}

// datasetJSON is Airflow's Dataset.
type datasetJSON struct {
	ID             int64            `json:"id"`
	URI            string           `json:"uri"`
	Extra          map[string]any   `json:"extra"`
	CreatedAt      string           `json:"created_at"`
	UpdatedAt      string           `json:"updated_at"`
	ConsumingDAGs  []datasetRefJSON `json:"consuming_dags"`
	ProducingTasks []datasetRefJSON `json:"producing_tasks"`
}

// datasetRefJSON is DagScheduleDatasetReference, or with TaskID
// TaskOutletDatasetReference.
type datasetRefJSON struct {
	DagID     string  `json:"dag_id"`
	TaskID    *string `json:"task_id,omitempty"`
	CreatedAt string  `json:"created_at"`
	UpdatedAt string  `json:"updated_at"`
}

// isoTime writes a time as Airflow's dataset schemas do (a string).
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func datasetOut(d *windsock.Dataset) datasetJSON {
	out := datasetJSON{ID: d.ID, URI: d.URI, Extra: d.Extra, CreatedAt: isoTime(d.CreatedAt), UpdatedAt: isoTime(d.UpdatedAt),
		ConsumingDAGs: []datasetRefJSON{}, ProducingTasks: []datasetRefJSON{}}
	for _, c := range d.ConsumingDAGs {
		out.ConsumingDAGs = append(out.ConsumingDAGs, datasetRefJSON{DagID: c.DagID, CreatedAt: isoTime(c.CreatedAt), UpdatedAt: isoTime(c.UpdatedAt)})
	}
	for _, p := range d.ProducingTasks {
		out.ProducingTasks = append(out.ProducingTasks, datasetRefJSON{DagID: p.DagID, TaskID: &p.TaskID, CreatedAt: isoTime(p.CreatedAt), UpdatedAt: isoTime(p.UpdatedAt)})
	}
	return out
}

// getDatasets is Airflow's get_datasets.
func (s *Server) getDatasets(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pageParams(r, []string{"id", "uri", "created_at", "updated_at"})
	if err != nil {
		return err
	}
	q := r.URL.Query()
	ds, total, err := s.Store.DatasetList(r.Context(), &store.DatasetListParams{
		URIPattern: q.Get("uri_pattern"), DagIDs: commaList(q.Get("dag_ids")), OrderBy: p.OrderBy, Limit: p.Limit, Offset: p.Offset,
	})
	if err != nil {
		return err
	}
	out := make([]datasetJSON, len(ds))
	for i, d := range ds {
		out[i] = datasetOut(d)
	}
	return writeJSON(w, http.StatusOK, collection("datasets", out, total))
}

// getDataset is Airflow's get_dataset.
func (s *Server) getDataset(w http.ResponseWriter, r *http.Request) error {
	d, err := s.Store.DatasetGet(r.Context(), r.PathValue("uri"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, datasetOut(d))
}

// datasetEventJSON is Airflow's DatasetEvent.
type datasetEventJSON struct {
	ID             int64          `json:"id"`
	DatasetID      int64          `json:"dataset_id"`
	DatasetURI     string         `json:"dataset_uri"`
	Extra          map[string]any `json:"extra"`
	SourceDagID    *string        `json:"source_dag_id"`
	SourceTaskID   *string        `json:"source_task_id"`
	SourceRunID    *string        `json:"source_run_id"`
	SourceMapIndex int            `json:"source_map_index"`
	CreatedDagRuns []basicRunJSON `json:"created_dagruns"`
	Timestamp      string         `json:"timestamp"`
}

// basicRunJSON is Airflow's BasicDAGRun.
type basicRunJSON struct {
	RunID             string     `json:"run_id"`
	DagID             string     `json:"dag_id"`
	LogicalDate       time.Time  `json:"logical_date"`
	StartDate         *time.Time `json:"start_date"`
	EndDate           *time.Time `json:"end_date"`
	State             string     `json:"state"`
	DataIntervalStart *time.Time `json:"data_interval_start"`
	DataIntervalEnd   *time.Time `json:"data_interval_end"`
}

func datasetEventOut(e *windsock.DatasetEvent) datasetEventJSON {
	out := datasetEventJSON{
		ID: e.ID, DatasetID: e.DatasetID, DatasetURI: e.DatasetURI, Extra: e.Extra, SourceDagID: metaNullable(e.SourceDagID),
		SourceTaskID: metaNullable(e.SourceTaskID), SourceRunID: metaNullable(e.SourceRunID), SourceMapIndex: e.SourceMapIndex,
		CreatedDagRuns: []basicRunJSON{}, Timestamp: isoTime(e.Timestamp),
	}
	for _, r := range e.CreatedDagRuns {
		full := dagRunOut(r)
		out.CreatedDagRuns = append(out.CreatedDagRuns, basicRunJSON{
			RunID: full.DagRunID, DagID: full.DagID, LogicalDate: full.LogicalDate, StartDate: full.StartDate, EndDate: full.EndDate,
			State: full.State, DataIntervalStart: full.DataIntervalStart, DataIntervalEnd: full.DataIntervalEnd,
		})
	}
	return out
}

func datasetEventsOut(evs []*windsock.DatasetEvent) []datasetEventJSON {
	out := make([]datasetEventJSON, len(evs))
	for i, e := range evs {
		out[i] = datasetEventOut(e)
	}
	return out
}

// getDatasetEvents is Airflow's get_dataset_events.
func (s *Server) getDatasetEvents(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pageParams(r, []string{"id", "dataset_id", "source_dag_id", "source_task_id", "source_run_id", "source_map_index", "timestamp"})
	if err != nil {
		return err
	}
	q := r.URL.Query()
	params := &store.DatasetEventListParams{
		SourceDagID: q.Get("source_dag_id"), SourceTaskID: q.Get("source_task_id"), SourceRunID: q.Get("source_run_id"),
		OrderBy: p.OrderBy, Limit: p.Limit, Offset: p.Offset,
	}
	if v := q.Get("dataset_id"); v != "" {
		if params.DatasetID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return windsock.Errorf(windsock.EINVALID, "dataset_id: expected an integer, got %q", v)
		}
	}
	if params.SourceMapIndex, err = metaQueryInt(r, "source_map_index"); err != nil {
		return err
	}
	evs, total, err := s.Store.DatasetEventList(r.Context(), params)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, collection("dataset_events", datasetEventsOut(evs), total))
}

// createDatasetEvent is Airflow's create_dataset_event: an event recorded
// as a producer's success records it, waking the schedulers of the
// consumers.
func (s *Server) createDatasetEvent(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		DatasetURI *string        `json:"dataset_uri"`
		Extra      map[string]any `json:"extra"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.DatasetURI == nil || *in.DatasetURI == "" {
		return windsock.Errorf(windsock.EINVALID, "'dataset_uri' is a required property")
	}
	var ev *windsock.DatasetEvent
	err := s.Store.InTx(r.Context(), func(q store.Queries) error {
		var err error
		ev, err = scheduler.RecordDatasetEvent(r.Context(), q, &store.DatasetEventCreateParams{
			URI: *in.DatasetURI, Extra: in.Extra, SourceMapIndex: -1, Timestamp: s.Clock(),
		})
		return err
	})
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return windsock.Errorf(windsock.ENOTFOUND, "Dataset with uri: '%s' not found", *in.DatasetURI)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, datasetEventOut(ev))
}

// queuedEventJSON is Airflow's QueuedEvent.
type queuedEventJSON struct {
	URI       string    `json:"uri"`
	DagID     string    `json:"dag_id"`
	CreatedAt time.Time `json:"created_at"`
}

// queuedParams reads the queued-event endpoints' dag_id, uri and before,
// checking that the user may read the DAG named.
func (s *Server) queuedParams(r *http.Request) (*store.DatasetQueueParams, error) {
	p := &store.DatasetQueueParams{DagID: r.PathValue("dag_id"), URI: r.PathValue("uri")}
	if p.DagID != "" {
		if err := s.canDAG(r, auth.ActionRead, p.DagID); err != nil {
			return nil, err
		}
	}
	before, err := queryTime(r, "before")
	p.Before = before
	return p, err
}

// getQueuedEvents serves get_dataset_queued_events,
// get_dag_dataset_queued_events and get_dag_dataset_queued_event. Events
// of DAGs the user may not read are left out; none found is a 404, as in
// Airflow.
func (s *Server) getQueuedEvents(w http.ResponseWriter, r *http.Request) error {
	p, err := s.queuedParams(r)
	if err != nil {
		return err
	}
	qs, err := s.Store.DatasetQueueList(r.Context(), p)
	if err != nil {
		return err
	}
	out := []queuedEventJSON{}
	for _, q := range qs {
		if s.authz.CanDAG(r.Context(), userFrom(r), auth.ActionRead, q.TargetDagID) {
			out = append(out, queuedEventJSON{URI: q.URI, DagID: q.TargetDagID, CreatedAt: q.CreatedAt.UTC()})
		}
	}
	if len(out) == 0 {
		return windsock.Errorf(windsock.ENOTFOUND, "Queue event not found")
	}
	if p.DagID != "" && p.URI != "" {
		return writeJSON(w, http.StatusOK, out[0])
	}
	// Airflow names the list "datasets" in QueuedEventCollection.
	return writeJSON(w, http.StatusOK, collection("datasets", out, len(out)))
}

// deleteQueuedEvents serves the three delete_*queued_event* operations.
// Deleting by URI alone needs edit access to every DAG it would touch.
func (s *Server) deleteQueuedEvents(w http.ResponseWriter, r *http.Request) error {
	p, err := s.queuedParams(r)
	if err != nil {
		return err
	}
	if p.DagID == "" {
		qs, err := s.Store.DatasetQueueList(r.Context(), p)
		if err != nil {
			return err
		}
		for _, q := range qs {
			if err := s.canDAG(r, auth.ActionEdit, q.TargetDagID); err != nil {
				return err
			}
		}
	} else if err := s.canDAG(r, auth.ActionEdit, p.DagID); err != nil {
		return err
	}
	deleted, err := s.Store.DatasetQueueDelete(r.Context(), p)
	if err != nil {
		return err
	}
	if len(deleted) == 0 {
		return windsock.Errorf(windsock.ENOTFOUND, "Queue event not found")
	}
	return noContent(w)
}

// getUpstreamDatasetEvents is Airflow's get_upstream_dataset_events: the
// events that triggered a run.
func (s *Server) getUpstreamDatasetEvents(w http.ResponseWriter, r *http.Request) error {
	dagID, runID := r.PathValue("dag_id"), r.PathValue("dag_run_id")
	if err := s.canDAG(r, auth.ActionRead, dagID); err != nil {
		return err
	}
	run, err := s.Store.DagRunGet(r.Context(), dagID, runID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return windsock.Errorf(windsock.ENOTFOUND, "DAGRun with DAG ID: '%s' and DagRun ID: '%s' not found", dagID, runID)
	}
	if err != nil {
		return err
	}
	evs, total, err := s.Store.DatasetEventList(r.Context(), &store.DatasetEventListParams{DagRunID: run.ID, OrderBy: "timestamp"})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, collection("dataset_events", datasetEventsOut(evs), total))
}

// datasetExpressionOut is DAGDetail's dataset_expression: the condition
// as Airflow stores it, a lone dataset written as {"all": [uri]} (the
// field is an object in Airflow's schema).
func datasetExpressionOut(c *windsock.DatasetCondition) map[string]any {
	switch e := c.Expression().(type) {
	case map[string]any:
		return e
	case string:
		return map[string]any{"all": []any{e}}
	}
	return nil
}
