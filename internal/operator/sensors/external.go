package sensors

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/sensor"
	"github.com/windsock/windsock/internal/pyvalue"
	"github.com/windsock/windsock/internal/timedelta"
	"github.com/windsock/windsock/internal/windsock"
)

// ExternalTaskSensor is ExternalTaskSensor: it waits for tasks of another
// DAG (external_task_id, external_task_ids, or every task of
// external_task_group_id), or for the other DAG's run itself when none is
// named, to reach allowed_states (default [success]) in the run whose
// logical date is this run's minus execution_delta (default: the same).
//
// Any watched task (or the run) in failed_states fails the try (retries
// apply), or skips it with soft_fail; any in skipped_states skips it.
// check_existence makes a missing DAG, task or task group an error. When
// tc.Runs implements operator.DagTaskLister that check is Airflow's, on the
// first poke; otherwise only runs can be seen, so check_existence turns "no
// run at that logical date" into an error instead of "not yet".
// execution_date_fn (a Python callable) is not supported.
type ExternalTaskSensor struct{}

// NewExternalTaskSensor returns the external task sensor.
func NewExternalTaskSensor() *ExternalTaskSensor { return &ExternalTaskSensor{} }

// Execute waits for the external tasks.
func (s *ExternalTaskSensor) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	poke, err := s.Poke(ctx, tc)
	if err != nil {
		return nil, err
	}
	return sensor.Run(ctx, tc, poke)
}

// externalWatch is what one ExternalTaskSensor watches.
type externalWatch struct {
	dagID          string
	taskIDs        []string
	groupID        string
	logicalDate    time.Time
	allowed        []string
	skipped        []string
	failed         []string
	softFail       bool
	checkExistence bool
	// canList says the run source can tell whether the DAG exists.
	canList bool
}

// Poke reads the arguments and returns the poke function.
func (s *ExternalTaskSensor) Poke(_ context.Context, tc *operator.Context) (sensor.Poke, error) {
	w, err := readExternalWatch(tc)
	if err != nil {
		return nil, err
	}
	if tc.Runs == nil {
		return nil, errors.New("external task sensor: no run state source")
	}
	_, w.canList = tc.Runs.(operator.DagTaskLister)
	checked := false
	return func(ctx context.Context) (bool, any, error) {
		if w.checkExistence && !checked {
			if err := w.checkExists(ctx, tc.Runs); err != nil {
				return false, nil, err
			}
			checked = true
		}
		if len(w.taskIDs) > 0 || w.groupID != "" {
			return w.pokeTasks(ctx, tc)
		}
		return w.pokeRun(ctx, tc)
	}, nil
}

func readExternalWatch(tc *operator.Context) (*externalWatch, error) {
	w := &externalWatch{}
	var err error
	if w.dagID, err = operator.StringArg(tc.Args, "external_dag_id", ""); err != nil {
		return nil, err
	}
	if w.dagID == "" {
		return nil, errors.New("argument external_dag_id: required")
	}
	if tc.Args["execution_date_fn"] != nil {
		return nil, errors.New("argument execution_date_fn: Python callables are not supported; use execution_delta")
	}
	taskID, err := operator.StringArg(tc.Args, "external_task_id", "")
	if err != nil {
		return nil, err
	}
	if w.taskIDs, err = operator.StringListArg(tc.Args, "external_task_ids"); err != nil {
		return nil, err
	}
	if taskID != "" {
		if len(w.taskIDs) > 0 {
			return nil, errors.New("only one of external_task_id or external_task_ids may be set")
		}
		w.taskIDs = []string{taskID}
	}
	if w.groupID, err = operator.StringArg(tc.Args, "external_task_group_id", ""); err != nil {
		return nil, err
	}
	if w.groupID != "" && len(w.taskIDs) > 0 {
		return nil, errors.New("only one of external_task_group_id or external_task_id(s) may be set")
	}
	if w.allowed, err = operator.StringListArg(tc.Args, "allowed_states"); err != nil {
		return nil, err
	}
	if len(w.allowed) == 0 {
		w.allowed = []string{string(windsock.TaskStateSuccess)}
	}
	if w.skipped, err = operator.StringListArg(tc.Args, "skipped_states"); err != nil {
		return nil, err
	}
	if w.failed, err = operator.StringListArg(tc.Args, "failed_states"); err != nil {
		return nil, err
	}
	if err := w.validateStates(); err != nil {
		return nil, err
	}
	if w.softFail, err = operator.BoolArg(tc.Args, "soft_fail", false); err != nil {
		return nil, err
	}
	if w.checkExistence, err = operator.BoolArg(tc.Args, "check_existence", false); err != nil {
		return nil, err
	}
	if tc.Run == nil {
		return nil, errors.New("external task sensor: no DAG run")
	}
	w.logicalDate = tc.Run.LogicalDate
	if v := tc.Args["execution_delta"]; v != nil {
		delta, err := timedelta.Parse(v)
		if err != nil {
			return nil, fmt.Errorf("argument execution_delta: %w", err)
		}
		w.logicalDate = w.logicalDate.Add(-delta)
	}
	return w, nil
}

// validateStates checks the state lists as Airflow does: no state in two
// lists, and only task states when watching tasks, run states otherwise.
func (w *externalWatch) validateStates() error {
	valid := map[string]bool{}
	if len(w.taskIDs) > 0 || w.groupID != "" {
		for _, s := range []windsock.TaskInstanceState{
			windsock.TaskStateRemoved, windsock.TaskStateScheduled, windsock.TaskStateQueued,
			windsock.TaskStateRunning, windsock.TaskStateSuccess, windsock.TaskStateRestarting,
			windsock.TaskStateFailed, windsock.TaskStateUpForRetry, windsock.TaskStateUpForReschedule,
			windsock.TaskStateUpstreamFailed, windsock.TaskStateSkipped, windsock.TaskStateDeferred,
		} {
			valid[string(s)] = true
		}
	} else {
		for _, s := range []windsock.DagRunState{windsock.DagRunQueued, windsock.DagRunRunning, windsock.DagRunSuccess, windsock.DagRunFailed} {
			valid[string(s)] = true
		}
	}
	seen := map[string]bool{}
	for _, list := range [][]string{w.allowed, w.skipped, w.failed} {
		for _, s := range list {
			if !valid[s] {
				names := make([]string, 0, len(valid))
				for n := range valid {
					names = append(names, n)
				}
				sort.Strings(names)
				return fmt.Errorf("state %q is not valid here; valid states: %s", s, strings.Join(names, ", "))
			}
			if seen[s] {
				return fmt.Errorf("state %q appears more than once across allowed_states, skipped_states and failed_states", s)
			}
			seen[s] = true
		}
	}
	return nil
}

// checkExists is check_existence with a DagTaskLister: the DAG and the
// watched tasks (or group) must exist.
func (w *externalWatch) checkExists(ctx context.Context, runs operator.RunStateSource) error {
	lister, ok := runs.(operator.DagTaskLister)
	if !ok {
		return nil
	}
	ids, err := lister.DagTaskIDs(ctx, w.dagID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return fmt.Errorf("the external DAG %s does not exist", w.dagID)
	}
	if err != nil {
		return fmt.Errorf("look up DAG %s: %w", w.dagID, err)
	}
	have := map[string]bool{}
	for _, id := range ids {
		have[id] = true
	}
	for _, id := range w.taskIDs {
		if !have[id] {
			return fmt.Errorf("the external task %s in DAG %s does not exist", id, w.dagID)
		}
	}
	if w.groupID != "" && len(groupMembers(ids, w.groupID)) == 0 {
		return fmt.Errorf("the external task group %s in DAG %s does not exist", w.groupID, w.dagID)
	}
	return nil
}

// pokeTasks watches task states.
func (w *externalWatch) pokeTasks(ctx context.Context, tc *operator.Context) (bool, any, error) {
	date := windsock.ISOFormat(w.logicalDate)
	watched := w.taskIDs
	var states map[string]windsock.TaskInstanceState
	var err error
	if w.groupID != "" {
		operator.Logf(tc.Log, "Poking for task group %s in DAG %s on %s ...", w.groupID, w.dagID, date)
		states, err = tc.Runs.TaskStates(ctx, w.dagID, w.logicalDate, nil)
		if err != nil {
			return false, nil, fmt.Errorf("get task states of %s: %w", w.dagID, err)
		}
		watched, err = w.groupTaskIDs(ctx, tc.Runs, states)
		if err != nil {
			return false, nil, err
		}
	} else {
		operator.Logf(tc.Log, "Poking for tasks %s in DAG %s on %s ...", pyvalue.Repr(w.taskIDs), w.dagID, date)
		states, err = tc.Runs.TaskStates(ctx, w.dagID, w.logicalDate, w.taskIDs)
		if err != nil {
			return false, nil, fmt.Errorf("get task states of %s: %w", w.dagID, err)
		}
	}
	if len(states) == 0 {
		return w.noRun()
	}
	if len(watched) == 0 {
		// The group has no task in that run: nothing to wait for yet.
		return false, nil, nil
	}
	var allowed, failed, skipped []string
	for _, id := range watched {
		s := string(states[id])
		switch {
		case contains(w.failed, s):
			failed = append(failed, id)
		case contains(w.skipped, s):
			skipped = append(skipped, id)
		case contains(w.allowed, s):
			allowed = append(allowed, id)
		}
	}
	what := fmt.Sprintf("external tasks %v in DAG %s", failedOrAll(failed, watched), w.dagID)
	if w.groupID != "" {
		what = fmt.Sprintf("external task group %s in DAG %s", w.groupID, w.dagID)
	}
	if len(failed) > 0 {
		return false, nil, w.failure(fmt.Sprintf("some of the %s failed", what))
	}
	if len(skipped) > 0 {
		return false, nil, fmt.Errorf("some of the %s reached a state in skipped_states: %w", what, operator.ErrSkip)
	}
	return len(allowed) == len(watched), nil, nil
}

// pokeRun watches the external DAG run's state.
func (w *externalWatch) pokeRun(ctx context.Context, tc *operator.Context) (bool, any, error) {
	operator.Logf(tc.Log, "Poking for DAG %s on %s ...", w.dagID, windsock.ISOFormat(w.logicalDate))
	state, err := tc.Runs.DagRunState(ctx, w.dagID, w.logicalDate)
	if err != nil {
		return false, nil, fmt.Errorf("get run state of %s: %w", w.dagID, err)
	}
	if state == "" {
		return w.noRun()
	}
	s := string(state)
	switch {
	case contains(w.failed, s):
		return false, nil, w.failure(fmt.Sprintf("the external DAG %s failed", w.dagID))
	case contains(w.skipped, s):
		return false, nil, fmt.Errorf("the external DAG %s reached a state in skipped_states: %w", w.dagID, operator.ErrSkip)
	}
	return contains(w.allowed, s), nil, nil
}

// noRun handles a logical date with no external run: wait, unless
// check_existence asks for the DAG to exist and no DagTaskLister can say
// whether it does.
func (w *externalWatch) noRun() (bool, any, error) {
	if w.checkExistence && !w.canList {
		return false, nil, fmt.Errorf("the external DAG %s has no run at %s (check_existence)", w.dagID, windsock.ISOFormat(w.logicalDate))
	}
	return false, nil, nil
}

// failure is the error for a watched state in failed_states: a plain
// error (retries apply, as with Airflow's AirflowException) or, with
// soft_fail, a skip.
func (w *externalWatch) failure(msg string) error {
	if w.softFail {
		return fmt.Errorf("%s: %w", msg, operator.ErrSkip)
	}
	return errors.New(msg)
}

// groupTaskIDs returns the members of the watched group: from the DAG when
// a DagTaskLister is available, else from the run's task instances.
func (w *externalWatch) groupTaskIDs(ctx context.Context, runs operator.RunStateSource, states map[string]windsock.TaskInstanceState) ([]string, error) {
	var ids []string
	if lister, ok := runs.(operator.DagTaskLister); ok {
		all, err := lister.DagTaskIDs(ctx, w.dagID)
		if err != nil && windsock.ErrorCode(err) != windsock.ENOTFOUND {
			return nil, fmt.Errorf("look up DAG %s: %w", w.dagID, err)
		}
		ids = all
	}
	if ids == nil {
		for id := range states {
			ids = append(ids, id)
		}
	}
	members := groupMembers(ids, w.groupID)
	sort.Strings(members)
	return members, nil
}

// groupMembers returns the ids inside group (nested groups included):
// task ids in a group are prefixed with "group.".
func groupMembers(ids []string, group string) []string {
	var out []string
	for _, id := range ids {
		if strings.HasPrefix(id, group+".") {
			out = append(out, id)
		}
	}
	return out
}

func failedOrAll(failed, all []string) []string {
	if len(failed) > 0 {
		return failed
	}
	return all
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
