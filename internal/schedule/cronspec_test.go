package schedule

import (
	"testing"
	"time"
)

// TestCronSpecAgainstRobfig checks the naive evaluator against robfig/cron's
// Next in UTC (no DST, so the two must agree), and prev as next's inverse,
// over a grid of start times.
func TestCronSpecAgainstRobfig(t *testing.T) {
	t.Parallel()
	exprs := []string{
		"* * * * *", "0 0 * * *", "*/7 * * * *", "5 4 * * 0", "0 0 31 * *", "0 0 29 2 *",
		"15 9-17 * * 1-5", "0 0 15 * 1", "0 12 1,15 */2 *", "59 23 28-31 12 *",
	}
	p := cronParser()
	base := time.Date(2023, 12, 30, 22, 59, 30, 0, time.UTC)
	for _, expr := range exprs {
		spec, err := parseCronSpec(expr)
		if err != nil {
			t.Fatalf("parseCronSpec(%q): %v", expr, err)
		}
		ref, err := p.Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 200; i++ {
			from := base.Add(time.Duration(i) * 97 * time.Hour / 10)
			got, ok := spec.next(from)
			if want := ref.Next(from); !ok || !got.Equal(want) {
				t.Fatalf("%q next(%v) = %v, %v; robfig says %v", expr, from, got, ok, want)
			}
			// prev(next(x)) is the last match before next(x): never after x.
			back, ok := spec.prev(got)
			if !ok || !back.Before(got) || back.After(from) {
				t.Fatalf("%q prev(%v) = %v, %v; want a match at or before %v", expr, got, back, ok, from)
			}
			if again, _ := spec.next(back); !again.Equal(got) {
				t.Fatalf("%q next(prev(%v)) = %v", expr, got, again)
			}
		}
	}
}

func TestCronSpecPrevStrict(t *testing.T) {
	t.Parallel()
	spec, err := parseCronSpec("0 0 * * *")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ from, want time.Time }{
		{time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2024, 1, 2, 0, 0, 1, 0, time.UTC), time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
		{time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		if got, ok := spec.prev(c.from); !ok || !got.Equal(c.want) {
			t.Errorf("prev(%v) = %v, %v; want %v", c.from, got, ok, c.want)
		}
	}
}

func TestFromWallClock(t *testing.T) {
	t.Parallel()
	_, ny, berlin := setup(t)
	wall := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, time.UTC) }
	cases := []struct {
		name string
		wall time.Time
		loc  *time.Location
		want time.Time
	}{
		{"ordinary", wall(2024, 1, 10, 9, 0), ny, time.Date(2024, 1, 10, 14, 0, 0, 0, time.UTC)},
		{"skipped moves forward by the gap", wall(2024, 3, 10, 2, 30), ny, time.Date(2024, 3, 10, 7, 30, 0, 0, time.UTC)},
		{"repeated takes the second", wall(2024, 11, 3, 1, 30), ny, time.Date(2024, 11, 3, 6, 30, 0, 0, time.UTC)},
		{"Berlin skipped", wall(2024, 3, 31, 2, 0), berlin, time.Date(2024, 3, 31, 1, 0, 0, 0, time.UTC)},
		{"Berlin repeated", wall(2024, 10, 27, 2, 0), berlin, time.Date(2024, 10, 27, 1, 0, 0, 0, time.UTC)},
		{"UTC", wall(2024, 10, 27, 2, 0), time.UTC, time.Date(2024, 10, 27, 2, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		if got := fromWallClock(c.wall, c.loc); !got.Equal(c.want) {
			t.Errorf("%s: fromWallClock(%v) = %v, want %v", c.name, c.wall, got.UTC(), c.want)
		}
	}
}
