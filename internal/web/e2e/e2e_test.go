package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// q is chromedp's CSS lookup.
var q = chromedp.ByQuery

// TestAdminRunsADAG goes through a DAG's life as an Admin in the browser:
// sign in, unpause with the keyboard, trigger, watch the grid turn green
// by itself, read the log, clear a task with the preview and watch its
// second try's log live until it succeeds again.
func TestAdminRunsADAG(t *testing.T) {
	t.Parallel()
	b := newBrowser(t) // first: without a browser the test skips at once
	srv := startServer(t)
	shots := artifactDir(t)
	tb := b.tab(t, srv.url)
	ctx := t.Context()

	// A visitor without a session is sent to the login form.
	tb.open("/", "#login-form")
	var href string
	if err := tb.eval("location.pathname + location.search", &href); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(href, "/login?next=") {
		t.Errorf("anonymous / went to %q, want the login page", href)
	}
	tb.screenshot(shots, "login")

	tb.login("admin")
	tb.run("DAGs page", chromedp.WaitVisible("#dags-table", q))
	tb.screenshot(shots, "dags")

	// Unpause with the keyboard only: Tab to the switch, press Space.
	toggle := fmt.Sprintf(`[data-pause-dag=%q]`, dagID)
	if got := tb.text(`tr[data-dag-id="` + dagID + `"] ` + toggle + ` .sr-only`); got != "Unpause DAG "+dagID {
		t.Errorf("switch label = %q", got)
	}
	tb.tabTo(toggle, 40)
	tb.run("press Space on the pause switch", chromedp.KeyEvent(" "))
	tb.waitJS("the switch to turn on", fmt.Sprintf(`document.querySelector(%s).getAttribute("aria-pressed") === "true"`, jsString(toggle)))
	if d, err := srv.env.Store.DAGGet(ctx, dagID); err != nil || d.IsPaused {
		t.Fatalf("after the switch: DAG = %+v, %v; want unpaused", d, err)
	}

	// Trigger from the DAGs list (a confirm dialog, accepted).
	trigger := `tr[data-dag-id="` + dagID + `"] button[data-api-path$="/dagRuns"]`
	tb.run("trigger", chromedp.Click(trigger, q))
	tb.waitJS("the triggered message", `document.getElementById("alerts").textContent.indexOf("DAG e2e_flow triggered.") >= 0`)
	tb.mu.Lock()
	dialogs := strings.Join(tb.dialogs, "|")
	tb.mu.Unlock()
	if !strings.Contains(dialogs, "Trigger DAG e2e_flow now?") {
		t.Errorf("confirm dialogs = %q", dialogs)
	}
	run := srv.onlyRun(t)
	// The DAGs list updates itself in place: the new run shows up as active
	// (queued or running) without a reload.
	tb.run("mark the page", chromedp.Evaluate(`window.__notReloaded = true`, nil))
	tb.waitJS("the DAGs list to show the active run", `window.__notReloaded === true &&
		document.querySelector('#dags-table tr[data-dag-id="`+dagID+`"] .state-running:not(.zero), #dags-table tr[data-dag-id="`+dagID+`"] .state-queued:not(.zero)') !== null`)

	// The grid of a running run refreshes itself until the run succeeds.
	tb.run("open the grid", chromedp.Click(`tr[data-dag-id="`+dagID+`"] a.dag-link`, q), chromedp.WaitVisible("#grid", q))
	var active string
	if err := tb.eval(`document.getElementById("grid-live").getAttribute("data-active")`, &active); err != nil {
		t.Fatal(err)
	}
	if active != "true" {
		t.Fatalf("grid of a run waiting for its gate: data-active = %q", active)
	}
	if tb.exists(`#grid .run-bar.state-success`) {
		t.Fatal("the run shows success before its first task could finish")
	}
	srv.openGate(t)
	tb.waitJS("the run to turn green in the grid", `document.querySelector('#grid .run-bar.state-success[data-run-id="`+run.RunID+`"]') !== null`)
	// The selected run's panel is re-rendered by a reload once the run ends.
	tb.waitJS("the run panel to say success", `!document.getElementById("run-panel") || document.getElementById("run-state").textContent.trim() === "success"`)
	tb.waitJS("every task to be green", `document.querySelectorAll('#grid td .cell.state-success').length >= 3`)
	if got, err := srv.env.Store.DagRunList(ctx, &store.DagRunListParams{DagID: dagID}); err == nil && len(got) > 0 && got[0].State != windsock.DagRunSuccess {
		t.Errorf("run state in the store = %s", got[0].State)
	}
	tb.screenshot(shots, "grid")

	// Collapse the task group with the keyboard: Tab to its button, Enter.
	group := `[data-testid="toggle-section"]`
	tb.tabTo(group, 80)
	tb.run("press Enter on the group", chromedp.KeyEvent(kb.Enter))
	tb.waitJS("the group to collapse", `document.querySelector('`+group+`').getAttribute("aria-expanded") === "false" &&
		document.querySelector('#grid tr[data-row="section.inner_a"]').classList.contains("collapsed")`)
	tb.run("press Enter again", chromedp.KeyEvent(kb.Enter))
	tb.waitJS("the group to expand", `document.querySelector('`+group+`').getAttribute("aria-expanded") === "true" &&
		!document.querySelector('#grid tr[data-row="section.inner_a"]').classList.contains("collapsed")`)

	// The graph colours the tasks by the run's states.
	tb.run("open the graph", chromedp.Click("#tab-graph", q), chromedp.WaitVisible("#graph", q))
	tb.waitJS("greet green in the graph", `document.querySelector('[data-testid="node-greet"] .node-box.state-success') !== null`)
	tb.screenshot(shots, "graph")

	// Task groups start collapsed in the graph; a click on the group
	// expands it into a box around its tasks, whose label collapses it.
	tb.run("expand the group", chromedp.Click(`[data-testid="node-group:section"]`, q),
		chromedp.WaitVisible(`[data-testid="group-box-section"]`, q))
	tb.waitJS("the group's tasks drawn by name", `document.querySelector('[data-testid="node-section.inner_a"] .node-label').textContent === "inner_a"`)
	tb.screenshot(shots, "graph_expanded")
	tb.run("collapse the group", chromedp.Click(`[data-testid="collapse-section"]`, q),
		chromedp.WaitVisible(`[data-testid="node-group:section"]`, q))

	// The task instance page shows the try's log.
	tb.run("back to the grid", chromedp.Click("#tab-grid", q), chromedp.WaitVisible("#grid", q))
	// A click on a cell opens the details panel beside the grid; its link
	// leads to the task instance's own page.
	tb.run("open greet's details", chromedp.Click(`#grid tr[data-row="greet"] a.cell`, q), chromedp.WaitVisible("#details-panel #ti", q))
	tb.run("open greet's task instance page", chromedp.Click(`[data-testid="details-full-page"]`, q), chromedp.WaitVisible("#ti", q))
	tb.waitJS("the task instance page", `location.pathname.indexOf("/grid/") > 0 && !document.getElementById("grid")`)
	tb.waitJS("greet's log", `document.getElementById("log").textContent.indexOf("hello from windsock") >= 0`)
	if got := strings.TrimSpace(tb.text("#ti-state")); got != "success" {
		t.Errorf("task instance state = %q", got)
	}
	tb.screenshot(shots, "task_instance")

	// Clear greet (and its downstream) through the preview and the
	// confirm button; its second try waits for the gate, so its log is
	// followed live while it runs.
	srv.closeGate(t)
	tb.run("preview the clear", chromedp.Click(`#ti [data-testid="clear-preview-button"]`, q),
		chromedp.WaitVisible(`#ti [data-testid="clear-preview"]`, q))
	preview := tb.text(`#ti [data-testid="clear-preview"]`)
	for _, want := range []string{"3 task instances will be cleared", "greet", "section.inner_a", "section.inner_b"} {
		if !strings.Contains(preview, want) {
			t.Errorf("clear preview lacks %q:\n%s", want, preview)
		}
	}
	if ti, err := srv.env.Store.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: dagID, TaskID: "greet", RunID: run.RunID, MapIndex: -1}); err != nil || ti.State != windsock.TaskStateSuccess {
		t.Fatalf("the preview changed greet: %+v, %v", ti, err)
	}
	tb.run("confirm the clear", chromedp.Click(`#ti [data-testid="clear-confirm"]`, q))
	tb.waitJS("try 2's log to show it waiting, live", `document.getElementById("ti-try").textContent.trim().indexOf("2") === 0 &&
		document.getElementById("log").getAttribute("data-live") === "true" &&
		document.getElementById("log").textContent.indexOf("waiting for the gate") >= 0`)
	if tb.exists(`#log-tries [data-testid="log-try-2"]`) == false {
		t.Error("no log tab for try 2")
	}
	srv.openGate(t)
	tb.waitJS("the live log to show the end of try 2", `document.getElementById("log").textContent.indexOf("hello from windsock") >= 0`)
	tb.waitJS("try 2 to succeed", `document.getElementById("ti-state").textContent.trim() === "success" &&
		document.getElementById("ti-try").textContent.trim().indexOf("2") === 0 &&
		document.querySelectorAll("#ti-tries tbody tr").length === 2`)
	ti, err := srv.env.Store.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: dagID, TaskID: "greet", RunID: run.RunID, MapIndex: -1})
	if err != nil || ti.TryNumber != 2 || ti.State != windsock.TaskStateSuccess {
		t.Fatalf("greet after the clear: %+v, %v; want try 2, success", ti, err)
	}

	// The API refuses a cookie-authenticated change without the CSRF
	// token, even to an Admin.
	var status int
	if err := tb.eval(`fetch("/api/v1/dags/e2e_flow?update_mask=is_paused", {method: "PATCH", credentials: "same-origin",
		headers: {"Content-Type": "application/json"}, body: '{"is_paused": true}'}).then(function (r) { return r.status; })`, &status); err != nil {
		t.Fatal(err)
	}
	if status != 403 {
		t.Errorf("PATCH without the CSRF token: status %d, want 403", status)
	}

	tb.open("/variable/list", "#variables-table")
	if !strings.Contains(tb.text("#variables-table"), "e2e_greeting") {
		t.Error("the variables page lacks e2e_greeting")
	}
	tb.screenshot(shots, "variables")

	// A phone-sized screen: the DAGs page must not scroll sideways.
	tb.run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	tb.open("/", "#dags-table")
	var overflow int
	if err := tb.eval(`document.documentElement.scrollWidth - document.documentElement.clientWidth`, &overflow); err != nil {
		t.Fatal(err)
	}
	if overflow > 0 {
		t.Errorf("the DAGs page is %dpx wider than a 390px screen", overflow)
	}
	tb.screenshot(shots, "dags_phone")
}

// TestViewerIsRefused signs in as a Viewer: the DAG's switch is disabled,
// there is no trigger or clear, and a change sent with the session anyway
// is refused by the API with 403, shown in the alerts region.
func TestViewerIsRefused(t *testing.T) {
	t.Parallel()
	b := newBrowser(t) // first: without a browser the test skips at once
	srv := startServer(t)
	shots := artifactDir(t)
	tb := b.tab(t, srv.url)
	ctx := t.Context()

	// A wrong password is refused on the form.
	tb.open("/login", "#login-form")
	tb.run("sign in with a wrong password",
		chromedp.SendKeys("#username", "viewer", q),
		chromedp.SendKeys("#password", "not-the-password", q),
		chromedp.Click("#login-submit", q),
		chromedp.WaitVisible("#login-error", q))

	tb.login("viewer")
	tb.run("DAGs page", chromedp.WaitVisible("#dags-table", q))
	row := `tr[data-dag-id="` + dagID + `"] `
	if !tb.exists(row + `[data-pause-dag]:disabled`) {
		t.Error("the viewer's pause switch is not disabled")
	}
	if tb.exists(row + `button[data-api-path$="/dagRuns"]`) {
		t.Error("the viewer has a Trigger button")
	}
	tb.screenshot(shots, "viewer_dags")

	tb.open("/dags/"+dagID+"/grid", "#grid-live")
	if got := strings.TrimSpace(tb.text("#paused-state")); got != "Paused" {
		t.Errorf("paused state = %q", got)
	}
	for _, sel := range []string{"#pause-toggle", `[data-testid="trigger-open"]`, `[data-testid="clear-form"]`} {
		if tb.exists(sel) {
			t.Errorf("the viewer's grid has %s", sel)
		}
	}

	// Unpausing with the session and the CSRF token anyway: 403, shown.
	var status int
	if err := tb.eval(`Windsock.api("PATCH", "/api/v1/dags/e2e_flow?update_mask=is_paused", {is_paused: false})
		.then(function () { return 200; }, function (e) { return e.status || 0; })`, &status); err != nil {
		t.Fatal(err)
	}
	if status != 403 {
		t.Errorf("viewer's unpause: status %d, want 403", status)
	}
	tb.run("the refusal in the alerts region", chromedp.WaitVisible(`#alerts [data-testid="alert"]`, q))
	if msg := tb.text("#alerts"); !strings.Contains(msg, "403") {
		t.Errorf("alert = %q, want the 403", msg)
	}
	if err := tb.eval(`Windsock.api("POST", "/api/v1/dags/e2e_flow/dagRuns", {}).then(function () { return 200; }, function (e) { return e.status || 0; })`, &status); err != nil {
		t.Fatal(err)
	}
	if status != 403 {
		t.Errorf("viewer's trigger: status %d, want 403", status)
	}
	if d, err := srv.env.Store.DAGGet(ctx, dagID); err != nil || !d.IsPaused {
		t.Errorf("after the viewer's attempts: DAG = %+v, %v; want paused", d, err)
	}
	runs, err := srv.env.Store.DagRunList(ctx, &store.DagRunListParams{DagID: dagID})
	if err != nil || len(runs) != 0 {
		t.Errorf("after the viewer's trigger: runs = %v, %v; want none", runs, err)
	}
	tb.screenshot(shots, "viewer_refused")
}
