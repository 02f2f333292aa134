package branching

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// branchDAG is pick -> {yes, no}, no -> after.
func branchDAG(tz string) *windsock.DAG {
	return &windsock.DAG{DagID: "d", Timezone: tz, Tasks: []*windsock.Task{
		{TaskID: "pick"},
		{TaskID: "yes", Upstream: []string{"pick"}},
		{TaskID: "no", Upstream: []string{"pick"}},
		{TaskID: "after", Upstream: []string{"no"}},
	}}
}

func branchContext(tz string, args map[string]any, logical, now time.Time) *operator.Context {
	d := branchDAG(tz)
	return &operator.Context{
		DAG: d, Task: d.Tasks[0], Run: &windsock.DagRun{DagID: "d", LogicalDate: logical},
		Args: args, Log: io.Discard, Now: func() time.Time { return now },
	}
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDayOfWeek(t *testing.T) {
	t.Parallel()
	weekend := []any{"Saturday", "sunday"}
	tests := []struct {
		name    string
		tz      string
		weekDay any
		logical bool
		at      string // the clock, or the logical date with logical
		want    string
	}{
		{"saturday by the clock", "", weekend, false, "2024-03-02T12:00:00Z", "yes"},
		{"monday by the clock", "", weekend, false, "2024-03-04T00:00:00Z", "no"},
		{"one day by name", "", "Monday", false, "2024-03-04T08:00:00Z", "yes"},
		{"WeekDay numbers from a Python file", "", []any{6.0, 7}, false, "2024-03-03T23:59:59Z", "yes"},
		{"the DAG's time zone decides the day", "Asia/Tokyo", "Saturday", false, "2024-03-01T16:00:00Z", "yes"},
		{"UTC day in another zone", "America/New_York", "Saturday", false, "2024-03-02T03:00:00Z", "no"},
		{"logical date is read in UTC", "Asia/Tokyo", "Friday", true, "2024-03-01T16:00:00Z", "yes"},
		{"logical date on a weekday", "", weekend, true, "2024-03-05T10:00:00Z", "no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			at := date(tt.at)
			args := map[string]any{"week_day": tt.weekDay, "follow_task_ids_if_true": "yes", "follow_task_ids_if_false": []any{"no"},
				"use_task_logical_date": tt.logical}
			clock, logical := at, date("2000-01-05T00:00:00Z") // a Wednesday
			if tt.logical {
				clock, logical = date("2000-01-05T00:00:00Z"), at
			}
			res, err := NewDayOfWeek().Execute(context.Background(), branchContext(tt.tz, args, logical, clock))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Branch, []string{tt.want}) {
				t.Errorf("branch %q, want [%s]", res.Branch, tt.want)
			}
			if !res.HasReturn {
				t.Error("no return value")
			}
		})
	}
}

func TestDayOfWeekRefusesUnknownDay(t *testing.T) {
	t.Parallel()
	args := map[string]any{"week_day": "Mon", "follow_task_ids_if_true": "yes", "follow_task_ids_if_false": "no"}
	_, err := NewDayOfWeek().Execute(context.Background(), branchContext("", args, time.Now(), time.Now()))
	if err == nil || err.Error() != `Invalid Week Day passed: "Mon"` {
		t.Errorf("err = %v", err)
	}
}

func TestDateTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		tz           string
		lower, upper any
		logical      bool
		at           string
		want         string
	}{
		{"inside a day window", "", "09:00:00", "17:00:00", false, "2024-03-01T12:00:00Z", "yes"},
		{"before the window", "", "09:00:00", "17:00:00", false, "2024-03-01T08:59:59Z", "no"},
		{"after the window", "", "09:00", "17:00", false, "2024-03-01T17:00:01Z", "no"},
		{"upper bound is inclusive", "", "09:00:00", "17:00:00", false, "2024-03-01T17:00:00Z", "yes"},
		{"window across midnight: late", "", "22:00:00", "02:00:00", false, "2024-03-01T23:30:00Z", "yes"},
		{"window across midnight: early morning is before the lower bound of the same date", "", "22:00:00", "02:00:00", false, "2024-03-01T01:00:00Z", "no"},
		{"only a lower bound", "", "10:00:00", nil, false, "2024-03-01T10:00:01Z", "yes"},
		{"only an upper bound", "", nil, "10:00:00", false, "2024-03-01T10:00:01Z", "no"},
		{"naive times are in the DAG's zone", "Europe/Paris", "09:00:00", "17:00:00", false, "2024-03-01T16:30:00Z", "no"},
		{"aware times keep their offset", "Europe/Paris", "09:00:00+00:00", "17:00:00+00:00", false, "2024-03-01T16:30:00Z", "yes"},
		{"date-times", "", "2024-03-01T00:00:00+00:00", "2024-03-31T00:00:00+00:00", false, "2024-03-15T00:00:00Z", "yes"},
		{"naive date-time in the DAG's zone", "Asia/Tokyo", "2024-03-01 09:00:00", nil, false, "2024-03-01T00:30:00Z", "yes"},
		{"YAML timestamp", "", date("2024-04-01T00:00:00Z"), nil, false, "2024-03-15T00:00:00Z", "no"},
		{"logical date instead of the clock", "", "00:00:00", "06:00:00", true, "2024-03-01T05:00:00Z", "yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			at := date(tt.at)
			args := map[string]any{"target_lower": tt.lower, "target_upper": tt.upper,
				"follow_task_ids_if_true": "yes", "follow_task_ids_if_false": "no", "use_task_logical_date": tt.logical}
			clock, logical := at, date("2000-01-05T12:00:00Z")
			if tt.logical {
				clock, logical = date("2000-01-05T12:00:00Z"), at
			}
			res, err := NewDateTime().Execute(context.Background(), branchContext(tt.tz, args, logical, clock))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Branch, []string{tt.want}) {
				t.Errorf("branch %q, want [%s]", res.Branch, tt.want)
			}
		})
	}
}

func TestDateTimeNeedsATarget(t *testing.T) {
	t.Parallel()
	args := map[string]any{"follow_task_ids_if_true": "yes", "follow_task_ids_if_false": "no"}
	_, err := NewDateTime().Execute(context.Background(), branchContext("", args, time.Now(), time.Now()))
	if err == nil || !strings.HasPrefix(err.Error(), "Both target_upper and target_lower are None") {
		t.Errorf("err = %v", err)
	}
}

func TestBranchToUnknownTaskFails(t *testing.T) {
	t.Parallel()
	args := map[string]any{"week_day": "Monday", "follow_task_ids_if_true": "nope", "follow_task_ids_if_false": "no"}
	_, err := NewDayOfWeek().Execute(context.Background(), branchContext("", args, time.Now(), date("2024-03-04T00:00:00Z")))
	if err == nil || !strings.Contains(err.Error(), "Invalid tasks found: nope") {
		t.Errorf("err = %v", err)
	}
}

func TestLatestOnly(t *testing.T) {
	t.Parallel()
	now := date("2024-03-10T12:00:00Z")
	daily := windsock.Schedule{Kind: windsock.ScheduleCron, Cron: "0 0 * * *"}
	tests := []struct {
		name     string
		schedule windsock.Schedule
		start    string
		external bool
		proceed  bool
	}{
		{"the latest interval", daily, "2024-03-09T00:00:00Z", false, true},
		{"an earlier interval (backfill, catchup)", daily, "2024-03-08T00:00:00Z", false, false},
		{"an earlier interval triggered by hand", daily, "2024-03-01T00:00:00Z", true, true},
		{"a future interval", daily, "2024-03-10T00:00:00Z", false, false},
		{"no schedule: nothing follows", windsock.Schedule{Kind: windsock.ScheduleNone}, "2024-03-01T00:00:00Z", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := branchDAG("")
			d.Schedule = tt.schedule
			start := date(tt.start)
			end := start.Add(24 * time.Hour)
			tc := &operator.Context{DAG: d, Task: d.Tasks[0], Log: io.Discard, Now: func() time.Time { return now },
				Run: &windsock.DagRun{LogicalDate: start, DataIntervalStart: &start, DataIntervalEnd: &end, ExternalTrigger: tt.external}}
			res, err := NewLatestOnly().Execute(context.Background(), tc)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{}
			if tt.proceed {
				want = []string{"yes", "no"}
			}
			if !slices.Equal(res.Branch, want) {
				t.Errorf("branch %q, want %q", res.Branch, want)
			}
		})
	}
}
