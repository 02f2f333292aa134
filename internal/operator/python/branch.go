package python

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/operator"
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
	return operator.BranchTargets(tc.DAG, ids)
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
