package cli_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// usePython points a home at Debian's python3.
func usePython(t *testing.T, h *home) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	h.env = append(h.env, "WINDSOCK__CORE__PYTHON_EXECUTABLE=/usr/bin/python3")
}

const pythonDAG = `import datetime
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.utils.task_group import TaskGroup

with DAG("py_etl", schedule="@daily", start_date=datetime.datetime(2024, 1, 1)):
    start = EmptyOperator(task_id="start")
    with TaskGroup("work"):
        say = BashOperator(task_id="say", bash_command="echo <hi>")
    glue = GlueJobOperator(task_id="glue_job", job_name="nightly")
    start >> say >> glue
`

// TestPythonDAGFiles loads a folder mixing YAML and Python files through
// the binary: the CLI's DAG commands, the REST API and the UI all show
// the Python DAG, its source and its missing provider.
func TestPythonDAGFiles(t *testing.T) {
	t.Parallel()
	h := newHome(t, "WINDSOCK__WEBSERVER__SECRET_KEY=python-dags-test")
	usePython(t, h)
	h.writeDAG(t, "py_etl.py", pythonDAG)
	h.writeDAG(t, "etl.yaml", etlDAG)
	h.writeDAG(t, "broken/syntax.py", "from airflow import DAG\n\nwith DAG('x'):\n    t = (\n")

	r := h.run(t, "", "dags", "list", "-o", "json")
	var rows []dagJSON
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || r.code != 0 {
		t.Fatalf("dags list: exit %d %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	var ids []string
	for _, row := range rows {
		ids = append(ids, row.DagID)
	}
	if strings.Join(ids, ",") != "etl,py_etl" {
		t.Errorf("dags = %v", ids)
	}
	if want := "Warning: DAG py_etl: tasks 'glue_job': airflow.providers.amazon.aws.operators.glue.GlueJobOperator needs the provider package apache-airflow-providers-amazon"; !strings.Contains(r.stderr, want) {
		t.Errorf("dags list stderr %q lacks %q", r.stderr, want)
	}

	r = h.run(t, "", "dags", "list-import-errors", "-o", "json")
	var errs []struct {
		Filename   string `json:"filepath"`
		StackTrace string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &errs); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(errs) != 1 || !strings.HasSuffix(errs[0].Filename, "syntax.py") || !strings.Contains(errs[0].StackTrace, `syntax.py", line 4`) ||
		!strings.Contains(errs[0].StackTrace, "SyntaxError") {
		t.Errorf("import errors = %+v", errs)
	}

	dot := h.ok(t, "dags", "show", "py_etl")
	for _, want := range []string{`"start" -> "work.say"`, `"work.say" -> "glue_job"`} {
		if !strings.Contains(dot, want) {
			t.Errorf("dags show lacks %s:\n%s", want, dot)
		}
	}

	var report []struct {
		File   string   `json:"file"`
		DagNum string   `json:"dag_num"`
		Dags   []string `json:"dags"`
	}
	if err := json.Unmarshal([]byte(h.ok(t, "dags", "report", "-o", "json")), &report); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range report {
		found = found || (row.File == "/py_etl.py" && row.DagNum == "1")
	}
	if !found {
		t.Errorf("dags report = %+v", report)
	}

	h.ok(t, "users", "create", "-u", "admin", "-p", "admin-pw-1", "-r", "Admin", "-f", "A", "-l", "A", "-e", "a@example.com")
	port := freePort(t)
	startWebserver(t, h, port)
	base := "http://127.0.0.1:" + port
	get := func(path string, into any) string {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/api/v1"+path, nil)
		req.SetBasicAuth("admin", "admin-pw-1")
		req.Header.Set("Accept", "text/plain")
		if into != nil {
			req.Header.Set("Accept", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		if into != nil {
			if err := json.Unmarshal(b, into); err != nil {
				t.Fatal(err)
			}
		}
		return string(b)
	}
	var dag struct {
		FileToken string `json:"file_token"`
	}
	get("/dags/py_etl", &dag)
	if src := get("/dagSources/"+dag.FileToken, nil); src != pythonDAG {
		t.Errorf("dagSources = %q", src)
	}
	var warnings struct {
		Warnings []struct {
			DagID string `json:"dag_id"`
		} `json:"dag_warnings"`
	}
	get("/dagWarnings", &warnings)
	if len(warnings.Warnings) != 1 || warnings.Warnings[0].DagID != "py_etl" {
		t.Errorf("dagWarnings = %+v", warnings)
	}
	var task struct {
		ClassRef struct {
			ClassName string `json:"class_name"`
		} `json:"class_ref"`
	}
	get("/dags/py_etl/tasks/glue_job", &task)
	if task.ClassRef.ClassName != "GlueJobOperator" {
		t.Errorf("glue_job class = %q", task.ClassRef.ClassName)
	}

	client := uiLogin(t, base, "admin-pw-1")
	resp, err := client.Get(base + "/dags/py_etl/code")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{`with DAG("py_etl", schedule="@daily", start_date=datetime.datetime(2024, 1, 1)):`, `bash_command="echo <hi>"`} {
		if !strings.Contains(html.UnescapeString(string(page)), line) {
			t.Errorf("code view lacks %q:\n%s", line, page)
		}
	}
}

// TestPythonDAGFilesWithoutPython: a missing interpreter fails the Python
// files, saying why, and the YAML DAGs load as before.
func TestPythonDAGFilesWithoutPython(t *testing.T) {
	t.Parallel()
	h := newHome(t, "WINDSOCK__CORE__PYTHON_EXECUTABLE=/nonexistent/python3")
	h.writeDAG(t, "py_etl.py", pythonDAG)
	h.writeDAG(t, "etl.yaml", etlDAG)
	if dags := listDAGs(t, h); len(dags) != 1 || dags["etl"].DagID != "etl" {
		t.Errorf("dags = %v", dags)
	}
	r := h.run(t, "", "dags", "list-import-errors", "-o", "json")
	if !strings.Contains(r.stdout, "py_etl.py") || !strings.Contains(r.stdout, `cannot load Python DAG files: python runtime: find python interpreter \"/nonexistent/python3\" (core.python_executable)`) {
		t.Errorf("import errors: %s", r.stdout)
	}
}
