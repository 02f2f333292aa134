package dagview

import (
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/windsock"
)

// GroupNodePrefix starts the node id of a collapsed task group. Task ids
// cannot hold a colon (Airflow's KEY_REGEX), so a group's node never
// clashes with a task's.
const GroupNodePrefix = "group:"

// GroupedGraph is a DAG's graph as Airflow's graph view draws it: every
// task group that is not expanded is one node standing for all the tasks
// inside it, and an expanded group is a box drawn around its members.
type GroupedGraph struct {
	Nodes []GraphNode
	// Edges join the visible nodes; edges inside a collapsed group are
	// gone and parallel ones merged.
	Edges [][2]string
	// Members are the tasks each collapsed group's node stands for.
	Members map[string][]string
	// Labels are the expanded groups' names as drawn on their boxes.
	Labels map[string]string
}

// GroupDAG folds the DAG's task groups that expanded does not name into
// single nodes. Nodes are labelled with their name inside their group.
func GroupDAG(dag *windsock.DAG, expanded func(groupID string) bool) *GroupedGraph {
	groups := make(map[string]*windsock.TaskGroup, len(dag.TaskGroups))
	for _, g := range dag.TaskGroups {
		groups[g.GroupID] = g
	}
	// chain returns a group's ancestors and itself, outermost first; a
	// seen set guards against a malformed parent cycle.
	chain := func(id string) []string {
		var out []string
		seen := map[string]bool{}
		for ; id != "" && groups[id] != nil && !seen[id]; id = groups[id].ParentGroup {
			seen[id] = true
			out = append(out, id)
		}
		slices.Reverse(out)
		return out
	}
	parentOf := func(id string) string {
		if g := groups[id]; g != nil {
			return g.ParentGroup
		}
		return ""
	}

	gg := &GroupedGraph{Members: map[string][]string{}, Labels: map[string]string{}}
	visible := make(map[string]string, len(dag.Tasks)) // task id -> its node id
	added := map[string]bool{}
	for _, t := range dag.Tasks {
		anc := chain(t.TaskGroup)
		// The task shows as the outermost collapsed group around it, or
		// as itself inside every expanded one.
		open := len(anc)
		for i, g := range anc {
			if !expanded(g) {
				open = i
				break
			}
		}
		boxes := anc[:open]
		for _, g := range boxes {
			gg.Labels[g] = shortLabel(g, parentOf(g))
		}
		if open == len(anc) {
			visible[t.TaskID] = t.TaskID
			gg.Nodes = append(gg.Nodes, GraphNode{ID: t.TaskID, Label: shortLabel(t.TaskID, t.TaskGroup),
				Group: t.TaskGroup, Boxes: boxes})
			continue
		}
		g := anc[open]
		id := GroupNodePrefix + g
		visible[t.TaskID] = id
		gg.Members[id] = append(gg.Members[id], t.TaskID)
		if !added[id] {
			added[id] = true
			gg.Nodes = append(gg.Nodes, GraphNode{ID: id, Label: shortLabel(g, parentOf(g)), Group: parentOf(g),
				Boxes: boxes, Collapsed: g})
		}
	}
	seen := map[[2]string]bool{}
	for _, t := range dag.Tasks {
		to := visible[t.TaskID]
		for _, u := range t.Upstream {
			from, ok := visible[u]
			e := [2]string{from, to}
			if !ok || from == to || seen[e] {
				continue
			}
			seen[e] = true
			gg.Edges = append(gg.Edges, e)
		}
	}
	return gg
}

// GroupOf returns the group id a collapsed group's node id stands for.
func GroupOf(nodeID string) (string, bool) {
	return strings.CutPrefix(nodeID, GroupNodePrefix)
}

// AddGroupStates adds to states (a task's state by task id) the summary
// state of each task group that holds a task with a state, under the id
// of the group's collapsed node, as Airflow's graph colours a group.
func AddGroupStates(dag *windsock.DAG, states map[string]string) {
	parent := make(map[string]string, len(dag.TaskGroups))
	for _, g := range dag.TaskGroups {
		parent[g.GroupID] = g.ParentGroup
	}
	sets := map[string]map[windsock.TaskInstanceState]bool{}
	for _, t := range dag.Tasks {
		st, ok := states[t.TaskID]
		if !ok {
			continue
		}
		seen := map[string]bool{}
		for g := t.TaskGroup; g != "" && !seen[g]; g = parent[g] {
			seen[g] = true
			if sets[g] == nil {
				sets[g] = map[windsock.TaskInstanceState]bool{}
			}
			sets[g][windsock.TaskInstanceState(st)] = true
		}
	}
	for g, set := range sets {
		st, _ := SummaryState(set)
		states[GroupNodePrefix+g] = string(st)
	}
}
