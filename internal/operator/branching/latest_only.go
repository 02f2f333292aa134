package branching

import (
	"context"
	"errors"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/windsock"
)

// LatestOnly is LatestOnlyOperator: its downstream tasks run only in the
// run whose next interval holds the present (the latest scheduled run)
// and in runs triggered by hand; in other runs (catchup, backfill) they
// are skipped.
type LatestOnly struct{}

// NewLatestOnly returns the operator.
func NewLatestOnly() *LatestOnly { return &LatestOnly{} }

// Execute follows every direct downstream task, or none.
func (o *LatestOnly) Execute(_ context.Context, tc *operator.Context) (*operator.Result, error) {
	if tc.Run == nil || tc.DAG == nil || tc.Task == nil {
		return nil, errors.New("LatestOnlyOperator needs its DAG run")
	}
	all := directDownstream(tc)
	proceed := func() (*operator.Result, error) { return follow(tc, toAny(all), all) }
	if tc.Run.ExternalTrigger {
		operator.Logf(tc.Log, "Externally triggered DAG_Run: allowing execution to proceed.")
		return proceed()
	}
	loc, err := location(tc.DAG)
	if err != nil {
		return nil, err
	}
	tt, err := schedule.New(tc.DAG.Schedule, loc)
	if err != nil {
		return nil, err
	}
	// As dag.next_dagrun_info(dag.get_run_data_interval(run),
	// restricted=False): the interval after this run's, start_date and
	// catchup aside.
	iv := tt.ManualInterval(tc.Run.LogicalDate)
	if tc.Run.DataIntervalStart != nil && tc.Run.DataIntervalEnd != nil {
		iv = schedule.DataInterval{Start: *tc.Run.DataIntervalStart, End: *tc.Run.DataIntervalEnd}
	}
	t := now(tc)
	next, ok := tt.NextRun(&iv, schedule.Restriction{Catchup: true}, t)
	if !ok {
		operator.Logf(tc.Log, "Last scheduled execution: allowing execution to proceed.")
		return proceed()
	}
	left, right := next.DataInterval.Start, next.DataInterval.End
	operator.Logf(tc.Log, "Checking latest only with left_window: %s right_window: %s now: %s",
		windsock.ISOFormat(left), windsock.ISOFormat(right), windsock.ISOFormat(t))
	if !(left.Before(t) && !t.After(right)) {
		operator.Logf(tc.Log, "Not latest execution, skipping downstream.")
		return follow(tc, []any{}, nil)
	}
	operator.Logf(tc.Log, "Latest, allowing execution to proceed.")
	return proceed()
}

func toAny(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
