package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/pyrt"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/windsock"
)

// A Python DAG file's TriggerDagRunOperator is a native task: the file is
// parsed by the environment's Python runtime (core.python_executable) into
// its DAG document, whose trigger task names the Go operator, and the
// engine runs it without Python to start the target DAG. (The document is
// fed to the DAG folder as a dag-factory file here; the DAG processor's
// own Python parsing comes with its branch.)
func TestTriggerDagRunOperatorFromPythonDAGFile(t *testing.T) {
	t.Parallel()
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s is not installed: %v", python, err)
	}
	env := benchEnv(t, map[string]string{"child.yaml": `
child:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: echo, operator: bash, bash_command: 'echo "who={{ dag_run.conf.who }}"'}
`}, "WINDSOCK__CORE__PYTHON_EXECUTABLE="+python)
	src := filepath.Join(t.TempDir(), "parent.py")
	if err := os.WriteFile(src, []byte(`
import pendulum
from airflow import DAG
from airflow.operators.dagrun_operator import TriggerDagRunOperator

with DAG("parent", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), schedule=None):
    TriggerDagRunOperator(
        task_id="kick",
        trigger_dag_id="child",
        trigger_run_id="py_{{ ds_nodash }}",
        conf={"who": "{{ dag_run.conf['who'] }}"},
        logical_date="{{ ds }}",
        wait_for_completion=True,
        poke_interval=0.1,
    )
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt, err := env.PythonRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := rt.Parse(ctx, src, time.Minute, pyrt.HandlerFunc(func(context.Context, string, json.RawMessage) (any, error) {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "nothing")
	}))
	if err != nil || len(res.ImportErrors) > 0 || len(res.DAGs) != 1 {
		t.Fatalf("parse: %+v, %v", res, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(res.DAGs[0].Doc, &doc); err != nil {
		t.Fatal(err)
	}
	kick := doc["tasks"].(map[string]any)["kick"].(map[string]any)
	if kick["operator"] != "airflow.operators.trigger_dagrun.TriggerDagRunOperator" || kick["python_file_task"] != nil {
		t.Fatalf("kick is not native: %v", kick)
	}
	file, _ := json.Marshal(map[string]any{"parent": doc})
	if err := os.WriteFile(filepath.Join(env.Config.Core.DagsFolder, "parent.yaml"), file, 0o644); err != nil {
		t.Fatal(err)
	}
	proc, err := env.NewDAGProcessor(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	er := startEngine(t, env, nil)
	d, err := er.engine.Scheduler.DAG(ctx, "parent")
	if err != nil {
		t.Fatal(err)
	}
	if op := d.Task("kick").Operator; op != "trigger_dagrun" {
		t.Fatalf("kick runs as %q", op)
	}
	parent := er.startRun(t, "parent", scheduler.NewRun{LogicalDate: day, Conf: map[string]any{"who": "python"}})
	child := scheduler.RunRef{DagID: "child", RunID: "py_20240301"}
	runs := er.waitAll(t, scheduler.RunRef{DagID: "parent", RunID: parent.RunID}, child)
	for ref, r := range runs {
		if r.State != windsock.DagRunSuccess {
			t.Errorf("%v ended %s", ref, r.State)
		}
	}
	kickTI := states(t, env, runs[scheduler.RunRef{DagID: "parent", RunID: parent.RunID}])["kick"]
	if kickTI.Operator != "TriggerDagRunOperator" {
		t.Errorf("kick shown as %q", kickTI.Operator)
	}
	if log := readLog(t, env, kickTI, 1); !strings.Contains(log, "child finished with allowed state success") {
		t.Errorf("kick log:\n%s", log)
	}
	cr, err := env.Store.DagRunGet(ctx, "child", "py_20240301")
	if err != nil {
		t.Fatal(err)
	}
	if log := readLog(t, env, states(t, env, cr)["echo"], 1); !strings.Contains(log, "who=python") {
		t.Errorf("child log:\n%s", log)
	}
}
