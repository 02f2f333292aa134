package decide

import "github.com/windsock/windsock/internal/windsock"

// UpstreamCounts tallies the states of a task's direct upstream instances
// the way Airflow's _UpstreamTIStates does: one counter per finished state,
// and Done for all finished ones together. Upstream instances that are not
// finished (none, scheduled, running, up_for_retry, ...) count only in
// Upstream.
type UpstreamCounts struct {
	Upstream       int // number of direct upstream tasks
	Success        int
	Skipped        int
	Failed         int
	UpstreamFailed int
	Removed        int
	Done           int // success + skipped + failed + upstream_failed + removed
}

// Add counts one upstream instance in state s.
func (c *UpstreamCounts) Add(s windsock.TaskInstanceState) {
	c.Upstream++
	switch s {
	case windsock.TaskStateSuccess:
		c.Success++
	case windsock.TaskStateSkipped:
		c.Skipped++
	case windsock.TaskStateFailed:
		c.Failed++
	case windsock.TaskStateUpstreamFailed:
		c.UpstreamFailed++
	case windsock.TaskStateRemoved:
		c.Removed++
	default:
		return
	}
	c.Done++
}

// Verdict is what a trigger rule says about a task instance given its
// upstream counts.
type Verdict int

// Verdicts.
const (
	// Wait: the rule is not met yet but may still be.
	Wait Verdict = iota
	// Run: the rule is met; the instance may be scheduled.
	Run
	// MarkUpstreamFailed: the rule can never be met because of a failure
	// upstream; the instance becomes upstream_failed.
	MarkUpstreamFailed
	// MarkSkipped: the rule can never be met because of skips (or, for
	// the failure rules, successes) upstream; the instance becomes skipped.
	MarkSkipped
)

// String returns the verdict's name.
func (v Verdict) String() string {
	switch v {
	case Run:
		return "run"
	case MarkUpstreamFailed:
		return "upstream_failed"
	case MarkSkipped:
		return "skipped"
	}
	return "wait"
}

// Judge applies a trigger rule to upstream counts, transcribing Airflow
// 2.10's TriggerRuleDep for an unmapped task evaluated by the scheduler
// (flag_upstream_failed set): first the propagation that settles a task
// whose rule can no longer be met, then the rule itself.
//
// A few consequences worth knowing, all Airflow's: removed upstreams count
// as done but not as successes, so all_success, all_failed, none_failed and
// all_skipped wait forever on one (the run then deadlocks), while the
// "all done" rules pass; one_success with everything done and no success is
// skipped when every upstream was skipped and upstream_failed otherwise;
// one_done ignores upstream_failed (only success or failed fire it).
// all_done_setup_success behaves as all_done because Windsock has no
// setup tasks. A task without upstream tasks, or with trigger rule always,
// always runs; an unknown rule always waits.
func Judge(rule windsock.TriggerRule, c UpstreamCounts) Verdict {
	if c.Upstream == 0 || rule == windsock.TriggerAlways {
		return Run
	}
	if v := propagate(rule, c); v != Wait {
		return v
	}
	if met(rule, c) {
		return Run
	}
	return Wait
}

// propagate returns MarkUpstreamFailed or MarkSkipped when the rule can no
// longer be met, else Wait.
func propagate(rule windsock.TriggerRule, c UpstreamCounts) Verdict {
	failures := c.Failed + c.UpstreamFailed
	allDone := c.Done >= c.Upstream
	switch rule {
	case windsock.TriggerAllSuccess:
		if failures > 0 {
			return MarkUpstreamFailed
		}
		if c.Skipped > 0 {
			return MarkSkipped
		}
	case windsock.TriggerAllFailed:
		if c.Success > 0 || c.Skipped > 0 {
			return MarkSkipped
		}
	case windsock.TriggerOneSuccess:
		if allDone && c.Done == c.Skipped {
			return MarkSkipped
		}
		if allDone && c.Success == 0 {
			return MarkUpstreamFailed
		}
	case windsock.TriggerOneFailed:
		if allDone && failures == 0 {
			return MarkSkipped
		}
	case windsock.TriggerOneDone:
		if allDone && c.Failed == 0 && c.Success == 0 {
			return MarkSkipped
		}
	case windsock.TriggerNoneFailed:
		if failures > 0 {
			return MarkUpstreamFailed
		}
	case windsock.TriggerNoneFailedMinOneSuccess:
		if failures > 0 {
			return MarkUpstreamFailed
		}
		if c.Skipped == c.Upstream {
			return MarkSkipped
		}
	case windsock.TriggerNoneSkipped:
		if c.Skipped > 0 {
			return MarkSkipped
		}
	case windsock.TriggerAllSkipped:
		if c.Success > 0 || failures > 0 {
			return MarkSkipped
		}
	}
	return Wait
}

// met reports whether the rule itself passes.
func met(rule windsock.TriggerRule, c UpstreamCounts) bool {
	failures := c.Failed + c.UpstreamFailed
	allDone := c.Done >= c.Upstream
	switch rule {
	case windsock.TriggerAllSuccess:
		return c.Upstream-c.Success <= 0
	case windsock.TriggerAllFailed:
		return c.Upstream-failures <= 0
	case windsock.TriggerAllDone, windsock.TriggerAllDoneSetupSuccess:
		return allDone
	case windsock.TriggerOneSuccess:
		return c.Success > 0
	case windsock.TriggerOneFailed:
		return failures > 0
	case windsock.TriggerOneDone:
		return c.Success+c.Failed > 0
	case windsock.TriggerNoneFailed, windsock.TriggerNoneFailedMinOneSuccess:
		return c.Upstream-c.Success-c.Skipped <= 0
	case windsock.TriggerNoneSkipped:
		return allDone && c.Skipped == 0
	case windsock.TriggerAllSkipped:
		return c.Upstream-c.Skipped <= 0
	}
	return false
}
