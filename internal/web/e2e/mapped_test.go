package e2e

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
)

const mappedYAML = `
e2e_mapped:
  schedule: null
  start_date: 2024-01-01
  tasks:
    each:
      operator: bash
      expand:
        bash_command: ["echo item 0", "echo item 1", "exit 1"]
    after:
      operator: bash
      bash_command: echo done
      trigger_rule: all_done
      dependencies: [each]
`

// TestMappedRunInTheGrid: a mapped task's grid cell shows its number of
// instances with their states, expands to the instances by map index,
// each with its own page and log; the graph shows the count.
func TestMappedRunInTheGrid(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	srv := startServer(t, mappedYAML)
	ctx := t.Context()
	if err := srv.env.Store.DAGSetPaused(ctx, "e2e_mapped", false); err != nil {
		t.Fatal(err)
	}
	d, err := scheduler.NewDAGCache(srv.env.Store, time.Minute).DAG(ctx, "e2e_mapped")
	if err != nil {
		t.Fatal(err)
	}
	run, err := scheduler.CreateRun(ctx, srv.env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	shots := artifactDir(t)
	tb := b.tab(t, srv.url)
	tb.login("admin")
	tb.open("/dags/e2e_mapped/grid", "#grid")
	cell := `tr[data-row="each"] a.cell[data-mapped="3"]`
	tb.waitJS("the mapped cell to settle with one failed instance", `(function(){var c=document.querySelector(`+jsString(cell)+`);
		return c && c.title.indexOf("1 failed, 2 success") >= 0 && c.className.indexOf("failed") >= 0})()`)
	if got := strings.TrimSpace(tb.text(cell + " .mapped-count")); got != "3" {
		t.Errorf("the cell shows %q, want its 3 instances", got)
	}
	tb.screenshot(shots, "mapped-grid")

	tb.run("open the mapped task", chromedp.Click(cell, q), chromedp.WaitVisible("#mapped-table", q))
	var rows []string
	if err := tb.eval(`Array.from(document.querySelectorAll("#mapped-table tbody tr")).map(function(r){return r.getAttribute("data-map-index")+":"+r.querySelector(".label").textContent})`, &rows); err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows, ",") != "0:success,1:success,2:failed" {
		t.Errorf("mapped instances = %v", rows)
	}
	tb.screenshot(shots, "mapped-instances")

	tb.run("open index 1", chromedp.Click(`#mapped-table tr[data-map-index="1"] a`, q), chromedp.WaitVisible("#ti-map-index", q))
	if got := strings.TrimSpace(tb.text("#ti-map-index")); got != "1" {
		t.Errorf("instance page map index = %q", got)
	}
	tb.waitJS("index 1's own log", `document.getElementById("log").textContent.indexOf("item 1") >= 0`)
	if strings.Contains(tb.text("#log"), "item 0") {
		t.Error("index 1's page shows index 0's log")
	}

	tb.open("/dags/e2e_mapped/graph?run_id="+url.QueryEscape(run.RunID), `[data-testid="node-each"]`)
	if got := tb.text(`[data-testid="node-each"] .node-label`); got != "each [3]" {
		t.Errorf("graph node = %q, want the count", got)
	}
}

const mappedRowsYAML = `
e2e_mapped_rows:
  schedule: null
  start_date: 2024-01-01
  tasks:
    load:
      operator: bash
      map_index_template: "{{ task.env.TABLE }}"
      bash_command: 'test "$TABLE" != orders'
      expand:
        env: [{TABLE: users}, {TABLE: orders}, {TABLE: items}]
`

// TestMappedRowExpandsInTheGrid: a mapped task's row expands in place into
// one row per map index, named by its map_index_template, each cell in its
// index's state and opening that instance; it folds back, and stays open
// across a reload.
func TestMappedRowExpandsInTheGrid(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	srv := startServer(t, mappedRowsYAML)
	ctx := t.Context()
	if err := srv.env.Store.DAGSetPaused(ctx, "e2e_mapped_rows", false); err != nil {
		t.Fatal(err)
	}
	d, err := scheduler.NewDAGCache(srv.env.Store, time.Minute).DAG(ctx, "e2e_mapped_rows")
	if err != nil {
		t.Fatal(err)
	}
	run, err := scheduler.CreateRun(ctx, srv.env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	shots := artifactDir(t)
	tb := b.tab(t, srv.url)
	tb.login("admin")
	tb.open("/dags/e2e_mapped_rows/grid", "#grid")
	// The page refreshes itself while the run goes on; once the run has
	// failed (index 1's doing) nothing changes any more.
	tb.waitJS("the run to fail with index 1 failed", `(function(){var c=document.querySelector('tr[data-row="load"] a.cell[data-mapped="3"]');
		return c && c.title.indexOf("1 failed, 2 success") >= 0 && document.querySelector('a.run-bar.state-failed') !== null})()`)
	tb.open("/dags/e2e_mapped_rows/grid", "#grid")
	const indexRows = `tr[data-mapped-of="load"]`
	tb.waitJS("the index rows to start folded", `Array.from(document.querySelectorAll(`+jsString(indexRows)+`)).every(function(r){return r.offsetParent === null})`)

	tb.run("expand the mapped task", chromedp.Click(`[data-testid="expand-load"]`, q))
	tb.waitJS("the index rows to show", `document.querySelector('[data-testid="expand-load"]').getAttribute("aria-expanded") === "true" &&
		Array.from(document.querySelectorAll(`+jsString(indexRows)+`)).every(function(r){return r.offsetParent !== null})`)
	var rows []string
	if err := tb.eval(`Array.from(document.querySelectorAll(`+jsString(indexRows)+`)).map(function(r){
		var c = r.querySelector("a.cell"); return r.querySelector(".index-label").textContent + "=" + c.className.replace("cell state-", "") + "@" + c.getAttribute("href")})`, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || !strings.HasPrefix(rows[0], "[0] users=success@") || !strings.HasPrefix(rows[1], "[1] orders=failed@") ||
		!strings.HasPrefix(rows[2], "[2] items=success@") || !strings.HasSuffix(rows[1], "/load?map_index=1") {
		t.Errorf("index rows = %q", rows)
	}
	tb.screenshot(shots, "mapped-rows-expanded")

	// Still open after a reload (remembered per DAG), then folded again.
	tb.open("/dags/e2e_mapped_rows/grid", "#grid")
	tb.waitJS("the index rows to stay open", `Array.from(document.querySelectorAll(`+jsString(indexRows)+`)).every(function(r){return r.offsetParent !== null})`)
	tb.run("fold the mapped task", chromedp.Click(`[data-testid="expand-load"]`, q))
	tb.waitJS("the index rows to fold", `Array.from(document.querySelectorAll(`+jsString(indexRows)+`)).every(function(r){return r.offsetParent === null})`)

	tb.run("open index 1 from its row", chromedp.Click(`[data-testid="expand-load"]`, q),
		chromedp.Click(`tr[data-testid="index-load-1"] a.cell`, q), chromedp.WaitVisible("#ti-map-index", q))
	if got := strings.TrimSpace(tb.text("#ti-rendered-map-index")); got != "orders" {
		t.Errorf("instance page name = %q, want orders", got)
	}
	tb.open("/dags/e2e_mapped_rows/grid/"+url.PathEscape(run.RunID)+"/load", "#mapped-table")
	if got := strings.TrimSpace(tb.text(`#mapped-table tr[data-map-index="2"] .rendered-map-index`)); got != "items" {
		t.Errorf("instance list name of index 2 = %q, want items", got)
	}
}
