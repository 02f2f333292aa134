package decide

import (
	"encoding/json"
	"math"
	"math/bits"
	"slices"
	"strconv"

	"github.com/windsock/windsock/internal/windsock"
)

// Graph is a DAG definition's structure, computed once per definition and
// shared by every evaluation of its runs: tasks in topological order,
// upstream and downstream lists by position, leaves and effective priority
// weights. A Graph is read-only after NewGraph and safe for concurrent use.
type Graph struct {
	dagID string
	// ids holds the task ids in topological order; every other per-task
	// slice is indexed the same way.
	ids   []string
	index map[string]int
	up    [][]int
	down  [][]int
	// downIDs mirrors down with task ids, for Downstream.
	downIDs [][]string
	leaves  []string
	isLeaf  []bool
	rule    []windsock.TriggerRule
	weight  []int
	// pastDep marks depends_on_past (or wait_for_downstream) tasks: whether
	// they may run depends on another run, so a run holding one unfinished
	// is never declared deadlocked (Airflow's should_schedule).
	pastDep []bool
	// limited marks tasks with max_active_tis_per_dag(run): they may be
	// held back by other runs, so they too rule out a deadlock verdict.
	limited []bool
	// mapped marks mapped tasks; mapLength holds the number of instances
	// of those mapped over literals only (known before any run), -1 for
	// the others.
	mapped    []bool
	mapLength []int
	// perIndex marks, for the task at p, which of its upstream positions
	// (same order as up[p]) relate to it per map index: both are in one
	// mapped task group. nil when none do.
	perIndex [][]bool
}

// NewGraph precomputes d's structure. Upstream ids that name no task of d
// are ignored (the DAG file parser rejects them). A cycle, which the parser
// also rejects, does not panic: the tasks on it are appended after the
// others in definition order and simply never become runnable.
func NewGraph(d *windsock.DAG) *Graph {
	n := len(d.Tasks)
	defIndex := make(map[string]int, n)
	for i, t := range d.Tasks {
		defIndex[t.TaskID] = i
	}
	// Upstream and downstream lists in definition positions first.
	defUp := make([][]int, n)
	defDown := make([][]int, n)
	for i, t := range d.Tasks {
		for _, u := range t.Upstream {
			j, ok := defIndex[u]
			if !ok || j == i || slices.Contains(defUp[i], j) {
				continue
			}
			defUp[i] = append(defUp[i], j)
			defDown[j] = append(defDown[j], i)
		}
	}
	order := topoOrder(defUp, defDown)

	g := &Graph{
		dagID:     d.DagID,
		ids:       make([]string, n),
		index:     make(map[string]int, n),
		up:        make([][]int, n),
		down:      make([][]int, n),
		downIDs:   make([][]string, n),
		isLeaf:    make([]bool, n),
		rule:      make([]windsock.TriggerRule, n),
		weight:    make([]int, n),
		pastDep:   make([]bool, n),
		limited:   make([]bool, n),
		mapped:    make([]bool, n),
		mapLength: make([]int, n),
	}
	pos := make([]int, n) // definition position -> topological position
	for p, def := range order {
		pos[def] = p
	}
	for p, def := range order {
		t := d.Tasks[def]
		g.ids[p] = t.TaskID
		g.index[t.TaskID] = p
		g.rule[p] = t.TriggerRule
		if g.rule[p] == "" {
			g.rule[p] = windsock.TriggerAllSuccess
		}
		g.pastDep[p] = t.DependsOnPast || t.WaitForDownstream
		g.limited[p] = MaxActiveTIsPerDag(t) > 0 || MaxActiveTIsPerDagrun(t) > 0
		g.mapped[p], g.mapLength[p] = t.Mapped(), -1
		if t.Mapped() && t.Expand.LiteralOnly() {
			if l, err := t.Expand.Length(nil); err == nil {
				g.mapLength[p] = l
			}
		}
		for _, u := range defUp[def] {
			g.up[p] = append(g.up[p], pos[u])
		}
		for _, w := range defDown[def] {
			g.down[p] = append(g.down[p], pos[w])
		}
		slices.Sort(g.up[p])
		slices.Sort(g.down[p])
	}
	for p, def := range order {
		grp := d.Tasks[def].ExpandGroup
		if grp == "" {
			continue
		}
		for k, q := range g.up[p] {
			if d.Tasks[order[q]].ExpandGroup != grp {
				continue
			}
			if g.perIndex == nil {
				g.perIndex = make([][]bool, n)
			}
			if g.perIndex[p] == nil {
				g.perIndex[p] = make([]bool, len(g.up[p]))
			}
			g.perIndex[p][k] = true
		}
	}
	for p := range g.ids {
		for _, w := range g.down[p] {
			g.downIDs[p] = append(g.downIDs[p], g.ids[w])
		}
		if len(g.down[p]) == 0 {
			g.isLeaf[p] = true
			g.leaves = append(g.leaves, g.ids[p])
		}
	}
	g.computeWeights(d)
	return g
}

// topoOrder returns the definition positions in a topological order
// (Kahn's algorithm, ties in definition order), followed by any positions
// left on a cycle.
func topoOrder(up, down [][]int) []int {
	n := len(up)
	indeg := make([]int, n)
	var queue []int
	for i := range n {
		indeg[i] = len(up[i])
		if indeg[i] == 0 {
			queue = append(queue, i)
		}
	}
	order := make([]int, 0, n)
	done := make([]bool, n)
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		order = append(order, i)
		done[i] = true
		for _, w := range down[i] {
			if indeg[w]--; indeg[w] == 0 {
				queue = append(queue, w)
			}
		}
	}
	for i := range n {
		if !done[i] {
			order = append(order, i)
		}
	}
	return order
}

// computeWeights fills g.weight with Airflow's priority_weight_total: the
// task's own weight plus the own weights of all its transitive downstream
// (weight_rule downstream, the default) or upstream (upstream) tasks, each
// counted once; absolute is the own weight. Relatives are found with one
// bitset per task so a wide DAG costs O(n²/64) words, not O(n²) map work.
func (g *Graph) computeWeights(d *windsock.DAG) {
	n := len(g.ids)
	own := make([]int, n)
	rules := make([]windsock.WeightRule, n)
	for _, t := range d.Tasks {
		p := g.index[t.TaskID]
		own[p] = t.PriorityWeight
		rules[p] = t.WeightRule
	}
	words := (n + 63) / 64
	var downReach, upReach [][]uint64
	need := func(r windsock.WeightRule) bool { return slices.Contains(rules, r) }
	if need(windsock.WeightDownstream) || need("") {
		downReach = reach(n, words, g.down, true)
	}
	if need(windsock.WeightUpstream) {
		upReach = reach(n, words, g.up, false)
	}
	for p := range n {
		var set []uint64
		switch rules[p] {
		case windsock.WeightAbsolute:
		case windsock.WeightUpstream:
			set = upReach[p]
		default: // downstream, and Airflow's fallback for anything else
			set = downReach[p]
		}
		total := int64(own[p])
		for w, word := range set {
			for word != 0 {
				b := bits.TrailingZeros64(word)
				total += int64(own[w*64+b])
				word &= word - 1
			}
		}
		g.weight[p] = dbSafePriority(total)
	}
}

// reach returns, per task, the bitset of tasks reachable along next. With
// a topological order, downstream sets are built from the back and upstream
// sets from the front, so each task's relatives are already known.
func reach(n, words int, next [][]int, fromBack bool) [][]uint64 {
	sets := make([][]uint64, n)
	visit := func(p int) {
		s := make([]uint64, words)
		for _, q := range next[p] {
			s[q/64] |= 1 << (q % 64)
			if sets[q] != nil {
				for w := range s {
					s[w] |= sets[q][w]
				}
			}
		}
		sets[p] = s
	}
	if fromBack {
		for p := n - 1; p >= 0; p-- {
			visit(p)
		}
	} else {
		for p := range n {
			visit(p)
		}
	}
	return sets
}

// dbSafePriority clamps a weight to the 32-bit range of the
// task_instance.priority_weight column, as Airflow 2.10 does.
func dbSafePriority(w int64) int {
	return int(max(math.MinInt32, min(math.MaxInt32, w)))
}

// DagID returns the id of the DAG the graph was built from.
func (g *Graph) DagID() string { return g.dagID }

// Tasks returns the task ids in the topological order Evaluate walks them.
func (g *Graph) Tasks() []string { return slices.Clone(g.ids) }

// Has reports whether the DAG has a task with this id.
func (g *Graph) Has(taskID string) bool {
	_, ok := g.index[taskID]
	return ok
}

// Downstream returns the ids of the tasks directly downstream of taskID, in
// topological order; nil for an unknown task.
func (g *Graph) Downstream(taskID string) []string {
	p, ok := g.index[taskID]
	if !ok {
		return nil
	}
	return slices.Clone(g.downIDs[p])
}

// Upstream returns the ids of the tasks taskID directly depends on, in
// topological order; nil for an unknown task.
func (g *Graph) Upstream(taskID string) []string {
	p, ok := g.index[taskID]
	if !ok {
		return nil
	}
	ids := make([]string, len(g.up[p]))
	for i, q := range g.up[p] {
		ids[i] = g.ids[q]
	}
	return ids
}

// Mapped reports whether taskID is a mapped task.
func (g *Graph) Mapped(taskID string) bool {
	p, ok := g.index[taskID]
	return ok && g.mapped[p]
}

// LiteralMapLength returns the number of instances of a task mapped over
// literals only, which every run gets from the start (Airflow expands
// them when the run is created); ok is false for any other task.
func (g *Graph) LiteralMapLength(taskID string) (n int, ok bool) {
	p, found := g.index[taskID]
	if !found || g.mapLength[p] < 0 {
		return 0, false
	}
	return g.mapLength[p], true
}

// Leaves returns the ids of the tasks nothing depends on, in topological
// order. A run's final state is decided by them.
func (g *Graph) Leaves() []string { return slices.Clone(g.leaves) }

// PriorityWeight returns taskID's effective priority weight under its
// weight_rule (Airflow's priority_weight_total, clamped to 32 bits), or 0
// for an unknown task.
func (g *Graph) PriorityWeight(taskID string) int {
	p, ok := g.index[taskID]
	if !ok {
		return 0
	}
	return g.weight[p]
}

// MaxActiveTIsPerDag returns the task's max_active_tis_per_dag (or its old
// name task_concurrency) from Task.Args, 0 when unset.
func MaxActiveTIsPerDag(t *windsock.Task) int {
	if v := intArg(t.Args["max_active_tis_per_dag"]); v > 0 {
		return v
	}
	return intArg(t.Args["task_concurrency"])
}

// MaxActiveTIsPerDagrun returns the task's max_active_tis_per_dagrun from
// Task.Args, 0 when unset.
func MaxActiveTIsPerDagrun(t *windsock.Task) int {
	return intArg(t.Args["max_active_tis_per_dagrun"])
}

// intArg reads a whole number the way it may arrive: from YAML (int), from
// serialized JSON (float64, json.Number) or quoted (string). Anything else,
// including a fraction, is 0.
func intArg(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < math.MaxInt32 {
			return int(x)
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
	case string:
		if i, err := strconv.Atoi(x); err == nil {
			return i
		}
	}
	return 0
}
