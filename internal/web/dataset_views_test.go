package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// setupDatasets: etl's task load updates s3://lake/orders, on which other
// is scheduled; other's task publish updates s3://lake/secret. Events:
// one from etl, one from other. The limited role (etl only) may read
// datasets and DAG dependencies.
func setupDatasets(t *testing.T) *env {
	t.Helper()
	e := setup(t)
	e.addDAG("etl", false)
	e.addDAG("other", false)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.st.RolePermissionsAdd(e.ctx, "etl-readers", []windsock.Permission{
		{Action: auth.ActionRead, Resource: auth.ResourceDataset}, {Action: auth.ActionRead, Resource: auth.ResourceDAGDependencies}}))
	must(e.st.DatasetReferencesSet(e.ctx, &store.DatasetReferencesSetParams{DagID: "etl", Outlets: map[string][]string{"load": {"s3://lake/orders"}}}))
	must(e.st.DatasetReferencesSet(e.ctx, &store.DatasetReferencesSetParams{DagID: "other", Schedule: windsock.DatasetURI("s3://lake/orders"),
		Outlets: map[string][]string{"publish": {"s3://lake/secret"}}}))
	for _, src := range [][2]string{{"etl", "load"}, {"other", "publish"}} {
		uri := "s3://lake/orders"
		if src[0] == "other" {
			uri = "s3://lake/secret"
		}
		_, _, err := e.st.DatasetEventCreate(e.ctx, &store.DatasetEventCreateParams{URI: uri, SourceDagID: src[0], SourceTaskID: src[1],
			SourceRunID: "manual__" + src[0], SourceMapIndex: -1, Extra: map[string]any{"rows": 42.0}})
		must(err)
	}
	return e
}

// TestDatasetDetail: producers, consumers and events of a dataset; a role
// limited to etl sees etl's side only, and events of other unnamed.
func TestDatasetDetail(t *testing.T) {
	t.Parallel()
	e := setupDatasets(t)
	orders := "/datasets/detail?uri=" + url.QueryEscape("s3://lake/orders")
	body := e.page(orders, "viewer", http.StatusOK)
	contains(t, body, `<a href="/dags/etl/grid">etl</a>.load`, `<a href="/dags/other/grid">other</a></li>`, `data-testid="dataset-events"`,
		`&#34;rows&#34;: 42`, `<a href="/dags/etl/grid?run_id=manual__etl">etl</a>.load`)
	for _, problem := range a11yProblems(t, body) {
		t.Errorf("%s: %s", orders, problem)
	}
	limited := e.page(orders, "limited", http.StatusOK)
	contains(t, limited, `<a href="/dags/etl/grid">etl</a>.load`, `id="refs-hidden">1 producer(s)`)
	lacks(t, limited, "/dags/other/grid")
	secret := e.page("/datasets/detail?uri="+url.QueryEscape("s3://lake/secret"), "limited", http.StatusOK)
	contains(t, secret, "a DAG you may not read")
	lacks(t, secret, "other", "publish")
	e.page("/datasets/detail?uri=nope", "viewer", http.StatusNotFound)

	// The list hides the same.
	list := e.page("/datasets", "limited", http.StatusOK)
	lacks(t, list, "/dags/other/grid", "publish")
	contains(t, list, `<a href="/datasets/detail?uri=s3%3a%2f%2flake%2forders">`)
}

// TestDAGDependencies: the graph links producing DAGs to datasets to
// consuming DAGs; a role limited to etl sees etl and its dataset only.
func TestDAGDependencies(t *testing.T) {
	t.Parallel()
	e := setupDatasets(t)
	body := e.page("/dag-dependencies", "viewer", http.StatusOK)
	contains(t, body, `data-testid="dependency-graph"`, `data-testid="dep-dag" data-id="etl"`, `data-testid="dep-dag" data-id="other"`,
		`data-testid="dep-dataset" data-id="s3://lake/orders" href="/datasets/detail?uri=s3%3A%2F%2Flake%2Forders"`,
		`<title>etl → s3://lake/orders</title>`, `<title>s3://lake/orders → other</title>`, `<title>other → s3://lake/secret</title>`,
		`2 DAGs, 2 datasets.`)
	for _, problem := range a11yProblems(t, body) {
		t.Errorf("/dag-dependencies: %s", problem)
	}
	limited := e.page("/dag-dependencies", "limited", http.StatusOK)
	contains(t, limited, `data-id="etl"`, `data-id="s3://lake/orders"`, `1 DAGs, 1 datasets.`)
	lacks(t, limited, `data-id="other"`, "secret")
	e.page("/dag-dependencies", "user", http.StatusOK)
}
