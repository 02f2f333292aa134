package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/windsock"
)

// pythonDef is a definition as a Python DAG file gives it: a @task
// running in Python, a placeholder for a provider class the environment
// lacks, and a param declared with Param.
func pythonDef(dagID string) *windsock.DAG {
	d := dagDef(dagID, "/dags/"+dagID+".py")
	desc := "row limit"
	d.Params = map[string]any{"limit": 10}
	d.ParamSpecs = map[string]windsock.Param{"limit": {Description: &desc, Schema: map[string]any{"type": "integer", "minimum": 1}}}
	a, b := d.Tasks[0], d.Tasks[1]
	a.Operator, a.OperatorClass, a.Args = windsock.PythonFileTaskOperator, "_PythonDecoratedOperator", nil
	a.Python = &windsock.PythonTask{ClassPath: "airflow.decorators.python._PythonDecoratedOperator", ClassName: "_PythonDecoratedOperator",
		OperatorName: "@task", TemplateFields: []string{"templates_dict", "op_args", "op_kwargs"}, UIColor: "#ffefeb"}
	b.Operator, b.OperatorClass, b.Args = windsock.PythonFileTaskOperator, "GlueJobOperator", nil
	b.Python = &windsock.PythonTask{ClassPath: "airflow.providers.amazon.aws.operators.glue.GlueJobOperator", ClassName: "GlueJobOperator",
		Placeholder: &windsock.ProviderPlaceholder{Provider: "amazon", ClassPath: "airflow.providers.amazon.aws.operators.glue.GlueJobOperator"}}
	return d
}

func TestDagWarnings(t *testing.T) {
	t.Parallel()
	e := setupDAGs(t)
	e.seedDAG(pythonDef("glue"), `"@daily"`)
	e.seedDAG(pythonDef("glue2"), `"@daily"`)
	// A user who may read glue only (roles are read at the first request).
	if err := e.st.RoleCreate(e.ctx, &windsock.Role{Name: "glue_reader", Permissions: []windsock.Permission{
		{Action: auth.ActionRead, Resource: auth.ResourceDAGWarning}, {Action: auth.ActionRead, Resource: auth.DAGResource("glue")}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.UserCreate(e.ctx, &windsock.User{Username: "glue_reader", FirstName: "G", LastName: "R",
		Email: "g@example.com", Password: passwordHash(), Active: true, Roles: []string{"glue_reader"}}); err != nil {
		t.Fatal(err)
	}
	var l struct {
		Warnings []dagWarningJSON `json:"dag_warnings"`
		Total    int              `json:"total_entries"`
	}
	ids := func() []string {
		out := []string{}
		for _, w := range l.Warnings {
			out = append(out, w.DagID)
		}
		return out
	}
	e.ok(e.doChecked("GET", "/api/v1/dagWarnings?order_by=dag_id", "viewer", nil), http.StatusOK, &l)
	if !slices.Equal(ids(), []string{"glue", "glue2"}) || l.Total != 2 {
		t.Fatalf("warnings = %+v", l)
	}
	w := l.Warnings[0]
	if w.WarningType != "missing provider" || w.Timestamp == "" ||
		w.Message != "tasks 'b': airflow.providers.amazon.aws.operators.glue.GlueJobOperator needs the provider package apache-airflow-providers-amazon, which this environment lacks" {
		t.Errorf("warning = %+v", w)
	}
	e.ok(e.doChecked("GET", "/api/v1/dagWarnings?dag_id=glue", "viewer", nil), http.StatusOK, &l)
	if !slices.Equal(ids(), []string{"glue"}) {
		t.Errorf("dag_id=glue: %v", ids())
	}
	e.ok(e.doChecked("GET", "/api/v1/dagWarnings?warning_type=non-existent%20pool", "viewer", nil), http.StatusOK, &l)
	if l.Total != 0 {
		t.Errorf("warning_type filter: %v", ids())
	}
	// Like Airflow, reading warnings takes the "DAG Warnings" permission,
	// which the team's custom role lacks.
	e.problem(e.doChecked("GET", "/api/v1/dagWarnings", "team", nil), http.StatusForbidden, "permission")
	e.ok(e.doChecked("GET", "/api/v1/dagWarnings", "glue_reader", nil), http.StatusOK, &l)
	if !slices.Equal(ids(), []string{"glue"}) || l.Total != 1 {
		t.Errorf("glue_reader sees %v", ids())
	}
}

func TestPythonTaskShowsItsClass(t *testing.T) {
	t.Parallel()
	e := setupDAGs(t)
	e.seedDAG(pythonDef("glue"), `"@daily"`)
	var task map[string]any
	e.ok(e.doChecked("GET", "/api/v1/dags/glue/tasks/a", "viewer", nil), http.StatusOK, &task)
	ref := task["class_ref"].(map[string]any)
	if ref["class_name"] != "_PythonDecoratedOperator" || ref["module_path"] != "airflow.decorators.python" ||
		task["operator_name"] != "@task" || task["ui_color"] != "#ffefeb" || len(task["template_fields"].([]any)) != 3 {
		t.Errorf("task a = %v", task)
	}
	e.ok(e.doChecked("GET", "/api/v1/dags/glue/tasks/b", "viewer", nil), http.StatusOK, &task)
	if ref := task["class_ref"].(map[string]any); ref["class_name"] != "GlueJobOperator" || !strings.HasSuffix(ref["module_path"].(string), "aws.operators.glue") {
		t.Errorf("task b = %v", task)
	}
	var details map[string]any
	e.ok(e.doChecked("GET", "/api/v1/dags/glue/details", "viewer", nil), http.StatusOK, &details)
	limit := details["params"].(map[string]any)["limit"].(map[string]any)
	if limit["value"] != float64(10) || limit["description"] != "row limit" || limit["schema"].(map[string]any)["minimum"] != float64(1) {
		t.Errorf("param limit = %v", limit)
	}
}
