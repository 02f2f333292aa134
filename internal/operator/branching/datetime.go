package branching

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/operator"
)

// DateTime is BranchDateTimeOperator: follow_task_ids_if_true when the
// present (or the run's logical date, with use_task_logical_date) lies
// between target_lower and target_upper (either may be absent),
// follow_task_ids_if_false otherwise. A target is a date-time or a time of
// day; a time of day falls on the present's (UTC) date, and an upper time
// before the lower one on the next day, as Airflow's
// target_times_as_dates has it. Targets without an offset are in the
// DAG's time zone.
type DateTime struct{}

// NewDateTime returns the operator.
func NewDateTime() *DateTime { return &DateTime{} }

// Execute picks the branch.
func (o *DateTime) Execute(_ context.Context, tc *operator.Context) (*operator.Result, error) {
	ifTrue, ifFalse, err := followArgs(tc.Args)
	if err != nil {
		return nil, err
	}
	loc, err := location(tc.DAG)
	if err != nil {
		return nil, err
	}
	lower, err := target(tc.Args, "target_lower")
	if err != nil {
		return nil, err
	}
	upper, err := target(tc.Args, "target_upper")
	if err != nil {
		return nil, err
	}
	if lower == nil && upper == nil {
		return nil, errors.New("Both target_upper and target_lower are None. At least one must be defined to be compared to the current datetime")
	}
	useLogical, err := useLogicalDate(tc.Args, "use_task_execution_date")
	if err != nil {
		return nil, err
	}
	at := now(tc)
	if useLogical {
		if tc.Run == nil {
			return nil, errors.New("use_task_logical_date needs the DAG run")
		}
		at = tc.Run.LogicalDate.UTC()
	}
	lo, hi := lower.on(at, loc), upper.on(at, loc)
	if lo != nil && hi != nil && (lower.timeOfDay || upper.timeOfDay) && hi.Before(*lo) {
		next := hi.AddDate(0, 0, 1)
		hi = &next
	}
	c := ifTrue
	if (hi != nil && hi.Before(at)) || (lo != nil && lo.After(at)) {
		c = ifFalse
	}
	return follow(tc, c.value, c.ids)
}

// targetTime is a target_lower or target_upper.
type targetTime struct {
	t time.Time
	// naive says t has no offset of its own: its wall clock is read in
	// the DAG's time zone.
	naive bool
	// timeOfDay says only t's clock counts (a datetime.time).
	timeOfDay bool
}

// on returns the target as an instant, a time of day taking base's date.
func (tt *targetTime) on(base time.Time, loc *time.Location) *time.Time {
	if tt == nil {
		return nil
	}
	t := tt.t
	if tt.timeOfDay {
		y, m, d := base.Date()
		t = time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	}
	if tt.naive {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
	}
	return &t
}

var (
	clockLayouts      = []string{"15:04:05Z07:00", "15:04Z07:00"}
	naiveClockLayouts = []string{"15:04:05", "15:04"}
	dateTimeLayouts   = []string{time.RFC3339, "2006-01-02 15:04:05Z07:00"}
	naiveDateLayouts  = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}
)

// target reads a target argument: a date-time (YAML's own, or ISO 8601
// text) or a time of day ("10:00", "10:00:00", "10:00:00+02:00", as a
// Python datetime.time arrives).
func target(args map[string]any, name string) (*targetTime, error) {
	switch v := args[name].(type) {
	case nil:
		return nil, nil
	case time.Time:
		return &targetTime{t: v}, nil
	case string:
		s := strings.TrimSpace(v)
		for _, group := range []struct {
			layouts          []string
			naive, timeOfDay bool
		}{
			{clockLayouts, false, true}, {naiveClockLayouts, true, true},
			{dateTimeLayouts, false, false}, {naiveDateLayouts, true, false},
		} {
			for _, layout := range group.layouts {
				if t, err := time.Parse(layout, s); err == nil {
					return &targetTime{t: t, naive: group.naive, timeOfDay: group.timeOfDay}, nil
				}
			}
		}
		return nil, fmt.Errorf("argument %s: %q is neither a date-time nor a time of day (use ISO 8601, such as 2024-05-01T12:00:00+00:00 or 12:00:00)", name, v)
	}
	return nil, fmt.Errorf("argument %s: want a date-time or a time of day, got %T", name, args[name])
}
