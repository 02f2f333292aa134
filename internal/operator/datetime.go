package operator

import (
	"fmt"
	"strings"
	"time"
)

// dateTimeLayouts are the ISO 8601 forms ParseDateTime accepts; time.Parse
// also accepts fractional seconds after the seconds of any of them.
var dateTimeLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// ParseDateTime parses an ISO 8601 date-time as pendulum.parse does for
// the common forms; a value without offset is UTC.
func ParseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date-time %q: use ISO 8601, such as 2024-05-01T12:00:00+00:00", s)
}
