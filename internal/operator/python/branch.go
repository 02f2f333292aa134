package python

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// branchIDs reads a BranchPythonOperator's return value (a task id, a list
// of them, or None) as Airflow's skip_all_except does, checks the ids
// against the DAG, and replaces a task group id by the group's root tasks.
// The result is never nil: an empty list skips every direct downstream.
func branchIDs(tc *operator.Context, value any) ([]string, error) {
	ids := []string{}
	switch v := value.(type) {
	case nil:
	case string:
		ids = append(ids, v)
	case []any:
		var bad []string
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				bad = append(bad, fmt.Sprint(item))
				continue
			}
			if !slices.Contains(ids, s) {
				ids = append(ids, s)
			}
		}
		if bad != nil {
			return nil, fmt.Errorf("Unable to branch to the specified tasks. The branching function returned invalid 'branch_task_ids': %v. Each task ID must be a string.", bad)
		}
	default:
		return nil, fmt.Errorf("'branch_task_ids' must be either None, a task ID, or an Iterable of IDs, but got %s.", pythonType(value))
	}
	if tc.DAG == nil {
		return ids, nil
	}
	tasks := make(map[string]*windsock.Task, len(tc.DAG.Tasks))
	for _, t := range tc.DAG.Tasks {
		tasks[t.TaskID] = t
	}
	groups := make(map[string]*windsock.TaskGroup, len(tc.DAG.TaskGroups))
	for _, g := range tc.DAG.TaskGroups {
		groups[g.GroupID] = g
	}
	out := make([]string, 0, len(ids))
	var invalid []string
	for _, id := range ids {
		switch {
		case tasks[id] != nil:
			out = append(out, id)
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

// pythonType names the Python type of a decoded JSON value, for messages.
func pythonType(v any) string {
	switch x := v.(type) {
	case bool:
		return "'bool'"
	case map[string]any:
		return "'dict'"
	case []any:
		return "'list'"
	case string:
		return "'str'"
	case nil:
		return "'NoneType'"
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			return "'float'"
		}
	}
	return "'int'"
}
