package schedule

import (
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   any
		want windsock.Schedule
	}{
		{nil, windsock.Schedule{Kind: windsock.ScheduleNone}},
		{"None", windsock.Schedule{Kind: windsock.ScheduleNone}},
		{"@once", windsock.Schedule{Kind: windsock.ScheduleOnce, Expr: "@once"}},
		{"@continuous", windsock.Schedule{Kind: windsock.ScheduleContinuous, Expr: "@continuous"}},
		{"@daily", windsock.Schedule{Kind: windsock.ScheduleCron, Expr: "@daily", Cron: "0 0 * * *"}},
		{"@quarterly", windsock.Schedule{Kind: windsock.ScheduleCron, Expr: "@quarterly", Cron: "0 0 1 */3 *"}},
		{"0  3 * * 1-5", windsock.Schedule{Kind: windsock.ScheduleCron, Expr: "0  3 * * 1-5", Cron: "0 3 * * 1-5"}},
		{"30m", windsock.Schedule{Kind: windsock.ScheduleInterval, Expr: "30m", Interval: windsock.Duration(30 * time.Minute)}},
		{map[string]any{"days": 1}, windsock.Schedule{Kind: windsock.ScheduleInterval, Expr: "map[days:1]", Interval: windsock.Duration(24 * time.Hour)}},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%#v): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("Parse(%#v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []any{"@sometimes", "61 * * * *", "* * * *", "0 0 * * * *", "often", map[string]any{"days": 0}, []any{"a"}} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%#v) = %+v, want error", in, got)
		}
	}
}
