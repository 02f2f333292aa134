package schedule

import (
	"time"
)

// series is what the two data-interval timetables (cron and timedelta)
// supply to the shared scheduling rule in nextDataInterval; the method
// names follow Airflow's _DataIntervalTimetable.
type series interface {
	// next is the first schedule point after t.
	next(t time.Time) time.Time
	// prev is the last schedule point before t.
	prev(t time.Time) time.Time
	// alignNext is t when t is a schedule point, else next(t).
	alignNext(t time.Time) time.Time
	// alignPrev is t when t is a schedule point, else prev(t).
	alignPrev(t time.Time) time.Time
	// skipToLatest is where catchup=false starts scheduling at now.
	skipToLatest(earliest *time.Time, now time.Time) time.Time
}

// nextDataInterval is Airflow's _DataIntervalTimetable.next_dagrun_info:
// the next interval starts where the last one ended (re-aligned, in case
// the schedule changed), but never before start_date (aligned to the
// schedule) and, without catchup, never before the latest complete
// interval. The run is due when its interval ends.
func nextDataInterval(s series, last *DataInterval, r Restriction, now time.Time) (RunInfo, bool) {
	var earliest *time.Time
	switch {
	case !r.Catchup:
		e := s.skipToLatest(r.Earliest, now)
		earliest = &e
	case r.Earliest != nil:
		e := s.alignNext(r.Earliest.UTC())
		earliest = &e
	}
	var start time.Time
	switch {
	case last == nil && earliest == nil:
		// No start_date and catchup on: Airflow cannot place a first run.
		return RunInfo{}, false
	case last == nil:
		start = *earliest
	default:
		start = s.alignPrev(last.End.UTC())
		if earliest != nil {
			start = later(start, *earliest)
		}
	}
	if r.Latest != nil && start.After(*r.Latest) {
		return RunInfo{}, false
	}
	end := s.next(start)
	if !end.After(start) {
		return RunInfo{}, false // a cron expression with no match left
	}
	return RunInfo{RunAfter: end, DataInterval: DataInterval{Start: start, End: end}}, true
}

// later returns the later of a and b, in UTC.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b.UTC()
	}
	return a.UTC()
}
