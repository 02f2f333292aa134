package decide

import (
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

func TestJudgeEveryRuleAndUpstreamMix(t *testing.T) {
	t.Parallel()
	const (
		W = Wait
		R = Run
		U = MarkUpstreamFailed
		S = MarkSkipped
	)
	// Columns follow windsock.TriggerRules(): all_success, all_failed,
	// all_done, all_done_setup_success, all_skipped, one_success,
	// one_failed, one_done, none_failed, none_failed_min_one_success,
	// none_skipped, always. Every verdict was worked out by hand from
	// Airflow 2.10's trigger_rule_dep.py.
	tests := []struct {
		name     string
		upstream []windsock.TaskInstanceState
		want     [12]Verdict
	}{
		{"no upstream", nil, [12]Verdict{R, R, R, R, R, R, R, R, R, R, R, R}},
		{"all success", []windsock.TaskInstanceState{success, success, success}, [12]Verdict{R, S, R, R, S, R, S, R, R, R, R, R}},
		{"all failed", []windsock.TaskInstanceState{failed, failed, failed}, [12]Verdict{U, R, R, R, S, U, R, R, U, U, R, R}},
		{"failed and upstream_failed", []windsock.TaskInstanceState{failed, upFailed, failed}, [12]Verdict{U, R, R, R, S, U, R, R, U, U, R, R}},
		{"all upstream_failed", []windsock.TaskInstanceState{upFailed, upFailed, upFailed}, [12]Verdict{U, R, R, R, S, U, R, S, U, U, R, R}},
		{"all skipped", []windsock.TaskInstanceState{skipped, skipped, skipped}, [12]Verdict{S, S, R, R, R, S, S, S, R, S, S, R}},
		{"success and skipped", []windsock.TaskInstanceState{success, skipped, success}, [12]Verdict{S, S, R, R, S, R, S, R, R, R, S, R}},
		{"success and failed", []windsock.TaskInstanceState{success, failed, success}, [12]Verdict{U, S, R, R, S, R, R, R, U, U, R, R}},
		{"skipped and failed", []windsock.TaskInstanceState{skipped, failed, skipped}, [12]Verdict{U, S, R, R, S, U, R, R, U, U, S, R}},
		{"skipped and upstream_failed", []windsock.TaskInstanceState{skipped, upFailed, skipped}, [12]Verdict{U, S, R, R, S, U, R, S, U, U, S, R}},
		// Removed counts as done but not as a success: the success rules
		// wait on it forever (Airflow's behaviour for unmapped tasks).
		{"success and removed", []windsock.TaskInstanceState{success, removed, success}, [12]Verdict{W, S, R, R, S, R, S, R, W, W, R, R}},
		{"all removed", []windsock.TaskInstanceState{removed, removed, removed}, [12]Verdict{W, W, R, R, W, U, S, S, W, W, R, R}},
		{"skipped and removed", []windsock.TaskInstanceState{skipped, removed, skipped}, [12]Verdict{S, S, R, R, W, U, S, S, W, W, S, R}},
		// Unfinished upstreams: wait unless a finished one already settles
		// the rule either way.
		{"success and running", []windsock.TaskInstanceState{success, running, success}, [12]Verdict{W, S, W, W, S, R, W, R, W, W, W, R}},
		{"failed, none and success", []windsock.TaskInstanceState{failed, none, success}, [12]Verdict{U, S, W, W, S, R, R, R, U, U, W, R}},
		{"skipped and queued", []windsock.TaskInstanceState{skipped, queued, skipped}, [12]Verdict{S, S, W, W, W, W, W, W, W, W, S, R}},
		{"failed and up_for_retry", []windsock.TaskInstanceState{failed, retry, failed}, [12]Verdict{U, W, W, W, S, W, R, R, U, U, W, R}},
		{"all none", []windsock.TaskInstanceState{none, none, none}, [12]Verdict{W, W, W, W, W, W, W, W, W, W, W, R}},
		{"upstream_failed and running", []windsock.TaskInstanceState{upFailed, running, upFailed}, [12]Verdict{U, W, W, W, S, W, R, W, U, U, W, R}},
		{"skipped, success and deferred", []windsock.TaskInstanceState{skipped, success, deferred}, [12]Verdict{S, S, W, W, S, R, W, R, W, W, S, R}},
		{"scheduled, up_for_reschedule", []windsock.TaskInstanceState{sched, resched}, [12]Verdict{W, W, W, W, W, W, W, W, W, W, W, R}},
	}
	rules := windsock.TriggerRules()
	if len(rules) != 12 {
		t.Fatalf("windsock has %d trigger rules; the table covers 12", len(rules))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c UpstreamCounts
			for _, s := range tt.upstream {
				c.Add(s)
			}
			for i, rule := range rules {
				if got := Judge(rule, c); got != tt.want[i] {
					t.Errorf("%s with %v: got %s, want %s", rule, tt.upstream, got, tt.want[i])
				}
			}
		})
	}
}

func TestUpstreamCountsAdd(t *testing.T) {
	t.Parallel()
	var c UpstreamCounts
	for _, s := range []windsock.TaskInstanceState{success, success, skipped, failed, upFailed, removed, running, none, retry} {
		c.Add(s)
	}
	want := UpstreamCounts{Upstream: 9, Success: 2, Skipped: 1, Failed: 1, UpstreamFailed: 1, Removed: 1, Done: 6}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
}

func TestJudgeUnknownRuleWaits(t *testing.T) {
	t.Parallel()
	c := UpstreamCounts{Upstream: 1, Success: 1, Done: 1}
	if got := Judge("fire_sometimes", c); got != Wait {
		t.Errorf("got %s, want wait", got)
	}
}
