package mwaa

import (
	"strings"
	"testing"
)

func TestWorkerChart(t *testing.T) {
	t.Parallel()
	var h workerHistory
	for i := 0; i < workerSamples+5; i++ {
		h.add("e", i%4)
	}
	got := h.get("e")
	if len(got) != workerSamples || got[0] != 5%4 {
		t.Fatalf("history keeps the last %d samples: %v", workerSamples, got)
	}
	cases := []struct {
		samples []int
		max     int
		points  string
		peak    int
	}{
		{nil, 5, "", 0},
		{[]int{0, 5}, 5, "118.0,24.0 120.0,0.0", 5}, // the newest sample is now, at the right edge
		{[]int{2, 4}, 2, "118.0,12.0 120.0,0.0", 4}, // a peak above MaxWorkers (lowered since) sets the scale
	}
	// An hour of samples and now span the whole width.
	full := make([]int, workerSamples+1)
	if points, _ := chart(full, 1); !strings.HasPrefix(points, "0.0,24.0 ") || !strings.HasSuffix(points, " 120.0,24.0") {
		t.Errorf("an hour of samples: %s", points)
	}
	if got := lastPoint("0.0,24.0 2.0,0.0"); got != (point{"2.0", "0.0"}) {
		t.Errorf("lastPoint = %v", got)
	}
	if got := lastPoint(""); got != (point{}) {
		t.Errorf("lastPoint of nothing = %v", got)
	}
	for _, c := range cases {
		points, peak := chart(c.samples, c.max)
		if points != c.points || peak != c.peak {
			t.Errorf("chart(%v, %d) = %q, %d; want %q, %d", c.samples, c.max, points, peak, c.points, c.peak)
		}
	}
}
