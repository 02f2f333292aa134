package schedule

import (
	"time"
)

// cronTimetable is Airflow's CronDataIntervalTimetable: each interval runs
// from one cron match to the next, evaluated in the DAG's time zone.
//
// Time zone rule (Airflow's CronMixin): the cron expression is matched
// against the wall clock in loc. For expressions that do not fire every
// hour, the matching wall time is turned back into an instant with
// make_aware semantics (see fromWallClock): a time skipped by a
// spring-forward change runs at the same wall time plus the gap (02:30 runs
// at 03:30 summer time), and a time repeated by a fall-back change runs at
// its second occurrence. For expressions whose hour field covers all 24
// hours, the wall-clock distance to the next match is added to the instant
// instead, so hourly runs continue through the repeated hour and nothing
// runs twice or is skipped.
type cronTimetable struct {
	expr      string
	spec      cronSpec
	loc       *time.Location
	everyHour bool
}

func newCronTimetable(expr string, loc *time.Location) (cronTimetable, error) {
	spec, err := parseCronSpec(expr)
	if err != nil {
		return cronTimetable{}, err
	}
	return cronTimetable{expr: expr, spec: spec, loc: loc, everyHour: spec.everyHour()}, nil
}

func (c cronTimetable) next(t time.Time) time.Time {
	wall := wallClock(t, c.loc)
	match, ok := c.spec.next(wall)
	if !ok {
		return time.Time{}
	}
	if c.everyHour {
		return t.Add(match.Sub(wall)).UTC()
	}
	return fromWallClock(match, c.loc).UTC()
}

func (c cronTimetable) prev(t time.Time) time.Time {
	wall := wallClock(t, c.loc)
	match, ok := c.spec.prev(wall)
	if !ok {
		return time.Time{}
	}
	if c.everyHour {
		return t.Add(-wall.Sub(match)).UTC()
	}
	return fromWallClock(match, c.loc).UTC()
}

func (c cronTimetable) alignNext(t time.Time) time.Time {
	n := c.next(t)
	if !c.prev(n).Equal(t) {
		return n
	}
	return t.UTC()
}

func (c cronTimetable) alignPrev(t time.Time) time.Time {
	p := c.prev(t)
	if !c.next(p).Equal(t) {
		return p
	}
	return t.UTC()
}

// skipToLatest follows Airflow 2.10: without catchup the first interval is
// the latest one that has already ended at now (the one ending exactly at
// now when now is on a schedule point), but not before start_date.
func (c cronTimetable) skipToLatest(earliest *time.Time, now time.Time) time.Time {
	lastStart := c.prev(now)
	start := lastStart
	if c.next(lastStart).After(now) {
		start = c.prev(lastStart)
	}
	if earliest == nil {
		return start
	}
	return later(start, c.alignNext(*earliest))
}

// NextRun implements Timetable.
func (c cronTimetable) NextRun(last *DataInterval, r Restriction, now time.Time) (RunInfo, bool) {
	return nextDataInterval(c, last, r, now)
}

// ManualInterval is the last complete schedule period at or before
// runAfter: triggered at 01:00 on the 25th, a @daily DAG covers 24th 00:00
// to 25th 00:00.
func (c cronTimetable) ManualInterval(runAfter time.Time) DataInterval {
	end := c.alignPrev(runAfter)
	return DataInterval{Start: c.prev(end), End: end}
}

// Description implements Timetable, in the words of cron_descriptor.
func (c cronTimetable) Description() string { return describeCron(c.expr) }

// Periodic implements Timetable.
func (cronTimetable) Periodic() bool { return true }
