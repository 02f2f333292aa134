// Package trigger is TriggerDagRunOperator: it starts a run of another DAG
// through the environment's operator.DagRunTrigger (the REST API's trigger
// path) and, with wait_for_completion, follows that run to its end.
package trigger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/pyvalue"
	"github.com/windsock/windsock/internal/timedelta"
	"github.com/windsock/windsock/internal/windsock"
)

// The XCom keys Airflow's TriggerDagRunOperator pushes (its "Triggered
// DAG" link reads the first).
const (
	XComLogicalDate = "trigger_execution_date_iso"
	XComRunID       = "trigger_run_id"
)

// defaultPokeInterval is Airflow's poke_interval default (60 s).
const defaultPokeInterval = 60 * time.Second

// Operator is TriggerDagRunOperator.
type Operator struct{}

// New returns the operator.
func New() *Operator { return &Operator{} }

// args are the operator's arguments, read with Airflow's defaults.
type args struct {
	dagID, runID          string
	conf                  map[string]any
	logical               time.Time
	logicalGiven          bool
	reset, wait, skip     bool
	deferrable            bool
	pokeInterval          time.Duration
	allowed, failedStates []windsock.DagRunState
}

// Execute triggers the run, pushes its id and logical date, and waits for
// it when asked.
func (o *Operator) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	if tc.DagRuns == nil {
		return nil, errors.New("TriggerDagRunOperator cannot create DAG runs here: no metadata database is at hand")
	}
	a, err := readArgs(tc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", operator.ErrFail, err)
	}
	run, err := tc.DagRuns.TriggerDagRun(ctx, operator.TriggerParams{DagID: a.dagID, RunID: a.runID, LogicalDate: a.logical, Conf: a.conf})
	var exists *operator.RunExistsError
	switch {
	case errors.As(err, &exists) && a.reset:
		run = exists.Run
		operator.Logf(tc.Log, "Clearing %s on %s", a.dagID, pyDate(run.LogicalDate, true))
		if err := tc.DagRuns.ClearDagRun(ctx, run.DagID, run.RunID); err != nil {
			return nil, fmt.Errorf("clear %s run %s: %w", run.DagID, run.RunID, err)
		}
	case errors.As(err, &exists) && a.skip:
		return nil, fmt.Errorf("%w: Skipping due to skip_when_already_exists is set to True and DagRunAlreadyExists", operator.ErrSkip)
	case errors.As(err, &exists):
		// Airflow's DagRunAlreadyExists names the run it asked for.
		return nil, fmt.Errorf("A DAG Run already exists for DAG %s at %s with run id %s",
			a.dagID, pyDate(a.logical, a.logicalGiven), a.requestedRunID())
	case err != nil:
		return nil, err
	default:
		operator.Logf(tc.Log, "Triggered DAG %s: run %s", run.DagID, run.RunID)
	}
	res := &operator.Result{XComs: map[string]any{
		XComLogicalDate: windsock.ISOFormat(run.LogicalDate),
		XComRunID:       run.RunID,
	}}
	if !a.wait {
		return res, nil
	}
	if err := a.waitFor(ctx, tc, run); err != nil {
		return nil, err
	}
	return res, nil
}

// waitFor polls the run every poke_interval until it reaches an allowed
// state (success) or a failed one (an error, retries apply).
func (a *args) waitFor(ctx context.Context, tc *operator.Context, run *windsock.DagRun) error {
	if a.deferrable {
		operator.Logf(tc.Log, "deferrable=True: waiting in the worker, as Windsock has no triggerer")
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		operator.Logf(tc.Log, "Waiting for %s on %s to become allowed state %s ...", a.dagID, pyDate(run.LogicalDate, true), stateList(a.allowed))
		timer.Reset(a.pokeInterval)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		state, err := tc.DagRuns.DagRunState(ctx, run.DagID, run.RunID)
		if err != nil {
			return fmt.Errorf("read the state of %s run %s: %w", run.DagID, run.RunID, err)
		}
		if hasState(a.failedStates, state) {
			if a.deferrable {
				return fmt.Errorf("%s failed with failed state %s", a.dagID, state)
			}
			return fmt.Errorf("%s failed with failed states %s", a.dagID, state)
		}
		if hasState(a.allowed, state) {
			operator.Logf(tc.Log, "%s finished with allowed state %s", a.dagID, state)
			return nil
		}
	}
}

func hasState(states []windsock.DagRunState, s windsock.DagRunState) bool {
	for _, x := range states {
		if x == s {
			return true
		}
	}
	return false
}

// stateList prints states as the Python list Airflow logs.
func stateList(states []windsock.DagRunState) string {
	items := make([]any, len(states))
	for i, s := range states {
		items[i] = string(s)
	}
	return pyvalue.Repr(items)
}

// requestedRunID is the run id the trigger asked for.
func (a *args) requestedRunID() string {
	if a.runID != "" {
		return a.runID
	}
	return windsock.RunID(windsock.RunTypeManual, a.logical)
}

// pyDate prints t as Python's str() does for the datetime Airflow has in
// hand: a logical_date it parsed (pendulum) prints with a "T", the
// default utcnow() with a space.
func pyDate(t time.Time, parsed bool) string {
	s := windsock.ISOFormat(t)
	if parsed {
		return s
	}
	return strings.Replace(s, "T", " ", 1)
}

func readArgs(tc *operator.Context) (*args, error) {
	in := tc.Args
	a := &args{pokeInterval: defaultPokeInterval}
	var err error
	if a.dagID, err = operator.StringArg(in, "trigger_dag_id", ""); err != nil {
		return nil, err
	}
	if a.dagID == "" {
		return nil, errors.New("argument trigger_dag_id: required")
	}
	if a.runID, err = operator.StringArg(in, "trigger_run_id", ""); err != nil {
		return nil, err
	}
	if a.conf, err = confArg(in["conf"]); err != nil {
		return nil, err
	}
	if a.logical, a.logicalGiven, err = logicalDate(in, tc.Now); err != nil {
		return nil, err
	}
	for name, dst := range map[string]*bool{
		"reset_dag_run": &a.reset, "wait_for_completion": &a.wait,
		"skip_when_already_exists": &a.skip, "deferrable": &a.deferrable,
	} {
		if *dst, err = operator.BoolArg(in, name, false); err != nil {
			return nil, err
		}
	}
	if v := in["poke_interval"]; v != nil {
		if a.pokeInterval, err = timedelta.Parse(v); err != nil {
			return nil, fmt.Errorf("argument poke_interval: %w", err)
		}
	}
	if a.allowed, err = statesArg(in, "allowed_states"); err != nil {
		return nil, err
	}
	if len(a.allowed) == 0 {
		a.allowed = []windsock.DagRunState{windsock.DagRunSuccess}
	}
	// An explicit empty failed_states means none, as in Airflow.
	if a.failedStates, err = statesArg(in, "failed_states"); err != nil {
		return nil, err
	}
	if a.failedStates == nil {
		a.failedStates = []windsock.DagRunState{windsock.DagRunFailed}
	}
	return a, nil
}

// confArg reads conf: a mapping as is; text (a template that printed a
// dict) as a JSON object, or the Python dict literal Jinja prints.
func confArg(v any) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return x, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, nil
		}
		var m map[string]any
		if err := windsock.DecodeJSON([]byte(x), &m); err == nil {
			return m, nil
		}
		if lit, ok := pyvalue.LiteralEval(x); ok {
			if m, ok := lit.(map[string]any); ok {
				return m, nil
			}
		}
		return nil, fmt.Errorf("argument conf: want a dict (or its JSON text), got %s", pyvalue.Repr(x))
	}
	return nil, fmt.Errorf("argument conf: want a dict, got %s", pyvalue.Repr(v))
}

// logicalDate reads logical_date (or its deprecated name execution_date):
// a date-time, ISO 8601 text (UTC when it has no offset, as
// timezone.parse), or now when absent.
func logicalDate(in map[string]any, now func() time.Time) (time.Time, bool, error) {
	name := "logical_date"
	v := in[name]
	if v == nil {
		name = "execution_date"
		v = in[name]
	}
	switch x := v.(type) {
	case nil:
		if now == nil {
			now = time.Now
		}
		return now().UTC(), false, nil
	case time.Time:
		return x.UTC(), true, nil
	case string:
		t, err := operator.ParseDateTime(x)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("argument %s: %w", name, err)
		}
		return t.UTC(), true, nil
	}
	return time.Time{}, false, fmt.Errorf("Expected str or datetime.datetime type for parameter '%s'. Got %T", name, v)
}

// statesArg reads a list of DAG run states; nil when absent.
func statesArg(in map[string]any, name string) ([]windsock.DagRunState, error) {
	if in[name] == nil {
		return nil, nil
	}
	names, err := operator.StringListArg(in, name)
	if err != nil {
		return nil, err
	}
	out := make([]windsock.DagRunState, 0, len(names))
	for _, n := range names {
		s := windsock.DagRunState(strings.ToLower(n))
		switch s {
		case windsock.DagRunQueued, windsock.DagRunRunning, windsock.DagRunSuccess, windsock.DagRunFailed:
			out = append(out, s)
		default:
			return nil, fmt.Errorf("argument %s: '%s' is not a valid DagRunState", name, n)
		}
	}
	return out, nil
}
