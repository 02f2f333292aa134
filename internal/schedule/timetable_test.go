package schedule

import (
	"testing"
	"time"
	_ "time/tzdata" // the DST cases must not depend on the host's zoneinfo

	"github.com/windsock/windsock/internal/windsock"
)

// setup returns a parser of RFC 3339 times and the zones the tests use.
func setup(t *testing.T) (at func(string) time.Time, newYork, berlin *time.Location) {
	t.Helper()
	var err error
	if newYork, err = time.LoadLocation("America/New_York"); err != nil {
		t.Fatal(err)
	}
	if berlin, err = time.LoadLocation("Europe/Berlin"); err != nil {
		t.Fatal(err)
	}
	at = func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatalf("bad test time %q: %v", s, err)
		}
		return v
	}
	return at, newYork, berlin
}

func mustNew(t *testing.T, s any, loc *time.Location) Timetable {
	t.Helper()
	sched, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%v): %v", s, err)
	}
	tt, err := New(sched, loc)
	if err != nil {
		t.Fatalf("New(%v): %v", s, err)
	}
	return tt
}

func ptr[T any](v T) *T { return &v }

// nextRunCase is one NextRun question. Times are RFC 3339; an empty
// string is "unset". wantStart == "" means no run.
type nextRunCase struct {
	name                 string
	schedule             any
	loc                  *time.Location
	lastStart, lastEnd   string
	earliest, latest     string
	catchup              bool
	now                  string
	wantStart, wantEnd   string
	wantRunAfterOverride string // RunAfter when it is not the interval end
}

func runNextRunCases(t *testing.T, at func(string) time.Time, cases []nextRunCase) {
	t.Helper()
	opt := func(s string) *time.Time {
		if s == "" {
			return nil
		}
		return ptr(at(s))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tt := mustNew(t, c.schedule, c.loc)
			var last *DataInterval
			if c.lastStart != "" {
				last = &DataInterval{Start: at(c.lastStart), End: at(c.lastEnd)}
			}
			r := Restriction{Earliest: opt(c.earliest), Latest: opt(c.latest), Catchup: c.catchup}
			now := at("2030-01-01T00:00:00Z")
			if c.now != "" {
				now = at(c.now)
			}
			got, ok := tt.NextRun(last, r, now)
			if c.wantStart == "" {
				if ok {
					t.Fatalf("NextRun = %v..%v, want none", got.DataInterval.Start, got.DataInterval.End)
				}
				return
			}
			if !ok {
				t.Fatalf("NextRun = none, want %s..%s", c.wantStart, c.wantEnd)
			}
			wantRunAfter := at(c.wantEnd)
			if c.wantRunAfterOverride != "" {
				wantRunAfter = at(c.wantRunAfterOverride)
			}
			if !got.DataInterval.Start.Equal(at(c.wantStart)) || !got.DataInterval.End.Equal(at(c.wantEnd)) || !got.RunAfter.Equal(wantRunAfter) {
				t.Errorf("NextRun = %s..%s after %s, want %s..%s after %s",
					got.DataInterval.Start.Format(time.RFC3339), got.DataInterval.End.Format(time.RFC3339), got.RunAfter.Format(time.RFC3339),
					c.wantStart, c.wantEnd, wantRunAfter.Format(time.RFC3339))
			}
			if got.DataInterval.Start.Location() != time.UTC || got.RunAfter.Location() != time.UTC {
				t.Errorf("NextRun returned non-UTC times: %v", got)
			}
		})
	}
}

func TestCronNextRun(t *testing.T) {
	t.Parallel()
	at, _, _ := setup(t)
	runNextRunCases(t, at, []nextRunCase{
		{name: "first run at start_date", schedule: "@daily", earliest: "2024-01-01T00:00:00Z", catchup: true,
			wantStart: "2024-01-01T00:00:00Z", wantEnd: "2024-01-02T00:00:00Z"},
		{name: "follows the last run", schedule: "@daily", earliest: "2024-01-01T00:00:00Z", catchup: true,
			lastStart: "2024-01-01T00:00:00Z", lastEnd: "2024-01-02T00:00:00Z",
			wantStart: "2024-01-02T00:00:00Z", wantEnd: "2024-01-03T00:00:00Z"},
		{name: "start_date between points aligns forward", schedule: "@daily", earliest: "2024-01-01T10:30:00Z", catchup: true,
			wantStart: "2024-01-02T00:00:00Z", wantEnd: "2024-01-03T00:00:00Z"},
		{name: "catchup ignores now", schedule: "@hourly", earliest: "2020-01-01T00:00:00Z", catchup: true, now: "2024-05-05T05:05:05Z",
			wantStart: "2020-01-01T00:00:00Z", wantEnd: "2020-01-01T01:00:00Z"},
		{name: "no start_date, no last run", schedule: "@daily", catchup: true},
		{name: "no start_date continues from the last run", schedule: "@daily", catchup: true,
			lastStart: "2024-01-01T00:00:00Z", lastEnd: "2024-01-02T00:00:00Z",
			wantStart: "2024-01-02T00:00:00Z", wantEnd: "2024-01-03T00:00:00Z"},
		{name: "last run off-schedule (schedule changed) realigns back", schedule: "@daily", catchup: true,
			lastStart: "2024-01-01T06:00:00Z", lastEnd: "2024-01-02T06:00:00Z",
			wantStart: "2024-01-02T00:00:00Z", wantEnd: "2024-01-03T00:00:00Z"},
		{name: "start_date moved later than last run", schedule: "@daily", earliest: "2024-02-01T00:00:00Z", catchup: true,
			lastStart: "2024-01-01T00:00:00Z", lastEnd: "2024-01-02T00:00:00Z",
			wantStart: "2024-02-01T00:00:00Z", wantEnd: "2024-02-02T00:00:00Z"},

		{name: "no catchup: latest complete interval", schedule: "@daily", earliest: "2024-01-01T00:00:00Z", now: "2024-03-10T15:00:00Z",
			wantStart: "2024-03-09T00:00:00Z", wantEnd: "2024-03-10T00:00:00Z"},
		{name: "no catchup: now on a boundary", schedule: "@daily", earliest: "2024-01-01T00:00:00Z", now: "2024-03-10T00:00:00Z",
			wantStart: "2024-03-09T00:00:00Z", wantEnd: "2024-03-10T00:00:00Z"},
		{name: "no catchup: skips old last run", schedule: "@daily", earliest: "2024-01-01T00:00:00Z", now: "2024-03-10T15:00:00Z",
			lastStart: "2024-01-01T00:00:00Z", lastEnd: "2024-01-02T00:00:00Z",
			wantStart: "2024-03-09T00:00:00Z", wantEnd: "2024-03-10T00:00:00Z"},
		{name: "no catchup: next after a recent run is not due yet", schedule: "@daily", earliest: "2024-01-01T00:00:00Z", now: "2024-03-10T15:00:00Z",
			lastStart: "2024-03-09T00:00:00Z", lastEnd: "2024-03-10T00:00:00Z",
			wantStart: "2024-03-10T00:00:00Z", wantEnd: "2024-03-11T00:00:00Z"},
		{name: "no catchup: never before start_date", schedule: "@daily", earliest: "2024-06-01T08:00:00Z", now: "2024-03-10T15:00:00Z",
			wantStart: "2024-06-02T00:00:00Z", wantEnd: "2024-06-03T00:00:00Z"},
		{name: "no catchup: start_date just passed gives no earlier interval", schedule: "@daily", earliest: "2024-03-10T00:00:00Z", now: "2024-03-10T15:00:00Z",
			wantStart: "2024-03-10T00:00:00Z", wantEnd: "2024-03-11T00:00:00Z"},
		{name: "no catchup: weekly", schedule: "@weekly", earliest: "2024-01-01T00:00:00Z", now: "2024-03-13T12:00:00Z",
			wantStart: "2024-03-03T00:00:00Z", wantEnd: "2024-03-10T00:00:00Z"},

		{name: "end_date: interval starting on it still runs", schedule: "@daily", earliest: "2024-01-01T00:00:00Z", latest: "2024-01-05T00:00:00Z", catchup: true,
			lastStart: "2024-01-04T00:00:00Z", lastEnd: "2024-01-05T00:00:00Z",
			wantStart: "2024-01-05T00:00:00Z", wantEnd: "2024-01-06T00:00:00Z"},
		{name: "end_date: nothing starts after it", schedule: "@daily", earliest: "2024-01-01T00:00:00Z", latest: "2024-01-05T00:00:00Z", catchup: true,
			lastStart: "2024-01-05T00:00:00Z", lastEnd: "2024-01-06T00:00:00Z"},
		{name: "end_date before first point", schedule: "@daily", earliest: "2024-01-01T10:00:00Z", latest: "2024-01-01T12:00:00Z", catchup: true},
		{name: "end_date without catchup", schedule: "@daily", earliest: "2024-01-01T00:00:00Z", latest: "2024-01-05T00:00:00Z", now: "2024-03-10T15:00:00Z"},

		{name: "day 31 skips February", schedule: "0 0 31 * *", earliest: "2024-01-15T00:00:00Z", catchup: true,
			wantStart: "2024-01-31T00:00:00Z", wantEnd: "2024-03-31T00:00:00Z"},
		{name: "day 31 skips April", schedule: "0 0 31 * *", catchup: true,
			lastStart: "2024-01-31T00:00:00Z", lastEnd: "2024-03-31T00:00:00Z",
			wantStart: "2024-03-31T00:00:00Z", wantEnd: "2024-05-31T00:00:00Z"},
		{name: "Feb 29 waits for a leap year", schedule: "0 0 29 2 *", earliest: "2024-03-01T00:00:00Z", catchup: true,
			wantStart: "2028-02-29T00:00:00Z", wantEnd: "2032-02-29T00:00:00Z"},
		{name: "monthly across year end", schedule: "@monthly", catchup: true,
			lastStart: "2024-11-01T00:00:00Z", lastEnd: "2024-12-01T00:00:00Z",
			wantStart: "2024-12-01T00:00:00Z", wantEnd: "2025-01-01T00:00:00Z"},
		{name: "quarterly", schedule: "@quarterly", earliest: "2024-02-10T00:00:00Z", catchup: true,
			wantStart: "2024-04-01T00:00:00Z", wantEnd: "2024-07-01T00:00:00Z"},
		{name: "day-of-month OR day-of-week", schedule: "0 0 15 * 1", earliest: "2024-01-09T00:00:00Z", catchup: true,
			wantStart: "2024-01-15T00:00:00Z", wantEnd: "2024-01-22T00:00:00Z"},
		{name: "weekdays skip the weekend", schedule: "0 3 * * 1-5", catchup: true,
			lastStart: "2024-01-04T03:00:00Z", lastEnd: "2024-01-05T03:00:00Z",
			wantStart: "2024-01-05T03:00:00Z", wantEnd: "2024-01-08T03:00:00Z"},
	})
}

func TestCronNextRunTimeZones(t *testing.T) {
	t.Parallel()
	at, ny, berlin := setup(t)
	runNextRunCases(t, at, []nextRunCase{
		{name: "daily midnight in New York", schedule: "@daily", loc: ny, earliest: "2024-01-01T00:00:00-05:00", catchup: true,
			wantStart: "2024-01-01T05:00:00Z", wantEnd: "2024-01-02T05:00:00Z"},
		{name: "daily midnight across spring-forward is 23h", schedule: "@daily", loc: ny, catchup: true,
			lastStart: "2024-03-09T00:00:00-05:00", lastEnd: "2024-03-10T00:00:00-05:00",
			wantStart: "2024-03-10T00:00:00-05:00", wantEnd: "2024-03-11T00:00:00-04:00"},
		{name: "daily midnight across fall-back is 25h", schedule: "@daily", loc: ny, catchup: true,
			lastStart: "2024-11-02T00:00:00-04:00", lastEnd: "2024-11-03T00:00:00-04:00",
			wantStart: "2024-11-03T00:00:00-04:00", wantEnd: "2024-11-04T00:00:00-05:00"},
		// 02:30 does not exist on 2024-03-10 in New York: it runs at 03:30 EDT.
		{name: "02:30 on spring-forward day runs at 03:30 EDT", schedule: "30 2 * * *", loc: ny, catchup: true,
			lastStart: "2024-03-08T02:30:00-05:00", lastEnd: "2024-03-09T02:30:00-05:00",
			wantStart: "2024-03-09T02:30:00-05:00", wantEnd: "2024-03-10T03:30:00-04:00"},
		{name: "02:30 the day after spring-forward", schedule: "30 2 * * *", loc: ny, catchup: true,
			lastStart: "2024-03-09T02:30:00-05:00", lastEnd: "2024-03-10T03:30:00-04:00",
			wantStart: "2024-03-10T03:30:00-04:00", wantEnd: "2024-03-11T02:30:00-04:00"},
		// 01:30 happens twice on 2024-11-03 in New York: the second (EST) one counts.
		{name: "01:30 on fall-back day runs at the second 01:30", schedule: "30 1 * * *", loc: ny, catchup: true,
			lastStart: "2024-11-01T01:30:00-04:00", lastEnd: "2024-11-02T01:30:00-04:00",
			wantStart: "2024-11-02T01:30:00-04:00", wantEnd: "2024-11-03T01:30:00-05:00"},
		{name: "01:30 the day after fall-back", schedule: "30 1 * * *", loc: ny, catchup: true,
			lastStart: "2024-11-02T01:30:00-04:00", lastEnd: "2024-11-03T01:30:00-05:00",
			wantStart: "2024-11-03T01:30:00-05:00", wantEnd: "2024-11-04T01:30:00-05:00"},
		{name: "hourly through spring-forward gap", schedule: "@hourly", loc: ny, catchup: true,
			lastStart: "2024-03-10T00:00:00-05:00", lastEnd: "2024-03-10T01:00:00-05:00",
			wantStart: "2024-03-10T01:00:00-05:00", wantEnd: "2024-03-10T03:00:00-04:00"},
		{name: "hourly into the repeated hour", schedule: "@hourly", loc: ny, catchup: true,
			lastStart: "2024-11-03T00:00:00-04:00", lastEnd: "2024-11-03T01:00:00-04:00",
			wantStart: "2024-11-03T01:00:00-04:00", wantEnd: "2024-11-03T01:00:00-05:00"},
		{name: "hourly out of the repeated hour", schedule: "@hourly", loc: ny, catchup: true,
			lastStart: "2024-11-03T01:00:00-04:00", lastEnd: "2024-11-03T01:00:00-05:00",
			wantStart: "2024-11-03T01:00:00-05:00", wantEnd: "2024-11-03T02:00:00-05:00"},
		{name: "Berlin 02:30 on spring-forward day", schedule: "30 2 * * *", loc: berlin, catchup: true,
			lastStart: "2024-03-29T02:30:00+01:00", lastEnd: "2024-03-30T02:30:00+01:00",
			wantStart: "2024-03-30T02:30:00+01:00", wantEnd: "2024-03-31T03:30:00+02:00"},
		{name: "Berlin 02:30 on fall-back day is the CET one", schedule: "30 2 * * *", loc: berlin, catchup: true,
			lastStart: "2024-10-25T02:30:00+02:00", lastEnd: "2024-10-26T02:30:00+02:00",
			wantStart: "2024-10-26T02:30:00+02:00", wantEnd: "2024-10-27T02:30:00+01:00"},
		{name: "Berlin half past every hour through fall-back", schedule: "30 * * * *", loc: berlin, catchup: true,
			lastStart: "2024-10-27T01:30:00+02:00", lastEnd: "2024-10-27T02:30:00+02:00",
			wantStart: "2024-10-27T02:30:00+02:00", wantEnd: "2024-10-27T02:30:00+01:00"},
		{name: "no catchup in New York", schedule: "@daily", loc: ny, earliest: "2024-01-01T00:00:00-05:00", now: "2024-03-10T12:00:00Z",
			wantStart: "2024-03-09T00:00:00-05:00", wantEnd: "2024-03-10T00:00:00-05:00"},
	})
}

// TestCronHourlyDSTContinuity walks hourly and quarter-hourly schedules
// through both changes and checks intervals tile real time exactly.
func TestCronHourlyDSTContinuity(t *testing.T) {
	t.Parallel()
	at, ny, berlin := setup(t)
	cases := []struct {
		schedule string
		loc      *time.Location
		from     string
		step     time.Duration
	}{
		{"@hourly", ny, "2024-03-09T20:00:00-05:00", time.Hour},
		{"@hourly", ny, "2024-11-02T20:00:00-04:00", time.Hour},
		{"*/15 * * * *", berlin, "2024-03-30T22:00:00+01:00", 15 * time.Minute},
		{"*/15 * * * *", berlin, "2024-10-26T22:00:00+02:00", 15 * time.Minute},
	}
	for _, c := range cases {
		tt := mustNew(t, c.schedule, c.loc)
		start := at(c.from)
		r := Restriction{Earliest: &start, Catchup: true}
		var last *DataInterval
		for i := 0; i < int(12*time.Hour/c.step); i++ {
			info, ok := tt.NextRun(last, r, start)
			if !ok {
				t.Fatalf("%s from %s: no run at step %d", c.schedule, c.from, i)
			}
			want := start.Add(time.Duration(i) * c.step)
			if !info.DataInterval.Start.Equal(want) || info.DataInterval.End.Sub(info.DataInterval.Start) != c.step {
				t.Fatalf("%s from %s step %d: got %v..%v, want start %v and length %v",
					c.schedule, c.from, i, info.DataInterval.Start, info.DataInterval.End, want, c.step)
			}
			di := info.DataInterval
			last = &di
		}
	}
}

func TestDeltaNextRun(t *testing.T) {
	t.Parallel()
	at, ny, _ := setup(t)
	runNextRunCases(t, at, []nextRunCase{
		{name: "anchored at start_date", schedule: "30m", earliest: "2024-01-01T10:17:00Z", catchup: true,
			wantStart: "2024-01-01T10:17:00Z", wantEnd: "2024-01-01T10:47:00Z"},
		{name: "follows the last run", schedule: "30m", earliest: "2024-01-01T10:17:00Z", catchup: true,
			lastStart: "2024-01-01T10:17:00Z", lastEnd: "2024-01-01T10:47:00Z",
			wantStart: "2024-01-01T10:47:00Z", wantEnd: "2024-01-01T11:17:00Z"},
		{name: "a day is 24 hours across DST", schedule: map[string]any{"days": 1}, loc: ny, catchup: true,
			earliest:  "2024-03-09T00:00:00-05:00",
			lastStart: "2024-03-09T00:00:00-05:00", lastEnd: "2024-03-10T00:00:00-05:00",
			wantStart: "2024-03-10T05:00:00Z", wantEnd: "2024-03-11T05:00:00Z"},
		{name: "no catchup: rounds now to the epoch grid", schedule: "30m", earliest: "2024-01-01T10:17:00Z", now: "2024-01-05T12:05:00Z",
			wantStart: "2024-01-05T11:30:00Z", wantEnd: "2024-01-05T12:00:00Z"},
		{name: "no catchup: now on the grid", schedule: "1h", earliest: "2024-01-01T10:17:00Z", now: "2024-01-05T12:00:00Z",
			wantStart: "2024-01-05T11:00:00Z", wantEnd: "2024-01-05T12:00:00Z"},
		{name: "no catchup: never before start_date", schedule: "30m", earliest: "2024-02-01T10:17:00Z", now: "2024-01-05T12:05:00Z",
			wantStart: "2024-02-01T10:17:00Z", wantEnd: "2024-02-01T10:47:00Z"},
		{name: "no catchup: keeps going after a recent run", schedule: "30m", earliest: "2024-01-01T10:17:00Z", now: "2024-01-05T12:05:00Z",
			lastStart: "2024-01-05T11:30:00Z", lastEnd: "2024-01-05T12:00:00Z",
			wantStart: "2024-01-05T12:00:00Z", wantEnd: "2024-01-05T12:30:00Z"},
		{name: "end_date", schedule: "1h", earliest: "2024-01-01T00:00:00Z", latest: "2024-01-01T05:30:00Z", catchup: true,
			lastStart: "2024-01-01T05:00:00Z", lastEnd: "2024-01-01T06:00:00Z"},
		{name: "no start_date", schedule: "1h", catchup: true},
	})
}

func TestOnceContinuousNullNextRun(t *testing.T) {
	t.Parallel()
	at, _, _ := setup(t)
	runNextRunCases(t, at, []nextRunCase{
		{name: "once: at start_date", schedule: "@once", earliest: "2024-01-01T10:17:00Z", now: "2024-03-01T00:00:00Z",
			wantStart: "2024-01-01T10:17:00Z", wantEnd: "2024-01-01T10:17:00Z"},
		{name: "once: at start_date even without catchup", schedule: "@once", earliest: "2024-01-01T10:17:00Z", catchup: true,
			wantStart: "2024-01-01T10:17:00Z", wantEnd: "2024-01-01T10:17:00Z"},
		{name: "once: future start_date", schedule: "@once", earliest: "2031-01-01T00:00:00Z",
			wantStart: "2031-01-01T00:00:00Z", wantEnd: "2031-01-01T00:00:00Z"},
		{name: "once: done", schedule: "@once", earliest: "2024-01-01T10:17:00Z",
			lastStart: "2024-01-01T10:17:00Z", lastEnd: "2024-01-01T10:17:00Z"},
		{name: "once: no start_date", schedule: "@once"},
		{name: "once: end_date before start_date", schedule: "@once", earliest: "2024-01-02T00:00:00Z", latest: "2024-01-01T00:00:00Z"},

		{name: "continuous: first run covers start_date to now", schedule: "@continuous", earliest: "2024-01-01T00:00:00Z", now: "2024-03-01T12:00:00Z",
			wantStart: "2024-01-01T00:00:00Z", wantEnd: "2024-03-01T12:00:00Z"},
		{name: "continuous: future start_date waits", schedule: "@continuous", earliest: "2024-04-01T00:00:00Z", now: "2024-03-01T12:00:00Z",
			wantStart: "2024-04-01T00:00:00Z", wantEnd: "2024-04-01T00:00:00Z"},
		{name: "continuous: from the last end to now", schedule: "@continuous", earliest: "2024-01-01T00:00:00Z", now: "2024-03-01T12:00:00Z",
			lastStart: "2024-03-01T10:00:00Z", lastEnd: "2024-03-01T11:00:00Z",
			wantStart: "2024-03-01T11:00:00Z", wantEnd: "2024-03-01T12:00:00Z"},
		{name: "continuous: last end in the future waits for it", schedule: "@continuous", earliest: "2024-04-01T00:00:00Z", now: "2024-03-01T12:00:00Z",
			lastStart: "2024-04-01T00:00:00Z", lastEnd: "2024-04-01T00:00:00Z",
			wantStart: "2024-04-01T00:00:00Z", wantEnd: "2024-04-01T00:00:00Z"},
		{name: "continuous: end_date passed", schedule: "@continuous", earliest: "2024-01-01T00:00:00Z", latest: "2024-02-01T00:00:00Z", now: "2024-03-01T12:00:00Z"},
		{name: "continuous: no start_date", schedule: "@continuous", now: "2024-03-01T12:00:00Z"},

		{name: "none: never", schedule: nil, earliest: "2024-01-01T00:00:00Z", catchup: true},
		{name: "none: never without catchup", schedule: "None", earliest: "2024-01-01T00:00:00Z", now: "2024-03-01T12:00:00Z"},
	})
}

func TestManualInterval(t *testing.T) {
	t.Parallel()
	at, ny, _ := setup(t)
	cases := []struct {
		name      string
		schedule  any
		loc       *time.Location
		runAfter  string
		wantStart string
		wantEnd   string
	}{
		{"daily at 01:00 on the 25th", "@daily", nil, "2024-01-25T01:00:00Z", "2024-01-24T00:00:00Z", "2024-01-25T00:00:00Z"},
		{"daily exactly at midnight", "@daily", nil, "2024-01-25T00:00:00Z", "2024-01-24T00:00:00Z", "2024-01-25T00:00:00Z"},
		{"hourly", "@hourly", nil, "2024-01-25T13:59:59Z", "2024-01-25T12:00:00Z", "2024-01-25T13:00:00Z"},
		{"weekdays on a Sunday", "0 3 * * 1-5", nil, "2024-01-07T10:00:00Z", "2024-01-04T03:00:00Z", "2024-01-05T03:00:00Z"},
		{"daily in New York", "@daily", ny, "2024-01-25T01:00:00-05:00", "2024-01-24T00:00:00-05:00", "2024-01-25T00:00:00-05:00"},
		{"delta", "1h", nil, "2024-01-25T01:23:00Z", "2024-01-25T00:23:00Z", "2024-01-25T01:23:00Z"},
		{"once is zero-width", "@once", nil, "2024-01-25T01:23:00Z", "2024-01-25T01:23:00Z", "2024-01-25T01:23:00Z"},
		{"none is zero-width", nil, nil, "2024-01-25T01:23:00Z", "2024-01-25T01:23:00Z", "2024-01-25T01:23:00Z"},
		{"continuous is zero-width", "@continuous", nil, "2024-01-25T01:23:00Z", "2024-01-25T01:23:00Z", "2024-01-25T01:23:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := mustNew(t, c.schedule, c.loc).ManualInterval(at(c.runAfter))
			if !got.Start.Equal(at(c.wantStart)) || !got.End.Equal(at(c.wantEnd)) {
				t.Errorf("ManualInterval(%s) = %v..%v, want %s..%s", c.runAfter, got.Start, got.End, c.wantStart, c.wantEnd)
			}
		})
	}
}

func TestBetween(t *testing.T) {
	t.Parallel()
	at, _, _ := setup(t)
	cases := []struct {
		name       string
		schedule   any
		start, end string
		want       []string // logical dates
	}{
		{"daily, inclusive ends", "@daily", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z",
			[]string{"2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z", "2024-01-05T00:00:00Z"}},
		{"daily, start off-schedule", "@daily", "2024-01-01T12:00:00Z", "2024-01-03T12:00:00Z",
			[]string{"2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"}},
		{"month ends", "0 0 31 * *", "2024-01-01T00:00:00Z", "2024-08-31T00:00:00Z",
			[]string{"2024-01-31T00:00:00Z", "2024-03-31T00:00:00Z", "2024-05-31T00:00:00Z", "2024-07-31T00:00:00Z", "2024-08-31T00:00:00Z"}},
		{"delta from range start", "6h", "2024-01-01T01:00:00Z", "2024-01-02T00:00:00Z",
			[]string{"2024-01-01T01:00:00Z", "2024-01-01T07:00:00Z", "2024-01-01T13:00:00Z", "2024-01-01T19:00:00Z"}},
		{"empty range", "@daily", "2024-01-01T01:00:00Z", "2024-01-01T23:00:00Z", nil},
		{"once", "@once", "2024-01-01T01:00:00Z", "2024-01-05T00:00:00Z", []string{"2024-01-01T01:00:00Z"}},
		{"none", nil, "2024-01-01T01:00:00Z", "2024-01-05T00:00:00Z", nil},
		{"continuous", "@continuous", "2024-01-01T01:00:00Z", "2024-01-05T00:00:00Z", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := Between(mustNew(t, c.schedule, nil), at(c.start), at(c.end))
			if len(got) != len(c.want) {
				t.Fatalf("Between = %d runs %v, want %d", len(got), got, len(c.want))
			}
			for i, ri := range got {
				if !ri.LogicalDate().Equal(at(c.want[i])) {
					t.Errorf("run %d logical date = %v, want %s", i, ri.LogicalDate(), c.want[i])
				}
				if !ri.RunAfter.Equal(ri.DataInterval.End) {
					t.Errorf("run %d RunAfter %v != interval end %v", i, ri.RunAfter, ri.DataInterval.End)
				}
				if i > 0 && periodicSchedule(c.schedule) && !ri.DataInterval.Start.Equal(got[i-1].DataInterval.End) {
					t.Errorf("run %d does not start where run %d ended", i, i-1)
				}
			}
		})
	}
}

// periodicSchedule reports whether s is periodic (its runs should tile time).
func periodicSchedule(s any) bool { return s != "@once" && s != nil && s != "@continuous" }

func TestDescription(t *testing.T) {
	t.Parallel()
	cases := []struct {
		schedule any
		want     string
	}{
		{"@daily", "At 00:00"},
		{"@hourly", "Every hour"},
		{"@weekly", "At 00:00, only on Sunday"},
		{"@monthly", "At 00:00, on day 1 of the month"},
		{"@quarterly", "At 00:00, on day 1 of the month, every 3 months"},
		{"@yearly", "At 00:00, on day 1 of the month, only in January"},
		{"30 * * * *", "At 30 minutes past the hour"},
		{"*/15 * * * *", "Every 15 minutes"},
		{"* * * * *", "Every minute"},
		{"0 */2 * * *", "Every 2 hours"},
		{"15 9-17 * * *", "At 15 minutes past the hour, between 09:00 and 17:59"},
		{"0 3 * * 1-5", "At 03:00, Monday through Friday"},
		{"30 6,14,16 * * *", "At 06:30, 14:30 and 16:30"},
		{"0 0 * * 1,3,5", "At 00:00, only on Monday, Wednesday, and Friday"},
		{"5 4 31 * *", "At 04:05, on day 31 of the month"},
		{"0 0 * * sun", "0 0 * * sun"},
		{"30m", "every 30 minutes"},
		{map[string]any{"days": 1}, "every day"},
		{"26h", "every 1 day, 2 hours"},
		{"@once", "Once, as soon as possible"},
		{"@continuous", "As frequently as possible, but only one run at a time."},
		{nil, "Never, external triggers only"},
	}
	for _, c := range cases {
		if got := mustNew(t, c.schedule, nil).Description(); got != c.want {
			t.Errorf("Description(%v) = %q, want %q", c.schedule, got, c.want)
		}
	}
}

func TestPeriodic(t *testing.T) {
	t.Parallel()
	for s, want := range map[any]bool{"@daily": true, "1h": true, "@once": false, "@continuous": false, "None": false} {
		if got := mustNew(t, s, nil).Periodic(); got != want {
			t.Errorf("Periodic(%v) = %v, want %v", s, got, want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	cases := []windsock.Schedule{
		{Kind: windsock.ScheduleCron, Cron: "61 * * * *"},
		{Kind: windsock.ScheduleCron, Cron: "0 0 30 2 *"}, // never happens
		{Kind: windsock.ScheduleInterval, Interval: 0},
		{Kind: "hourly-ish"},
	}
	for _, s := range cases {
		if tt, err := New(s, nil); err == nil {
			t.Errorf("New(%+v) = %v, want error", s, tt)
		}
	}
}

func BenchmarkCronNextRun(b *testing.B) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	tt, err := New(windsock.Schedule{Kind: windsock.ScheduleCron, Cron: "30 2 * * 1-5"}, loc)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	r := Restriction{Earliest: &start, Catchup: true}
	last := &DataInterval{Start: start, End: start}
	for b.Loop() {
		info, ok := tt.NextRun(last, r, start)
		if !ok {
			b.Fatal("no run")
		}
		last = &info.DataInterval
	}
}
