package branching

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/operator"
)

// DayOfWeek is BranchDayOfWeekOperator: follow_task_ids_if_true on the
// given week days, follow_task_ids_if_false on the others. The day is
// today's in the DAG's time zone, or the run's logical date (in UTC, as
// Airflow's context has it) with use_task_logical_date.
type DayOfWeek struct{}

// NewDayOfWeek returns the operator.
func NewDayOfWeek() *DayOfWeek { return &DayOfWeek{} }

// Execute picks the branch.
func (o *DayOfWeek) Execute(_ context.Context, tc *operator.Context) (*operator.Result, error) {
	ifTrue, ifFalse, err := followArgs(tc.Args)
	if err != nil {
		return nil, err
	}
	days, err := weekDays(tc.Args["week_day"])
	if err != nil {
		return nil, err
	}
	useLogical, err := useLogicalDate(tc.Args, "use_task_execution_day")
	if err != nil {
		return nil, err
	}
	var day time.Time
	if useLogical {
		if tc.Run == nil {
			return nil, errors.New("use_task_logical_date needs the DAG run")
		}
		day = tc.Run.LogicalDate.UTC()
	} else {
		loc, err := location(tc.DAG)
		if err != nil {
			return nil, err
		}
		day = now(tc).In(loc)
	}
	c := ifFalse
	if days[day.Weekday()] {
		c = ifTrue
	}
	return follow(tc, c.value, c.ids)
}

// weekDayNames are WeekDay's members, by their upper-case names.
var weekDayNames = map[string]time.Weekday{
	"MONDAY": time.Monday, "TUESDAY": time.Tuesday, "WEDNESDAY": time.Wednesday, "THURSDAY": time.Thursday,
	"FRIDAY": time.Friday, "SATURDAY": time.Saturday, "SUNDAY": time.Sunday,
}

// weekDays reads week_day as WeekDay.validate_week_day does: a day name
// (any case), a WeekDay (its ISO number, 1 = Monday, as a Python DAG
// file's enum arrives) or a list of them.
func weekDays(v any) (map[time.Weekday]bool, error) {
	items, ok := v.([]any)
	switch {
	case v == nil:
		return nil, errors.New("argument week_day: required")
	case !ok:
		items = []any{v}
	}
	out := map[time.Weekday]bool{}
	for _, item := range items {
		if s, ok := item.(string); ok {
			d, ok := weekDayNames[strings.ToUpper(s)]
			if !ok {
				return nil, fmt.Errorf("Invalid Week Day passed: \"%s\"", s)
			}
			out[d] = true
			continue
		}
		n, ok := operator.AsInt(item)
		if !ok || n < 1 || n > 7 {
			return nil, fmt.Errorf("Unsupported Type for week_day parameter: %v", item)
		}
		out[time.Weekday(n%7)] = true
	}
	return out, nil
}
