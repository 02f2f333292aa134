package dagfile

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

const pyPath = "/dags/etl.py"

// parsePy parses hand-written parse documents as the Python child sends
// them, each DAG at the given line.
func parsePy(t *testing.T, dags ...PythonDAG) *File {
	t.Helper()
	return ParsePythonDAGs(pyPath, dags, NewDefaults(testNow), operator.Builtins())
}

// goodDoc exercises every encoding of pyspec.md's Contract 1 at once.
const goodDoc = `{
  "description": "ETL \ud83d\ude80",
  "schedule": "0 3 * * *",
  "start_date": "2024-01-01T00:00:00+00:00",
  "catchup": false,
  "tags": ["etl"],
  "params": {
    "plain": 3,
    "limit": {"__type__": "airflow.models.param.Param", "default": 10, "description": "row limit",
              "schema": {"type": "integer", "minimum": 1}},
    "ratio": {"__type__": "airflow.models.param.Param", "default": 0.5, "schema": {"type": "number"}}
  },
  "on_failure_callback": {"__python__": "etl.alert"},
  "default_args": {"owner": "data", "retries": 2, "retry_delay": {"__type__": "datetime.timedelta", "seconds": 60.0},
                   "on_retry_callback": {"__python__": "etl.retrying"}},
  "task_groups": {
    "load": {"tooltip": "Loading", "prefix_group_id": false},
    "load.inner": {"parent_group_name": "load", "prefix_group_id": false}
  },
  "tasks": {
    "extract": {
      "operator": "python_file_task",
      "python_file_task": {
        "class_path": "airflow.decorators.python._PythonDecoratedOperator", "class_name": "_PythonDecoratedOperator",
        "operator_name": "@task", "template_fields": ["templates_dict", "op_args", "op_kwargs"], "template_ext": [],
        "ui_color": "#ffefeb", "ui_fgcolor": "#000", "multiple_outputs": true, "placeholder": null,
        "kwargs": {"python_callable": {"__python__": "etl.extract"}, "op_kwargs": {"when": {"__repr__": "datetime.date(2024, 1, 1)"}, "n": 3}}
      }
    },
    "say": {"operator": "airflow.operators.bash.BashOperator", "bash_command": "echo {{ ds }}", "dependencies": ["extract"],
            "execution_timeout": {"__type__": "datetime.timedelta", "seconds": 300.0},
            "on_failure_callback": {"__python__": "etl.task_failed"}},
    "load.save": {"operator": "python_file_task", "task_group_name": "load", "dependencies": ["extract", "say"],
                  "params": {"target": {"__type__": "airflow.models.param.Param", "default": "db"}},
                  "python_file_task": {"class_path": "airflow.providers.amazon.aws.operators.glue.GlueJobOperator",
                    "class_name": "GlueJobOperator",
                    "placeholder": {"provider": "amazon", "class_path": "airflow.providers.amazon.aws.operators.glue.GlueJobOperator"},
                    "kwargs": {"job_name": "nightly"}}},
    "load.inner.check": {"operator": "airflow.operators.empty.EmptyOperator", "task_group_name": "load.inner",
                         "dependencies": ["load.save"], "trigger_rule": "all_done"},
    "mapped": {"operator": "python_file_task", "python_file_task": {"class_path": "etl.Custom"},
               "partial": {"x": 1}, "expand": {"y": {"__xcomarg__": {"task_id": "extract", "key": "return_value"}}}}
  }
}`

func TestParsePythonDAGsGood(t *testing.T) {
	t.Parallel()
	f := parsePy(t, PythonDAG{DagID: "etl", Line: 12, Doc: json.RawMessage(goodDoc)})
	if len(f.Errors) > 0 || len(f.DAGs) != 1 {
		t.Fatalf("errors %v, %d DAGs", f.Errors, len(f.DAGs))
	}
	d := f.DAGs[0]
	if d.Fileloc != pyPath || d.Description != "ETL 🚀" || d.Catchup || d.Schedule.Cron != "0 3 * * *" {
		t.Errorf("DAG settings: fileloc %q description %q catchup %v schedule %+v", d.Fileloc, d.Description, d.Catchup, d.Schedule)
	}
	if want := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); d.StartDate == nil || !d.StartDate.Equal(want) {
		t.Errorf("start_date = %v", d.StartDate)
	}
	if want := map[string]any{"plain": 3, "limit": 10, "ratio": 0.5}; !reflect.DeepEqual(d.Params, want) {
		t.Errorf("params = %#v, want %#v", d.Params, want)
	}
	if s := d.ParamSpecs["limit"]; s.Description == nil || *s.Description != "row limit" || s.Schema["minimum"] != 1 {
		t.Errorf("param spec limit = %+v", s)
	}
	if _, ok := d.ParamSpecs["plain"]; ok {
		t.Error("a plain param got a spec")
	}
	if !reflect.DeepEqual(d.Callbacks, map[string]any{"on_failure_callback": map[string]any{"__python__": "etl.alert"}}) {
		t.Errorf("callbacks = %#v", d.Callbacks)
	}

	extract := taskByID(t, d, "extract")
	if extract.Operator != "python_file_task" || extract.OperatorClass != "_PythonDecoratedOperator" || extract.Python == nil {
		t.Fatalf("extract: operator %q class %q python %+v", extract.Operator, extract.OperatorClass, extract.Python)
	}
	py := extract.Python
	if py.OperatorName != "@task" || !py.MultipleOutputs || py.UIColor != "#ffefeb" || py.Placeholder != nil ||
		!slices.Equal(py.TemplateFields, []string{"templates_dict", "op_args", "op_kwargs"}) {
		t.Errorf("extract metadata = %+v", py)
	}
	opKwargs, _ := py.Kwargs["op_kwargs"].(map[string]any)
	if opKwargs["n"] != 3 || !reflect.DeepEqual(opKwargs["when"], map[string]any{"__repr__": "datetime.date(2024, 1, 1)"}) {
		t.Errorf("extract kwargs = %#v", py.Kwargs)
	}
	if _, ok := extract.Args["python_file_task"]; ok {
		t.Error("the metadata is left in Args too")
	}
	if extract.Owner != "data" || extract.Retries != 2 || extract.RetryDelay.Std() != time.Minute {
		t.Errorf("default_args not applied: owner %q retries %d delay %v", extract.Owner, extract.Retries, extract.RetryDelay)
	}
	if !reflect.DeepEqual(extract.Args["on_retry_callback"], map[string]any{"__python__": "etl.retrying"}) {
		t.Errorf("default_args callback = %#v", extract.Args)
	}

	say := taskByID(t, d, "say")
	if say.Operator != "bash" || say.OperatorClass != "BashOperator" || say.Python != nil || say.Args["bash_command"] != "echo {{ ds }}" ||
		say.ExecutionTimeout.Std() != 5*time.Minute || !slices.Equal(say.Upstream, []string{"extract"}) {
		t.Errorf("say = %+v", say)
	}
	if !reflect.DeepEqual(say.Args["on_failure_callback"], map[string]any{"__python__": "etl.task_failed"}) {
		t.Errorf("say callback = %#v", say.Args["on_failure_callback"])
	}

	save := taskByID(t, d, "load.save")
	if save.TaskGroup != "load" || !slices.Equal(save.Upstream, []string{"extract", "say"}) || save.OperatorClass != "GlueJobOperator" {
		t.Errorf("load.save = %+v", save)
	}
	if pl := save.Python.Placeholder; pl == nil || pl.Provider != "amazon" ||
		pl.Message() != "airflow.providers.amazon.aws.operators.glue.GlueJobOperator needs the provider package apache-airflow-providers-amazon, which this environment lacks" {
		t.Errorf("placeholder = %+v", pl)
	}
	if !reflect.DeepEqual(save.Args["params"], map[string]any{"target": "db"}) {
		t.Errorf("task params = %#v", save.Args["params"])
	}
	check := taskByID(t, d, "load.inner.check")
	if check.TaskGroup != "load.inner" || check.TriggerRule != windsock.TriggerAllDone || !slices.Equal(check.Upstream, []string{"load.save"}) {
		t.Errorf("load.inner.check = %+v", check)
	}
	groups := map[string]*windsock.TaskGroup{}
	for _, g := range d.TaskGroups {
		groups[g.GroupID] = g
	}
	if g := groups["load"]; g == nil || g.Tooltip != "Loading" || !slices.Equal(g.Children, []string{"load.inner", "load.save"}) {
		t.Errorf("group load = %+v", g)
	}
	if g := groups["load.inner"]; g == nil || g.ParentGroup != "load" || !slices.Equal(g.Children, []string{"load.inner.check"}) {
		t.Errorf("group load.inner = %+v", g)
	}
	mapped := taskByID(t, d, "mapped")
	if mapped.OperatorClass != "Custom" || mapped.Python == nil || mapped.Expand == nil || !slices.Equal(mapped.Upstream, []string{"extract"}) {
		t.Errorf("mapped = %+v", mapped)
	}
	if ws := d.Warnings(); len(ws) != 1 || ws[0].WarningType != windsock.DagWarningMissingProvider ||
		!strings.Contains(ws[0].Message, "'load.save'") {
		t.Errorf("warnings = %+v", ws)
	}

	// The definition survives the store's serialization.
	data, err := windsock.MarshalDAG(d)
	if err != nil {
		t.Fatal(err)
	}
	var back windsock.DAG
	if err := windsock.DecodeJSON(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Task("load.save").Python.Placeholder.Provider != "amazon" || back.ParamSpecs["ratio"].Schema["type"] != "number" {
		t.Errorf("read back: %+v %+v", back.Task("load.save").Python, back.ParamSpecs)
	}
}

func TestParsePythonDAGsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		// want are the exact error texts, in order.
		want []string
	}{
		{
			name: "unknown DAG key",
			doc:  `{"schedul": "@daily", "tasks": {}}`,
			want: []string{`/dags/etl.py:40: unknown DAG key "schedul" (did you mean schedule?)`},
		},
		{
			name: "bad trigger rule",
			doc:  `{"tasks": {"a": {"operator": "airflow.operators.empty.EmptyOperator", "trigger_rule": "all_sucess"}}}`,
			want: []string{`/dags/etl.py:40: bad trigger_rule "all_sucess" (did you mean all_success?): use one of `},
		},
		{
			name: "metadata without class",
			doc:  `{"tasks": {"a": {"operator": "python_file_task", "python_file_task": {"class_name": "X"}}}}`,
			want: []string{`/dags/etl.py:40: task "a": python_file_task has no class_path`},
		},
		{
			name: "python object where a number belongs",
			doc:  `{"max_active_runs": {"__repr__": "<object at 0x1>"}, "tasks": {}}`,
			want: []string{`/dags/etl.py:40: max_active_runs must be a whole number, got a Python object (<object at 0x1>)`},
		},
		{
			name: "callable where a string belongs",
			doc:  `{"description": {"__python__": "etl.describe"}, "tasks": {}}`,
			want: []string{`/dags/etl.py:40: description must be a string, got a Python callable (etl.describe)`},
		},
		{
			name: "cycle",
			doc: `{"tasks": {"a": {"operator": "airflow.operators.empty.EmptyOperator", "dependencies": ["b"]},
			                "b": {"operator": "airflow.operators.empty.EmptyOperator", "dependencies": ["a"]}}}`,
			want: []string{`/dags/etl.py:40: cycle in dependencies: `},
		},
		{
			name: "not JSON",
			doc:  `{"tasks": `,
			want: []string{`/dags/etl.py:40: DAG "etl": the Python parser sent a document Windsock cannot read: `},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := parsePy(t, PythonDAG{DagID: "etl", Line: 40, Doc: json.RawMessage(tt.doc)})
			var got []string
			for _, e := range f.Errors {
				got = append(got, e.Error())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("errors = %q, want %q", got, tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("error %d = %q, want prefix %q", i, got[i], tt.want[i])
				}
			}
			if len(f.DAGs) != 0 || !slices.Equal(f.BrokenDAGIDs, []string{"etl"}) {
				t.Errorf("DAGs %d, broken %q", len(f.DAGs), f.BrokenDAGIDs)
			}
		})
	}
}

func TestParsePythonDAGsFileRules(t *testing.T) {
	t.Parallel()
	empty := `{"tasks": {"t": {"operator": "airflow.operators.empty.EmptyOperator"}}}`
	bad := `{"tasks": {"t": {"operator": "nope"}}}`
	f := parsePy(t,
		PythonDAG{DagID: "a", Line: 3, Doc: json.RawMessage(bad)},
		PythonDAG{DagID: "b", Line: 9, Doc: json.RawMessage(empty)},
		// Airflow's DagBag: a later DAG with the same id in one file
		// replaces the earlier one.
		PythonDAG{DagID: "a", Line: 20, Doc: json.RawMessage(empty)},
	)
	var ids []string
	for _, d := range f.DAGs {
		ids = append(ids, d.DagID)
	}
	if !slices.Equal(ids, []string{"b", "a"}) || len(f.Errors) != 0 {
		t.Errorf("DAGs %q errors %v", ids, f.Errors)
	}
	f = parsePy(t, PythonDAG{DagID: "bad id!", Line: 5, Doc: json.RawMessage(empty)}, PythonDAG{DagID: "b", Line: 9, Doc: json.RawMessage(empty)})
	if len(f.DAGs) != 1 || len(f.Errors) != 1 || f.Errors[0].Line != 5 || f.Errors[0].DagID != "bad id!" {
		t.Errorf("a bad DAG must fail alone at its line: DAGs %d errors %v", len(f.DAGs), f.Errors)
	}
}

func TestPythonFileTaskRefusedInYAML(t *testing.T) {
	t.Parallel()
	src := "d:\n  tasks:\n    t:\n      operator: python_file_task\n      python_file_task: {class_path: x.Y}\n"
	f := ParseFile("d.yaml", []byte(src), NewDefaults(testNow), operator.Builtins())
	if len(f.Errors) != 1 || !strings.Contains(f.Errors[0].Error(), "d.yaml:5:7: task \"t\": python_file_task is what Python DAG files produce") {
		t.Errorf("errors = %v", f.Errors)
	}
}
