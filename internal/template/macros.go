package template

import (
	"crypto/rand"
	"fmt"
	randv2 "math/rand/v2"
	"time"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// newMacros builds Airflow's macros module: ds_add, ds_format and the
// modules it re-exports (datetime, timedelta, time, uuid, random). now is
// the clock macros.time.time() reads; macros.datetime.now() reads the
// system clock (see datetimeClass).
func newMacros(now func() time.Time) *object {
	return &object{
		repr: "<module 'airflow.macros'>",
		attrs: map[string]any{
			"ds_add":    dsAdd,
			"ds_format": dsFormat,
			"datetime":  datetimeClass(newDatetime),
			"timedelta": func(va *exec.VarArgs) (timedelta, error) { return newTimedelta(va) },
			"time": &object{repr: "<module 'time'>", attrs: map[string]any{
				"time": func() float64 { return float64(now().UnixNano()) / 1e9 },
			}},
			"uuid": &object{repr: "<module 'uuid'>", attrs: map[string]any{
				"uuid4": func() string { return rand.Text() },
			}},
			"random": func() float64 { return randv2.Float64() },
		},
	}
}

// dsAdd is macros.ds_add(ds, days): shift a YYYY-MM-DD date by days.
func dsAdd(ds string, days int) (string, error) {
	if days == 0 {
		return ds, nil
	}
	t, err := time.Parse("2006-01-02", ds)
	if err != nil {
		return "", fmt.Errorf("ds_add: %q is not a YYYY-MM-DD date", ds)
	}
	return t.AddDate(0, 0, days).Format("2006-01-02"), nil
}

// dsFormat is macros.ds_format(ds, input_format, output_format).
func dsFormat(ds, inputFormat, outputFormat string) (string, error) {
	t, err := strptime(ds, inputFormat)
	if err != nil {
		return "", fmt.Errorf("ds_format: %w", err)
	}
	return strftime(t, outputFormat), nil
}

// datetimeClass is macros.datetime: callable as the constructor, with the
// class methods now, utcnow, today, strptime and fromisoformat. It is a
// function type because gonja only calls values of function kind; that
// leaves no room for an injected clock, so now() reads the system clock,
// as in Airflow.
type datetimeClass func(va *exec.VarArgs) (DateTime, error)

// String is how Python prints the class.
func (datetimeClass) String() string { return "<class 'datetime.datetime'>" }

// GetAttribute returns the class methods. They are callables because
// gonja calls attribute values that are functions.
func (c datetimeClass) GetAttribute(name string) (*exec.Value, bool) {
	naive := func(t time.Time) DateTime { return DateTime{t: t, naive: true, stdlib: true} }
	var v any
	switch name {
	case "now", "today":
		v = func() DateTime { return naive(time.Now()) }
	case "utcnow":
		v = func() DateTime { return naive(time.Now().UTC()) }
	case "strptime":
		v = func(s, format string) (DateTime, error) {
			t, err := strptime(s, format)
			if err != nil {
				return DateTime{}, err
			}
			d := naive(t)
			d.naive = t.Location() == time.UTC && !containsOffset(format)
			return d, nil
		}
	case "fromisoformat":
		v = func(s string) (DateTime, error) {
			for _, layout := range []string{"2006-01-02T15:04:05.999999-07:00", "2006-01-02 15:04:05.999999-07:00"} {
				if t, err := time.Parse(layout, s); err == nil {
					return DateTime{t: t, stdlib: true}, nil
				}
			}
			for _, layout := range []string{"2006-01-02T15:04:05.999999", "2006-01-02 15:04:05.999999", "2006-01-02"} {
				if t, err := time.Parse(layout, s); err == nil {
					return naive(t), nil
				}
			}
			return DateTime{}, fmt.Errorf("invalid isoformat string: %q", s)
		}
	default:
		return exec.AsValue(nil), false
	}
	return exec.AsValue(v), true
}

// newDatetime is the constructor datetime(year, month, day, hour=0,
// minute=0, second=0, microsecond=0).
func newDatetime(va *exec.VarArgs) (DateTime, error) {
	names := []string{"year", "month", "day", "hour", "minute", "second", "microsecond"}
	f := map[string]int{}
	for i, n := range names {
		switch {
		case i < len(va.Args):
			f[n] = va.Args[i].Integer()
		case va.KwArgs[n] != nil:
			f[n] = va.KwArgs[n].Integer()
		case i < 3:
			return DateTime{}, fmt.Errorf("datetime: missing argument %q", n)
		}
	}
	return DateTime{t: time.Date(f["year"], time.Month(f["month"]), f["day"], f["hour"], f["minute"],
		f["second"], f["microsecond"]*1000, time.UTC), naive: true, stdlib: true}, nil
}

func containsOffset(format string) bool {
	for i := 0; i+1 < len(format); i++ {
		if format[i] == '%' && format[i+1] == 'z' {
			return true
		}
	}
	return false
}
