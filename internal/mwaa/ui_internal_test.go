package mwaa

import "testing"

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
		{[]int{0, 5}, 5, "0.0,24.0 2.0,0.0", 5},
		{[]int{2, 4}, 2, "0.0,12.0 2.0,0.0", 4}, // a peak above MaxWorkers (lowered since) sets the scale
	}
	for _, c := range cases {
		points, peak := chart(c.samples, c.max)
		if points != c.points || peak != c.peak {
			t.Errorf("chart(%v, %d) = %q, %d; want %q, %d", c.samples, c.max, points, peak, c.points, c.peak)
		}
	}
}
