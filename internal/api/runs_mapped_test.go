package api

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// mappedTask is a task mapped over a literal list of n commands.
func mappedTask(id string, n int, upstream ...string) *windsock.Task {
	t := task(id, upstream...)
	list := "["
	for i := range n {
		if i > 0 {
			list += ","
		}
		list += fmt.Sprintf(`"echo %d"`, i)
	}
	t.Expand = &windsock.Expand{Kind: windsock.ExpandDictOfLists, Args: []windsock.ExpandArg{{Name: "bash_command", MapSource: windsock.MapSource{Literal: []byte(list + "]")}}}}
	return t
}

// TestMappedTaskInstances drives the mapped task instance endpoints on a
// run of a task mapped over three elements: listMapped, one instance by
// map index, its tries, marking it, the logs and XCom of one index, and
// clearing one index through clearTaskInstances.
func TestMappedTaskInstances(t *testing.T) {
	t.Parallel()
	re := setupRuns(t)
	re.putDAG("fan", task("start"), mappedTask("m", 3, "start"), task("end", "m"))
	run := re.createRun("fan", 1)
	tis, err := re.st.TaskInstanceList(re.ctx, &store.TaskInstanceListParams{DagID: "fan", RunID: run.RunID, TaskIDs: []string{"m"}})
	mustDo(t, err)
	if len(tis) != 3 {
		t.Fatalf("a literal-mapped task gets its instances with the run: %d", len(tis))
	}
	for i, st := range []windsock.TaskInstanceState{windsock.TaskStateSuccess, windsock.TaskStateFailed, windsock.TaskStateSuccess} {
		tis[i].State, tis[i].TryNumber = st, 1
		if i == 1 {
			tis[i].RenderedMapIndex = "file=b.csv" // its map_index_template, rendered
		}
		_, err := re.st.TaskInstanceUpdate(re.ctx, tis[i])
		mustDo(t, err)
	}
	mustDo(t, re.st.XComSet(re.ctx, &windsock.XCom{DagRunID: run.ID, TaskID: "m", MapIndex: 2, Key: "return_value",
		DagID: "fan", RunID: run.RunID, Value: []byte(`"two"`), Timestamp: runsDay}))

	var task struct {
		IsMapped bool `json:"is_mapped"`
	}
	re.ok(re.doChecked("GET", "/api/v1/dags/fan/tasks/m", "viewer", nil), http.StatusOK, &task)
	if !task.IsMapped {
		t.Error("GET /dags/fan/tasks/m: is_mapped false")
	}

	base := "/api/v1/dags/fan/dagRuns/" + run.RunID + "/taskInstances/"
	var l tiList
	re.ok(re.doChecked("GET", base+"m/listMapped", "viewer", nil), http.StatusOK, &l)
	var idx []int
	for _, ti := range l.TaskInstances {
		idx = append(idx, ti.MapIndex)
	}
	if l.Total != 3 || !slices.Equal(idx, []int{0, 1, 2}) {
		t.Fatalf("listMapped = %v (total %d)", idx, l.Total)
	}
	re.ok(re.doChecked("GET", base+"m/listMapped?state=failed", "viewer", nil), http.StatusOK, &l)
	if l.Total != 1 || l.TaskInstances[0].MapIndex != 1 {
		t.Fatalf("listMapped state=failed = %+v", l)
	}
	re.ok(re.doChecked("GET", base+"m/listMapped?order_by=-map_index&limit=1", "viewer", nil), http.StatusOK, &l)
	if l.Total != 3 || len(l.TaskInstances) != 1 || l.TaskInstances[0].MapIndex != 2 {
		t.Fatalf("listMapped newest index first = %+v", l)
	}
	re.problem(re.doChecked("GET", base+"start/listMapped", "viewer", nil), http.StatusNotFound, "Task id start is not mapped")
	re.problem(re.doChecked("GET", base+"ghost/listMapped", "viewer", nil), http.StatusNotFound, "Task id ghost not found")

	var one taskInstanceJSON
	re.ok(re.doChecked("GET", base+"m/1", "viewer", nil), http.StatusOK, &one)
	if one.MapIndex != 1 || *one.State != "failed" || one.RenderedMapIndex == nil || *one.RenderedMapIndex != "file=b.csv" {
		t.Fatalf("m/1 = %+v", one)
	}
	var named tiList
	re.ok(re.doChecked("GET", base+"m/listMapped", "viewer", nil), http.StatusOK, &named)
	if r0, r1 := named.TaskInstances[0].RenderedMapIndex, named.TaskInstances[1].RenderedMapIndex; r0 != nil || r1 == nil || *r1 != "file=b.csv" {
		t.Errorf("listMapped rendered_map_index = %v, %v; want null, file=b.csv", r0, r1)
	}
	re.problem(re.doChecked("GET", base+"m/7", "viewer", nil), http.StatusNotFound, "map index 7")
	re.problem(re.doChecked("GET", base+"m/x", "viewer", nil), http.StatusBadRequest, "map_index")
	re.ok(re.doChecked("GET", base+"m/1/tries", "viewer", nil), http.StatusOK, &l)
	if l.Total != 1 || l.TaskInstances[0].MapIndex != 1 {
		t.Fatalf("m/1/tries = %+v", l)
	}
	re.ok(re.doChecked("GET", base+"m/1/tries/1", "viewer", nil), http.StatusOK, &one)
	var deps struct {
		Dependencies []dependencyJSON `json:"dependencies"`
	}
	re.ok(re.doChecked("GET", base+"m/1/dependencies", "viewer", nil), http.StatusOK, &deps)
	// The unmapped routes with a literal third segment still win.
	re.ok(re.doChecked("GET", base+"start/tries", "viewer", nil), http.StatusOK, &l)

	var x struct {
		Value string `json:"value"`
	}
	re.ok(re.doChecked("GET", base+"m/xcomEntries/return_value?map_index=2", "viewer", nil), http.StatusOK, &x)
	if x.Value != "two" {
		t.Errorf("xcom of index 2 = %+v", x)
	}

	state := func(i int) windsock.TaskInstanceState {
		ti, err := re.st.TaskInstanceGet(re.ctx, windsock.TaskInstanceKey{DagID: "fan", RunID: run.RunID, TaskID: "m", MapIndex: i})
		mustDo(t, err)
		return ti.State
	}
	re.ok(re.doChecked("PATCH", base+"m/1", "user", map[string]any{"new_state": "success", "dry_run": false}), http.StatusOK, nil)
	if state(1) != windsock.TaskStateSuccess || state(0) != windsock.TaskStateSuccess {
		t.Fatalf("marking index 1: states %s %s", state(0), state(1))
	}

	var cleared struct {
		TaskInstances []tiReferenceJSON `json:"task_instances"`
	}
	re.ok(re.doChecked("POST", "/api/v1/dags/fan/clearTaskInstances", "user", map[string]any{
		"dry_run": false, "only_failed": false, "dag_run_id": run.RunID, "task_ids": []any{[]any{"m", 2}},
	}), http.StatusOK, &cleared)
	if len(cleared.TaskInstances) != 1 || state(2) != windsock.TaskStateNone || state(0) != windsock.TaskStateSuccess {
		t.Fatalf("clearing index 2: %+v, states %s %s %s", cleared, state(0), state(1), state(2))
	}
	re.problem(re.doChecked("POST", "/api/v1/dags/fan/clearTaskInstances", "user", map[string]any{
		"dag_run_id": run.RunID, "task_ids": []any{[]any{"m"}},
	}), http.StatusBadRequest, "task_ids")
}
