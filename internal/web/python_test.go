package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

// TestPythonTaskPage: a task of a Python DAG file shows its class's
// template fields as the file passed them.
func TestPythonTaskPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := etlDAG("py_etl")
	d.Fileloc = "/dags/py_etl.py"
	load := d.Task("load")
	load.Operator, load.OperatorClass, load.Args = windsock.PythonFileTaskOperator, "PythonOperator", nil
	load.Python = &windsock.PythonTask{ClassPath: "airflow.operators.python.PythonOperator", ClassName: "PythonOperator",
		TemplateFields: []string{"templates_dict", "op_args", "op_kwargs"},
		Kwargs:         map[string]any{"op_kwargs": map[string]any{"day": "{{ ds }}"}, "python_callable": map[string]any{"__python__": "load"}}}
	e.storeDAG(d, "from airflow import DAG\n")
	run := e.createRun(d, 1, windsock.DagRunRunning)
	e.setTI(run, "load", func(ti *windsock.TaskInstance) { ti.State, ti.TryNumber = windsock.TaskStateSuccess, 1 })
	body := e.page("/dags/py_etl/grid/"+url.PathEscape(run.RunID)+"/load", "viewer", http.StatusOK)
	contains(t, body, `<th scope="row">op_kwargs</th><td><pre>{&#39;day&#39;: &#39;{{ ds }}&#39;}</pre>`)
	lacks(t, body, `<th scope="row">python_callable</th>`)
	contains(t, e.page("/dags/py_etl/code", "viewer", http.StatusOK), "from airflow import DAG")
}
