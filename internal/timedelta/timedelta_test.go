package timedelta

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   any
		want time.Duration
	}{
		{300, 5 * time.Minute},
		{int64(60), time.Minute},
		{1.5, 1500 * time.Millisecond},
		{"300", 5 * time.Minute},
		{"5m", 5 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"2d", 48 * time.Hour},
		{"1w2d3h", (9*24 + 3) * time.Hour},
		{"1 day", 24 * time.Hour},
		{"2 days", 48 * time.Hour},
		{"30 minutes", 30 * time.Minute},
		{"01:30:00", 90 * time.Minute},
		{"1 day, 0:00:10", 24*time.Hour + 10*time.Second},
		{map[string]any{"days": 1, "hours": 2}, 26 * time.Hour},
		{map[string]any{"__type__": "datetime.timedelta", "seconds": 90}, 90 * time.Second},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%#v): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("Parse(%#v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []any{"", "five minutes", "5x", -3, "-1h", map[string]any{"fortnights": 1}, map[string]any{}, []any{1}, nil, "d"} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%#v) = %v, want error", in, got)
		}
	}
}
