package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// setupDatasets is a server whose store has a producer (task load updates
// s3://b/x) and an unpaused consumer of s3://b/x.
func setupDatasets(t *testing.T) *env {
	t.Helper()
	e := setup(t)
	for _, id := range []string{"producer", "consumer"} {
		if err := e.st.DAGUpsert(e.ctx, &store.DAGUpsertParams{DagID: id, Fileloc: "/dags/d.yaml", MaxActiveTasks: 16, MaxActiveRuns: 16, LastParsedTime: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.st.DatasetReferencesSet(e.ctx, &store.DatasetReferencesSetParams{DagID: "producer", Outlets: map[string][]string{"load": {"s3://b/x"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.DatasetReferencesSet(e.ctx, &store.DatasetReferencesSetParams{DagID: "consumer", Schedule: windsock.DatasetURI("s3://b/x")}); err != nil {
		t.Fatal(err)
	}
	return e
}

func decodeBody(t *testing.T, r response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	return m
}

func TestDatasetEndpoints(t *testing.T) {
	t.Parallel()
	e := setupDatasets(t)
	uri := url.PathEscape("s3://b/x")

	r := e.do("GET", "/api/v1/datasets?uri_pattern=b/", "viewer", nil)
	m := decodeBody(t, r)
	ds, _ := m["datasets"].([]any)
	if r.status != http.StatusOK || m["total_entries"] != 1.0 || len(ds) != 1 {
		t.Fatalf("GET /datasets: %d %s", r.status, r.body)
	}
	d := ds[0].(map[string]any)
	if d["uri"] != "s3://b/x" || len(d["consuming_dags"].([]any)) != 1 || d["producing_tasks"].([]any)[0].(map[string]any)["task_id"] != "load" {
		t.Fatalf("dataset = %v, want consumer and producer.load", d)
	}
	if r := e.do("GET", "/api/v1/datasets/"+uri, "viewer", nil); r.status != http.StatusOK || decodeBody(t, r)["uri"] != "s3://b/x" {
		t.Fatalf("GET /datasets/{uri}: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/datasets/"+url.PathEscape("s3://nope"), "viewer", nil); r.status != http.StatusNotFound {
		t.Fatalf("GET /datasets/{unknown}: %d", r.status)
	}

	// External events: Op may post them, Viewer may not.
	if r := e.do("POST", "/api/v1/datasets/events", "viewer", map[string]any{"dataset_uri": "s3://b/x"}); r.status != http.StatusForbidden {
		t.Fatalf("viewer POST /datasets/events: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/datasets/events", "op", map[string]any{"extra": map[string]any{}}); r.status != http.StatusBadRequest {
		t.Fatalf("POST without dataset_uri: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/datasets/events", "op", map[string]any{"dataset_uri": "s3://nope"}); r.status != http.StatusNotFound {
		t.Fatalf("POST of an unknown dataset: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/datasets/events", "op", map[string]any{"dataset_uri": "s3://b/x", "extra": map[string]any{"from": "api"}})
	if ev := decodeBody(t, r); r.status != http.StatusOK || ev["dataset_uri"] != "s3://b/x" || ev["source_map_index"] != -1.0 || ev["extra"].(map[string]any)["from"] != "api" {
		t.Fatalf("POST /datasets/events: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/api/v1/datasets/events?source_map_index=-1&order_by=-timestamp", "viewer", nil)
	if m := decodeBody(t, r); r.status != http.StatusOK || m["total_entries"] != 1.0 {
		t.Fatalf("GET /datasets/events: %d %s", r.status, r.body)
	}

	// The event is queued for the consumer.
	r = e.do("GET", "/api/v1/dags/consumer/datasets/queuedEvent", "viewer", nil)
	if m := decodeBody(t, r); r.status != http.StatusOK || m["total_entries"] != 1.0 {
		t.Fatalf("GET /dags/consumer/datasets/queuedEvent: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/api/v1/dags/consumer/datasets/queuedEvent/"+uri, "viewer", nil)
	if m := decodeBody(t, r); r.status != http.StatusOK || m["dag_id"] != "consumer" || m["uri"] != "s3://b/x" {
		t.Fatalf("GET /dags/consumer/datasets/queuedEvent/{uri}: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/datasets/queuedEvent/"+uri+"?before=2000-01-01T00:00:00Z", "viewer", nil); r.status != http.StatusNotFound {
		t.Fatalf("queued events before 2000: %d, want 404", r.status)
	}
	if r := e.do("DELETE", "/api/v1/datasets/queuedEvent/"+uri, "viewer", nil); r.status != http.StatusForbidden {
		t.Fatalf("viewer DELETE: %d", r.status)
	}
	if r := e.do("DELETE", "/api/v1/dags/consumer/datasets/queuedEvent/"+uri, "op", nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/v1/dags/consumer/datasets/queuedEvent", "op", nil); r.status != http.StatusNotFound {
		t.Fatalf("DELETE of nothing: %d, want 404", r.status)
	}
}

func TestUpstreamDatasetEvents(t *testing.T) {
	t.Parallel()
	e := setupDatasets(t)
	ev, _, err := e.st.DatasetEventCreate(e.ctx, &store.DatasetEventCreateParams{URI: "s3://b/x", SourceDagID: "producer", SourceTaskID: "load", SourceRunID: "r1", SourceMapIndex: -1})
	if err != nil {
		t.Fatal(err)
	}
	at := ev.Timestamp
	run := &windsock.DagRun{DagID: "consumer", RunID: windsock.RunID(windsock.RunTypeDatasetTriggered, at), LogicalDate: at,
		State: windsock.DagRunQueued, RunType: windsock.RunTypeDatasetTriggered, DataIntervalStart: &at, DataIntervalEnd: &at}
	if err := e.st.DagRunCreate(e.ctx, &store.DagRunCreateParams{Run: run}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.DagRunDatasetEventsLink(e.ctx, run.ID, []int64{ev.ID}); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "/api/v1/dags/consumer/dagRuns/"+url.PathEscape(run.RunID)+"/upstreamDatasetEvents", "viewer", nil)
	m := decodeBody(t, r)
	evs, _ := m["dataset_events"].([]any)
	if r.status != http.StatusOK || len(evs) != 1 {
		t.Fatalf("upstreamDatasetEvents: %d %s", r.status, r.body)
	}
	runs := evs[0].(map[string]any)["created_dagruns"].([]any)
	if len(runs) != 1 || runs[0].(map[string]any)["run_id"] != run.RunID || evs[0].(map[string]any)["source_task_id"] != "load" {
		t.Fatalf("event = %v, want load's, linked to the run", evs[0])
	}
	if r := e.do("GET", "/api/v1/dags/consumer/dagRuns/nope/upstreamDatasetEvents", "viewer", nil); r.status != http.StatusNotFound {
		t.Fatalf("unknown run: %d", r.status)
	}
}
