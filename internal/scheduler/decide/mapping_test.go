package decide

import (
	"maps"
	"slices"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

// mappedTask returns a task mapped over an upstream's XCom.
func mappedTask(id string, rule windsock.TriggerRule, source string, upstream ...string) *windsock.Task {
	t := task(id, rule, upstream...)
	t.Expand = &windsock.Expand{Kind: windsock.ExpandDictOfLists, Args: []windsock.ExpandArg{{Name: "x", MapSource: windsock.MapSource{XCom: &windsock.XComArg{TaskID: source, Key: "return_value"}}}}}
	return t
}

func TestEvaluateMapped(t *testing.T) {
	t.Parallel()
	g := graph(t,
		task("make", windsock.TriggerAllSuccess),
		mappedTask("m", windsock.TriggerAllSuccess, "make", "make"),
		task("reduce", windsock.TriggerAllSuccess, "m"),
		task("always", windsock.TriggerAllDone, "m"),
	)
	if n, ok := g.LiteralMapLength("m"); ok {
		t.Errorf("an XCom-mapped task has no literal length, got %d", n)
	}
	for _, tc := range []struct {
		name         string
		states       map[string]windsock.TaskInstanceState
		mapped       []windsock.TaskInstanceState
		due          []int
		wantExpand   []string
		wantSchedule []Ref
		wantSet      map[Ref]windsock.TaskInstanceState
		wantTask     map[string]windsock.TaskInstanceState
		finished     windsock.DagRunState
	}{
		{name: "unexpanded waits for its upstream", states: states("make", running, "m", none, "reduce", none, "always", none)},
		{name: "upstream done: expand", states: states("make", success, "m", none, "reduce", none, "always", none), wantExpand: []string{"m"}},
		{name: "upstream failed: the unexpanded instance is upstream_failed", states: states("make", failed, "m", none, "reduce", none, "always", none),
			wantTask: map[string]windsock.TaskInstanceState{"m": upFailed, "reduce": upFailed, "always": sched}},
		{name: "expanded: every index scheduled", states: states("make", success, "reduce", none, "always", none),
			mapped: []windsock.TaskInstanceState{none, none, none}, wantSchedule: []Ref{{"m", 0}, {"m", 1}, {"m", 2}}},
		{name: "reduce waits for every index", states: states("make", success, "reduce", none, "always", none),
			mapped: []windsock.TaskInstanceState{success, running, success}},
		{name: "reduce runs when all indexes succeeded", states: states("make", success, "reduce", none, "always", none),
			mapped: []windsock.TaskInstanceState{success, success, success}, wantTask: map[string]windsock.TaskInstanceState{"reduce": sched, "always": sched}},
		{name: "one failed index fails reduce, all_done still runs", states: states("make", success, "reduce", none, "always", none),
			mapped: []windsock.TaskInstanceState{success, failed, success}, wantTask: map[string]windsock.TaskInstanceState{"reduce": upFailed, "always": sched}},
		{name: "a due retry is scheduled alone", states: states("make", success, "reduce", none, "always", none),
			mapped: []windsock.TaskInstanceState{success, retry, retry}, due: []int{1}, wantSchedule: []Ref{{"m", 1}}},
		{name: "run fails when a mapped leaf index failed", states: states("make", success, "reduce", upFailed, "always", success),
			mapped: []windsock.TaskInstanceState{success, failed}, finished: windsock.DagRunFailed},
		{name: "run succeeds", states: states("make", success, "reduce", success, "always", success),
			mapped: []windsock.TaskInstanceState{success, success}, finished: windsock.DagRunSuccess},
		{name: "skipped when expanded to nothing", states: states("make", success, "m", skipped, "reduce", none, "always", none),
			wantTask: map[string]windsock.TaskInstanceState{"reduce": skipped, "always": sched}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := RunState{States: tc.states}
			if tc.mapped != nil {
				rs.Mapped = map[string][]windsock.TaskInstanceState{"m": tc.mapped}
			}
			for _, i := range tc.due {
				if rs.DueMapped == nil {
					rs.DueMapped = map[Ref]bool{}
				}
				rs.DueMapped[Ref{"m", i}] = true
			}
			before := slices.Clone(tc.mapped)
			for _, d := range []Decision{g.Evaluate(rs), g.EvaluateChanged(rs, []string{"make", "m"})} {
				if !slices.Equal(d.Expand, tc.wantExpand) {
					t.Errorf("Expand = %v, want %v", d.Expand, tc.wantExpand)
				}
				if !slices.Equal(d.ScheduleMapped, tc.wantSchedule) {
					t.Errorf("ScheduleMapped = %v, want %v", d.ScheduleMapped, tc.wantSchedule)
				}
				if len(d.SetStateMapped) != len(tc.wantSet) {
					t.Errorf("SetStateMapped = %v, want %v", d.SetStateMapped, tc.wantSet)
				}
				got := map[string]windsock.TaskInstanceState{}
				for k, v := range d.SetState {
					got[k] = v
				}
				for _, k := range d.Schedule {
					got[k] = sched
				}
				if len(got) != len(tc.wantTask) {
					t.Errorf("task decisions = %v, want %v", got, tc.wantTask)
				}
				for k, v := range tc.wantTask {
					if got[k] != v {
						t.Errorf("%s = %q, want %q", k, got[k], v)
					}
				}
				if (tc.finished != "") != d.RunFinished || d.RunState != tc.finished {
					t.Errorf("finished = %v %q, want %q", d.RunFinished, d.RunState, tc.finished)
				}
			}
			if !slices.Equal(before, tc.mapped) {
				t.Errorf("Evaluate modified the caller's states: %v", tc.mapped)
			}
		})
	}
}

func TestEvaluateMappedUpstreamFailedSettlesEveryIndex(t *testing.T) {
	t.Parallel()
	// A literal-mapped task downstream of a failed task: each index is
	// settled, and the run ends.
	m := task("m", windsock.TriggerAllSuccess, "a")
	m.Expand = &windsock.Expand{Kind: windsock.ExpandDictOfLists, Args: []windsock.ExpandArg{{Name: "x", MapSource: windsock.MapSource{Literal: []byte(`[1,2]`)}}}}
	g := graph(t, task("a", windsock.TriggerAllSuccess), m)
	if n, ok := g.LiteralMapLength("m"); !ok || n != 2 {
		t.Fatalf("literal length = %d %v", n, ok)
	}
	d := g.Evaluate(RunState{States: states("a", failed), Mapped: map[string][]windsock.TaskInstanceState{"m": {none, none}}})
	if len(d.SetStateMapped) != 2 || d.SetStateMapped[Ref{"m", 1}] != upFailed || !d.RunFinished || d.RunState != windsock.DagRunFailed {
		t.Errorf("decision = %+v", d)
	}
}

// TestEvaluateMappedTaskGroup: inside a mapped task group, index i of a
// task depends on index i of its upstream in the group alone (one index
// runs as soon as its upstream index succeeded, a failed index fails only
// its own downstream index); a task after the group waits for every index.
func TestEvaluateMappedTaskGroup(t *testing.T) {
	t.Parallel()
	inGroup := func(tk *windsock.Task) *windsock.Task {
		tk.ExpandGroup = "g"
		return tk
	}
	g := graph(t,
		task("make", windsock.TriggerAllSuccess),
		inGroup(mappedTask("g.a", windsock.TriggerAllSuccess, "make", "make")),
		inGroup(mappedTask("g.b", windsock.TriggerAllSuccess, "make", "g.a", "make")),
		task("after", windsock.TriggerAllDone, "g.b"),
	)
	rs := RunState{
		States: states("make", success, "after", none),
		Mapped: map[string][]windsock.TaskInstanceState{
			"g.a": {success, failed, running},
			"g.b": {none, none, none},
		},
	}
	for _, evaluate := range []func() Decision{
		func() Decision { return g.Evaluate(rs) },
		func() Decision { return g.EvaluateChanged(rs, []string{"g.a"}) },
	} {
		d := evaluate()
		if !slices.Equal(d.ScheduleMapped, []Ref{{"g.b", 0}}) {
			t.Errorf("scheduled %v, want only g.b[0]", d.ScheduleMapped)
		}
		if want := map[Ref]windsock.TaskInstanceState{{"g.b", 1}: upFailed}; !maps.Equal(d.SetStateMapped, want) {
			t.Errorf("settled %v, want %v", d.SetStateMapped, want)
		}
		if len(d.Schedule) != 0 || d.RunFinished {
			t.Errorf("after must wait for every index of g.b: %+v", d)
		}
	}
	rs.Mapped["g.a"] = []windsock.TaskInstanceState{success, failed, success}
	rs.Mapped["g.b"] = []windsock.TaskInstanceState{success, upFailed, success}
	if d := g.Evaluate(rs); !slices.Equal(d.Schedule, []string{"after"}) {
		t.Errorf("after every index: scheduled %v, want after", d.Schedule)
	}
}
