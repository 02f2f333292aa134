package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

func TestDAGsPageRedirectsToLogin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, path := range []string{"/", "/home?status=paused", "/variable/list"} {
		r := e.get(path, "")
		if r.status != http.StatusSeeOther {
			t.Fatalf("GET %s without session: status %d, want 303", path, r.status)
		}
		if loc := r.header.Get("Location"); loc != "/login?next="+url.QueryEscape(path) {
			t.Errorf("GET %s: Location %q", path, loc)
		}
	}
}

func TestDAGsPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.addDAG("etl", false, "finance")
	e.addDAG("report", true, "finance", "daily")
	e.addDAG("broken", true)
	e.addRun("etl", 1, windsock.DagRunSuccess, windsock.TaskStateSuccess)
	e.addRun("etl", 2, windsock.DagRunRunning, windsock.TaskStateSuccess, windsock.TaskStateRunning, windsock.TaskStateNone)
	e.addRun("broken", 1, windsock.DagRunSuccess, windsock.TaskStateSuccess)
	e.addRun("broken", 2, windsock.DagRunFailed, windsock.TaskStateFailed, windsock.TaskStateUpstreamFailed)
	if err := e.st.ImportErrorSet(e.ctx, &windsock.ImportError{Filename: "/dags/bad.yaml",
		Stacktrace: "/dags/bad.yaml:3: tasks: expected a mapping", Timestamp: e.now}); err != nil {
		t.Fatal(err)
	}

	body := e.page("/", "admin", http.StatusOK)
	contains(t, body, `href="/dags/etl/grid"`, `href="/dags/report/grid"`, `href="/dags/broken/grid"`,
		// Runs of etl: one success, one running.
		`title="success: 1"`, `title="running: 1"`,
		// Latest run's tasks of etl.
		`title="none: 1"`, `class="state state-running"`,
		`data-pause-dag="etl" aria-pressed="true"`, `data-pause-dag="report" aria-pressed="false"`,
		`data-api-path="/api/v1/dags/etl/dagRuns"`,
		`id="import-errors"`, `/dags/bad.yaml:3: tasks: expected a mapping`,
		`<meta name="csrf-token" content="`+e.csrf(e.session("admin"))+`">`)

	t.Run("filters", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			path      string
			want, not []string
		}{
			{"/?search=ET", []string{"/dags/etl/grid"}, []string{"/dags/report/grid", "/dags/broken/grid"}},
			{"/?search=%25", nil, []string{"/dags/etl/grid", "/dags/report/grid"}}, // % is literal
			{"/?tags=daily", []string{"/dags/report/grid"}, []string{"/dags/etl/grid"}},
			{"/?status=active", []string{"/dags/etl/grid"}, []string{"/dags/report/grid", "/dags/broken/grid"}},
			{"/?status=paused", []string{"/dags/report/grid", "/dags/broken/grid"}, []string{"/dags/etl/grid"}},
			{"/?status=failed", []string{"/dags/broken/grid"}, []string{"/dags/etl/grid", "/dags/report/grid"}},
			{"/home?status=failed&search=etl", []string{`id="no-dags"`}, []string{"/dags/broken/grid"}},
		}
		for _, tc := range tests {
			b := e.page(tc.path, "admin", http.StatusOK)
			contains(t, b, tc.want...)
			lacks(t, b, tc.not...)
		}
		e.page("/?status=nope", "admin", http.StatusBadRequest)
		e.page("/?page=0", "admin", http.StatusBadRequest)
	})

	t.Run("counts per tab", func(t *testing.T) {
		t.Parallel()
		b := e.page("/", "admin", http.StatusOK)
		contains(t, b, `id="status-all" aria-current="page">all <span class="muted">3</span>`,
			`id="status-active" >active <span class="muted">1</span>`,
			`id="status-failed" >failed <span class="muted">1</span>`)
	})

	t.Run("viewer cannot pause or trigger", func(t *testing.T) {
		t.Parallel()
		b := e.page("/", "viewer", http.StatusOK)
		contains(t, b, `/dags/etl/grid`)
		lacks(t, b, `data-api-path="/api/v1/dags/etl/dagRuns"`, `id="nav-admin"`)
		if !strings.Contains(b, `aria-pressed="true" title="Active: click to pause" disabled`) {
			t.Error("the viewer's pause switch is not disabled")
		}
	})

	t.Run("limited role sees only its DAGs", func(t *testing.T) {
		t.Parallel()
		b := e.page("/", "limited", http.StatusOK)
		contains(t, b, `/dags/etl/grid`)
		lacks(t, b, `/dags/report/grid`, `/dags/broken/grid`, `id="import-errors"`, "bad.yaml")
		b = e.page("/?status=failed", "limited", http.StatusOK)
		lacks(t, b, `/dags/broken/grid`)
	})
}

func TestDAGsPagePaging(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for i := range 30 {
		e.addDAG("dag_"+string(rune('a'+i/10))+string(rune('0'+i%10)), false)
	}
	b := e.page("/", "admin", http.StatusOK)
	contains(t, b, "/dags/dag_a0/grid", "/dags/dag_c4/grid", `id="page-next"`, "1&ndash;25 of 30")
	lacks(t, b, "/dags/dag_c5/grid", `id="page-prev"`)
	b = e.page("/?page=2", "admin", http.StatusOK)
	contains(t, b, "/dags/dag_c5/grid", "26&ndash;30 of 30", `id="page-prev"`)
	lacks(t, b, "/dags/dag_a0/grid", `id="page-next"`)
}

func TestUnknownPageIs404(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.page("/no/such/page", "viewer", http.StatusNotFound)
	contains(t, b, `data-testid="error-page"`)
}
