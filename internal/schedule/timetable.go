package schedule

import (
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// DataInterval is the span of data a DAG run covers, [Start, End). Its
// Start is the run's logical date.
type DataInterval struct {
	Start, End time.Time
}

// RunInfo is Airflow's DagRunInfo: when a run may be created (RunAfter)
// and the interval it covers; the logical date is DataInterval.Start.
type RunInfo struct {
	RunAfter     time.Time
	DataInterval DataInterval
}

// LogicalDate is the run's logical date (execution_date).
func (ri RunInfo) LogicalDate() time.Time { return ri.DataInterval.Start }

// Restriction is Airflow's TimeRestriction: Earliest is the DAG's
// start_date, Latest its end_date (nil for none), Catchup its catchup flag.
type Restriction struct {
	Earliest, Latest *time.Time
	Catchup          bool
}

// Timetable decides when a DAG's automated runs happen. Implementations
// are pure: the current time is always an argument. All returned times
// are in UTC.
type Timetable interface {
	// NextRun returns the next run to create after the last automated
	// run's interval (nil when there has been none), or ok=false when there
	// is none (end_date passed, @once done, manual-only). A RunAfter later
	// than now means "not yet": the caller creates the run once now reaches
	// it.
	NextRun(last *DataInterval, r Restriction, now time.Time) (info RunInfo, ok bool)
	// ManualInterval is Airflow's infer_manual_data_interval: the interval
	// of a run triggered by hand at runAfter.
	ManualInterval(runAfter time.Time) DataInterval
	// Description is a short human description for the UI and the API's
	// timetable_description.
	Description() string
	// Periodic reports whether the timetable produces a regular series of
	// intervals (cron and timedelta), which catchup and backfill walk.
	Periodic() bool
}

// New returns the timetable for s. loc is the DAG's time zone (start_date's
// zone or [core] default_timezone); cron expressions are evaluated in it.
// A nil loc means UTC.
func New(s windsock.Schedule, loc *time.Location) (Timetable, error) {
	if loc == nil {
		loc = time.UTC
	}
	switch s.Kind {
	case windsock.ScheduleNone, windsock.ScheduleDatasets, "":
		// Dataset-triggered runs are created from dataset events, never
		// from the clock.
		return nullTimetable{}, nil
	case windsock.ScheduleOnce:
		return onceTimetable{}, nil
	case windsock.ScheduleContinuous:
		return continuousTimetable{}, nil
	case windsock.ScheduleCron:
		tt, err := newCronTimetable(s.Cron, loc)
		if err != nil {
			return nil, fmt.Errorf("new timetable: %w", err)
		}
		return tt, nil
	case windsock.ScheduleInterval:
		d := time.Duration(s.Interval)
		if d <= 0 {
			return nil, fmt.Errorf("new timetable: schedule interval must be positive, got %s", d)
		}
		return deltaTimetable{delta: d}, nil
	}
	return nil, fmt.Errorf("new timetable: unknown schedule kind %q", s.Kind)
}

// Between lists the runs whose logical dates fall in [start, end], in
// order: Airflow's iter_dagrun_infos_between with align=True, which
// backfill uses. It ignores catchup and now, and returns nil for
// timetables that are not periodic except @once, which yields its single
// run at start when that lies in the range.
func Between(tt Timetable, start, end time.Time) []RunInfo {
	if _, ok := tt.(continuousTimetable); ok {
		// Airflow would ask the clock for each interval end and never stop;
		// a continuous DAG has nothing to backfill.
		return nil
	}
	r := Restriction{Earliest: &start, Latest: &end, Catchup: true}
	var out []RunInfo
	var last *DataInterval
	for {
		// now is unused when catchup is on, so any value will do.
		info, ok := tt.NextRun(last, r, end)
		if !ok || info.DataInterval.Start.After(end) {
			return out
		}
		out = append(out, info)
		if !tt.Periodic() {
			return out
		}
		di := info.DataInterval
		last = &di
	}
}
