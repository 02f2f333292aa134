package dagfile

import (
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/windsock/windsock/internal/windsock"
)

// This file reads the shape of a DAG: its task groups, its tasks' ids and
// groups, and the dependencies between them.

type rawGroup struct {
	name       string
	id         string
	at         *yaml.Node
	f          map[string]*yaml.Node
	parent     *rawGroup
	prefix     bool
	args       layer
	deps       []depRef
	resolving  bool
	resolved   bool
	childTasks []string
	childGroup []string
}

type rawTask struct {
	name  string
	id    string
	at    *yaml.Node
	f     map[string]*yaml.Node
	own   layer
	keys  map[string]*yaml.Node // key nodes as written, for positions
	group *rawGroup
	deps  []depRef
	task  *windsock.Task
}

// maxOwnersLength is the size of dag.owners (VARCHAR(2000)): longer, the
// DAG could not be stored and would fail the pass that writes it.
const maxOwnersLength = 2000

type depRef struct {
	name string
	at   *yaml.Node
}

// graph reads the task groups and tasks, then wires dependencies.
func (p *dagParser) graph(dag *windsock.DAG, tasksNode, groupsNode *yaml.Node, defArgs layer) {
	groups := p.groups(groupsNode)
	groupByName := map[string]*rawGroup{}
	for _, g := range groups {
		groupByName[g.name] = g
	}
	for _, g := range groups {
		p.resolveGroup(g, groupByName)
	}
	tasks := p.tasks(tasksNode)
	for _, t := range tasks {
		if n := t.f["task_group_name"]; n != nil && !isNull(n) {
			name, err := asString(n)
			if err != nil {
				p.errorf(n, "task_group_name %v", err)
			} else if g := groupByName[name]; g == nil {
				p.errorf(n, "task %q is in unknown task group %q%s", t.name, name, suggest(name, keys(groupByName)))
			} else {
				t.group = g
			}
		}
		t.id = t.name
		if t.group != nil && t.group.prefix && t.group.id != "" {
			t.id = t.group.id + "." + t.name
		}
	}
	p.checkIDs(tasks, groups)
	for _, t := range tasks {
		t.task = p.task(dag, t, defArgs)
		dag.Tasks = append(dag.Tasks, t.task)
		if t.group != nil {
			t.task.TaskGroup = t.group.id
			t.group.childTasks = append(t.group.childTasks, t.id)
		}
	}
	p.dependencies(tasks, groups, groupByName)

	for _, t := range tasks {
		if !contains(dag.Owners, t.task.Owner) {
			dag.Owners = append(dag.Owners, t.task.Owner)
			if n := utf8.RuneCountInString(strings.Join(dag.Owners, ", ")); n > maxOwnersLength {
				p.errorf(t.at, "the owners of the DAG's tasks add up to %d characters; dag.owners holds at most %d", n, maxOwnersLength)
				break
			}
		}
	}
	for _, g := range groups {
		if g.parent != nil {
			g.parent.childGroup = append(g.parent.childGroup, g.id)
		}
	}
	for _, g := range groups {
		tg := &windsock.TaskGroup{GroupID: g.id, Children: append(append([]string{}, g.childGroup...), g.childTasks...)}
		if g.parent != nil {
			tg.ParentGroup = g.parent.id
		}
		if n := g.f["tooltip"]; n != nil && !isNull(n) {
			if s, err := asString(n); err != nil {
				p.errorf(n, "tooltip %v", err)
			} else {
				tg.Tooltip = s
			}
		}
		dag.TaskGroups = append(dag.TaskGroups, tg)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// entries reads a tasks or task_groups value: a mapping keyed by name or a
// list of mappings naming themselves under idKey.
func (p *dagParser) entries(n *yaml.Node, what, idKey string) (out []pair, listForm bool) {
	if n == nil || isNull(n) {
		return nil, false
	}
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]*yaml.Node{}
		for _, e := range pairs(n) {
			if prev, dup := seen[e.key.Value]; dup {
				p.errorf(e.key, "duplicate %s %q (first defined at line %d)", idName(what), e.key.Value, prev.Line)
				continue
			}
			seen[e.key.Value] = e.key
			out = append(out, e)
		}
	case yaml.SequenceNode:
		seen := map[string]*yaml.Node{}
		for _, item := range n.Content {
			var id *yaml.Node
			for _, e := range pairs(item) {
				if e.key.Value == idKey {
					id = e.val
				}
			}
			if !isMapping(item) || id == nil {
				p.errorf(item, "each %s in the list must be a mapping with a %s", what, idKey)
				continue
			}
			name, err := asString(id)
			if err != nil {
				p.errorf(id, "%s %v", idKey, err)
				continue
			}
			if prev, dup := seen[name]; dup {
				p.errorf(id, "duplicate %s %q (first defined at line %d)", idName(what), name, prev.Line)
				continue
			}
			seen[name] = id
			// The key node carries the name and points at the item.
			key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name, Line: resolve(item).Line, Column: resolve(item).Column}
			out = append(out, pair{key, item})
		}
	default:
		p.errorf(n, "%ss must be a mapping of %ss to definitions or a list of definitions, got %s", what, idName(what), kindName(n))
	}
	return out, n.Kind == yaml.SequenceNode
}

func idName(what string) string {
	if what == "task" {
		return "task id"
	}
	return "task group name"
}

func (p *dagParser) groups(n *yaml.Node) []*rawGroup {
	var out []*rawGroup
	entries, _ := p.entries(n, "task group", "group_name")
	for _, e := range entries {
		if !isMapping(e.val) && !isNull(e.val) {
			p.errorf(e.val, "task group %q must be a mapping (tooltip, dependencies, parent_group_name, ...), got %s", e.key.Value, kindName(e.val))
			continue
		}
		g := &rawGroup{name: e.key.Value, at: e.key, prefix: true, f: p.fields(e.val, "task group", groupKeys)}
		if err := checkID("group_name", g.name); err != nil {
			p.errorf(e.key, "bad task group name: %v", err)
		}
		if v := g.f["prefix_group_id"]; v != nil {
			b, err := asBool(v)
			if err != nil {
				p.errorf(v, "prefix_group_id %v", err)
			}
			g.prefix = b || err != nil
		}
		if v := g.f["default_args"]; v != nil && !isNull(v) {
			if !isMapping(v) {
				p.errorf(v, "default_args must be a mapping of task arguments, got %s", kindName(v))
			} else {
				g.args = newLayer(pairs(v))
			}
		}
		g.deps = p.depList(g.f["dependencies"])
		out = append(out, g)
	}
	return out
}

// resolveGroup links g to its parent and computes its id the way Airflow's
// TaskGroup.group_id does: prefixed with the parent's id when the parent
// has prefix_group_id.
func (p *dagParser) resolveGroup(g *rawGroup, byName map[string]*rawGroup) {
	if g.resolved {
		return
	}
	if g.resolving {
		p.errorf(g.f["parent_group_name"], "task group %q is its own ancestor through parent_group_name", g.name)
		g.id, g.resolved = g.name, true
		return
	}
	g.resolving = true
	g.id = g.name
	if n := g.f["parent_group_name"]; n != nil && !isNull(n) {
		name, err := asString(n)
		switch parent := byName[name]; {
		case err != nil:
			p.errorf(n, "parent_group_name %v", err)
		case parent == nil:
			p.errorf(n, "task group %q has unknown parent group %q%s", g.name, name, suggest(name, keys(byName)))
		default:
			p.resolveGroup(parent, byName)
			if !g.resolved {
				g.parent = parent
				if parent.prefix {
					g.id = parent.id + "." + g.name
				}
			}
		}
	}
	g.resolving, g.resolved = false, true
}

func (p *dagParser) depList(n *yaml.Node) []depRef {
	if n == nil || isNull(n) {
		return nil
	}
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "dependencies must be a list of task or task group names, got %s", kindName(n))
		return nil
	}
	var out []depRef
	for _, c := range n.Content {
		s, err := asString(c)
		if err != nil {
			p.errorf(c, "dependency %v", err)
			continue
		}
		out = append(out, depRef{name: s, at: c})
	}
	return out
}

func (p *dagParser) tasks(n *yaml.Node) []*rawTask {
	var out []*rawTask
	entries, listForm := p.entries(n, "task", "task_id")
	for _, e := range entries {
		if !isMapping(e.val) {
			p.errorf(e.val, "task %q must be a mapping of task arguments (operator, dependencies, ...), got %s", e.key.Value, kindName(e.val))
			continue
		}
		t := &rawTask{name: e.key.Value, at: e.key, f: p.fields(e.val, "task", nil)}
		if v := t.f["task_id"]; v != nil && !listForm {
			// Mapping form: the key is the id; a differing task_id is a mistake.
			if s, _ := asString(v); s != t.name {
				p.errorf(v, "task_id %q differs from its key %q; drop task_id or make them equal", s, t.name)
			}
		}
		ps := pairs(e.val)
		t.own = newLayer(ps)
		t.keys = make(map[string]*yaml.Node, len(ps))
		for _, kv := range ps {
			if _, dup := t.keys[kv.key.Value]; !dup {
				t.keys[kv.key.Value] = kv.key
			}
		}
		t.deps = p.depList(t.f["dependencies"])
		p.partialArgs(t)
		out = append(out, t)
	}
	return out
}

// checkIDs validates task ids and makes sure no id is used twice among
// tasks and task groups.
func (p *dagParser) checkIDs(tasks []*rawTask, groups []*rawGroup) {
	seen := map[string]*yaml.Node{}
	for _, g := range groups {
		if prev, dup := seen[g.id]; dup {
			p.errorf(g.at, "duplicate task group id %q (first defined at line %d)", g.id, prev.Line)
		}
		seen[g.id] = g.at
	}
	for _, t := range tasks {
		if err := checkID("task_id", t.name); err != nil {
			p.errorf(t.at, "bad task id: %v", err)
		} else if err := checkID("task_id", t.id); err != nil {
			p.errorf(t.at, "bad task id: %v", err)
		}
		if prev, dup := seen[t.id]; dup {
			p.errorf(t.at, "duplicate task id %q (first defined at line %d)", t.id, prev.Line)
		}
		seen[t.id] = t.at
	}
}

// dependencies turns the dependencies lists into upstream task ids. A
// dependency on a group means its leaf tasks; a group's dependencies apply
// to its root tasks. Edges inside deeper groups are wired first, so outer
// groups see their inner structure when their roots and leaves are found.
func (p *dagParser) dependencies(tasks []*rawTask, groups []*rawGroup, groupByName map[string]*rawGroup) {
	taskByName := map[string]*rawTask{}
	taskByID := map[string]*rawTask{}
	for _, t := range tasks {
		taskByName[t.name] = t
		taskByID[t.id] = t
	}
	groupByID := map[string]*rawGroup{}
	for _, g := range groups {
		groupByID[g.id] = g
	}
	names := append(keys(taskByName), keys(groupByName)...)
	type entity struct {
		task  *rawTask
		group *rawGroup
	}
	lookup := func(d depRef) (entity, bool) {
		if t := taskByName[d.name]; t != nil {
			return entity{task: t}, true
		}
		if g := groupByName[d.name]; g != nil {
			return entity{group: g}, true
		}
		if t := taskByID[d.name]; t != nil {
			return entity{task: t}, true
		}
		if g := groupByID[d.name]; g != nil {
			return entity{group: g}, true
		}
		p.errorf(d.at, "dependency %q is not a task or task group of this DAG%s", d.name, suggest(d.name, names))
		return entity{}, false
	}

	index := map[*rawTask]int{}
	for i, t := range tasks {
		index[t] = i
	}
	up := make([]map[int]*yaml.Node, len(tasks))
	for i := range up {
		up[i] = map[int]*yaml.Node{}
	}
	addEdge := func(from, to *rawTask, at *yaml.Node) {
		if _, ok := up[index[to]][index[from]]; !ok {
			up[index[to]][index[from]] = at
		}
	}
	type decl struct {
		down, up entity
		at       *yaml.Node
		depth    int
	}
	var deferred []decl
	parentOf := func(e entity) *rawGroup {
		if e.task != nil {
			return e.task.group
		}
		return e.group.parent
	}
	for _, t := range tasks {
		for _, d := range t.deps {
			e, ok := lookup(d)
			if !ok {
				continue
			}
			if e.task != nil {
				addEdge(e.task, t, d.at)
				continue
			}
			deferred = append(deferred, decl{down: entity{task: t}, up: e, at: d.at, depth: depth(commonGroup(t.group, parentOf(e)))})
		}
	}
	for _, g := range groups {
		for _, d := range g.deps {
			e, ok := lookup(d)
			if !ok {
				continue
			}
			deferred = append(deferred, decl{down: entity{group: g}, up: e, at: d.at, depth: depth(commonGroup(g.parent, parentOf(e)))})
		}
	}
	sort.SliceStable(deferred, func(i, j int) bool { return deferred[i].depth > deferred[j].depth })

	members := func(g *rawGroup) []*rawTask {
		var out []*rawTask
		for _, t := range tasks {
			for h := t.group; h != nil; h = h.parent {
				if h == g {
					out = append(out, t)
					break
				}
			}
		}
		return out
	}
	// ends returns a group's roots (no upstream inside the group) or
	// leaves (no downstream inside it).
	ends := func(g *rawGroup, roots bool) []*rawTask {
		ms := members(g)
		in := map[int]bool{}
		for _, m := range ms {
			in[index[m]] = true
		}
		var out []*rawTask
		for _, m := range ms {
			linked := false
			for _, o := range ms {
				a, b := index[m], index[o]
				if !roots {
					a, b = b, a
				}
				if _, ok := up[a][b]; ok && in[b] {
					linked = true
					break
				}
			}
			if !linked {
				out = append(out, m)
			}
		}
		return out
	}
	for _, d := range deferred {
		ups := []*rawTask{d.up.task}
		if d.up.group != nil {
			ups = ends(d.up.group, false)
		}
		downs := []*rawTask{d.down.task}
		if d.down.group != nil {
			downs = ends(d.down.group, true)
		}
		for _, u := range ups {
			for _, w := range downs {
				addEdge(u, w, d.at)
			}
		}
	}

	for i, t := range tasks {
		for j := range up[i] {
			t.task.Upstream = append(t.task.Upstream, tasks[j].id)
		}
		sort.Strings(t.task.Upstream)
	}
	p.cycles(tasks, up)
}

func depth(g *rawGroup) int {
	n := 0
	for ; g != nil; g = g.parent {
		n++
	}
	return n
}

func commonGroup(a, b *rawGroup) *rawGroup {
	for x := a; x != nil; x = x.parent {
		for y := b; y != nil; y = y.parent {
			if x == y {
				return x
			}
		}
	}
	return nil
}

// cycles reports the first dependency cycle found, naming its tasks in
// the order they would run and pointing at the dependency that closes it
// furthest down the file.
func (p *dagParser) cycles(tasks []*rawTask, up []map[int]*yaml.Node) {
	down := make([][]int, len(tasks))
	for i := range up {
		for j := range up[i] {
			down[j] = append(down[j], i)
		}
	}
	for i := range down {
		sort.Ints(down[i])
	}
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(tasks))
	var stack []int
	var cycle []int
	var visit func(int) bool
	visit = func(u int) bool {
		color[u] = grey
		stack = append(stack, u)
		for _, v := range down[u] {
			if color[v] == grey {
				for k := len(stack) - 1; k >= 0; k-- {
					if stack[k] == v {
						cycle = append(append([]int{}, stack[k:]...), v)
						break
					}
				}
				return true
			}
			if color[v] == white && visit(v) {
				return true
			}
		}
		stack = stack[:len(stack)-1]
		color[u] = black
		return false
	}
	for i := range tasks {
		if color[i] == white && visit(i) {
			break
		}
	}
	if cycle == nil {
		return
	}
	names := make([]string, len(cycle))
	var at *yaml.Node
	for k, i := range cycle {
		names[k] = tasks[i].id
		if k > 0 {
			n := up[i][cycle[k-1]]
			if at == nil || n.Line > at.Line || (n.Line == at.Line && n.Column > at.Column) {
				at = n
			}
		}
	}
	p.errorf(at, "cycle in dependencies: %s", strings.Join(names, " -> "))
}
