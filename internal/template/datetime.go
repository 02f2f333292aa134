package template

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// DateTime is a date-time as templates see it: Airflow's pendulum.DateTime
// for context values (logical_date, data_interval_start, ...) and Python's
// datetime for what macros.datetime builds. It prints as Python does and
// has the attributes and methods DAG files commonly use (year, strftime,
// isoformat, add, subtract, in_timezone, ...).
type DateTime struct {
	t time.Time
	// naive means no time zone: isoformat has no offset (datetime(2024, 1, 1)).
	naive bool
	// stdlib means a Python datetime rather than a pendulum DateTime: str()
	// separates date and time with a space, pendulum with "T".
	stdlib bool
	// dateOnly means a Python date (what .date() returns).
	dateOnly bool
}

// contextDate wraps t as Airflow puts dates in the context: pendulum, UTC.
func contextDate(t time.Time) DateTime { return DateTime{t: t.UTC()} }

// optionalDate returns nil for a nil time, as Airflow puts None in the context.
func optionalDate(t *time.Time) any {
	if t == nil {
		return nil
	}
	return contextDate(*t)
}

// Time returns the instant d stands for.
func (d DateTime) Time() time.Time { return d.t }

// String is Python's str(): isoformat, with a space for stdlib datetimes.
func (d DateTime) String() string {
	if d.stdlib && !d.dateOnly {
		return d.isoformat(" ")
	}
	return d.isoformat("T")
}

// MarshalJSON writes the isoformat string, what Airflow's JSON serializer
// writes for dates.
func (d DateTime) MarshalJSON() ([]byte, error) { return json.Marshal(d.isoformat("T")) }

func (d DateTime) isoformat(sep string) string {
	if d.dateOnly {
		return d.t.Format("2006-01-02")
	}
	layout := "2006-01-02" + sep + "15:04:05"
	if d.t.Nanosecond()/1000 != 0 {
		layout += ".000000"
	}
	if !d.naive {
		layout += "-07:00"
	}
	return d.t.Format(layout)
}

// GetAttribute gives templates the Python attributes and methods.
func (d DateTime) GetAttribute(name string) (*exec.Value, bool) {
	t := d.t
	var v any
	switch name {
	case "year":
		v = t.Year()
	case "month":
		v = int(t.Month())
	case "day":
		v = t.Day()
	case "hour":
		v = t.Hour()
	case "minute":
		v = t.Minute()
	case "second":
		v = t.Second()
	case "microsecond":
		v = t.Nanosecond() / 1000
	case "day_of_year":
		v = t.YearDay()
	case "int_timestamp":
		v = t.Unix()
	case "timezone_name", "tzname":
		v = t.Location().String()
	case "isoformat":
		v = func(va *exec.VarArgs) (string, error) {
			sep := "T"
			if len(va.Args) > 0 {
				sep = va.Args[0].String()
			}
			return d.isoformat(sep), nil
		}
	case "strftime":
		v = func(format string) string { return strftime(t, format) }
	case "timestamp":
		v = func() float64 { return float64(t.UnixNano()) / 1e9 }
	case "weekday":
		v = func() int { return (int(t.Weekday()) + 6) % 7 }
	case "isoweekday":
		v = func() int { return (int(t.Weekday())+6)%7 + 1 }
	case "date":
		v = func() DateTime { return DateTime{t: t, naive: true, stdlib: true, dateOnly: true} }
	case "to_date_string":
		v = func() string { return t.Format("2006-01-02") }
	case "to_datetime_string":
		v = func() string { return t.Format("2006-01-02 15:04:05") }
	case "to_iso8601_string":
		v = func() string { return d.isoformat("T") }
	case "add":
		v = func(va *exec.VarArgs) (DateTime, error) { return d.shift(va, 1) }
	case "subtract":
		v = func(va *exec.VarArgs) (DateTime, error) { return d.shift(va, -1) }
	case "replace":
		v = d.replace
	case "in_timezone", "in_tz", "astimezone":
		v = func(tz string) (DateTime, error) {
			loc, err := time.LoadLocation(tz)
			if err != nil {
				return DateTime{}, fmt.Errorf("unknown time zone %q", tz)
			}
			out := d
			out.t, out.naive = t.In(loc), false
			return out, nil
		}
	case "start_of":
		v = func(unit string) (DateTime, error) { return d.truncate(unit, false) }
	case "end_of":
		v = func(unit string) (DateTime, error) { return d.truncate(unit, true) }
	default:
		return exec.AsValue(nil), false
	}
	return exec.AsValue(v), true
}

// shift is pendulum's add/subtract: calendar units first, then exact ones.
func (d DateTime) shift(va *exec.VarArgs, sign int) (DateTime, error) {
	n := map[string]int{}
	for k, v := range va.KwArgs {
		switch k {
		case "years", "months", "weeks", "days", "hours", "minutes", "seconds", "microseconds":
			n[k] = v.Integer() * sign
		default:
			return DateTime{}, fmt.Errorf("unexpected keyword argument %q", k)
		}
	}
	out := d
	out.t = d.t.AddDate(n["years"], n["months"], n["weeks"]*7+n["days"])
	return out.plus(time.Duration(n["hours"])*time.Hour + time.Duration(n["minutes"])*time.Minute +
		time.Duration(n["seconds"])*time.Second + time.Duration(n["microseconds"])*time.Microsecond), nil
}

// plus returns d moved by an exact duration.
func (d DateTime) plus(delta time.Duration) DateTime {
	d.t = d.t.Add(delta)
	return d
}

func (d DateTime) replace(va *exec.VarArgs) (DateTime, error) {
	t := d.t
	f := map[string]int{"year": t.Year(), "month": int(t.Month()), "day": t.Day(), "hour": t.Hour(),
		"minute": t.Minute(), "second": t.Second(), "microsecond": t.Nanosecond() / 1000}
	for k, v := range va.KwArgs {
		if _, ok := f[k]; !ok {
			return DateTime{}, fmt.Errorf("replace: unexpected keyword argument %q", k)
		}
		f[k] = v.Integer()
	}
	out := d
	out.t = time.Date(f["year"], time.Month(f["month"]), f["day"], f["hour"], f["minute"], f["second"],
		f["microsecond"]*1000, t.Location())
	return out, nil
}

// truncate is pendulum's start_of / end_of.
func (d DateTime) truncate(unit string, end bool) (DateTime, error) {
	t := d.t
	y, mo, dd := t.Date()
	var start, next time.Time
	switch unit {
	case "minute":
		start = t.Truncate(time.Minute)
		next = start.Add(time.Minute)
	case "hour":
		start = time.Date(y, mo, dd, t.Hour(), 0, 0, 0, t.Location())
		next = start.Add(time.Hour)
	case "day":
		start = time.Date(y, mo, dd, 0, 0, 0, 0, t.Location())
		next = start.AddDate(0, 0, 1)
	case "week":
		start = time.Date(y, mo, dd-(int(t.Weekday())+6)%7, 0, 0, 0, 0, t.Location())
		next = start.AddDate(0, 0, 7)
	case "month":
		start = time.Date(y, mo, 1, 0, 0, 0, 0, t.Location())
		next = start.AddDate(0, 1, 0)
	case "year":
		start = time.Date(y, 1, 1, 0, 0, 0, 0, t.Location())
		next = start.AddDate(1, 0, 0)
	default:
		return DateTime{}, fmt.Errorf("unknown unit %q", unit)
	}
	out := d
	out.t = start
	if end {
		out.t = next.Add(-time.Microsecond)
	}
	return out, nil
}

// timedelta is Python's datetime.timedelta, as macros.timedelta builds it.
// It is a struct so that gonja never mistakes it for a number.
type timedelta struct{ d time.Duration }

// String is Python's str(timedelta): "1 day, 2:03:04".
func (td timedelta) String() string {
	d := td.d
	days := int64(d / (24 * time.Hour))
	rest := d - time.Duration(days)*24*time.Hour
	if rest < 0 {
		days--
		rest += 24 * time.Hour
	}
	secs := int64(rest / time.Second)
	clock := fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	if us := int64(rest%time.Second) / 1000; us != 0 {
		clock += fmt.Sprintf(".%06d", us)
	}
	switch days {
	case 0:
		return clock
	case 1, -1:
		return strconv.FormatInt(days, 10) + " day, " + clock
	}
	return strconv.FormatInt(days, 10) + " days, " + clock
}

// MarshalJSON writes the number of seconds.
func (td timedelta) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(td.d.Seconds(), 'f', -1, 64)), nil
}

// GetAttribute gives templates days, seconds and total_seconds().
func (td timedelta) GetAttribute(name string) (*exec.Value, bool) {
	d := td.d
	days := int64(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	rest := d - time.Duration(days)*24*time.Hour
	switch name {
	case "days":
		return exec.AsValue(days), true
	case "seconds":
		return exec.AsValue(int64(rest / time.Second)), true
	case "microseconds":
		return exec.AsValue(int64(rest%time.Second) / 1000), true
	case "total_seconds":
		return exec.AsValue(func() float64 { return d.Seconds() }), true
	}
	return exec.AsValue(nil), false
}

// newTimedelta is macros.timedelta(days=0, seconds=0, microseconds=0,
// milliseconds=0, minutes=0, hours=0, weeks=0), positional or keyword.
func newTimedelta(va *exec.VarArgs) (timedelta, error) {
	units := []struct {
		name string
		unit time.Duration
	}{
		{"days", 24 * time.Hour}, {"seconds", time.Second}, {"microseconds", time.Microsecond},
		{"milliseconds", time.Millisecond}, {"minutes", time.Minute}, {"hours", time.Hour},
		{"weeks", 7 * 24 * time.Hour},
	}
	if len(va.Args) > len(units) {
		return timedelta{}, fmt.Errorf("timedelta takes at most %d arguments", len(units))
	}
	var total float64
	for i, u := range units {
		var v *exec.Value
		if i < len(va.Args) {
			v = va.Args[i]
		} else if kw, ok := va.KwArgs[u.name]; ok {
			v = kw
		} else {
			continue
		}
		if !v.IsNumber() {
			return timedelta{}, fmt.Errorf("timedelta: %s must be a number, got %s", u.name, v.String())
		}
		total += v.Float() * float64(u.unit)
	}
	for k := range va.KwArgs {
		known := false
		for _, u := range units {
			known = known || u.name == k
		}
		if !known {
			return timedelta{}, fmt.Errorf("timedelta: unexpected keyword argument %q", k)
		}
	}
	return timedelta{time.Duration(total)}, nil
}
