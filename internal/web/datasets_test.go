package web

import (
	"net/http"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func TestDatasetsPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.addDAG("producer", false)
	if err := e.st.DAGUpsert(e.ctx, &store.DAGUpsertParams{DagID: "consumer", Fileloc: "/dags/c.yaml", Owners: "airflow",
		ScheduleInterval: `"Dataset"`, TimetableDescription: "Triggered by datasets", MaxActiveTasks: 16, MaxActiveRuns: 16,
		LastParsedTime: e.now}); err != nil {
		t.Fatal(err)
	}
	mustNo := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustNo(e.st.DatasetReferencesSet(e.ctx, &store.DatasetReferencesSetParams{DagID: "producer", Outlets: map[string][]string{"load": {"s3://lake/orders"}}}))
	mustNo(e.st.DatasetReferencesSet(e.ctx, &store.DatasetReferencesSetParams{DagID: "consumer",
		Schedule: windsock.DatasetAll(windsock.DatasetURI("s3://lake/orders"), windsock.DatasetURI("s3://lake/<customers>"))}))
	_, _, err := e.st.DatasetEventCreate(e.ctx, &store.DatasetEventCreateParams{URI: "s3://lake/orders", SourceDagID: "producer",
		SourceTaskID: "load", SourceRunID: "manual__1", SourceMapIndex: -1})
	mustNo(err)

	body := e.page("/datasets", "viewer", http.StatusOK)
	contains(t, body, `id="datasets-table"`, `<code class="uri">s3://lake/orders</code>`, `<a href="/dags/producer/grid">producer</a>.load`,
		`<a href="/dags/consumer/grid">consumer</a>`, `producer</a>.load (manual__1)`, `<code class="uri">s3://lake/&lt;customers&gt;</code>`, `never`)
	// The filter narrows the list.
	body = e.page("/datasets?uri=customers", "viewer", http.StatusOK)
	lacks(t, body, `<code class="uri">s3://lake/orders</code>`)

	// The DAGs list shows a dataset-scheduled DAG's schedule as its
	// datasets.
	body = e.page("/home", "viewer", http.StatusOK)
	contains(t, body, `<ul class="datasets">`, `<a href="/datasets?uri=s3%3a%2f%2flake%2forders"><code>s3://lake/orders</code></a>`)
}
