package app

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/scheduler"
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

// TestPythonMappedOverAThousand: a Python task mapped over an upstream's
// XCom of 1,000 elements makes 1,000 instances, and the reduce step
// receives their results in map index order.
func TestPythonMappedOverAThousand(t *testing.T) {
	t.Parallel()
	env, _ := pyEnv(t, map[string]string{"thousand.py": `
from datetime import datetime
from airflow.decorators import dag, task

@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def py_thousand():
    @task
    def make():
        return list(range(1000))

    @task
    def square(x):
        return x * x

    @task
    def check(xs):
        xs = list(xs)
        assert xs == [i * i for i in range(1000)], xs[:5]
        return len(xs)

    check(square.expand(x=make()))

py_thousand()
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_thousand", day, nil)
	if run.State != windsock.DagRunSuccess {
		t.Fatalf("run ended %s:\n%s", run.State, readLog(t, env, states(t, env, run)["check"], 1))
	}
	if got := xcom(t, env, run, "check", "return_value"); got != "1000" {
		t.Errorf("check counted %s results, want 1000", got)
	}
	if n := len(mappedTIs(t, env, run, "square")); n != 1000 {
		t.Errorf("square has %d instances, want 1000", n)
	}
}

// TestPythonMappedRetryClearAndLimit: in a Python DAG file, a failing map
// index is retried alone, clearing one index runs only it again, and an
// upstream pushing more than core.max_map_length entries fails with
// Airflow's message while its mapped task is upstream_failed.
func TestPythonMappedRetryClearAndLimit(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3")
	}
	side := t.TempDir()
	env := benchEnv(t, map[string]string{"retry.py": `
import os
from datetime import datetime, timedelta
from airflow.decorators import dag, task

@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def py_retry():
    @task(retries=1, retry_delay=timedelta(0))
    def work(x):
        marker = os.path.join(os.environ["SIDE"], "failed-once")
        if x == 1 and not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError("index 1 fails once")
        return x

    @task
    def too_many():
        return [1, 2, 3, 4]

    @task
    def use(x):
        return x

    work.expand(x=[0, 1, 2])
    use.expand(x=too_many())

py_retry()
`}, "WINDSOCK__CORE__PYTHON_EXECUTABLE=/usr/bin/python3", "SIDE="+side, "WINDSOCK__CORE__MAX_MAP_LENGTH=3")
	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_retry", day, nil)
	tis := states(t, env, run)
	if tis["too_many"].State != windsock.TaskStateFailed || tis["use"].State != windsock.TaskStateUpstreamFailed {
		t.Errorf("too_many %s, use %s; want failed, upstream_failed", tis["too_many"].State, tis["use"].State)
	}
	if log := readLog(t, env, tis["too_many"], 1); !strings.Contains(log, "UnmappableXComLengthPushed: unmappable return value length: 4 > 3") {
		t.Errorf("too_many's log lacks Airflow's message:\n%s", log)
	}
	tries := func() string {
		var out []string
		for _, ti := range mappedTIs(t, env, run, "work") {
			out = append(out, fmt.Sprintf("%s/%d", ti.State, ti.TryNumber))
		}
		return strings.Join(out, " ")
	}
	if got := tries(); got != "success/1 success/2 success/1" {
		t.Fatalf("work's instances = %s, want index 1 alone retried", got)
	}
	d, err := er.engine.Scheduler.DAG(context.Background(), "py_retry")
	if err != nil {
		t.Fatal(err)
	}
	cleared, err := scheduler.ClearTaskInstances(context.Background(), env.Store, d, scheduler.ClearParams{
		RunIDs: []string{run.RunID}, TaskIDs: []string{"work"}, MapIndexes: map[string][]int{"work": {2}}, Now: time.Now(),
	})
	if err != nil || len(cleared) != 1 || cleared[0].MapIndex != 2 {
		t.Fatalf("cleared %v, %v", cleared, err)
	}
	er.engine.Scheduler.RunChanged(run.DagID, run.RunID)
	er.wait(t, run.RunID)
	if got := tries(); got != "success/1 success/2 success/2" {
		t.Errorf("after clearing index 2, work's instances = %s", got)
	}
}
