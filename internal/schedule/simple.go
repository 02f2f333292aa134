package schedule

import (
	"time"
)

// exactInterval is the zero-width interval Airflow's trivial timetables
// give manual runs (DataInterval.exact).
func exactInterval(t time.Time) DataInterval {
	return DataInterval{Start: t.UTC(), End: t.UTC()}
}

// nullTimetable is Airflow's NullTimetable (schedule=None): runs are only
// ever triggered from outside.
type nullTimetable struct{}

// NextRun implements Timetable: there never is one.
func (nullTimetable) NextRun(*DataInterval, Restriction, time.Time) (RunInfo, bool) {
	return RunInfo{}, false
}

// ManualInterval is the zero-width interval at runAfter.
func (nullTimetable) ManualInterval(runAfter time.Time) DataInterval { return exactInterval(runAfter) }

// Description implements Timetable.
func (nullTimetable) Description() string { return "Never, external triggers only" }

// Periodic implements Timetable.
func (nullTimetable) Periodic() bool { return false }

// onceTimetable is Airflow's OnceTimetable (@once): a single zero-width run
// at start_date, whatever catchup says.
type onceTimetable struct{}

// NextRun implements Timetable.
func (onceTimetable) NextRun(last *DataInterval, r Restriction, _ time.Time) (RunInfo, bool) {
	if last != nil || r.Earliest == nil {
		// Already ran, or no start_date to run at.
		return RunInfo{}, false
	}
	at := r.Earliest.UTC()
	if r.Latest != nil && at.After(*r.Latest) {
		return RunInfo{}, false
	}
	return RunInfo{RunAfter: at, DataInterval: exactInterval(at)}, true
}

// ManualInterval is the zero-width interval at runAfter.
func (onceTimetable) ManualInterval(runAfter time.Time) DataInterval { return exactInterval(runAfter) }

// Description implements Timetable.
func (onceTimetable) Description() string { return "Once, as soon as possible" }

// Periodic implements Timetable.
func (onceTimetable) Periodic() bool { return false }

// continuousTimetable is Airflow's ContinuousTimetable (@continuous): the
// next run is due at once and covers the time since the last one ended.
// Airflow also limits such DAGs to one active run; that is the
// scheduler's job.
type continuousTimetable struct{}

// NextRun implements Timetable. The first run covers [start_date,
// max(start_date, now)]; later ones [last end, now]. When the last
// interval ends after now (start_date in the future), the next run waits
// for it instead of getting an interval that ends before it starts.
func (continuousTimetable) NextRun(last *DataInterval, r Restriction, now time.Time) (RunInfo, bool) {
	if r.Earliest == nil {
		return RunInfo{}, false
	}
	start := r.Earliest.UTC()
	if last != nil {
		start = last.End.UTC()
	}
	end := later(start, now)
	if r.Latest != nil && end.After(*r.Latest) {
		return RunInfo{}, false
	}
	return RunInfo{RunAfter: end, DataInterval: DataInterval{Start: start, End: end}}, true
}

// ManualInterval is the zero-width interval at runAfter.
func (continuousTimetable) ManualInterval(runAfter time.Time) DataInterval {
	return exactInterval(runAfter)
}

// Description implements Timetable.
func (continuousTimetable) Description() string {
	return "As frequently as possible, but only one run at a time."
}

// Periodic implements Timetable.
func (continuousTimetable) Periodic() bool { return false }
