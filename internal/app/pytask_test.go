package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// These tests run Python DAG files through the real engine: the DAG
// processor parses them in Python, the scheduler runs them, and the tasks
// that are not native run in children of the file's warm Python server.

// pyEnv is an environment over Python DAG files run by Debian's python3
// (the python3 first on PATH may be a slow version-manager shim). side is
// a folder the DAG files write what they saw into (SIDE in their
// environment).
func pyEnv(t *testing.T, files map[string]string) (env *Environment, side string) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3")
	}
	side = t.TempDir()
	env = benchEnv(t, files, "WINDSOCK__CORE__PYTHON_EXECUTABLE=/usr/bin/python3", "SIDE="+side)
	ctx := context.Background()
	dags, err := env.Store.DAGList(ctx, &store.DAGListParams{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := env.Store.ImportErrorList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ie := range errs {
		t.Errorf("import error in %s: %s", ie.Filename, ie.Stacktrace)
	}
	if len(dags) == 0 && len(errs) == 0 {
		t.Fatal("the DAG processor read no Python DAG file")
	}
	return env, side
}

// xcom returns a stored XCom value as JSON text, "" when there is none.
func xcom(t *testing.T, env *Environment, run *windsock.DagRun, taskID, key string) string {
	t.Helper()
	x, err := env.Store.XComGet(context.Background(), &store.XComGetParams{DagID: run.DagID, RunID: run.RunID, TaskID: taskID, MapIndex: -1, Key: key})
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(x.Value)
}

// wantStates checks the task instances' states.
func wantStates(t *testing.T, tis map[string]*windsock.TaskInstance, want map[string]windsock.TaskInstanceState) {
	t.Helper()
	for id, st := range want {
		if ti := tis[id]; ti == nil || ti.State != st {
			var got windsock.TaskInstanceState
			if ti != nil {
				got = ti.State
			}
			t.Errorf("%s = %q, want %q", id, got, st)
		}
	}
}

// TestPythonTaskFlowAndClassicOperators: XCom flows from @task to
// @task (multiple_outputs keys too), from a classic PythonOperator that
// pulls them with ti.xcom_pull, to a native BashOperator's template and
// to @task through .output; floats stay floats.
func TestPythonTaskFlowAndClassicOperators(t *testing.T) {
	t.Parallel()
	env, _ := pyEnv(t, map[string]string{"taskflow.py": `
from datetime import datetime
from airflow import DAG
from airflow.decorators import task
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

with DAG("py_taskflow", schedule=None, start_date=datetime(2024, 1, 1), catchup=False) as dag:
    @task
    def extract():
        return {"a": 1, "b": 2.5}

    @task(multiple_outputs=True)
    def split(d):
        return {"first": d["a"], "second": d["b"]}

    def total(ti, **_):
        first = ti.xcom_pull(task_ids="split", key="first")
        second = ti.xcom_pull(task_ids="split", key="second")
        ti.xcom_push(key="note", value="pushed by hand")
        print("total of", first, second)
        return first + second

    summed = PythonOperator(task_id="total", python_callable=total)
    echo = BashOperator(task_id="echo", bash_command="echo total={{ ti.xcom_pull(task_ids='total') }}")

    @task
    def double(v):
        return v * 2

    split(extract()) >> summed >> echo
    double(summed.output)
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_taskflow", day, nil)
	tis := states(t, env, run)
	if run.State != windsock.DagRunSuccess {
		for id, ti := range tis {
			t.Logf("%s: %s\n%s", id, ti.State, readLog(t, env, ti, max(ti.TryNumber, 1)))
		}
		t.Fatalf("run ended %s", run.State)
	}
	for _, c := range []struct{ task, key, want string }{
		{"extract", "return_value", `{"a": 1, "b": 2.5}`},
		{"split", "first", `1`},
		{"split", "second", `2.5`},
		{"total", "return_value", `3.5`},
		{"total", "note", `"pushed by hand"`},
		{"echo", "return_value", `"total=3.5"`},
		{"double", "return_value", `7.0`},
	} {
		if got := xcom(t, env, run, c.task, c.key); strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(c.want, " ", "") {
			t.Errorf("%s.%s = %s, want %s", c.task, c.key, got, c.want)
		}
	}
	if log := readLog(t, env, tis["total"], 1); !strings.Contains(log, "total of 1 2.5") {
		t.Errorf("total's log lacks what it printed:\n%s", log)
	}
	rendered, err := env.Store.RenderedFieldsGet(context.Background(), tis["double"].TaskInstanceKey)
	if err != nil || !strings.Contains(string(rendered), "op_args") {
		t.Errorf("double's rendered fields: %s, %v", rendered, err)
	}
}

// TestPythonBranchAndShortCircuit: @task.branch follows the branch it
// returns and skips the other; a falsy @task.short_circuit skips
// everything downstream.
func TestPythonBranchAndShortCircuit(t *testing.T) {
	t.Parallel()
	env, _ := pyEnv(t, map[string]string{"branching.py": `
from datetime import datetime
from airflow.decorators import dag, task
from airflow.operators.empty import EmptyOperator

@dag(dag_id="py_branching", schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def branching():
    @task.branch
    def choose():
        return "left"

    left, right = EmptyOperator(task_id="left"), EmptyOperator(task_id="right")
    choose() >> [left, right]

    @task.short_circuit
    def gate():
        return 0

    @task
    def after_gate():
        return "ran"

    gate() >> after_gate() >> EmptyOperator(task_id="after_after")

branching()
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_branching", day, nil)
	wantStates(t, states(t, env, run), map[string]windsock.TaskInstanceState{
		"choose": "success", "left": "success", "right": "skipped",
		"gate": "success", "after_gate": "skipped", "after_after": "skipped",
	})
	if got := xcom(t, env, run, "choose", "return_value"); got != `"left"` {
		t.Errorf("choose returned %s", got)
	}
}

// TestPythonExceptions: AirflowSkipException skips, AirflowFailException
// fails at once although retries remain, another exception is retried
// and the retry succeeds.
func TestPythonExceptions(t *testing.T) {
	t.Parallel()
	env, _ := pyEnv(t, map[string]string{"exceptions.py": `
from datetime import datetime, timedelta
from airflow.decorators import dag, task
from airflow.exceptions import AirflowFailException, AirflowSkipException

@dag(dag_id="py_exceptions", schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def exceptions():
    @task
    def skip_me():
        raise AirflowSkipException("not today")

    @task(retries=3, retry_delay=timedelta(seconds=0))
    def fail_hard():
        raise AirflowFailException("bad input")

    @task(retries=1, retry_delay=timedelta(seconds=0))
    def flaky(ti=None):
        if ti.try_number == 1:
            raise ValueError("first try fails")
        return ti.try_number

    skip_me()
    fail_hard()
    flaky()

exceptions()
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_exceptions", day, nil)
	tis := states(t, env, run)
	wantStates(t, tis, map[string]windsock.TaskInstanceState{"skip_me": "skipped", "fail_hard": "failed", "flaky": "success"})
	if run.State != windsock.DagRunFailed {
		t.Errorf("run = %s, want failed", run.State)
	}
	if ti := tis["fail_hard"]; ti.TryNumber != 1 {
		t.Errorf("fail_hard ran %d tries, want 1 (AirflowFailException is not retried)", ti.TryNumber)
	} else if log := readLog(t, env, ti, 1); !strings.Contains(log, "AirflowFailException: bad input") || !strings.Contains(log, "Traceback (most recent call last)") {
		t.Errorf("fail_hard's log:\n%s", log)
	}
	if ti := tis["flaky"]; ti.TryNumber != 2 || xcom(t, env, run, "flaky", "return_value") != "2" {
		t.Errorf("flaky: try %d, return %s; want 2 and 2", ti.TryNumber, xcom(t, env, run, "flaky", "return_value"))
	} else if log := readLog(t, env, ti, 1); !strings.Contains(log, "ValueError: first try fails") || !strings.Contains(log, "UP_FOR_RETRY") {
		t.Errorf("flaky's first log:\n%s", log)
	}
	if log := readLog(t, env, tis["skip_me"], 1); !strings.Contains(log, "not today") {
		t.Errorf("skip_me's log:\n%s", log)
	}
}

// TestPythonExecutionTimeout: execution_timeout ends a Python try that
// sleeps, in Python as Airflow does (AirflowTaskTimeout), and the
// subprocess it started is killed too.
func TestPythonExecutionTimeout(t *testing.T) {
	t.Parallel()
	env, side := pyEnv(t, map[string]string{"timeout.py": `
import os, subprocess, time
from datetime import datetime, timedelta
from airflow.decorators import dag, task

@dag(dag_id="py_timeout", schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def timeout():
    @task(execution_timeout=timedelta(seconds=2))
    def sleepy():
        child = subprocess.Popen(["sleep", "300"])
        with open(os.path.join(os.environ["SIDE"], "pids"), "w") as f:
            f.write("%d %d" % (os.getpid(), child.pid))
        time.sleep(300)

    sleepy()

timeout()
`})
	er := startEngine(t, env, nil)
	start := time.Now()
	run := er.trigger(t, "py_timeout", day, nil)
	tis := states(t, env, run)
	wantStates(t, tis, map[string]windsock.TaskInstanceState{"sleepy": "failed"})
	if took := time.Since(start); took > 60*time.Second {
		t.Errorf("the try took %s to end", took)
	}
	if log := readLog(t, env, tis["sleepy"], 1); !strings.Contains(log, "AirflowTaskTimeout") {
		t.Errorf("sleepy's log does not say it timed out:\n%s", log)
	}
	b, err := os.ReadFile(filepath.Join(side, "pids"))
	if err != nil {
		t.Fatal(err)
	}
	// The subprocess ends with the try; the Python worker that ran it may
	// serve later tries.
	pids := strings.Fields(string(b))
	pid, _ := strconv.Atoi(pids[len(pids)-1])
	eventually(t, time.Minute, fmt.Sprintf("subprocess %d ended", pid), func() bool { return processGone(pid) })
}

// TestPythonCallbacks: a native task's Python on_success_callback runs
// after the try with Airflow's context, its output in the try's log; a
// Python task's on_failure_callback runs in its child; the DAG's Python
// on_failure_callback runs once the run fails, with the reason.
func TestPythonCallbacks(t *testing.T) {
	t.Parallel()
	env, side := pyEnv(t, map[string]string{"callbacks.py": `
import os
from datetime import datetime
from airflow import DAG
from airflow.decorators import task
from airflow.operators.bash import BashOperator

def note(name, text):
    with open(os.path.join(os.environ["SIDE"], name), "a") as f:
        f.write(text + "\n")

def shell_ok(context):
    print("callback saw", context["ti"].task_id, context["ds"])
    note("shell_ok", "%s %s" % (context["ti"].task_id, context["ds"]))

def boom_failed(context):
    note("boom_failed", str(context["exception"]))

def dag_failed(context):
    note("dag_failed", "%s %s" % (context["reason"], context["dag_run"].run_id))

with DAG("py_callbacks", schedule=None, start_date=datetime(2024, 1, 1), catchup=False,
         on_failure_callback=dag_failed) as dag:
    BashOperator(task_id="shell", bash_command="echo hi", on_success_callback=shell_ok)

    @task(on_failure_callback=boom_failed)
    def boom():
        raise ValueError("boom")

    boom()
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_callbacks", day, nil)
	tis := states(t, env, run)
	wantStates(t, tis, map[string]windsock.TaskInstanceState{"shell": "success", "boom": "failed"})
	if log := readLog(t, env, tis["shell"], 1); !strings.Contains(log, "callback saw shell 2024-03-01") {
		t.Errorf("shell's log lacks its callback's output:\n%s", log)
	}
	readSide := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(side, name))
		return string(b)
	}
	if got := readSide("shell_ok"); got != "shell 2024-03-01\n" {
		t.Errorf("shell's on_success_callback wrote %q", got)
	}
	if got := readSide("boom_failed"); got != "boom\n" {
		t.Errorf("boom's on_failure_callback wrote %q", got)
	}
	// The DAG callback runs in the background once the run has ended.
	eventually(t, time.Minute, "the DAG callback ran", func() bool { return readSide("dag_failed") != "" })
	if got, want := readSide("dag_failed"), "task_failure "+run.RunID+"\n"; got != want {
		t.Errorf("the DAG's on_failure_callback wrote %q, want %q", got, want)
	}
}

// TestPythonPlaceholderProvider: a task of a provider class Windsock
// lacks loads, and its try fails at once with a message naming the class
// and the provider package.
func TestPythonPlaceholderProvider(t *testing.T) {
	t.Parallel()
	env, _ := pyEnv(t, map[string]string{"glue.py": `
from datetime import datetime
from airflow import DAG
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator

with DAG("py_glue", schedule=None, start_date=datetime(2024, 1, 1), catchup=False) as dag:
    GlueJobOperator(task_id="glue", job_name="nightly", retries=2)
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_glue", day, nil)
	tis := states(t, env, run)
	wantStates(t, tis, map[string]windsock.TaskInstanceState{"glue": "failed"})
	if ti := tis["glue"]; ti.TryNumber != 1 {
		t.Errorf("glue ran %d tries; a missing provider is not retried", ti.TryNumber)
	}
	want := "airflow.providers.amazon.aws.operators.glue.GlueJobOperator needs the provider package apache-airflow-providers-amazon, which this environment lacks"
	if log := readLog(t, env, tis["glue"], 1); !strings.Contains(log, want) {
		t.Errorf("glue's log lacks %q:\n%s", want, log)
	}
}
