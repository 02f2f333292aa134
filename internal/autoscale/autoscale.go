// Package autoscale decides how many workers an environment runs, as MWAA
// decides it: required = ceil((queued + running) / concurrency), between
// the minimum and the maximum; scale out as soon as the load needs it,
// scale in to the minimum only once the load has been zero for a while.
//
// Decide is pure (state in, plan out); the envrunner's loop reads the load,
// calls it and applies the plan.
package autoscale

import (
	"fmt"
	"time"
)

// DefaultScaleInAfter is how long the load must stay zero before the
// workers are scaled in to the minimum, as in MWAA.
const DefaultScaleInAfter = 2 * time.Minute

// State is what one decision looks at.
type State struct {
	// Queued and Running are the environment's task instances in those
	// states (MWAA's QueuedTasks and RunningTasks metrics).
	Queued, Running int
	// Concurrency is the tries one worker runs at once (at least 1).
	Concurrency int
	// Min and Max bound the workers (MinWorkers, MaxWorkers).
	Min, Max int
	// Current is the workers running now.
	Current int
	// IdleSince is when the load was last seen turning zero; zero while
	// there is load. The previous Plan's IdleSince.
	IdleSince time.Time
	// ScaleInAfter is how long the load must stay zero before scaling in;
	// zero means DefaultScaleInAfter.
	ScaleInAfter time.Duration
}

// Plan is a decision.
type Plan struct {
	// Workers is how many workers to run.
	Workers int
	// Required is ceil(load / concurrency) clamped to [Min, Max].
	Required int
	// IdleSince carries the idle clock to the next decision.
	IdleSince time.Time
	// Reason says why, with the inputs, for the log and the status.
	Reason string
}

// Changed reports whether the plan changes the number of workers.
func (p Plan) Changed(current int) bool { return p.Workers != current }

// Decide returns how many workers to run now. It never scales in while
// there is load (a busy worker is never stopped for a lower count), and
// scales in to the minimum once the load has been zero for ScaleInAfter.
// Bounds that changed (an update) apply at once.
func Decide(s State, now time.Time) Plan {
	conc := max(s.Concurrency, 1)
	lo := max(s.Min, 1)
	hi := max(s.Max, lo)
	load := max(s.Queued, 0) + max(s.Running, 0)
	required := clamp((load+conc-1)/conc, lo, hi)
	after := s.ScaleInAfter
	if after <= 0 {
		after = DefaultScaleInAfter
	}
	inputs := fmt.Sprintf("queued=%d running=%d concurrency=%d min=%d max=%d current=%d required=%d", s.Queued, s.Running, conc, lo, hi, s.Current, required)

	plan := Plan{Required: required}
	switch {
	case s.Current < lo || s.Current > hi:
		plan.Workers = clamp(s.Current, lo, hi)
		plan.Reason = "outside the worker bounds"
		if load == 0 {
			plan.IdleSince = idleSince(s.IdleSince, now)
		}
	case load > 0:
		plan.Workers = max(s.Current, required)
		if plan.Workers > s.Current {
			plan.Reason = "scale out for the load"
		} else {
			plan.Reason = "load fits the workers"
		}
	default:
		plan.IdleSince = idleSince(s.IdleSince, now)
		idle := now.Sub(plan.IdleSince)
		switch {
		case s.Current == lo:
			plan.Workers = lo
			plan.Reason = "idle at the minimum"
		case idle >= after:
			plan.Workers = lo
			plan.Reason = fmt.Sprintf("scale in: idle for %s", idle.Round(time.Second))
		default:
			plan.Workers = s.Current
			plan.Reason = fmt.Sprintf("idle for %s, scale in after %s", idle.Round(time.Second), after)
		}
	}
	plan.Reason = fmt.Sprintf("%s -> %d workers (%s)", plan.Reason, plan.Workers, inputs)
	return plan
}

func idleSince(prev, now time.Time) time.Time {
	if prev.IsZero() {
		return now
	}
	return prev
}

func clamp(n, lo, hi int) int {
	return min(max(n, lo), hi)
}
