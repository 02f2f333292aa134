package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestTasksMapIndex: states-for-dag-run shows the map index of a mapped
// task's instances; tasks test, render and run take --map-index and give
// the instance its element.
func TestTasksMapIndex(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "m.yaml", `
m:
  schedule: null
  start_date: 2024-01-01
  tasks:
    plain: {operator: bash, bash_command: "echo plain"}
    each:
      operator: bash
      expand:
        bash_command: ["echo zero", "echo one {{ ti.map_index }}"]
`)
	h.ok(t, "dags", "trigger", "m", "-e", "2024-05-01")
	runID := "manual__2024-05-01T00:00:00+00:00"

	var tis []map[string]any
	json.Unmarshal([]byte(h.ok(t, "tasks", "states-for-dag-run", "m", runID, "-o", "json")), &tis)
	var indexes []any
	for _, ti := range tis {
		if ti["task_id"] == "each" {
			indexes = append(indexes, ti["map_index"])
		}
	}
	if len(tis) != 3 || len(indexes) != 2 || indexes[0] != "0" || indexes[1] != "1" {
		t.Errorf("states-for-dag-run = %v", tis)
	}

	if out := h.ok(t, "tasks", "test", "m", "each", runID, "--map-index", "1"); !strings.Contains(out, "one 1") {
		t.Errorf("tasks test --map-index 1 said:\n%s", out)
	}
	if out := h.ok(t, "tasks", "render", "m", "each", runID, "--map-index", "0"); !strings.Contains(out, "echo zero") {
		t.Errorf("tasks render --map-index 0 said:\n%s", out)
	}
	if r := h.run(t, "", "tasks", "test", "m", "each", runID); r.code == 0 || !strings.Contains(r.stderr, "give --map-index") {
		t.Errorf("a mapped task without --map-index: exit %d, %s", r.code, r.stderr)
	}
	if r := h.run(t, "", "tasks", "test", "m", "plain", runID, "--map-index", "0"); r.code == 0 || !strings.Contains(r.stderr, "not mapped") {
		t.Errorf("--map-index on an unmapped task: exit %d, %s", r.code, r.stderr)
	}
	if out := h.ok(t, "tasks", "run", "m", "each", runID, "--map-index", "1"); !strings.Contains(out, "success") {
		t.Errorf("tasks run --map-index 1 said %q", out)
	}
	json.Unmarshal([]byte(h.ok(t, "tasks", "states-for-dag-run", "m", runID, "-o", "json")), &tis)
	for _, ti := range tis {
		want := "None"
		if ti["task_id"] == "each" && ti["map_index"] == "1" {
			want = "success"
		}
		if got, _ := ti["state"].(string); ti["state"] != nil && got != want || ti["state"] == nil && want != "None" {
			t.Errorf("after tasks run of index 1: %v", ti)
		}
	}
}
