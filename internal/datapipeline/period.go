package datapipeline

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Period is a Data Pipeline period ("15 minutes", "1 Day", "3 months").
// Months and years are calendar units, so a Period is kept as a count and
// a unit rather than a time.Duration.
type Period struct {
	N    int
	Unit string // minute, hour, day, week, month, year
}

var periodPattern = regexp.MustCompile(`(?i)^\s*(\d+)\s*(minute|min|hour|day|week|month|year)s?\s*$`)

// ParsePeriod reads "N unit" in any of the spellings definitions use.
func ParsePeriod(s string) (Period, error) {
	m := periodPattern.FindStringSubmatch(s)
	if m == nil {
		return Period{}, fmt.Errorf("bad period %q: want \"N minutes|hours|days|weeks|months|years\"", s)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return Period{}, fmt.Errorf("bad period %q: the count must be a positive integer", s)
	}
	unit := strings.ToLower(m[2])
	if unit == "min" {
		unit = "minute"
	}
	return Period{N: n, Unit: unit}, nil
}

// Calendar says the period needs calendar arithmetic (months, years).
func (p Period) Calendar() bool { return p.Unit == "month" || p.Unit == "year" }

// Duration is the period's length; for months and years it is only an
// approximation (30 and 365 days), used for comparisons.
func (p Period) Duration() time.Duration {
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour,
		"week": 7 * 24 * time.Hour, "month": 30 * 24 * time.Hour, "year": 365 * 24 * time.Hour}[p.Unit]
	return time.Duration(p.N) * unit
}

// AddTo returns t moved by k periods.
func (p Period) AddTo(t time.Time, k int) time.Time {
	switch p.Unit {
	case "month":
		return t.AddDate(0, p.N*k, 0)
	case "year":
		return t.AddDate(p.N*k, 0, 0)
	}
	return t.Add(time.Duration(k) * p.Duration())
}

// Pendulum is the keyword arguments of pendulum's add/subtract for one
// period ("days=1").
func (p Period) Pendulum() string { return fmt.Sprintf("%ss=%d", p.Unit, p.N) }

func (p Period) String() string {
	if p.N == 1 {
		return "1 " + p.Unit
	}
	return fmt.Sprintf("%d %ss", p.N, p.Unit)
}

// parseDateTime reads Data Pipeline's UTC date-time, YYYY-MM-DDTHH:MM:SS
// (a missing time or seconds is tolerated).
func parseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02", "2006-01-02T15:04:05Z"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date-time %q: want YYYY-MM-DDTHH:MM:SS in UTC", s)
}
