// Package branching holds the branch operators that decide from the clock
// or the run alone, with no user code: LatestOnlyOperator,
// BranchDayOfWeekOperator and BranchDateTimeOperator. Like
// BranchPythonOperator they follow some direct downstream tasks and skip
// the others (operator.Result.Branch).
package branching

import (
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// follow returns the result of a branch operator that chose ids (a task
// id or a list, as the author wrote them): the branch to follow, and the
// choice itself as the return value, as BaseBranchOperator returns it.
func follow(tc *operator.Context, choice any, ids []string) (*operator.Result, error) {
	targets, err := operator.BranchTargets(tc.DAG, ids)
	if err != nil {
		return nil, err
	}
	operator.Logf(tc.Log, "Following branch %s", fmt.Sprint(targets))
	return &operator.Result{Branch: targets, ReturnValue: choice, HasReturn: true}, nil
}

// directDownstream returns the ids of the tasks directly downstream of the
// running task, in DAG order.
func directDownstream(tc *operator.Context) []string {
	out := []string{}
	for _, t := range tc.DAG.Tasks {
		for _, up := range t.Upstream {
			if up == tc.Task.TaskID {
				out = append(out, t.TaskID)
				break
			}
		}
	}
	return out
}

// location is the DAG's time zone (UTC when unset).
func location(d *windsock.DAG) (*time.Location, error) {
	if d == nil || d.Timezone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(d.Timezone)
	if err != nil {
		return nil, fmt.Errorf("dag %s: time zone %q: %w", d.DagID, d.Timezone, err)
	}
	return loc, nil
}

// now is the try's clock in UTC.
func now(tc *operator.Context) time.Time {
	if tc.Now == nil {
		return time.Now().UTC()
	}
	return tc.Now().UTC()
}

// followArgs reads follow_task_ids_if_true and follow_task_ids_if_false
// (a task id or a list of them; both required).
func followArgs(args map[string]any) (ifTrue, ifFalse branchChoice, err error) {
	if ifTrue, err = choiceArg(args, "follow_task_ids_if_true"); err != nil {
		return
	}
	ifFalse, err = choiceArg(args, "follow_task_ids_if_false")
	return
}

// branchChoice is one follow_task_ids_* argument: as written (the return
// value) and as a list of ids.
type branchChoice struct {
	value any
	ids   []string
}

func choiceArg(args map[string]any, name string) (branchChoice, error) {
	v, ok := args[name]
	if !ok {
		return branchChoice{}, fmt.Errorf("argument %s: required", name)
	}
	ids, err := operator.StringListArg(args, name)
	if err != nil {
		return branchChoice{}, err
	}
	return branchChoice{value: v, ids: ids}, nil
}

// useLogicalDate reads use_task_logical_date or its deprecated name.
func useLogicalDate(args map[string]any, deprecated string) (bool, error) {
	use, err := operator.BoolArg(args, "use_task_logical_date", false)
	if err != nil || use {
		return use, err
	}
	return operator.BoolArg(args, deprecated, false)
}
