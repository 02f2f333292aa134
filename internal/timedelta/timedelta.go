// Package timedelta reads the durations DAG files and configs use for
// Airflow's timedelta arguments: plain seconds (300), Go-style strings
// ("5m", "1h30m"), Airflow/dag-factory day strings ("1 day", "2 days"),
// clock strings ("01:30:00"), and mappings of timedelta keywords
// ({"days": 1, "hours": 2}, optionally with dag-factory's
// "__type__: datetime.timedelta").
package timedelta

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Parse converts a decoded YAML/JSON value into a duration. Negative
// durations are rejected: Airflow has no use for them in arguments.
func Parse(v any) (time.Duration, error) {
	d, err := parse(v)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %v is negative", v)
	}
	return d, nil
}

func parse(v any) (time.Duration, error) {
	switch x := v.(type) {
	case int:
		return seconds(float64(x))
	case int64:
		return seconds(float64(x))
	case uint64:
		return seconds(float64(x))
	case float64:
		return seconds(x)
	case string:
		return parseString(x)
	case map[string]any:
		return parseMap(x)
	case nil:
		return 0, fmt.Errorf("duration is empty")
	}
	return 0, fmt.Errorf("duration must be seconds, a string such as \"5m\", or a mapping such as {days: 1}; got %T", v)
}

func seconds(s float64) (time.Duration, error) {
	if math.IsNaN(s) || math.IsInf(s, 0) || math.Abs(s) > float64(math.MaxInt64/int64(time.Second)) {
		return 0, fmt.Errorf("duration %v seconds is out of range", s)
	}
	return time.Duration(s * float64(time.Second)), nil
}

var (
	dayString   = regexp.MustCompile(`^(-?\d+(?:\.\d+)?)\s*(seconds?|secs?|minutes?|mins?|hours?|days?|weeks?)$`)
	clockString = regexp.MustCompile(`^(?:(\d+) days?,\s*)?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$`)
)

func parseString(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("duration is empty")
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return seconds(f)
	}
	if m := dayString.FindStringSubmatch(strings.ToLower(s)); m != nil {
		n, _ := strconv.ParseFloat(m[1], 64)
		return seconds(n * unitSeconds(m[2]))
	}
	if m := clockString.FindStringSubmatch(s); m != nil {
		days, _ := strconv.Atoi(m[1] + "0")
		h, _ := strconv.Atoi(m[2])
		mi, _ := strconv.Atoi(m[3])
		sec, _ := strconv.ParseFloat(m[4], 64)
		return seconds(float64(days/10)*86400 + float64(h)*3600 + float64(mi)*60 + sec)
	}
	if d, err := parseGoStyle(s); err == nil {
		return d, nil
	}
	return 0, fmt.Errorf("bad duration %q: use seconds (300), a unit string (\"5m\", \"1h30m\", \"2d\", \"1 day\") or a mapping ({days: 1})", s)
}

// parseGoStyle accepts time.ParseDuration's units plus d (days) and w
// (weeks), which time.ParseDuration lacks.
func parseGoStyle(s string) (time.Duration, error) {
	var total time.Duration
	rest := s
	for rest != "" {
		i := strings.IndexAny(rest, "dw")
		if i < 0 {
			d, err := time.ParseDuration(rest)
			if err != nil {
				return 0, err
			}
			return total + d, nil
		}
		// Only treat d/w as a unit when preceded by a number.
		j := i
		for j > 0 && (rest[j-1] >= '0' && rest[j-1] <= '9' || rest[j-1] == '.') {
			j--
		}
		if j == i {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		if j > 0 {
			d, err := time.ParseDuration(rest[:j])
			if err != nil {
				return 0, err
			}
			total += d
		}
		n, err := strconv.ParseFloat(rest[j:i], 64)
		if err != nil {
			return 0, err
		}
		unit := 86400.0
		if rest[i] == 'w' {
			unit = 7 * 86400
		}
		d, err := seconds(n * unit)
		if err != nil {
			return 0, err
		}
		total += d
		rest = rest[i+1:]
	}
	return total, nil
}

func unitSeconds(u string) float64 {
	switch {
	case strings.HasPrefix(u, "sec"):
		return 1
	case strings.HasPrefix(u, "min"):
		return 60
	case strings.HasPrefix(u, "hour"):
		return 3600
	case strings.HasPrefix(u, "day"):
		return 86400
	}
	return 7 * 86400 // weeks
}

var mapUnits = map[string]float64{
	"weeks": 7 * 86400, "days": 86400, "hours": 3600, "minutes": 60,
	"seconds": 1, "milliseconds": 1e-3, "microseconds": 1e-6,
}

func parseMap(m map[string]any) (time.Duration, error) {
	var total float64
	if len(m) == 0 {
		return 0, fmt.Errorf("duration mapping is empty: use keys such as days, hours, minutes, seconds")
	}
	for k, v := range m {
		if k == "__type__" {
			if t, _ := v.(string); t != "datetime.timedelta" && t != "timedelta" {
				return 0, fmt.Errorf("duration mapping has __type__ %v; want datetime.timedelta", v)
			}
			continue
		}
		unit, ok := mapUnits[k]
		if !ok {
			return 0, fmt.Errorf("unknown duration key %q: use weeks, days, hours, minutes, seconds, milliseconds or microseconds", k)
		}
		var n float64
		switch x := v.(type) {
		case int:
			n = float64(x)
		case int64:
			n = float64(x)
		case uint64:
			n = float64(x)
		case float64:
			n = x
		default:
			return 0, fmt.Errorf("duration key %q must be a number, got %v", k, v)
		}
		total += n * unit
	}
	return seconds(total)
}
