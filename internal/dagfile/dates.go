package dagfile

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// date is a parsed start_date or end_date.
type date struct {
	t time.Time
	// zoned says the value carried its own UTC offset, which then decides
	// the DAG's time zone.
	zoned bool
}

var (
	absoluteDate = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|z|[+-]\d{1,2}(?::?\d{2})?)?$`)
	relativePart = regexp.MustCompile(`(?i)^(\d+)\s*(weeks?|days?|hours?|minutes?|mins?|seconds?|secs?)\b[\s,]*`)
)

// parseDate reads a DAG or task date as dag-factory accepts it: a YAML
// date or timestamp, a date string ("2024-01-01", "2024-01-01T06:00:00",
// with or without an offset), a relative string ("2 days", "1 hours")
// meaning that long before today's midnight in loc (dag-factory's
// get_datetime, with Defaults.Now standing for "today"), or a
// {__type__: datetime.datetime, year: ..., ...} object. Values without an
// offset are wall-clock times in loc.
func parseDate(n *yaml.Node, loc *time.Location, now time.Time) (date, error) {
	n = resolve(n)
	if n == nil {
		return date{}, fmt.Errorf("date is empty")
	}
	switch n.Kind {
	case yaml.MappingNode:
		return parseDateObject(n, loc)
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str", "!!timestamp":
			return parseDateString(n.Value, loc, now)
		}
	}
	return date{}, fmt.Errorf("bad date %s: use 2024-01-01, 2024-01-01T06:00:00+00:00 or a relative date such as \"2 days\"", kindName(n))
}

func parseDateString(s string, loc *time.Location, now time.Time) (date, error) {
	s = strings.TrimSpace(s)
	if m := absoluteDate.FindStringSubmatch(s); m != nil {
		return absolute(m, loc)
	}
	if d, ok := relative(s, loc, now); ok {
		return d, nil
	}
	return date{}, fmt.Errorf("bad date %q: use 2024-01-01, 2024-01-01T06:00:00+00:00 or a relative date such as \"2 days\"", s)
}

func absolute(m []string, loc *time.Location) (date, error) {
	num := func(s string) int {
		i, _ := strconv.Atoi(s)
		return i
	}
	y, mo, d := num(m[1]), num(m[2]), num(m[3])
	h, mi, sec := num(m[4]), num(m[5]), num(m[6])
	ns := 0
	if m[7] != "" {
		f, _ := strconv.ParseFloat("0"+m[7], 64)
		ns = int(f*1e9 + 0.5)
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 {
		return date{}, fmt.Errorf("bad date %q: month, day or time out of range", m[0])
	}
	zoned := m[8] != ""
	if zoned {
		off, err := offsetSeconds(m[8])
		if err != nil {
			return date{}, fmt.Errorf("bad date %q: %w", m[0], err)
		}
		loc = time.FixedZone("", off)
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ns, loc)
	if t.Day() != d {
		return date{}, fmt.Errorf("bad date %q: %s has no day %d", m[0], time.Month(mo), d)
	}
	return date{t: t, zoned: zoned}, nil
}

func offsetSeconds(z string) (int, error) {
	if z == "Z" || z == "z" {
		return 0, nil
	}
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	z = strings.ReplaceAll(z[1:], ":", "")
	var h, m int
	switch len(z) {
	case 1, 2:
		h, _ = strconv.Atoi(z)
	case 3, 4:
		h, _ = strconv.Atoi(z[:len(z)-2])
		m, _ = strconv.Atoi(z[len(z)-2:])
	default:
		return 0, fmt.Errorf("bad UTC offset %q", z)
	}
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("bad UTC offset %q", z)
	}
	return sign * (h*3600 + m*60), nil
}

// relative reads dag-factory's relative dates. Like Python's aware
// datetime arithmetic the subtraction is in wall-clock time, so "2 days"
// is midnight two calendar days ago even across a DST change.
func relative(s string, loc *time.Location, now time.Time) (date, bool) {
	rest := strings.TrimSpace(s)
	rest = strings.TrimSpace(strings.TrimSuffix(strings.ToLower(rest), "ago"))
	if rest == "" {
		return date{}, false
	}
	var days, hours, mins, secs int
	for rest != "" {
		m := relativePart.FindStringSubmatch(rest)
		if m == nil {
			return date{}, false
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 100000 {
			return date{}, false
		}
		switch u := strings.ToLower(m[2]); {
		case strings.HasPrefix(u, "w"):
			days += 7 * n
		case strings.HasPrefix(u, "d"):
			days += n
		case strings.HasPrefix(u, "h"):
			hours += n
		case strings.HasPrefix(u, "m"):
			mins += n
		default:
			secs += n
		}
		rest = rest[len(m[0]):]
	}
	today := now.In(loc)
	t := time.Date(today.Year(), today.Month(), today.Day()-days, -hours, -mins, -secs, 0, loc)
	return date{t: t}, true
}

// parseDateObject reads dag-factory's generalized object form of a date:
// {__type__: datetime.datetime, year: 2024, month: 1, day: 1} or with
// positional __args__.
func parseDateObject(n *yaml.Node, loc *time.Location) (date, error) {
	m, _ := value(n).(map[string]any)
	typ, _ := m["__type__"].(string)
	switch typ {
	case "datetime.datetime", "datetime.date", "pendulum.datetime", "pendulum.DateTime":
	default:
		return date{}, fmt.Errorf("bad date mapping: want __type__: datetime.datetime with year, month and day")
	}
	parts := map[string]int{"month": 1, "day": 1}
	names := []string{"year", "month", "day", "hour", "minute", "second", "microsecond"}
	if args, ok := m["__args__"]; ok {
		list, ok := args.([]any)
		if !ok || len(list) > len(names) {
			return date{}, fmt.Errorf("bad date: __args__ must be a list of up to 7 numbers (year, month, day, hour, minute, second, microsecond)")
		}
		for i, x := range list {
			v, ok := x.(int)
			if !ok {
				return date{}, fmt.Errorf("bad date: __args__ must be numbers, got %v", x)
			}
			parts[names[i]] = v
		}
	}
	for k, x := range m {
		switch k {
		case "__type__", "__args__":
			continue
		case "tz", "tzinfo":
			name, ok := x.(string)
			if !ok {
				return date{}, fmt.Errorf("bad date: %s must be a time zone name such as Europe/Paris", k)
			}
			l, err := time.LoadLocation(name)
			if err != nil {
				return date{}, fmt.Errorf("bad date: unknown time zone %q", name)
			}
			loc = l
			continue
		}
		if !contains(names, k) {
			return date{}, fmt.Errorf("bad date: unknown key %q: use year, month, day, hour, minute, second, microsecond", k)
		}
		v, ok := x.(int)
		if !ok {
			return date{}, fmt.Errorf("bad date: %s must be a number, got %v", k, x)
		}
		parts[k] = v
	}
	if _, ok := parts["year"]; !ok {
		return date{}, fmt.Errorf("bad date: year is required")
	}
	t := time.Date(parts["year"], time.Month(parts["month"]), parts["day"], parts["hour"], parts["minute"], parts["second"], parts["microsecond"]*1000, loc)
	if int(t.Month()) != parts["month"] || t.Day() != parts["day"] {
		return date{}, fmt.Errorf("bad date: %d-%d-%d does not exist", parts["year"], parts["month"], parts["day"])
	}
	return date{t: t}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// zoneFor names the IANA zone of a date written with a UTC offset: the
// first candidate zone with that offset at that instant (so
// "+01:00" with timezone Europe/Paris stays Europe/Paris), else UTC or
// Etc/GMT±N for whole hours. Other offsets have no IANA name.
func zoneFor(t time.Time, candidates ...*time.Location) (*time.Location, error) {
	_, off := t.Zone()
	for _, c := range candidates {
		if c == nil {
			continue
		}
		if _, o := t.In(c).Zone(); o == off {
			return c, nil
		}
	}
	if off == 0 {
		return time.UTC, nil
	}
	if off%3600 == 0 {
		// POSIX-style names invert the sign: Etc/GMT-2 is UTC+2.
		name := fmt.Sprintf("Etc/GMT%+d", -off/3600)
		if l, err := time.LoadLocation(name); err == nil {
			return l, nil
		}
	}
	return nil, fmt.Errorf("UTC offset %s has no IANA time zone name: write the date without an offset and set timezone (e.g. Asia/Kolkata) in default_args", t.Format("-07:00"))
}
