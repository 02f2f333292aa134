package decide

import (
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	jan1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// Expected values come from Airflow 2.10's formula evaluated by hand
	// (Python's hashlib on "etl#load#2024-01-01 00:00:00+00:00#<try>"):
	// base = ceil(300 * 2^(try-1)), delay = base + sha1 % base.
	tests := []struct {
		name     string
		delay    time.Duration
		backoff  bool
		maxDelay time.Duration
		date     time.Time
		try      int
		want     time.Duration
	}{
		{"no backoff", 300 * time.Second, false, 0, jan1, 1, 300 * time.Second},
		{"no backoff ignores max_retry_delay", 300 * time.Second, false, 60 * time.Second, jan1, 3, 300 * time.Second},
		{"no backoff, zero delay", 0, false, 0, jan1, 1, 0},
		{"backoff try 1", 300 * time.Second, true, 0, jan1, 1, 322 * time.Second},
		{"backoff try 2", 300 * time.Second, true, 0, jan1, 2, 1175 * time.Second},
		{"backoff try 3", 300 * time.Second, true, 0, jan1, 3, 1753 * time.Second},
		{"backoff try 4", 300 * time.Second, true, 0, jan1, 4, 2455 * time.Second},
		{"backoff try 5", 300 * time.Second, true, 0, jan1, 5, 7687 * time.Second},
		{"backoff try 8", 300 * time.Second, true, 0, jan1, 8, 46017 * time.Second},
		{"backoff try 1 under the cap", 300 * time.Second, true, 600 * time.Second, jan1, 1, 322 * time.Second},
		{"backoff try 2 capped", 300 * time.Second, true, 600 * time.Second, jan1, 2, 600 * time.Second},
		{"backoff try 5 capped", 300 * time.Second, true, 600 * time.Second, jan1, 5, 600 * time.Second},
		{"backoff hits max_task_retry_delay", 300 * time.Second, true, 0, jan1, 9, 24 * time.Hour},
		{"backoff huge try", 300 * time.Second, true, 0, jan1, 5000, 24 * time.Hour},
		{"backoff zero delay is at least 1s", 0, true, 0, jan1, 3, time.Second},
		{"backoff sub-second delay rounds up", 500 * time.Millisecond, true, 0, jan1, 1, time.Second},
		{"backoff with microseconds in the date", 60 * time.Second, true, 0, time.Date(2024, 3, 5, 6, 7, 8, 123456000, time.UTC), 2, 210 * time.Second},
		{"backoff with a non-UTC date", 300 * time.Second, true, 0, jan1.In(time.FixedZone("X", 3600)), 1, 322 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tk := &windsock.Task{
				TaskID: "load", RetryDelay: windsock.Duration(tt.delay),
				RetryExponentialBackoff: tt.backoff, MaxRetryDelay: windsock.Duration(tt.maxDelay),
			}
			if got := RetryDelay(tk, "etl", tt.date, tt.try); got != tt.want {
				t.Errorf("RetryDelay = %v, want %v", got, tt.want)
			}
		})
	}
}
