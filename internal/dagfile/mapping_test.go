package dagfile

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

func TestParseFileMapping(t *testing.T) {
	t.Parallel()
	src := []byte(`
m:
  tasks:
    make:
      operator: airflow.operators.python.PythonOperator
      python_callable_lambda: "lambda: [1, 2]"
    over_xcom:
      operator: airflow.operators.python.PythonOperator
      python_callable_lambda: "lambda x: x"
      partial:
        op_kwargs: {a: 1}
      expand:
        op_args: make.output
    cross:
      operator: bash
      expand:
        bash_command: ["echo a", "echo b"]
        env: {B: "2", A: "1"}
    kwargs:
      operator: bash
      expand_kwargs: [{bash_command: "echo 1"}, {bash_command: "echo 2", env: {X: "y"}}]
    python_form:
      operator: bash
      expand:
        bash_command: {"__xcomarg__": {"task_id": "make", "key": "return_value"}}
`)
	f := ParseFile("m.yaml", src, NewDefaults(testNow), operator.Builtins())
	if len(f.Errors) > 0 {
		t.Fatalf("errors: %v", f.Errors)
	}
	d := dagByID(t, f, "m")
	ox := taskByID(t, d, "over_xcom")
	if ox.Expand == nil || ox.Expand.Kind != windsock.ExpandDictOfLists || len(ox.Expand.Args) != 1 ||
		ox.Expand.Args[0].Name != "op_args" || ox.Expand.Args[0].XCom == nil || ox.Expand.Args[0].XCom.TaskID != "make" {
		t.Fatalf("over_xcom expand = %+v", ox.Expand)
	}
	if !slices.Equal(ox.Upstream, []string{"make"}) {
		t.Errorf("an XCom source is upstream: %v", ox.Upstream)
	}
	if ox.Args["op_kwargs"] == nil || ox.Args["expand"] != nil || ox.Args["partial"] != nil {
		t.Errorf("partial args go into Args, expand does not: %v", ox.Args)
	}
	cross := taskByID(t, d, "cross")
	if n, err := cross.Expand.Length(nil); err != nil || n != 4 {
		t.Fatalf("cross length = %d, %v", n, err)
	}
	// The last argument varies fastest; a dict yields its pairs in the
	// order written.
	kw, err := cross.Expand.IndexArgs(1, nil)
	if err != nil || kw["bash_command"] != "echo a" || !slices.Equal(kw["env"].([]any), []any{"A", "1"}) {
		t.Errorf("index 1 = %v, %v", kw, err)
	}
	kwargs := taskByID(t, d, "kwargs")
	if kw, err := kwargs.Expand.IndexArgs(1, nil); err != nil || kw["bash_command"] != "echo 2" {
		t.Errorf("expand_kwargs index 1 = %v, %v", kw, err)
	}
	pf := taskByID(t, d, "python_form")
	if pf.Expand.Args[0].XCom == nil || !slices.Equal(pf.Upstream, []string{"make"}) {
		t.Errorf("__xcomarg__ form = %+v, upstream %v", pf.Expand.Args[0], pf.Upstream)
	}
}

// TestParseFileMappingMapAndZip reads XComArg.map() and zip() as the Python
// side writes them: their sources become dependencies, map() keeps its
// source's length, zip() the shortest input's, or the longest one's with a
// fillvalue.
func TestParseFileMappingMapAndZip(t *testing.T) {
	t.Parallel()
	src := []byte(`
m:
  tasks:
    a: {operator: bash, bash_command: echo}
    b: {operator: bash, bash_command: echo}
    mapped:
      operator: bash
      expand:
        bash_command: {"__xcomarg__": {"task_id": "a", "key": "return_value", "kind": "MapXComArg",
          "map": [{"__python__": "dags.f.label"}], "arg": {"__xcomarg__": {"task_id": "a", "key": "return_value"}}}}
    zipped:
      operator: bash
      expand:
        bash_command: {"__xcomarg__": {"task_id": "a", "kind": "ZipXComArg", "args": [
          {"__xcomarg__": {"task_id": "a", "key": "return_value"}}, {"__xcomarg__": {"task_id": "b", "key": "return_value"}}]}}
    filled:
      operator: bash
      expand:
        bash_command: {"__xcomarg__": {"task_id": "a", "kind": "ZipXComArg", "fillvalue": null, "args": [
          {"__xcomarg__": {"task_id": "a", "key": "return_value"}}, {"__xcomarg__": {"task_id": "b", "key": "return_value"}}]}}
`)
	f := ParseFile("m.yaml", src, NewDefaults(testNow), operator.Builtins())
	if len(f.Errors) > 0 {
		t.Fatal(f.Errors)
	}
	d := f.DAGs[0]
	in := windsock.MapInputs{"a": json.RawMessage(`[1,2,3]`), "b": json.RawMessage(`["x","y"]`)}
	for _, tc := range []struct {
		task     string
		upstream []string
		length   int
		last     string
	}{
		{"mapped", []string{"a"}, 3, "3"},
		{"zipped", []string{"a", "b"}, 2, `[2 y]`},
		{"filled", []string{"a", "b"}, 3, `[3 <nil>]`},
	} {
		task := taskByID(t, d, tc.task)
		if !slices.Equal(task.Upstream, tc.upstream) {
			t.Errorf("%s upstream %v, want %v", tc.task, task.Upstream, tc.upstream)
		}
		n, err := task.Expand.Length(in)
		if err != nil || n != tc.length {
			t.Errorf("%s length %d, %v; want %d", tc.task, n, err, tc.length)
			continue
		}
		kw, err := task.Expand.IndexArgs(n-1, in)
		if got := fmt.Sprint(kw["bash_command"]); err != nil || got != tc.last {
			t.Errorf("%s last index gets %s, %v; want %s", tc.task, got, err, tc.last)
		}
	}
	if fns := taskByID(t, d, "mapped").Expand.Args[0].Map.Functions; !slices.Equal(fns, []string{"dags.f.label"}) {
		t.Errorf("map functions %v", fns)
	}
}

func TestParseFileMappingErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, task, want string }{
		{"scalar", "expand: {bash_command: 3}", "got an unexpected type 'int' for keyword argument \"bash_command\""},
		{"unknown arg", "expand: {nope: [1]}", "expand() got an unexpected keyword argument \"nope\""},
		{"base field", "expand: {retries: [1]}", "cannot map over retries"},
		{"custom key", `expand: {bash_command: {"__xcomarg__": {"task_id": "a", "key": "k"}}}`, "custom key"},
		{"unknown source", "expand: {bash_command: nope.output}", "dependency \"nope\" is not a task"},
		{"both", "expand: {bash_command: [a]}\n      expand_kwargs: []", "both expand and expand_kwargs"},
		{"partial alone", "partial: {env: {}}", "neither expand nor expand_kwargs"},
		{"xcomarg map without source", `expand: {bash_command: {"__xcomarg__": {"task_id": "a", "key": "return_value", "kind": "MapXComArg", "map": []}}}`, "needs its source under arg"},
		{"zip without inputs", `expand: {bash_command: {"__xcomarg__": {"task_id": "a", "kind": "ZipXComArg"}}}`, "needs its inputs under args"},
		{"concat", `expand: {bash_command: {"__xcomarg__": {"task_id": "a", "kind": "ConcatXComArg"}}}`, "over ConcatXComArg is not supported"},
		{"nested xcomarg", `expand_kwargs: [{bash_command: {"__xcomarg__": {"task_id": "a", "key": "return_value"}}}]`, "inside a mapped list"},
		{"partial dup", "bash_command: x\n      partial: {bash_command: y}\n      expand: {env: [{}]}", "also set on task"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := "d:\n  tasks:\n    a:\n      operator: bash\n      bash_command: echo\n    b:\n      operator: bash\n      " + tc.task + "\n"
			f := ParseFile("e.yaml", []byte(src), NewDefaults(testNow), operator.Builtins())
			var all []string
			for _, e := range f.Errors {
				all = append(all, e.Error())
			}
			if !strings.Contains(strings.Join(all, "\n"), tc.want) {
				t.Errorf("errors %q do not mention %q", all, tc.want)
			}
		})
	}
}

// TestParseFileMappingPythonDocument reads a mapped task as the Python side
// writes it (pyspec.md): a python_file_task with expand over an XComArg and
// partial arguments, names Python already checked.
func TestParseFileMappingPythonDocument(t *testing.T) {
	t.Parallel()
	doc := `{"schedule": null, "start_date": "2024-01-01T00:00:00+00:00", "tasks": {
	  "make": {"operator": "airflow.operators.bash.BashOperator", "bash_command": "echo"},
	  "each": {"operator": "python_file_task", "dependencies": ["make"],
	           "python_file_task": {"class_path": "airflow.decorators.python._PythonDecoratedOperator",
	                                "class_name": "_PythonDecoratedOperator", "operator_name": "@task",
	                                "template_fields": ["op_args", "op_kwargs"], "template_ext": []},
	           "partial": {"retries": 2}, "expand": {"x": {"__xcomarg__": {"task_id": "make", "key": "return_value"}}}}
	}}`
	f := parsePy(t, PythonDAG{DagID: "py", Line: 3, Doc: json.RawMessage(doc)})
	if len(f.Errors) > 0 {
		t.Fatalf("errors: %v", f.Errors)
	}
	each := taskByID(t, dagByID(t, f, "py"), "each")
	if each.Expand == nil || each.Expand.Args[0].Name != "x" || each.Retries != 2 || !slices.Equal(each.Upstream, []string{"make"}) {
		t.Errorf("each = %+v", each)
	}
}

// TestParseFileMappingPythonNativeTasks reads native (Go-run) mapped tasks
// exactly as windsock_rt.parse emits them for
// BashOperator.partial(task_id=..., retries=1).expand(bash_command=[...])
// and .expand(bash_command=make()).
func TestParseFileMappingPythonNativeTasks(t *testing.T) {
	t.Parallel()
	src := []byte(`{"pymap": {"schedule": null, "start_date": "2024-01-01T00:00:00+00:00", "tasks": {
	  "make": {"operator": "airflow.operators.bash.BashOperator", "bash_command": "echo"},
	  "echo": {"operator": "airflow.operators.bash.BashOperator", "retries": 1, "partial": {},
	           "expand": {"bash_command": ["echo a", "echo b"]}},
	  "echo_x": {"dependencies": ["make"], "operator": "airflow.operators.bash.BashOperator", "partial": {},
	           "expand": {"bash_command": {"__xcomarg__": {"task_id": "make", "key": "return_value"}}}}
	}}}`)
	f := ParseFile("pymap.json", src, NewDefaults(testNow), operator.Builtins())
	if len(f.Errors) > 0 {
		t.Fatalf("errors: %v", f.Errors)
	}
	d := dagByID(t, f, "pymap")
	if n, err := taskByID(t, d, "echo").Expand.Length(nil); err != nil || n != 2 || taskByID(t, d, "echo").Retries != 1 {
		t.Errorf("echo: %d instances, %v", n, err)
	}
	if x := taskByID(t, d, "echo_x"); x.Expand.Args[0].XCom == nil || !slices.Equal(x.Upstream, []string{"make"}) {
		t.Errorf("echo_x = %+v", x)
	}
}

// TestParseFileMappedTaskGroup: a task group with expand maps every task
// inside it with the group's expansion (its XCom sources becoming their
// upstream); a mapped task inside it is refused.
func TestParseFileMappedTaskGroup(t *testing.T) {
	t.Parallel()
	src := []byte(`
m:
  task_groups:
    g:
      expand: {x: make.output}
  tasks:
    make: {operator: bash, bash_command: echo}
    a: {operator: bash, bash_command: echo a, task_group_name: g}
    b: {operator: bash, bash_command: echo b, task_group_name: g, dependencies: [a]}
    after: {operator: bash, bash_command: echo, dependencies: [g]}
`)
	f := ParseFile("m.yaml", src, NewDefaults(testNow), operator.Builtins())
	if len(f.Errors) > 0 {
		t.Fatal(f.Errors)
	}
	d := f.DAGs[0]
	for _, id := range []string{"g.a", "g.b"} {
		task := taskByID(t, d, id)
		if task.ExpandGroup != "g" || task.Expand == nil || task.Expand.Args[0].XCom.TaskID != "make" || !slices.Contains(task.Upstream, "make") {
			t.Errorf("%s: group %q, expand %+v, upstream %v", id, task.ExpandGroup, task.Expand, task.Upstream)
		}
		if _, mapped := task.Args["x"]; mapped {
			t.Errorf("%s: the group's argument x became an operator argument", id)
		}
	}
	if after := taskByID(t, d, "after"); after.Mapped() {
		t.Error("a task after the group is not mapped")
	}
	bad := []byte(`
m:
  task_groups:
    g: {expand: {x: [1, 2]}}
  tasks:
    a: {operator: bash, bash_command: echo, task_group_name: g, expand: {env: [{}]}}
`)
	f = ParseFile("m.yaml", bad, NewDefaults(testNow), operator.Builtins())
	if len(f.Errors) == 0 || !strings.Contains(f.Errors[0].Error(), "a mapped task in a mapped task group is not supported") {
		t.Errorf("errors %v", f.Errors)
	}
}
