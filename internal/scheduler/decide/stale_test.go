package decide

import (
	"testing"
	"time"
)

func TestStaleBefore(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	const threshold = 5 * time.Minute
	tests := []struct {
		name    string
		contact Contact
		want    time.Time
		wantOK  bool
	}{
		{"never lost the database", Contact{}, now.Add(-threshold), true},
		{"in contact for longer than the threshold", Contact{Since: now.Add(-threshold - time.Second)}, now.Add(-threshold), true},
		{"back exactly a threshold ago", Contact{Since: now.Add(-threshold)}, time.Time{}, false},
		{"database back a minute ago", Contact{Since: now.Add(-time.Minute)}, time.Time{}, false},
		{"just started", Contact{Since: now}, time.Time{}, false},
		{"database unreachable", Contact{Since: now.Add(-time.Hour), Lost: true}, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := StaleBefore(now, tt.contact, threshold)
			if ok != tt.wantOK || !got.Equal(tt.want) {
				t.Errorf("StaleBefore = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestStaleBeforeNeverBeforeTheLimit: whatever the times, a try is
// presumed dead only if its last heartbeat and the scheduler's contact are
// both older than the threshold, and then always.
func TestStaleBeforeNeverBeforeTheLimit(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for since := -20; since <= 2; since++ {
		for beat := -20; beat <= 0; beat++ {
			for _, threshold := range []time.Duration{time.Second, 6 * time.Second, 10 * time.Second} {
				contact, hb := now.Add(time.Duration(since)*time.Second), now.Add(time.Duration(beat)*time.Second)
				cutoff, ok := StaleBefore(now, Contact{Since: contact}, threshold)
				dead := ok && hb.Before(cutoff)
				if dead && (now.Sub(hb) <= threshold || now.Sub(contact) <= threshold) {
					t.Fatalf("heartbeat %v, contact %v, threshold %v: presumed dead too early", hb, contact, threshold)
				}
				if !dead && now.Sub(hb) > threshold && now.Sub(contact) > threshold {
					t.Fatalf("heartbeat %v, contact %v, threshold %v: not presumed dead", hb, contact, threshold)
				}
			}
		}
	}
}
