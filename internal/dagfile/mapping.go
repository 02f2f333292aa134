package dagfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/windsock/windsock/internal/windsock"
)

// pythonTaskKey marks a task of a Python DAG file that runs in Python
// (pyspec's python_file_task).
const pythonTaskKey = "python_file_task"

// mappingKeys are dag-factory's keys of a mapped task: expand (or
// expand_kwargs) says what it is mapped over, partial holds the arguments
// every instance shares.
var mappingKeys = []string{"expand", "expand_kwargs", "partial", "map_index_template"}

// xcomArgKey is how the Python side writes an XComArg in a DAG document.
const xcomArgKey = "__xcomarg__"

// partialArgs folds a task's partial block into its own arguments, as
// dag-factory does (task_params.update(partial_kwargs)); an argument set
// both ways is an error there and here.
func (p *dagParser) partialArgs(t *rawTask) {
	n := t.f["partial"]
	if n == nil || isNull(n) {
		return
	}
	if !isMapping(n) {
		p.errorf(n, "partial must be a mapping of the arguments every mapped instance shares, got %s", kindName(n))
		return
	}
	for _, e := range pairs(n) {
		k := e.key.Value
		if _, dup := t.own[k]; dup {
			p.errorf(e.key, "partial argument %q is also set on task %q; set it once", k, t.name)
			continue
		}
		t.own[k] = argNode{key: e.key, val: e.val}
		t.keys[k] = e.key
	}
}

// expand reads a task's expand or expand_kwargs block. XCom sources become
// dependencies, as an XComArg passed to expand() makes its task upstream.
func (p *dagParser) expand(t *rawTask, accepted map[string]bool) *windsock.Expand {
	en, kn := expandNodes(t.f)
	if en == nil && kn == nil && t.f["partial"] != nil {
		p.errorf(keyNode(t, "partial"), "task %q has partial but neither expand nor expand_kwargs", t.name)
	}
	if t.f[pythonTaskKey] != nil {
		// A task of a Python DAG file: Python checked the names against
		// the class's __init__ already (validate_mapping_kwargs), and its
		// arguments are not in the Go catalog.
		accepted = nil
	}
	fields := map[string]bool{}
	for _, k := range fieldKeys {
		fields[k] = true
	}
	return p.expandFrom(t, t.name, en, kn, func(k *yaml.Node) bool {
		name := k.Value
		switch {
		case fields[name]:
			p.errorf(k, "cannot map over %s: expand takes the operator's own arguments", name)
		case accepted != nil && !accepted[name]:
			p.errorf(k, "expand() got an unexpected keyword argument %q%s", name, suggest(name, keys(accepted)))
		case t.own[name].val != nil:
			p.errorf(k, "argument %q is both mapped (expand) and set on task %q", name, t.name)
		default:
			return true
		}
		return false
	})
}

// expandNodes returns the expand and expand_kwargs values of a task's or a
// task group's fields, nil when absent.
func expandNodes(f map[string]*yaml.Node) (en, kn *yaml.Node) {
	en, kn = f["expand"], f["expand_kwargs"]
	if en != nil && isNull(en) {
		en = nil
	}
	if kn != nil && isNull(kn) {
		kn = nil
	}
	return en, kn
}

// groupExpand is the expansion a task of mapped task group g takes: the
// group's expand or expand_kwargs, whose names are the group function's
// arguments (not the task's), its XCom sources becoming the task's
// upstream.
func (p *dagParser) groupExpand(t *rawTask, g *rawGroup) *windsock.Expand {
	en, kn := expandNodes(g.f)
	return p.expandFrom(t, "group "+g.name, en, kn, func(*yaml.Node) bool { return true })
}

// mappedGroup returns the mapped task group (one with expand or
// expand_kwargs) holding t, nil when none; t mapped itself or in two
// nested mapped groups is an error.
func (p *dagParser) mappedGroup(t *rawTask) *rawGroup {
	var found *rawGroup
	for g := t.group; g != nil; g = g.parent {
		if en, kn := expandNodes(g.f); en == nil && kn == nil {
			continue
		}
		if found != nil {
			p.errorf(found.at, "task group %q is mapped inside mapped task group %q: nested mapped task groups are not supported", found.name, g.name)
			return nil
		}
		found = g
	}
	if found != nil {
		if en, kn := expandNodes(t.f); en != nil || kn != nil {
			p.errorf(keyNode(t, "expand"), "task %q is mapped inside mapped task group %q: a mapped task in a mapped task group is not supported", t.name, found.name)
			return nil
		}
	}
	return found
}

// expandFrom reads an expand (en) or expand_kwargs (kn) value for task t;
// owner names what sets it in errors; check vets an expand() argument
// name at its key.
func (p *dagParser) expandFrom(t *rawTask, owner string, en, kn *yaml.Node, check func(key *yaml.Node) bool) *windsock.Expand {
	switch {
	case en == nil && kn == nil:
		return nil
	case en != nil && kn != nil:
		p.errorf(kn, "%s sets both expand and expand_kwargs; use one", ownerName(owner))
		return nil
	case kn != nil:
		src, ok := p.mapSource(t, kn, "expand_kwargs", "")
		if !ok {
			return nil
		}
		if src.Literal != nil && !bytes.HasPrefix(src.Literal, []byte("[")) {
			p.errorf(kn, "expand_kwargs() expects a list[dict] or an XComArg, got %s", kindName(kn))
			return nil
		}
		return &windsock.Expand{Kind: windsock.ExpandListOfDicts, Kwargs: &src}
	}
	if !isMapping(en) {
		p.errorf(en, "expand must be a mapping of argument names to what they are mapped over, got %s", kindName(en))
		return nil
	}
	ex := &windsock.Expand{Kind: windsock.ExpandDictOfLists}
	for _, e := range pairs(en) {
		if !check(e.key) {
			continue
		}
		src, ok := p.mapSource(t, e.val, "expand", e.key.Value)
		if ok {
			ex.Args = append(ex.Args, windsock.ExpandArg{Name: e.key.Value, MapSource: src})
		}
	}
	if len(ex.Args) == 0 {
		p.errorf(en, "%s: expand needs at least one argument", ownerName(owner))
		return nil
	}
	return ex
}

// ownerName quotes a task name for errors; a "group x" owner is shown as
// task group "x".
func ownerName(owner string) string {
	if g, ok := strings.CutPrefix(owner, "group "); ok {
		return fmt.Sprintf("task group %q", g)
	}
	return fmt.Sprintf("task %q", owner)
}

// mapSource reads what an argument is mapped over: a literal list or dict,
// dag-factory's "task_id.output", or the Python side's
// {"__xcomarg__": {"task_id": .., "key": ..}}.
func (p *dagParser) mapSource(t *rawTask, n *yaml.Node, method, arg string) (windsock.MapSource, bool) {
	n = resolve(n)
	bad := func() (windsock.MapSource, bool) {
		what := "an unexpected type"
		if arg != "" {
			p.errorf(n, "%s() got %s %s for keyword argument %q: map over a list, a dict or task_id.output", method, what, pyTypeName(n), arg)
		} else {
			p.errorf(n, "%s() got %s %s: map over a list of dicts or task_id.output", method, what, pyTypeName(n))
		}
		return windsock.MapSource{}, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		s, _ := asString(n)
		id, ok := strings.CutSuffix(s, ".output")
		if n.ShortTag() != "!!str" || !ok || id == "" {
			return bad()
		}
		return p.xcomSource(t, n, id, windsock.XComReturnKey)
	case yaml.SequenceNode:
		if p.nestedXComArg(n) {
			return windsock.MapSource{}, false
		}
		return windsock.MapSource{Literal: nodeJSON(n)}, true
	case yaml.MappingNode:
		if ps := pairs(n); len(ps) == 1 && ps[0].key.Value == xcomArgKey {
			return p.xcomArgSource(t, ps[0].val, method)
		}
		if p.nestedXComArg(n) {
			return windsock.MapSource{}, false
		}
		return windsock.MapSource{Literal: nodeJSON(n)}, true
	}
	return bad()
}

// xcomArgSource reads the Python side's {"__xcomarg__": {...}}: a plain
// XComArg (task_id, key), XComArg.map() (kind MapXComArg, its source
// under arg) or zip() (kind ZipXComArg, its inputs under args, fillvalue
// when given).
func (p *dagParser) xcomArgSource(t *rawTask, n *yaml.Node, method string) (windsock.MapSource, bool) {
	f := p.fields(n, "XComArg", []string{"task_id", "key", "kind", "references", "map", "arg", "args", "fillvalue"})
	kind := "PlainXComArg"
	if f["kind"] != nil {
		kind, _ = asString(f["kind"])
	}
	switch kind {
	case "MapXComArg":
		if f["arg"] == nil {
			p.errorf(n, "%s of kind MapXComArg needs its source under arg", xcomArgKey)
			return windsock.MapSource{}, false
		}
		src, ok := p.mapSource(t, f["arg"], method, "")
		if !ok {
			return src, false
		}
		m := &windsock.MapTransform{Source: src}
		if fn := resolve(f["map"]); fn != nil && fn.Kind == yaml.SequenceNode {
			for _, c := range fn.Content {
				m.Functions = append(m.Functions, callableName(c))
			}
		}
		return windsock.MapSource{Map: m}, true
	case "ZipXComArg":
		args := resolve(f["args"])
		if args == nil || args.Kind != yaml.SequenceNode || len(args.Content) == 0 {
			p.errorf(n, "%s of kind ZipXComArg needs its inputs under args", xcomArgKey)
			return windsock.MapSource{}, false
		}
		z := &windsock.ZipSources{}
		for _, c := range args.Content {
			src, ok := p.mapSource(t, c, method, "")
			if !ok {
				return src, false
			}
			z.Sources = append(z.Sources, src)
		}
		if fill := f["fillvalue"]; fill != nil {
			z.Longest, z.FillValue = true, nodeJSON(fill)
		}
		return windsock.MapSource{Zip: z}, true
	case "PlainXComArg":
	default:
		p.errorf(f["kind"], "%s() over %s is not supported: map over a task's output, its map() or a zip()", method, kind)
		return windsock.MapSource{}, false
	}
	id, err := asString(f["task_id"])
	if f["task_id"] == nil || err != nil || id == "" {
		p.errorf(n, "%s needs a task_id", xcomArgKey)
		return windsock.MapSource{}, false
	}
	key := windsock.XComReturnKey
	if k := f["key"]; k != nil && !isNull(k) {
		key, _ = asString(k)
	}
	return p.xcomSource(t, n, id, key)
}

// callableName is the module.qualname of a callable marker
// ({"__python__": name}), or its text.
func callableName(n *yaml.Node) string {
	n = resolve(n)
	if isMapping(n) {
		for _, e := range pairs(n) {
			if e.key.Value == "__python__" {
				s, _ := asString(e.val)
				return s
			}
		}
	}
	s, _ := asString(n)
	return s
}

// nestedXComArg reports (as an error) an XComArg inside a literal, such as
// expand_kwargs([{"x": task.output}]), which Windsock does not resolve.
func (p *dagParser) nestedXComArg(n *yaml.Node) bool {
	var at *yaml.Node
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		n = resolve(n)
		if n == nil || at != nil || depth > 100 {
			return
		}
		switch n.Kind {
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, depth+1)
			}
		case yaml.MappingNode:
			for _, e := range pairs(n) {
				if e.key.Value == xcomArgKey {
					at = e.key
					return
				}
				walk(e.val, depth+1)
			}
		}
	}
	walk(n, 0)
	if at != nil {
		p.errorf(at, "an XComArg inside a mapped list or dict is not supported yet: map over the task's output itself")
	}
	return at != nil
}

func (p *dagParser) xcomSource(t *rawTask, at *yaml.Node, taskID, key string) (windsock.MapSource, bool) {
	if key != windsock.XComReturnKey {
		// Airflow's ensure_xcomarg_return_value.
		p.errorf(at, "cannot map over XCom with custom key %q from %s", key, taskID)
		return windsock.MapSource{}, false
	}
	t.deps = append(t.deps, depRef{name: taskID, at: at})
	return windsock.MapSource{XCom: &windsock.XComArg{TaskID: taskID, Key: key}}, true
}

// nodeJSON writes a node as JSON keeping mapping keys in the order
// written, which mapping over a dict depends on.
func nodeJSON(n *yaml.Node) json.RawMessage {
	var b bytes.Buffer
	writeNodeJSON(&b, n, 0)
	return b.Bytes()
}

func writeNodeJSON(b *bytes.Buffer, n *yaml.Node, depth int) {
	n = resolve(n)
	if n == nil || depth > 100 {
		b.WriteString("null")
		return
	}
	switch n.Kind {
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			writeNodeJSON(b, c, depth+1)
		}
		b.WriteByte(']')
	case yaml.MappingNode:
		b.WriteByte('{')
		for i, e := range pairs(n) {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(e.key.Value)
			b.Write(k)
			b.WriteByte(':')
			writeNodeJSON(b, e.val, depth+1)
		}
		b.WriteByte('}')
	default:
		v, err := json.Marshal(value(n))
		if err != nil {
			v = []byte("null")
		}
		b.Write(v)
	}
}

// pyTypeName names a node's value by its Python type, for Airflow's
// messages.
func pyTypeName(n *yaml.Node) string {
	switch value(n).(type) {
	case string:
		return "'str'"
	case bool:
		return "'bool'"
	case int:
		return "'int'"
	case float64:
		return "'float'"
	case nil:
		return "'NoneType'"
	}
	return "'" + n.ShortTag()[2:] + "'"
}

// expands reports whether ex maps the argument name.
func expands(ex *windsock.Expand, name string) bool {
	if ex == nil {
		return false
	}
	if ex.Kind == windsock.ExpandListOfDicts {
		return true // any argument may come from the dicts
	}
	for _, a := range ex.Args {
		if a.Name == name {
			return true
		}
	}
	return false
}
