package cli

import (
	"strings"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// parseDate reads a date or date-time the way Airflow's CLI accepts them:
// "2024-01-01", "2024-01-01T03:00:00", with or without an offset or "Z".
// Times without an offset are in loc.
func parseDate(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	layouts := []string{
		time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700", "2006-01-02 15:04:05.999999999Z07:00",
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	local := []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}
	for _, l := range local {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, windsock.Errorf(windsock.EINVALID, "bad date %q: use YYYY-MM-DD or an ISO 8601 date-time such as 2024-01-01T03:00:00+00:00", s)
}

// dagLocation is the time zone a DAG's naive dates are read in.
func dagLocation(d *windsock.DAG) *time.Location {
	if d.Timezone != "" {
		if l, err := time.LoadLocation(d.Timezone); err == nil {
			return l
		}
	}
	return time.UTC
}

func isoOrEmpty(t *time.Time) string {
	if t == nil {
		return ""
	}
	return windsock.ISOFormat(*t)
}
