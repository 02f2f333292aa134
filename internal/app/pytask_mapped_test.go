package app

import (
	"context"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// TestPythonMappedTasks runs dynamic task mapping from a Python DAG file:
// @task.expand over an upstream's XCom of 3, 1 and 0 elements, over a
// literal, and over two arguments (the cross product), with reduce steps
// that receive the mapped results in map index order.
func TestPythonMappedTasks(t *testing.T) {
	t.Parallel()
	env, _ := pyEnv(t, map[string]string{"mapped.py": `
from datetime import datetime
from airflow.decorators import dag, task

@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def py_mapped():
    @task
    def make(n):
        return list(range(n))

    @task
    def double(x):
        return x * 2

    @task
    def collect(xs):
        return list(xs)

    @task
    def add(a, b):
        return a + b

    collect.override(task_id="three")(double.override(task_id="d3").expand(x=make.override(task_id="make3")(3)))
    collect.override(task_id="one")(double.override(task_id="d1").expand(x=make.override(task_id="make1")(1)))
    collect.override(task_id="zero")(double.override(task_id="d0").expand(x=make.override(task_id="make0")(0)))
    double.override(task_id="literal").expand(x=[5, 6])
    collect.override(task_id="cross")(add.expand(a=[1, 2], b=[10, 20]))

py_mapped()
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_mapped", day, nil)
	if run.State != windsock.DagRunSuccess {
		for id, ti := range states(t, env, run) {
			t.Logf("%s: %s\n%s", id, ti.State, readLog(t, env, ti, max(ti.TryNumber, 1)))
		}
		t.Fatalf("run ended %s", run.State)
	}
	for task, want := range map[string]string{
		"three": "[0,2,4]",
		"one":   "[0]",
		"cross": "[11,21,12,22]",
	} {
		if got := strings.ReplaceAll(xcom(t, env, run, task, "return_value"), " ", ""); got != want {
			t.Errorf("%s received %s, want %s", task, got, want)
		}
	}
	tis, err := env.Store.TaskInstanceList(context.Background(), &store.TaskInstanceListParams{DagID: run.DagID, RunID: run.RunID})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	state := map[string]windsock.TaskInstanceState{}
	for _, ti := range tis {
		count[ti.TaskID]++
		state[ti.TaskID] = ti.State
		if ti.TaskID == "literal" && ti.State != windsock.TaskStateSuccess {
			t.Errorf("literal[%d] = %s", ti.MapIndex, ti.State)
		}
	}
	for task, want := range map[string]int{"d3": 3, "d1": 1, "literal": 2, "add": 4} {
		if count[task] != want {
			t.Errorf("%s has %d task instances, want %d", task, count[task], want)
		}
	}
	if state["d0"] != windsock.TaskStateSkipped {
		t.Errorf("a task mapped over an empty list is %s, want skipped", state["d0"])
	}
}
