// Package schedule turns what a DAG file says under schedule (or the older
// schedule_interval) into a normalized windsock.Schedule, and (in
// timetable.go) computes data intervals and run times from it. Everything
// here is pure: time comes in as an argument.
package schedule

import (
	"fmt"
	"strings"

	"github.com/robfig/cron/v3"

	"github.com/windsock/windsock/internal/timedelta"
	"github.com/windsock/windsock/internal/windsock"
)

// Presets maps Airflow's cron presets to their expressions.
func Presets() map[string]string {
	return map[string]string{
		"@hourly":    "0 * * * *",
		"@daily":     "0 0 * * *",
		"@midnight":  "0 0 * * *",
		"@weekly":    "0 0 * * 0",
		"@monthly":   "0 0 1 * *",
		"@quarterly": "0 0 1 */3 *",
		"@yearly":    "0 0 1 1 *",
		"@annually":  "0 0 1 1 *",
	}
}

// cronParser accepts exactly the five standard fields, as Airflow does.
func cronParser() cron.Parser {
	return cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)
}

// Parse normalizes a schedule value decoded from YAML: nil or "None" for
// manual-only, "@once", "@continuous", a preset, a 5-field cron expression,
// or a timedelta (a mapping such as {days: 1}, or a string such as "30m").
func Parse(v any) (windsock.Schedule, error) {
	switch x := v.(type) {
	case nil:
		return windsock.Schedule{Kind: windsock.ScheduleNone}, nil
	case string:
		return parseString(x)
	case map[string]any, int, int64, uint64, float64:
		d, err := timedelta.Parse(x)
		if err != nil {
			return windsock.Schedule{}, fmt.Errorf("bad schedule interval: %w", err)
		}
		if d <= 0 {
			return windsock.Schedule{}, fmt.Errorf("bad schedule interval: must be longer than zero")
		}
		return windsock.Schedule{Kind: windsock.ScheduleInterval, Expr: fmt.Sprint(x), Interval: windsock.Duration(d)}, nil
	}
	return windsock.Schedule{}, fmt.Errorf("bad schedule: want a cron expression, a preset such as @daily, an interval or null; got %T", v)
}

func parseString(raw string) (windsock.Schedule, error) {
	s := strings.TrimSpace(raw)
	switch strings.ToLower(s) {
	case "", "none", "null", "~":
		return windsock.Schedule{Kind: windsock.ScheduleNone}, nil
	case "@once":
		return windsock.Schedule{Kind: windsock.ScheduleOnce, Expr: "@once"}, nil
	case "@continuous":
		return windsock.Schedule{Kind: windsock.ScheduleContinuous, Expr: "@continuous"}, nil
	}
	if strings.HasPrefix(s, "@") {
		expr, ok := Presets()[strings.ToLower(s)]
		if !ok {
			return windsock.Schedule{}, fmt.Errorf("unknown schedule preset %q: use @once, @continuous, @hourly, @daily, @weekly, @monthly, @quarterly or @yearly", s)
		}
		return windsock.Schedule{Kind: windsock.ScheduleCron, Expr: strings.ToLower(s), Cron: expr}, nil
	}
	if fields := strings.Fields(s); len(fields) > 1 {
		if len(fields) != 5 {
			return windsock.Schedule{}, fmt.Errorf("bad cron expression %q: want 5 fields (minute hour day-of-month month day-of-week), got %d", s, len(fields))
		}
		p := cronParser()
		if _, err := p.Parse(s); err != nil {
			return windsock.Schedule{}, fmt.Errorf("bad cron expression %q: %w", s, err)
		}
		return windsock.Schedule{Kind: windsock.ScheduleCron, Expr: s, Cron: strings.Join(fields, " ")}, nil
	}
	d, err := timedelta.Parse(s)
	if err != nil {
		return windsock.Schedule{}, fmt.Errorf("bad schedule %q: not a cron expression, preset or interval", s)
	}
	if d <= 0 {
		return windsock.Schedule{}, fmt.Errorf("bad schedule interval %q: must be longer than zero", s)
	}
	return windsock.Schedule{Kind: windsock.ScheduleInterval, Expr: s, Interval: windsock.Duration(d)}, nil
}
