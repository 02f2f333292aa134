package app

import (
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

// TestPythonMappedOverMapAndZip maps tasks over XComArg.map(fn) and zip()
// from a Python DAG file: each index receives fn(element) (applied in the
// worker, with fn from the DAG file), zip() expands to the shortest input
// and zip(fillvalue=...) to the longest, each index receiving its tuple.
func TestPythonMappedOverMapAndZip(t *testing.T) {
	t.Parallel()
	env, _ := pyEnv(t, map[string]string{"mapzip.py": `
from datetime import datetime
from airflow.decorators import dag, task

def label(x):
    return "item-%s" % x

@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def py_mapzip():
    @task
    def nums():
        return [1, 2, 3]

    @task
    def words():
        return ["a", "b"]

    @task
    def show(v):
        return v

    @task
    def pair(p):
        return list(p)

    @task
    def collect(xs):
        return list(xs)

    n = nums()
    w = words()
    collect.override(task_id="mapped")(show.override(task_id="labels").expand(v=n.map(label)))
    collect.override(task_id="chained")(show.override(task_id="twice").expand(v=n.map(lambda x: x * 10).map(lambda x: x + 1)))
    collect.override(task_id="zipped")(pair.override(task_id="zip_short").expand(p=n.zip(w)))
    collect.override(task_id="zipped_long")(pair.override(task_id="zip_long").expand(p=n.zip(w, fillvalue="-")))

py_mapzip()
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_mapzip", day, nil)
	if run.State != windsock.DagRunSuccess {
		for id, ti := range states(t, env, run) {
			t.Logf("%s: %s\n%s", id, ti.State, readLog(t, env, ti, max(ti.TryNumber, 1)))
		}
		t.Fatalf("run ended %s", run.State)
	}
	for task, want := range map[string]string{
		"mapped":      `["item-1","item-2","item-3"]`,
		"chained":     `[11,21,31]`,
		"zipped":      `[[1,"a"],[2,"b"]]`,
		"zipped_long": `[[1,"a"],[2,"b"],[3,"-"]]`,
	} {
		if got := strings.ReplaceAll(xcom(t, env, run, task, "return_value"), " ", ""); got != want {
			t.Errorf("%s received %s, want %s", task, got, want)
		}
	}
	for task, want := range map[string]int{"labels": 3, "twice": 3, "zip_short": 2, "zip_long": 3} {
		if n := len(mappedTIs(t, env, run, task)); n != want {
			t.Errorf("%s has %d task instances, want %d", task, n, want)
		}
	}
}
