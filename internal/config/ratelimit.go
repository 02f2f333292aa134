package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RateLimit is a number of events per window, as Airflow's
// webserver.auth_rate_limit writes it ("5 per 40 second").
type RateLimit struct {
	Count  int
	Window time.Duration
}

// ParseRateLimit reads a limit in the Flask-Limiter notation Airflow uses:
// "N per [M] unit" or "N/unit", unit one of second, minute, hour, day
// (singular or plural). Only one limit is accepted: Windsock does not
// combine several.
func ParseRateLimit(s string) (RateLimit, error) {
	bad := fmt.Errorf("rate limit %q: want e.g. \"5 per 40 second\"", s)
	count, rest, ok := strings.Cut(strings.TrimSpace(strings.ToLower(s)), "/")
	if !ok {
		count, rest, ok = strings.Cut(count, " per ")
	}
	if !ok {
		return RateLimit{}, bad
	}
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil || n < 1 {
		return RateLimit{}, bad
	}
	fields := strings.Fields(rest)
	multiple := 1
	if len(fields) == 2 {
		if multiple, err = strconv.Atoi(fields[0]); err != nil || multiple < 1 {
			return RateLimit{}, bad
		}
		fields = fields[1:]
	}
	if len(fields) != 1 {
		return RateLimit{}, bad
	}
	units := map[string]time.Duration{"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit, ok := units[strings.TrimSuffix(fields[0], "s")]
	if !ok {
		return RateLimit{}, bad
	}
	return RateLimit{Count: n, Window: time.Duration(multiple) * unit}, nil
}
