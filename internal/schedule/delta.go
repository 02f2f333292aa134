package schedule

import (
	"fmt"
	"strings"
	"time"
)

// deltaTimetable is Airflow's DeltaDataIntervalTimetable for a timedelta:
// intervals of a fixed length anchored at start_date. Lengths are absolute
// (Airflow adds the timedelta in UTC), so a day is always 24 hours.
type deltaTimetable struct {
	delta time.Duration
}

func (d deltaTimetable) next(t time.Time) time.Time      { return t.Add(d.delta).UTC() }
func (d deltaTimetable) prev(t time.Time) time.Time      { return t.Add(-d.delta).UTC() }
func (d deltaTimetable) alignNext(t time.Time) time.Time { return t.UTC() }
func (d deltaTimetable) alignPrev(t time.Time) time.Time { return t.UTC() }

// skipToLatest follows Airflow 2.10 (since 2.8): now is rounded down to a
// multiple of the delta counted from the Unix epoch, and the interval
// ending there is the first one, but not before start_date. So without
// catchup the series is anchored at the epoch, not at start_date.
func (d deltaTimetable) skipToLatest(earliest *time.Time, now time.Time) time.Time {
	ns, step := now.UnixNano(), int64(d.delta)
	off := ns % step
	if off < 0 {
		off += step
	}
	start := d.prev(time.Unix(0, ns-off))
	if earliest == nil {
		return start
	}
	return later(start, *earliest)
}

// NextRun implements Timetable.
func (d deltaTimetable) NextRun(last *DataInterval, r Restriction, now time.Time) (RunInfo, bool) {
	return nextDataInterval(d, last, r, now)
}

// ManualInterval is [runAfter - delta, runAfter).
func (d deltaTimetable) ManualInterval(runAfter time.Time) DataInterval {
	return DataInterval{Start: d.prev(runAfter), End: runAfter.UTC()}
}

// Description implements Timetable. Airflow leaves it empty for a
// timedelta; a phrase such as "every 30 minutes" serves the UI better.
func (d deltaTimetable) Description() string { return "every " + describeDuration(d.delta) }

// Periodic implements Timetable.
func (deltaTimetable) Periodic() bool { return true }

// describeDuration spells d as "30 minutes", "day", "1 day, 2 hours".
func describeDuration(d time.Duration) string {
	units := []struct {
		name string
		size time.Duration
	}{
		{"day", 24 * time.Hour}, {"hour", time.Hour}, {"minute", time.Minute}, {"second", time.Second},
	}
	var parts []string
	rest := d
	for _, u := range units {
		n := rest / u.size
		if n == 0 {
			continue
		}
		rest -= n * u.size
		if n == 1 {
			parts = append(parts, "1 "+u.name)
		} else {
			parts = append(parts, fmt.Sprintf("%d %ss", n, u.name))
		}
	}
	if rest != 0 || len(parts) == 0 {
		return d.String()
	}
	if len(parts) == 1 && strings.HasPrefix(parts[0], "1 ") {
		return strings.TrimPrefix(parts[0], "1 ")
	}
	return strings.Join(parts, ", ")
}
