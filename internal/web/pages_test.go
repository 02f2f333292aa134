package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

func TestBrowsePages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.addDAG("etl", false)
	e.addDAG("secret", false)
	e.addRun("etl", 1, windsock.DagRunSuccess, windsock.TaskStateSuccess)
	e.addRun("etl", 2, windsock.DagRunFailed, windsock.TaskStateFailed)
	e.addRun("secret", 1, windsock.DagRunRunning, windsock.TaskStateRunning)
	for _, ev := range []*windsock.EventLog{
		{Dttm: e.now, Event: "trigger", DagID: "etl", Owner: "admin"},
		{Dttm: e.now, Event: "trigger", DagID: "secret", Owner: "admin"},
		{Dttm: e.now, Event: "cli_users_create", Owner: "root"},
	} {
		if err := e.st.EventLogInsert(e.ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.st.SlaMissInsert(e.ctx, &windsock.SlaMiss{DagID: "etl", TaskID: "t0", ExecutionDate: e.now,
		Timestamp: e.now, Description: "late by 5m"}); err != nil {
		t.Fatal(err)
	}

	b := e.page("/dagrun/list", "viewer", http.StatusOK)
	contains(t, b, `data-dag-id="etl" data-run-id="scheduled__2024-01-01T00:00:00`, `state state-failed`, `data-dag-id="secret"`)
	b = e.page("/dagrun/list?dag_id=etl&state=failed", "viewer", http.StatusOK)
	contains(t, b, `state state-failed`)
	lacks(t, b, `state state-success`, `data-dag-id="secret"`)
	e.page("/dagrun/list?state=bogus", "viewer", http.StatusBadRequest)

	b = e.page("/taskinstance/list?state=running", "viewer", http.StatusOK)
	contains(t, b, `data-dag-id="secret" data-task-id="t0"`, `href="/dags/secret/grid/`)
	lacks(t, b, `data-dag-id="etl"`)
	b = e.page("/taskinstance/list?dag_id=etl&state=success", "viewer", http.StatusOK)
	contains(t, b, `<td class="hide-narrow num">00:01:23</td>`)
	b = e.page("/taskinstance/list?task_id=nope", "viewer", http.StatusOK)
	contains(t, b, "No task instances match.")

	b = e.page("/log/list?event=trigger", "viewer", http.StatusOK)
	contains(t, b, `href="/dags/etl/grid"`, `href="/dags/secret/grid"`)
	lacks(t, b, "cli_users_create")

	b = e.page("/slamiss/list", "viewer", http.StatusOK) // across DAGs
	contains(t, b, "late by 5m")
	b = e.page("/slamiss/list?dag_id=etl", "viewer", http.StatusOK)
	contains(t, b, "late by 5m")

	t.Run("limited role", func(t *testing.T) {
		t.Parallel()
		b := e.page("/dagrun/list", "limited", http.StatusOK)
		contains(t, b, `data-dag-id="etl"`)
		lacks(t, b, `data-dag-id="secret"`, `id="nav-browse"`)
		b = e.page("/dagrun/list?dag_id=secret", "limited", http.StatusOK)
		lacks(t, b, `data-dag-id="secret"`)
		b = e.page("/taskinstance/list", "limited", http.StatusOK)
		lacks(t, b, `data-dag-id="secret"`)
		// No "Audit Logs" or "SLA Misses" permission.
		e.page("/log/list", "limited", http.StatusForbidden)
		e.page("/slamiss/list?dag_id=etl", "limited", http.StatusForbidden)
	})
}

func TestAdminPages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := e.ctx
	vars := e.webVariables()
	if err := vars.Set(ctx, "region", "eu-west-1", "where"); err != nil {
		t.Fatal(err)
	}
	if err := vars.Set(ctx, "db_password", "hunter2", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.webConnections().Add(ctx, e.conn("pg", "s3cr3t-pw", `{"token": "tok-123"}`)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*windsock.Pool{{Pool: "small", Slots: 2, Description: "two"}, {Pool: windsock.DefaultPoolName, Slots: 128}} {
		if err := e.st.PoolUpsert(ctx, p); err != nil {
			t.Fatal(err)
		}
	}

	b := e.page("/variable/list", "op", http.StatusOK)
	contains(t, b, "eu-west-1", "db_password", `id="variable-add-form"`, `data-api-path="/api/v1/variables/region"`)
	lacks(t, b, "hunter2")

	b = e.page("/connection/list", "op", http.StatusOK)
	contains(t, b, `data-conn-id="pg"`, `name="password" type="password" data-omit-empty`)
	lacks(t, b, "s3cr3t-pw", "tok-123")

	b = e.page("/pool/list", "op", http.StatusOK)
	contains(t, b, `data-pool="small"`, `data-pool="default_pool"`, `data-api-path="/api/v1/pools/small"`)
	lacks(t, b, `data-confirm="Delete pool default_pool?"`)

	// Op may not manage users or roles; Admin may.
	e.page("/users/list", "op", http.StatusForbidden)
	e.page("/roles/list", "op", http.StatusForbidden)
	b = e.page("/users/list", "admin", http.StatusOK)
	contains(t, b, `data-username="viewer"`, `id="user-add-form"`, `data-confirm="Delete user viewer?"`)
	lacks(t, b, `data-confirm="Delete user admin?"`, "$2a$")
	b = e.page("/roles/list", "admin", http.StatusOK)
	contains(t, b, `data-role="etl-readers"`, `data-confirm="Delete role etl-readers?"`)
	lacks(t, b, `data-confirm="Delete role Admin?"`)

	// Viewer and User see no Admin page and no Admin menu.
	for _, user := range []string{"viewer", "user", "limited"} {
		for _, path := range []string{"/variable/list", "/connection/list", "/pool/list", "/users/list", "/roles/list"} {
			e.page(path, user, http.StatusForbidden)
		}
		lacks(t, e.page("/", user, http.StatusOK), `id="nav-admin"`)
	}
	contains(t, e.page("/", "op", http.StatusOK), `id="nav-admin"`, `href="/variable/list"`)
	lacks(t, e.page("/", "op", http.StatusOK), `href="/users/list"`)
}

// TestConnectionEditKeepsPassword checks what the edit form relies on:
// PATCH without a password leaves the stored one.
func TestConnectionEditKeepsPassword(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if err := e.webConnections().Add(e.ctx, e.conn("pg", "s3cr3t-pw", "")); err != nil {
		t.Fatal(err)
	}
	c := e.session("admin")
	h := http.Header{"Content-Type": {"application/json"}, "X-Csrf-Token": {e.csrf(c)}}
	r := e.do(http.MethodPatch, "/api/v1/connections/pg", "", `{"connection_id":"pg","conn_type":"postgres","host":"db2"}`, h, c)
	if r.status != http.StatusOK {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	got, err := e.webConnections().Stored(e.ctx, "pg")
	if err != nil {
		t.Fatal(err)
	}
	if got.Password != "s3cr3t-pw" || got.Host != "db2" {
		t.Errorf("after PATCH: host %q password %q", got.Host, got.Password)
	}
}

func TestStaticAssets(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.page("/", "viewer", http.StatusOK)
	i := strings.Index(b, `/static/app.css?v=`)
	if i < 0 {
		t.Fatal("layout does not link a versioned app.css")
	}
	url := b[i : i+strings.IndexByte(b[i:], '"')]
	r := e.get(url, "")
	if r.status != http.StatusOK || !strings.Contains(r.header.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Fatalf("GET %s: %d %v", url, r.status, r.header)
	}
	r = e.get("/static/app.js", "")
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "public, max-age=300" || r.header.Get("ETag") == "" {
		t.Fatalf("GET /static/app.js: %d %v", r.status, r.header)
	}
	r2 := e.do(http.MethodGet, "/static/app.js", "", "", http.Header{"If-None-Match": {r.header.Get("ETag")}})
	if r2.status != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", r2.status)
	}
	if r := e.get("/static/nope.js", ""); r.status != http.StatusNotFound {
		t.Errorf("unknown asset: %d", r.status)
	}
	if r := e.get("/", "viewer"); r.header.Get("Content-Security-Policy") == "" || r.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("security headers missing: %v", r.header)
	}
}
