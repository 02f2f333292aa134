package decide

import (
	"slices"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

const (
	allSuccess = windsock.TriggerAllSuccess
	allDone    = windsock.TriggerAllDone
	oneFailed  = windsock.TriggerOneFailed
	noneFailed = windsock.TriggerNoneFailedMinOneSuccess
)

func TestEvaluateScheduling(t *testing.T) {
	t.Parallel()
	past := func(id string, rule windsock.TriggerRule, up ...string) *windsock.Task {
		tk := task(id, rule, up...)
		tk.DependsOnPast = true
		return tk
	}
	tests := []struct {
		name  string
		tasks []*windsock.Task
		rs    RunState
		want  []string
	}{
		{
			name:  "roots are scheduled at once",
			tasks: []*windsock.Task{task("a", allSuccess), task("b", allSuccess), task("c", allSuccess, "a", "b")},
			want:  []string{"a", "b"},
		},
		{
			name:  "downstream waits for an unfinished upstream",
			tasks: []*windsock.Task{task("a", allSuccess), task("b", allSuccess), task("c", allSuccess, "a", "b")},
			rs:    RunState{States: states("a", success, "b", running)},
		},
		{
			name:  "downstream runs once every upstream succeeded",
			tasks: []*windsock.Task{task("a", allSuccess), task("b", allSuccess), task("c", allSuccess, "a", "b")},
			rs:    RunState{States: states("a", success, "b", success)},
			want:  []string{"c"},
		},
		{
			name:  "scheduled, queued and running instances are left alone",
			tasks: []*windsock.Task{task("a", allSuccess), task("b", allSuccess), task("c", allSuccess)},
			rs:    RunState{States: states("a", sched, "b", queued, "c", running)},
		},
		{
			name:  "up_for_retry waits until due",
			tasks: []*windsock.Task{task("a", allSuccess), task("b", allSuccess)},
			rs:    RunState{States: states("a", retry, "b", retry), Due: map[string]bool{"b": true}},
			want:  []string{"b"},
		},
		{
			name:  "up_for_reschedule waits until due",
			tasks: []*windsock.Task{task("a", allSuccess), task("s", allSuccess, "a")},
			rs:    RunState{States: states("a", success, "s", resched), Due: map[string]bool{"s": true}},
			want:  []string{"s"},
		},
		{
			name:  "depends_on_past holds a task whose previous run failed",
			tasks: []*windsock.Task{past("a", allSuccess), past("b", allSuccess), past("c", allSuccess)},
			rs:    RunState{PastOK: map[string]bool{"a": false, "b": true}},
			want:  []string{"b", "c"},
		},
		{
			name: "wait_for_downstream is held like depends_on_past",
			tasks: func() []*windsock.Task {
				tk := task("a", allSuccess)
				tk.WaitForDownstream = true
				return []*windsock.Task{tk}
			}(),
			rs: RunState{PastOK: map[string]bool{"a": false}},
		},
		{
			name:  "PastOK is ignored for tasks without depends_on_past",
			tasks: []*windsock.Task{task("a", allSuccess)},
			rs:    RunState{PastOK: map[string]bool{"a": false}},
			want:  []string{"a"},
		},
		{
			name:  "always runs while its upstream is still running",
			tasks: []*windsock.Task{task("a", allSuccess), task("b", windsock.TriggerAlways, "a")},
			rs:    RunState{States: states("a", running)},
			want:  []string{"b"},
		},
		{
			name:  "one_failed fires before the other upstreams finish",
			tasks: []*windsock.Task{task("a", allSuccess), task("b", allSuccess), task("alert", oneFailed, "a", "b")},
			rs:    RunState{States: states("a", failed, "b", running)},
			want:  []string{"alert"},
		},
		{
			name:  "tasks the DAG no longer has are ignored",
			tasks: []*windsock.Task{task("a", allSuccess)},
			rs:    RunState{States: states("a", running, "gone", none)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := graph(t, tt.tasks...).Evaluate(tt.rs)
			if !slices.Equal(d.Schedule, tt.want) {
				t.Errorf("Schedule = %v, want %v", d.Schedule, tt.want)
			}
			if d.SetState != nil || d.RunFinished {
				t.Errorf("unexpected SetState %v / RunFinished %v", d.SetState, d.RunFinished)
			}
		})
	}
}

func TestEvaluatePropagatesAFailureDownAChainInOneCall(t *testing.T) {
	t.Parallel()
	g := graph(t,
		task("a", allSuccess),
		task("b", allSuccess, "a"),
		task("c", allSuccess, "b"),
		task("d", allSuccess, "c"),
		task("cleanup", allDone, "d"),
	)
	d := g.Evaluate(RunState{States: states("a", failed)})
	want := map[string]windsock.TaskInstanceState{"b": upFailed, "c": upFailed, "d": upFailed}
	if len(d.SetState) != len(want) {
		t.Fatalf("SetState = %v, want %v", d.SetState, want)
	}
	for k, v := range want {
		if d.SetState[k] != v {
			t.Errorf("SetState[%s] = %q, want %q", k, d.SetState[k], v)
		}
	}
	// The all_done task after the chain is unblocked in the same call.
	if !slices.Equal(d.Schedule, []string{"cleanup"}) || d.RunFinished {
		t.Errorf("Schedule = %v, RunFinished = %v; want [cleanup], false", d.Schedule, d.RunFinished)
	}
}

func TestEvaluateBranchSkips(t *testing.T) {
	t.Parallel()
	// branch chose "left": "right" was skipped by the branch operator.
	g := graph(t,
		task("branch", allSuccess),
		task("left", allSuccess, "branch"),
		task("right", allSuccess, "branch"),
		task("right2", allSuccess, "right"),
		task("join", noneFailed, "left", "right2"),
		task("strict_join", allSuccess, "left", "right2"),
		task("report", allSuccess, "join"),
	)
	d := g.Evaluate(RunState{States: states("branch", success, "left", success, "right", skipped)})
	if got := d.SetState; len(got) != 2 || got["right2"] != skipped || got["strict_join"] != skipped {
		t.Errorf("SetState = %v, want right2 and strict_join skipped", got)
	}
	if !slices.Equal(d.Schedule, []string{"join"}) {
		t.Errorf("Schedule = %v, want [join]", d.Schedule)
	}

	// Both branches skipped: the none_failed_min_one_success join is
	// skipped too, and so is what follows it.
	d = g.Evaluate(RunState{States: states("branch", success, "left", skipped, "right", skipped)})
	for _, id := range []string{"right2", "join", "strict_join", "report"} {
		if d.SetState[id] != skipped {
			t.Errorf("SetState[%s] = %q, want skipped", id, d.SetState[id])
		}
	}
	if !d.RunFinished || d.RunState != windsock.DagRunSuccess {
		t.Errorf("run = %v %q, want finished success (skipped leaves)", d.RunFinished, d.RunState)
	}
}

func TestEvaluateRunFinalState(t *testing.T) {
	t.Parallel()
	diamond := []*windsock.Task{
		task("a", allSuccess),
		task("b", allSuccess, "a"),
		task("c", allSuccess, "a"),
		task("leaf", allDone, "b", "c"),
	}
	tests := []struct {
		name       string
		states     map[string]windsock.TaskInstanceState
		finished   bool
		state      windsock.DagRunState
		wantReason string
	}{
		{"all success", states("a", success, "b", success, "c", success, "leaf", success), true, windsock.DagRunSuccess, ReasonSuccess},
		{"non-leaf failed, all_done leaf succeeded", states("a", success, "b", failed, "c", success, "leaf", success), true, windsock.DagRunSuccess, ReasonSuccess},
		{"leaf failed", states("a", success, "b", success, "c", success, "leaf", failed), true, windsock.DagRunFailed, ReasonTaskFailure},
		{"leaf upstream_failed", states("a", success, "b", success, "c", success, "leaf", upFailed), true, windsock.DagRunFailed, ReasonTaskFailure},
		{"leaf skipped", states("a", success, "b", success, "c", success, "leaf", skipped), true, windsock.DagRunSuccess, ReasonSuccess},
		{"leaf running", states("a", success, "b", failed, "c", success, "leaf", running), false, "", ""},
		{"leaf finished, non-leaf up for retry", states("a", success, "b", retry, "c", success, "leaf", success), false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := graph(t, diamond...)
			for _, d := range []Decision{g.Evaluate(RunState{States: tt.states}), g.EvaluateChanged(RunState{States: tt.states}, []string{"leaf"})} {
				if d.RunFinished != tt.finished || d.RunState != tt.state || d.Reason != tt.wantReason {
					t.Errorf("got finished=%v state=%q reason=%q, want %v %q %q", d.RunFinished, d.RunState, d.Reason, tt.finished, tt.state, tt.wantReason)
				}
			}
		})
	}
}

func TestEvaluateIgnoresRemovedLeaves(t *testing.T) {
	t.Parallel()
	g := graph(t, task("a", allSuccess), task("old", allSuccess, "a"), task("b", allSuccess, "a"))
	d := g.Evaluate(RunState{States: states("a", success, "old", removed, "b", success)})
	if !d.RunFinished || d.RunState != windsock.DagRunSuccess {
		t.Errorf("got %v %q, want finished success", d.RunFinished, d.RunState)
	}
}

func TestEvaluateDeadlock(t *testing.T) {
	t.Parallel()
	held := task("c", allSuccess, "b")
	held.DependsOnPast = true
	limited := task("c", allSuccess, "b")
	limited.Args = map[string]any{"max_active_tis_per_dag": 1}
	tests := []struct {
		name   string
		tasks  []*windsock.Task
		states map[string]windsock.TaskInstanceState
		due    map[string]bool
		dead   bool
	}{
		{
			// A removed upstream never counts as a success: c can never run.
			name:   "all_success behind a removed upstream",
			tasks:  []*windsock.Task{task("a", allSuccess), task("b", allSuccess, "a"), task("c", allSuccess, "b")},
			states: states("a", success, "b", removed),
			dead:   true,
		},
		{
			name:   "something is still running",
			tasks:  []*windsock.Task{task("a", allSuccess), task("b", allSuccess, "a"), task("c", allSuccess, "b"), task("x", allSuccess)},
			states: states("a", success, "b", removed, "x", running),
		},
		{
			name:   "an up_for_retry task waits for its time",
			tasks:  []*windsock.Task{task("a", allSuccess), task("b", allSuccess, "a"), task("c", allSuccess, "b"), task("x", allSuccess)},
			states: states("a", success, "b", removed, "x", retry),
		},
		{
			name:   "a depends_on_past task may be freed by another run",
			tasks:  []*windsock.Task{task("a", allSuccess), task("b", allSuccess, "a"), held},
			states: states("a", success, "b", removed),
		},
		{
			name:   "a max_active_tis_per_dag task may be freed by another run",
			tasks:  []*windsock.Task{task("a", allSuccess), task("b", allSuccess, "a"), limited},
			states: states("a", success, "b", removed),
		},
		{
			name:   "a deferred task keeps the run alive",
			tasks:  []*windsock.Task{task("a", allSuccess), task("b", allSuccess, "a"), task("c", allSuccess, "b"), task("x", allSuccess)},
			states: states("a", success, "b", removed, "x", deferred),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := graph(t, tt.tasks...)
			rs := RunState{States: tt.states, Due: tt.due}
			for _, d := range []Decision{g.Evaluate(rs), g.EvaluateChanged(rs, []string{"b"})} {
				if len(d.Schedule) != 0 || d.SetState != nil {
					t.Errorf("unexpected plan %v %v", d.Schedule, d.SetState)
				}
				if tt.dead != d.RunFinished || (tt.dead && (d.RunState != windsock.DagRunFailed || d.Reason != ReasonDeadlock)) {
					t.Errorf("got finished=%v state=%q reason=%q, deadlock want %v", d.RunFinished, d.RunState, d.Reason, tt.dead)
				}
			}
		})
	}
}

func TestEvaluateChangedLooksOnlyDownstream(t *testing.T) {
	t.Parallel()
	g := graph(t,
		task("a", allSuccess),
		task("b", allSuccess, "a"),
		task("x", allSuccess),
		task("y", allSuccess, "x"),
	)
	// y is ready too, but only a changed: EvaluateChanged trusts that y
	// was decided before and looks at a's downstream only.
	rs := RunState{States: states("a", success, "x", success)}
	d := g.EvaluateChanged(rs, []string{"a"})
	if !slices.Equal(d.Schedule, []string{"b"}) {
		t.Errorf("EvaluateChanged Schedule = %v, want [b]", d.Schedule)
	}
	if d := g.Evaluate(rs); !slices.Equal(d.Schedule, []string{"b", "y"}) {
		t.Errorf("Evaluate Schedule = %v, want [b y]", d.Schedule)
	}
	// A task that became due is named in changed itself.
	d = g.EvaluateChanged(RunState{States: states("a", retry), Due: map[string]bool{"a": true}}, []string{"a", "unknown"})
	if !slices.Equal(d.Schedule, []string{"a"}) {
		t.Errorf("due retry: Schedule = %v, want [a]", d.Schedule)
	}
}

func TestGraphStructure(t *testing.T) {
	t.Parallel()
	// Defined out of order; c lists an unknown upstream and itself.
	g := graph(t,
		task("d", allSuccess, "b", "c"),
		task("c", allSuccess, "a", "nope", "c"),
		task("b", allSuccess, "a"),
		task("a", allSuccess),
	)
	if got := g.Tasks(); !slices.Equal(got, []string{"a", "c", "b", "d"}) {
		t.Errorf("Tasks = %v", got)
	}
	if got := g.Downstream("a"); !slices.Equal(got, []string{"c", "b"}) {
		t.Errorf("Downstream(a) = %v", got)
	}
	if got := g.Upstream("d"); !slices.Equal(got, []string{"c", "b"}) {
		t.Errorf("Upstream(d) = %v", got)
	}
	if got := g.Upstream("c"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Upstream(c) = %v", got)
	}
	if got := g.Leaves(); !slices.Equal(got, []string{"d"}) {
		t.Errorf("Leaves = %v", got)
	}
	if g.Downstream("zzz") != nil || g.Has("zzz") || !g.Has("a") || g.PriorityWeight("zzz") != 0 {
		t.Error("unknown task not reported as such")
	}
}

func TestGraphSurvivesACycle(t *testing.T) {
	t.Parallel()
	g := graph(t, task("a", allSuccess, "b"), task("b", allSuccess, "a"), task("c", allSuccess))
	if got := g.Tasks(); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Errorf("Tasks = %v", got)
	}
	d := g.Evaluate(RunState{States: states("c", success)})
	if !d.RunFinished || d.Reason != ReasonDeadlock {
		t.Errorf("got %+v, want a deadlocked run", d)
	}
}

func TestPriorityWeightRulesOnADiamond(t *testing.T) {
	t.Parallel()
	// a -> b, a -> c, b -> d, c -> d, with own weights 1, 2, 3, 4, and a
	// tail e after d (weight 5) so "each relative once" is visible.
	build := func(rule windsock.WeightRule) *Graph {
		ws := map[string]int{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}
		tasks := []*windsock.Task{
			task("a", allSuccess), task("b", allSuccess, "a"), task("c", allSuccess, "a"),
			task("d", allSuccess, "b", "c"), task("e", allSuccess, "d"),
		}
		for _, tk := range tasks {
			tk.PriorityWeight = ws[tk.TaskID]
			tk.WeightRule = rule
		}
		return graph(t, tasks...)
	}
	tests := []struct {
		rule windsock.WeightRule
		want map[string]int
	}{
		{windsock.WeightDownstream, map[string]int{"a": 15, "b": 11, "c": 12, "d": 9, "e": 5}},
		{windsock.WeightUpstream, map[string]int{"a": 1, "b": 3, "c": 4, "d": 10, "e": 15}},
		{windsock.WeightAbsolute, map[string]int{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}},
		{"", map[string]int{"a": 15, "b": 11, "c": 12, "d": 9, "e": 5}},
	}
	for _, tt := range tests {
		g := build(tt.rule)
		for id, want := range tt.want {
			if got := g.PriorityWeight(id); got != want {
				t.Errorf("%q rule: PriorityWeight(%s) = %d, want %d", tt.rule, id, got, want)
			}
		}
	}
}

func TestPriorityWeightMixedRulesAndClamp(t *testing.T) {
	t.Parallel()
	a := task("a", allSuccess)
	a.PriorityWeight = 10
	b := task("b", allSuccess, "a")
	b.WeightRule = windsock.WeightUpstream
	b.PriorityWeight = 2
	c := task("c", allSuccess, "b")
	c.PriorityWeight = 1<<31 - 1
	g := graph(t, a, b, c)
	if got := g.PriorityWeight("b"); got != 12 {
		t.Errorf("b (upstream rule) = %d, want 12", got)
	}
	if got := g.PriorityWeight("a"); got != 1<<31-1 {
		t.Errorf("a = %d, want clamped to %d", got, 1<<31-1)
	}
}

func TestMaxActiveTIsArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args          map[string]any
		perDag, perRn int
	}{
		{nil, 0, 0},
		{map[string]any{"max_active_tis_per_dag": 3}, 3, 0},
		{map[string]any{"max_active_tis_per_dag": 3.0, "max_active_tis_per_dagrun": "2"}, 3, 2},
		{map[string]any{"task_concurrency": 4}, 4, 0},
		{map[string]any{"max_active_tis_per_dag": 1.5}, 0, 0},
	}
	for _, tt := range tests {
		tk := &windsock.Task{Args: tt.args}
		if got := MaxActiveTIsPerDag(tk); got != tt.perDag {
			t.Errorf("%v: MaxActiveTIsPerDag = %d, want %d", tt.args, got, tt.perDag)
		}
		if got := MaxActiveTIsPerDagrun(tk); got != tt.perRn {
			t.Errorf("%v: MaxActiveTIsPerDagrun = %d, want %d", tt.args, got, tt.perRn)
		}
	}
}
