package autoscale_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/autoscale"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func TestDecide(t *testing.T) {
	t.Parallel()
	base := autoscale.State{Concurrency: 5, Min: 1, Max: 10, Current: 1}
	with := func(f func(*autoscale.State)) autoscale.State {
		s := base
		f(&s)
		return s
	}
	tests := []struct {
		name      string
		state     autoscale.State
		now       time.Time
		workers   int
		required  int
		idleSince time.Time
	}{
		{"idle at the minimum starts the idle clock", base, t0, 1, 1, t0},
		{"one task needs one worker", with(func(s *autoscale.State) { s.Queued = 1 }), t0, 1, 1, time.Time{}},
		{"load rounds up", with(func(s *autoscale.State) { s.Queued, s.Running = 3, 3 }), t0, 2, 2, time.Time{}},
		{"exact multiple", with(func(s *autoscale.State) { s.Running = 10 }), t0, 2, 2, time.Time{}},
		{"burst clamped to max", with(func(s *autoscale.State) { s.Queued = 200 }), t0, 10, 10, time.Time{}},
		{"no scale in while busy", with(func(s *autoscale.State) { s.Current, s.Running = 8, 1 }), t0, 8, 1, time.Time{}},
		{"load clears the idle clock", with(func(s *autoscale.State) { s.Current, s.Running, s.IdleSince = 4, 1, t0 }), t0.Add(time.Hour), 4, 1, time.Time{}},
		{"idle, not long enough", with(func(s *autoscale.State) { s.Current, s.IdleSince = 4, t0 }), t0.Add(119 * time.Second), 4, 1, t0},
		{"idle two minutes scales in to min", with(func(s *autoscale.State) { s.Current, s.IdleSince = 4, t0 }), t0.Add(2 * time.Minute), 1, 1, t0},
		{"first idle sight keeps workers", with(func(s *autoscale.State) { s.Current = 4 }), t0, 4, 1, t0},
		{"shortened idle period", with(func(s *autoscale.State) { s.Current, s.IdleSince, s.ScaleInAfter = 4, t0, time.Second }), t0.Add(time.Second), 1, 1, t0},
		{"scale in to a min above one", with(func(s *autoscale.State) { s.Min, s.Current, s.IdleSince = 2, 6, t0 }), t0.Add(3 * time.Minute), 2, 2, t0},
		{"raised min applies at once", with(func(s *autoscale.State) { s.Min = 3 }), t0, 3, 3, t0},
		{"lowered max applies at once even when busy", with(func(s *autoscale.State) { s.Max, s.Current, s.Running = 2, 5, 50 }), t0, 2, 2, time.Time{}},
		{"zero concurrency counts as one", with(func(s *autoscale.State) { s.Concurrency, s.Queued = 0, 3 }), t0, 3, 3, time.Time{}},
		{"max below min means min", with(func(s *autoscale.State) { s.Min, s.Max, s.Queued = 2, 1, 100 }), t0, 2, 2, time.Time{}},
		{"negative counts ignored", with(func(s *autoscale.State) { s.Queued, s.Running = -4, -1 }), t0, 1, 1, t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := autoscale.Decide(tt.state, tt.now)
			if p.Workers != tt.workers || p.Required != tt.required || !p.IdleSince.Equal(tt.idleSince) {
				t.Fatalf("Decide = workers %d required %d idleSince %v, want %d %d %v (%s)", p.Workers, p.Required, p.IdleSince, tt.workers, tt.required, tt.idleSince, p.Reason)
			}
		})
	}
}

// TestDecideProperties checks, over a grid of states, what must always
// hold: the plan is within bounds, covers the load it can, and never goes
// below the current workers while there is load.
func TestDecideProperties(t *testing.T) {
	t.Parallel()
	for minW := 1; minW <= 3; minW++ {
		for maxW := minW; maxW <= 6; maxW++ {
			for cur := minW; cur <= maxW; cur++ {
				for load := 0; load <= 40; load += 3 {
					s := autoscale.State{Queued: load / 2, Running: load - load/2, Concurrency: 4, Min: minW, Max: maxW, Current: cur, IdleSince: t0}
					p := autoscale.Decide(s, t0.Add(10*time.Minute))
					if p.Workers < minW || p.Workers > maxW {
						t.Fatalf("%+v: %d workers out of bounds", s, p.Workers)
					}
					if load > 0 && p.Workers < cur {
						t.Fatalf("%+v: scaled in to %d under load", s, p.Workers)
					}
					if load > 0 && p.Workers*4 < min(load, maxW*4) {
						t.Fatalf("%+v: %d workers cannot run the load", s, p.Workers)
					}
					if load == 0 && p.Workers != minW {
						t.Fatalf("%+v: long idle left %d workers", s, p.Workers)
					}
				}
			}
		}
	}
}

func ExampleDecide() {
	p := autoscale.Decide(autoscale.State{Queued: 180, Running: 20, Concurrency: 5, Min: 1, Max: 25, Current: 1}, t0)
	fmt.Println(p.Workers)
	fmt.Println(p.Reason)
	// Output:
	// 25
	// scale out for the load -> 25 workers (queued=180 running=20 concurrency=5 min=1 max=25 current=1 required=25)
}
