package schedule

import (
	"fmt"
	"math/bits"
	"time"

	"github.com/robfig/cron/v3"
)

// cronSearchYears bounds how far next and prev look for a match. A
// validated expression matches at least once in any 8 years (Feb 29 can be
// 8 years apart around 2100), so hitting the bound means "never".
const cronSearchYears = 9

// starBit is the bit robfig/cron sets on a field written as "*" (or "*/1");
// it decides between AND and OR for the two day fields, as in Vixie cron
// and croniter.
const starBit = 1 << 63

// cronSpec is a 5-field cron expression evaluated on naive wall-clock
// times, the way croniter works for Airflow: times are time.Time values in
// UTC whose fields are the wall clock of the DAG's zone. Zone handling is
// the caller's job (see cronTimetable).
type cronSpec struct {
	minute, hour, dom, month, dow uint64
}

func parseCronSpec(expr string) (cronSpec, error) {
	p := cronParser()
	sched, err := p.Parse(expr)
	if err != nil {
		return cronSpec{}, fmt.Errorf("parse cron expression %q: %w", expr, err)
	}
	s, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return cronSpec{}, fmt.Errorf("parse cron expression %q: unsupported form", expr)
	}
	spec := cronSpec{minute: s.Minute, hour: s.Hour, dom: s.Dom, month: s.Month, dow: s.Dow}
	probe := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, ok := spec.next(probe); !ok {
		return cronSpec{}, fmt.Errorf("parse cron expression %q: it never matches a real date", expr)
	}
	return spec, nil
}

// everyHour reports whether the hour field selects all 24 hours; croniter
// normalizes such a field to "*", which is what Airflow's fold-hour
// workaround tests for.
func (s cronSpec) everyHour() bool {
	const all = 1<<24 - 1
	return s.hour&all == all
}

func (s cronSpec) dayMatches(t time.Time) bool {
	domOK := s.dom&(1<<uint(t.Day())) != 0
	dowOK := s.dow&(1<<uint(t.Weekday())) != 0
	if s.dom&starBit != 0 || s.dow&starBit != 0 {
		return domOK && dowOK
	}
	return domOK || dowOK
}

// next returns the first match strictly after wall (a naive UTC time).
func (s cronSpec) next(wall time.Time) (time.Time, bool) {
	t := wall.Truncate(time.Minute).Add(time.Minute)
	limit := wall.AddDate(cronSearchYears, 0, 0)
	for !t.After(limit) {
		switch {
		case s.month&(1<<uint(t.Month())) == 0:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		case !s.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		case s.hour&(1<<uint(t.Hour())) == 0:
			t = t.Truncate(time.Hour).Add(time.Hour)
		default:
			m := nextBit(s.minute, t.Minute())
			if m < 0 {
				t = t.Truncate(time.Hour).Add(time.Hour)
				continue
			}
			return t.Truncate(time.Hour).Add(time.Duration(m) * time.Minute), true
		}
	}
	return time.Time{}, false
}

// prev returns the last match strictly before wall (a naive UTC time).
func (s cronSpec) prev(wall time.Time) (time.Time, bool) {
	t := wall.Truncate(time.Minute)
	if t.Equal(wall) {
		t = t.Add(-time.Minute)
	}
	limit := wall.AddDate(-cronSearchYears, 0, 0)
	for !t.Before(limit) {
		switch {
		case s.month&(1<<uint(t.Month())) == 0:
			t = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).Add(-time.Minute)
		case !s.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Add(-time.Minute)
		case s.hour&(1<<uint(t.Hour())) == 0:
			t = t.Truncate(time.Hour).Add(-time.Minute)
		default:
			m := prevBit(s.minute, t.Minute())
			if m < 0 {
				t = t.Truncate(time.Hour).Add(-time.Minute)
				continue
			}
			return t.Truncate(time.Hour).Add(time.Duration(m) * time.Minute), true
		}
	}
	return time.Time{}, false
}

// nextBit is the smallest set bit >= from among bits 0..59, or -1.
func nextBit(mask uint64, from int) int {
	m := mask & (1<<60 - 1) >> uint(from) << uint(from)
	if m == 0 {
		return -1
	}
	return bits.TrailingZeros64(m)
}

// prevBit is the largest set bit <= from among bits 0..59, or -1.
func prevBit(mask uint64, from int) int {
	m := mask & (1<<(uint(from)+1) - 1)
	if m == 0 {
		return -1
	}
	return 63 - bits.LeadingZeros64(m)
}

// wallClock returns t's wall clock in loc as a naive (UTC) time, like
// Airflow's make_naive.
func wallClock(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// fromWallClock is Airflow's make_aware, which sets fold=1 before pendulum
// localizes: an ambiguous wall time (clocks went back) is the second,
// later occurrence; a wall time skipped by clocks going forward is pushed
// forward by the size of the gap (02:30 becomes 03:30 summer time).
func fromWallClock(wall time.Time, loc *time.Location) time.Time {
	u := wall.Unix()
	// Offsets one day either side: zone transitions are never that close.
	_, before := time.Unix(u-86400, 0).In(loc).Zone()
	_, after := time.Unix(u+86400, 0).In(loc).Zone()
	ns := int64(wall.Nanosecond())
	fits := func(offset int) (time.Time, bool) {
		t := time.Unix(u-int64(offset), ns)
		_, got := t.In(loc).Zone()
		return t, got == offset
	}
	tAfter, okAfter := fits(after)
	tBefore, okBefore := fits(before)
	switch {
	case okAfter && okBefore:
		if tAfter.After(tBefore) {
			return tAfter
		}
		return tBefore
	case okAfter:
		return tAfter
	case okBefore:
		return tBefore
	}
	// Skipped: reading the wall time with the pre-transition offset is the
	// same instant as moving it forward by the gap in the new offset.
	return time.Unix(u-int64(before), ns)
}
