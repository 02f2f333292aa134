package template

import (
	"testing"
	"time"
)

func TestStrftime(t *testing.T) {
	t.Parallel()
	// A Sunday, with microseconds, in a zone west of UTC.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 3, 14, 5, 9, 123456000, ny)
	tests := []struct{ format, want string }{
		{"%Y-%m-%d", "2024-03-03"},
		{"%Y%m%dT%H%M%S", "20240303T140509"},
		{"%y %b %B %a %A", "24 Mar March Sun Sunday"},
		{"%I:%M %p", "02:05 PM"},
		{"%-d/%-m/%Y %-H", "3/3/2024 14"},
		{"%e|%j|%w|%u", " 3|063|0|7"},
		{"%U %W %V %G", "09 09 09 2024"},
		{"%f", "123456"},
		{"%z %Z", "-0500 EST"},
		{"%F %T", "2024-03-03 14:05:09"},
		{"100%% %q", "100% %q"},
		{"trailing %", "trailing %"},
	}
	for _, tt := range tests {
		if got := strftime(at, tt.format); got != tt.want {
			t.Errorf("strftime(%q) = %q, want %q", tt.format, got, tt.want)
		}
	}
}

func TestStrptime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s, format string
		want      time.Time
	}{
		{"2024-01-15", "%Y-%m-%d", time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)},
		{"20240115T030405", "%Y%m%dT%H%M%S", time.Date(2024, 1, 15, 3, 4, 5, 0, time.UTC)},
		{"15 Jan 24", "%d %b %y", time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)},
		{"March 3, 2024 2:05 PM", "%B %d, %Y %I:%M %p", time.Date(2024, 3, 3, 14, 5, 0, 0, time.UTC)},
		{"1/2/2024", "%m/%d/%Y", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"2024-01-15 03:00:00.5", "%Y-%m-%d %H:%M:%S.%f", time.Date(2024, 1, 15, 3, 0, 0, 500000000, time.UTC)},
		{"2024-01-15T03:00:00+0530", "%Y-%m-%dT%H:%M:%S%z", time.Date(2024, 1, 14, 21, 30, 0, 0, time.UTC)},
		{"2024-060", "%Y-%j", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := strptime(tt.s, tt.format)
		if err != nil {
			t.Errorf("strptime(%q, %q): %v", tt.s, tt.format, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("strptime(%q, %q) = %v, want %v", tt.s, tt.format, got, tt.want)
		}
	}
	for _, bad := range [][2]string{
		{"2024-13-01", "%Y-%m-%d"},
		{"2023-02-29", "%Y-%m-%d"},
		{"2024-01-15 extra", "%Y-%m-%d"},
		{"15/01/2024", "%Y-%m-%d"},
		{"2024", "%Q"},
	} {
		if got, err := strptime(bad[0], bad[1]); err == nil {
			t.Errorf("strptime(%q, %q) = %v, want an error", bad[0], bad[1], got)
		}
	}
}

func TestTimedeltaString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0:00:00"},
		{90 * time.Minute, "1:30:00"},
		{26 * time.Hour, "1 day, 2:00:00"},
		{3*24*time.Hour + 1500*time.Microsecond, "3 days, 0:00:00.001500"},
		{-time.Hour, "-1 day, 23:00:00"},
	}
	for _, tt := range tests {
		if got := (timedelta{tt.d}).String(); got != tt.want {
			t.Errorf("timedelta(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
