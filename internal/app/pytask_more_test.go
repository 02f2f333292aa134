package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// TestPythonCustomOperatorTemplateFileGroupsAndOldPaths runs a file written
// for Airflow 1.10 (old module paths, provide_context) with a custom
// operator whose templated field names a .sql file next to the DAG, and a
// task group: the file's template is read and rendered with the run's
// context and params, group ids are prefixed, and edges into and out of
// the group hold.
func TestPythonCustomOperatorTemplateFileGroupsAndOldPaths(t *testing.T) {
	t.Parallel()
	env, side := pyEnv(t, map[string]string{
		"sql/report.sql": "SELECT * FROM orders WHERE ds = '{{ ds }}' LIMIT {{ params.limit }}\n",
		"legacy.py": `
import os
from datetime import datetime, timedelta
from airflow import DAG
from airflow.models import BaseOperator
from airflow.operators.bash_operator import BashOperator
from airflow.operators.python_operator import PythonOperator
from airflow.operators.dummy_operator import DummyOperator
from airflow.utils.task_group import TaskGroup


class ReportOperator(BaseOperator):
    template_fields = ("sql", "title")
    template_ext = (".sql",)

    def __init__(self, sql, title, **kwargs):
        super().__init__(**kwargs)
        self.sql = sql
        self.title = title

    def execute(self, context):
        with open(os.path.join(os.environ["SIDE"], "report.txt"), "w") as f:
            f.write(self.title + "|" + self.sql)
        return self.title


def check(**context):
    return context["ti"].xcom_pull(task_ids="reports.report")


default_args = {"owner": "legacy", "retries": 0, "retry_delay": timedelta(minutes=1)}
dag = DAG("py_legacy", default_args=default_args, schedule_interval=None,
          start_date=datetime(2024, 1, 1), params={"limit": 10})

start = DummyOperator(task_id="start", dag=dag)
with TaskGroup("reports", dag=dag) as reports:
    report = ReportOperator(task_id="report", sql="sql/report.sql", title="orders of {{ ds }}", dag=dag)
    echo = BashOperator(task_id="echo", bash_command="echo grouped", dag=dag)
    report >> echo
checked = PythonOperator(task_id="check", python_callable=check, provide_context=True, dag=dag)
start >> reports >> checked
`})
	ctx := context.Background()
	d, err := env.Store.SerializedDAGGet(ctx, "py_legacy")
	if err != nil {
		t.Fatal(err)
	}
	var def windsock.DAG
	if err := json.Unmarshal(d.Data, &def); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"start": "", "reports.report": "start", "reports.echo": "reports.report", "check": "reports.echo"} {
		task := def.Task(id)
		if task == nil {
			t.Fatalf("no task %s in %+v", id, def.Tasks)
		}
		if got := strings.Join(task.Upstream, ","); got != want {
			t.Errorf("%s upstream = %q, want %q", id, got, want)
		}
	}
	if op := def.Task("reports.report").OperatorClass; op != "ReportOperator" {
		t.Errorf("custom operator shown as %q", op)
	}

	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_legacy", day, nil)
	tis := states(t, env, run)
	if run.State != windsock.DagRunSuccess {
		for id, ti := range tis {
			t.Logf("%s: %s\n%s", id, ti.State, readLog(t, env, ti, max(ti.TryNumber, 1)))
		}
		t.Fatalf("run ended %s", run.State)
	}
	got, err := os.ReadFile(filepath.Join(side, "report.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ds := day.Format("2006-01-02")
	if want := "orders of " + ds + "|SELECT * FROM orders WHERE ds = '" + ds + "' LIMIT 10"; strings.TrimSpace(string(got)) != want {
		t.Errorf("the operator saw %q, want %q", got, want)
	}
	if v := xcom(t, env, run, "check", "return_value"); v != `"orders of `+ds+`"` {
		t.Errorf("check pulled %s", v)
	}
}

// TestPythonTriggerDagRunSubclass: a DAG author's TriggerDagRunOperator
// subclass that overrides execute runs in Python, and its call to the
// base class's execute triggers the target run through the worker (the
// child never opens the metadata database); the run id is returned and
// pushed as Airflow pushes it.
func TestPythonTriggerDagRunSubclass(t *testing.T) {
	t.Parallel()
	env, _ := pyEnv(t, map[string]string{"trigger.py": `
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.trigger_dagrun import TriggerDagRunOperator


class Loud(TriggerDagRunOperator):
    def execute(self, context):
        print("triggering", self.trigger_dag_id)
        return super().execute(context)


with DAG("py_target", schedule=None, start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="noop")

with DAG("py_trigger", schedule=None, start_date=datetime(2024, 1, 1)):
    Loud(task_id="go", trigger_dag_id="py_target", trigger_run_id="from_python", conf={"n": 1})
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_trigger", day, nil)
	tis := states(t, env, run)
	if run.State != windsock.DagRunSuccess {
		t.Fatalf("run ended %s:\n%s", run.State, readLog(t, env, tis["go"], 1))
	}
	if got := xcom(t, env, run, "go", "trigger_run_id"); got != `"from_python"` {
		t.Errorf("trigger_run_id XCom = %s", got)
	}
	runs, err := env.Store.DagRunList(context.Background(), &store.DagRunListParams{DagID: "py_target"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].RunID != "from_python" || runs[0].Conf["n"] == nil {
		t.Fatalf("target runs = %+v", runs)
	}
	if log := readLog(t, env, tis["go"], 1); !strings.Contains(log, "triggering py_target") {
		t.Errorf("the subclass did not run in Python:\n%s", log)
	}
}

// TestPythonExternalTaskSensorWithDateFn: an ExternalTaskSensor given
// execution_date_fn (a Python callable, so it pokes in Python) reads the
// external task's state through the worker.
func TestPythonExternalTaskSensorWithDateFn(t *testing.T) {
	t.Parallel()
	env, _ := pyEnv(t, map[string]string{"external.py": `
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.sensors.external_task import ExternalTaskSensor

with DAG("py_ext_target", schedule=None, start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="noop")

with DAG("py_ext_waiter", schedule=None, start_date=datetime(2024, 1, 1)):
    ExternalTaskSensor(task_id="wait", external_dag_id="py_ext_target", external_task_id="noop",
                       execution_date_fn=lambda dt, **_: dt, poke_interval=1, timeout=120)
`})
	er := startEngine(t, env, nil)
	if run := er.trigger(t, "py_ext_target", day, nil); run.State != windsock.DagRunSuccess {
		t.Fatalf("target run ended %s", run.State)
	}
	run := er.trigger(t, "py_ext_waiter", day, nil)
	tis := states(t, env, run)
	if run.State != windsock.DagRunSuccess {
		t.Fatalf("waiter run ended %s:\n%s", run.State, readLog(t, env, tis["wait"], max(tis["wait"].TryNumber, 1)))
	}
}
