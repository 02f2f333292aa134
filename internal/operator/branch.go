package operator

import (
	"fmt"
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/windsock"
)

// BranchTargets checks the task ids a branch chose against its DAG, as
// Airflow's skip_all_except does, and replaces a task group's id by the
// group's root tasks. The result is never nil: an empty list skips every
// direct downstream task.
func BranchTargets(d *windsock.DAG, ids []string) ([]string, error) {
	tasks := make(map[string]*windsock.Task, len(d.Tasks))
	for _, t := range d.Tasks {
		tasks[t.TaskID] = t
	}
	groups := make(map[string]*windsock.TaskGroup, len(d.TaskGroups))
	for _, g := range d.TaskGroups {
		groups[g.GroupID] = g
	}
	out := make([]string, 0, len(ids))
	var invalid []string
	for _, id := range ids {
		switch {
		case tasks[id] != nil:
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		case groups[id] != nil:
			for _, r := range groupRoots(groups[id], tasks, groups) {
				if !slices.Contains(out, r) {
					out = append(out, r)
				}
			}
		default:
			invalid = append(invalid, id)
		}
	}
	if invalid != nil {
		return nil, fmt.Errorf("'branch_task_ids' must contain only valid task_ids. Invalid tasks found: %s.", strings.Join(invalid, ", "))
	}
	return out, nil
}

// groupRoots returns the tasks of group g (nested groups included) that
// have no upstream task inside it.
func groupRoots(g *windsock.TaskGroup, tasks map[string]*windsock.Task, groups map[string]*windsock.TaskGroup) []string {
	members := map[string]bool{}
	var order []string
	var walk func(g *windsock.TaskGroup)
	walk = func(g *windsock.TaskGroup) {
		for _, c := range g.Children {
			if sub := groups[c]; sub != nil && sub != g {
				walk(sub)
			} else if tasks[c] != nil && !members[c] {
				members[c] = true
				order = append(order, c)
			}
		}
	}
	walk(g)
	var roots []string
	for _, id := range order {
		if !slices.ContainsFunc(tasks[id].Upstream, func(u string) bool { return members[u] }) {
			roots = append(roots, id)
		}
	}
	return roots
}
