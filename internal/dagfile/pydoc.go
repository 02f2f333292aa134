package dagfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// PythonDAG is one DAG of a Python DAG file as the parse child emitted it
// (pyspec Contract 1): its id, the line of the file that defined it, and
// its definition as a dag-factory-shaped JSON document.
type PythonDAG struct {
	DagID string          `json:"dag_id"`
	Line  int             `json:"line"`
	Doc   json.RawMessage `json:"doc"`
}

// ParsePythonDAGs turns the DAGs one Python file defined into validated
// definitions, through the same checks and defaults as a YAML file. JSON
// is YAML, so each document becomes a yaml.Node tree read by the YAML
// parser; every node carries the DAG's line, so a problem is reported
// against the Python file at the line defining the DAG (the document's
// own positions mean nothing to its author). As in Airflow's DagBag, a
// DAG id defined twice in one file keeps its last definition.
func ParsePythonDAGs(path string, dags []PythonDAG, d Defaults, ops *operator.Catalog) *File {
	p := &fileParser{path: path, d: d.resolved(), ops: ops, python: true}
	f := &File{Path: path}
	last := map[string]int{}
	for i, pd := range dags {
		last[pd.DagID] = i
	}
	for i, pd := range dags {
		if last[pd.DagID] != i {
			continue
		}
		at := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: pd.DagID, Line: pd.Line}
		doc, err := jsonNode(pd.Doc, pd.Line)
		if err != nil {
			p.add(at, pd.DagID, "DAG %q: the Python parser sent a document Windsock cannot read: %v", pd.DagID, err)
			f.BrokenDAGIDs = append(f.BrokenDAGIDs, pd.DagID)
			continue
		}
		dp := &dagParser{fileParser: p, id: pd.DagID}
		dag := dp.parse(at, doc, nil)
		if dag == nil || dp.failed {
			f.BrokenDAGIDs = append(f.BrokenDAGIDs, pd.DagID)
			continue
		}
		f.DAGs = append(f.DAGs, dag)
	}
	f.Errors = p.sorted()
	return f
}

// maxJSONDepth bounds the nesting of a document, as YAML's parser bounds
// its own.
const maxJSONDepth = 1000

// jsonNode reads one JSON value into a yaml.Node tree, every node at line.
// Keys keep their order (the order tasks were defined in); strings are
// quoted scalars, so "yes" or "2024-01-01" stay strings, as in JSON.
func jsonNode(data []byte, line int) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readJSONValue(dec, line, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the document")
	}
	return n, nil
}

func readJSONValue(dec *json.Decoder, line, depth int) (*yaml.Node, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
		if t == '[' {
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, stringNode(k.(string), line))
			}
			v, err := readJSONValue(dec, line, depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return stringNode(t, line), nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(t), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t), Line: line}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t), Line: line}, nil
	default: // nil
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: line}, nil
	}
}

func stringNode(s string, line int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: s, Line: line}
}

// Markers of the Python document for values that are not JSON.
const (
	pythonMarker = "__python__" // a callable: {"__python__": "module.qualname"}
	reprMarker   = "__repr__"   // any other object, for display: {"__repr__": "repr(x)"}
	typeMarker   = "__type__"   // dag-factory's typed objects
	paramClass   = "airflow.models.param.Param"
)

// markerText returns the text of a {"__python__": ...} or
// {"__repr__": ...} mapping, and which marker it is.
func markerText(v any) (marker, text string, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", "", false
	}
	for _, k := range []string{pythonMarker, reprMarker} {
		if s, has := m[k].(string); has {
			return k, s, true
		}
	}
	return "", "", false
}

// splitParams separates the defaults of params declared with Param
// ({"__type__": "airflow.models.param.Param", "default": ...}) from
// their description and schema. Plain values are their own default.
func splitParams(params map[string]any) (map[string]any, map[string]windsock.Param) {
	var specs map[string]windsock.Param
	values := make(map[string]any, len(params))
	for k, v := range params {
		m, ok := v.(map[string]any)
		if !ok || m[typeMarker] != paramClass {
			values[k] = v
			continue
		}
		values[k] = m["default"]
		var spec windsock.Param
		if d, ok := m["description"].(string); ok {
			spec.Description = &d
		}
		spec.Schema, _ = m["schema"].(map[string]any)
		if specs == nil {
			specs = map[string]windsock.Param{}
		}
		specs[k] = spec
	}
	return values, specs
}

// pythonTask reads a python_file_task's metadata into task.Python and
// shows the author's class as the task's operator.
func (p *dagParser) pythonTask(t *rawTask, task *windsock.Task) {
	raw, ok := task.Args[windsock.PythonFileTaskOperator]
	delete(task.Args, windsock.PythonFileTaskOperator)
	if len(task.Args) == 0 {
		task.Args = nil
	}
	at := keyNode(t, windsock.PythonFileTaskOperator)
	if !p.python {
		p.errorf(at, "task %q: python_file_task is what Python DAG files produce; in a YAML file use an operator such as python", t.name)
		return
	}
	m, isMap := raw.(map[string]any)
	if !ok || !isMap {
		p.errorf(at, "task %q: python_file_task must be a mapping (class_path, class_name, template_fields, ...)", t.name)
		return
	}
	b, err := json.Marshal(m)
	var py windsock.PythonTask
	if err == nil {
		err = json.Unmarshal(b, &py)
	}
	if err != nil {
		p.errorf(at, "task %q: bad python_file_task metadata: %v", t.name, err)
		return
	}
	if py.ClassPath == "" {
		p.errorf(at, "task %q: python_file_task has no class_path", t.name)
		return
	}
	if py.ClassName == "" {
		py.ClassName = py.ClassPath[strings.LastIndex(py.ClassPath, ".")+1:]
	}
	if pl := py.Placeholder; pl != nil && (pl.ClassPath == "" || pl.Provider == "") {
		p.errorf(at, "task %q: python_file_task placeholder needs provider and class_path", t.name)
		return
	}
	// The kwargs, decoded as generic JSON, hold float64 for every number;
	// the document's own reading keeps whole numbers whole.
	if kw, ok := m["kwargs"].(map[string]any); ok {
		py.Kwargs = kw
	}
	task.Python = &py
	task.OperatorClass = py.ClassName
}
