package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]RateLimit{
		"5 per 40 second":  {5, 40 * time.Second},
		"5 per 40 seconds": {5, 40 * time.Second},
		"10 per minute":    {10, time.Minute},
		"3/hour":           {3, time.Hour},
		" 2 PER 1 day ":    {2, 24 * time.Hour},
	} {
		got, err := ParseRateLimit(in)
		if err != nil || got != want {
			t.Errorf("ParseRateLimit(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "5", "0 per second", "-1 per second", "5 per 0 second", "5 per fortnight",
		"five per second", "5 per 40 second; 10 per hour", "5 per 1 2 second"} {
		if got, err := ParseRateLimit(in); err == nil {
			t.Errorf("ParseRateLimit(%q) = %+v, want an error", in, got)
		}
	}
	c := Default("")
	c.Webserver.AuthRateLimit = "lots"
	c.Webserver.SessionLifetimeMinutes = 0
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad auth_rate_limit and session lifetime")
	}
	for _, name := range []string{"webserver.auth_rate_limit", "webserver.session_lifetime_minutes"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("Validate error %q does not name %s", err, name)
		}
	}
}
