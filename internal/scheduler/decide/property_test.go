package decide

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

// randomDAG returns n tasks, each depending on up to three earlier ones,
// with random trigger rules and weights.
func randomDAG(r *rand.Rand, n int) []*windsock.Task {
	rules := windsock.TriggerRules()
	tasks := make([]*windsock.Task, n)
	for i := range n {
		var up []string
		if i > 0 {
			for range r.IntN(4) {
				id := fmt.Sprintf("t%02d", r.IntN(i))
				if !slices.Contains(up, id) {
					up = append(up, id)
				}
			}
		}
		tk := task(fmt.Sprintf("t%02d", i), rules[r.IntN(len(rules))], up...)
		tk.PriorityWeight = r.IntN(5) + 1
		tasks[i] = tk
	}
	// Shuffle so the graph, not the definition order, must find the
	// topological order.
	r.Shuffle(n, func(i, j int) { tasks[i], tasks[j] = tasks[j], tasks[i] })
	return tasks
}

// TestEvaluateProperties runs random 20-task DAGs to the end, finishing
// scheduled tasks with random terminal states (some through a retry), and
// checks on every step that Evaluate only schedules tasks whose trigger
// rule is met, only settles tasks whose rule says so, agrees with
// EvaluateChanged, leaves nothing to do when its own plan is applied, and
// finishes the run exactly when every task is done, with the state the
// leaves call for.
func TestEvaluateProperties(t *testing.T) {
	t.Parallel()
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 42))
		tasks := randomDAG(r, 20)
		g := graph(t, tasks...)
		byID := map[string]*windsock.Task{}
		for _, tk := range tasks {
			byID[tk.TaskID] = tk
		}
		st := map[string]windsock.TaskInstanceState{}
		due := map[string]bool{}
		var changed []string
		finished := false
		for step := 0; step < 200 && !finished; step++ {
			rs := RunState{States: st, Due: due}
			d := g.Evaluate(rs)
			if step > 0 {
				if dc := g.EvaluateChanged(rs, changed); !sameDecision(d, dc) {
					t.Fatalf("seed %d step %d: Evaluate %+v != EvaluateChanged(%v) %+v", seed, step, d, changed, dc)
				}
			}
			post := apply(st, d)
			checkDecision(t, seed, g, byID, st, due, post, d)
			if again := g.Evaluate(RunState{States: post, Due: due}); len(again.Schedule) > 0 || again.SetState != nil {
				t.Fatalf("seed %d step %d: plan not stable, second pass %+v", seed, step, again)
			}
			allDone := true
			for _, id := range g.Tasks() {
				allDone = allDone && post[id].Finished()
			}
			if d.RunFinished != allDone {
				t.Fatalf("seed %d step %d: RunFinished=%v but all done=%v (%v)", seed, step, d.RunFinished, allDone, post)
			}
			if d.RunFinished {
				checkFinalState(t, seed, g, post, d)
				finished = true
				break
			}
			// Finish some of the scheduled tasks; make due the retries.
			st, changed = post, nil
			due = map[string]bool{}
			var ready []string
			for _, id := range g.Tasks() {
				switch st[id] {
				case running: // started on the last step, succeeds now
					st[id] = success
					changed = append(changed, id)
				case sched:
					ready = append(ready, id)
				case retry:
					due[id] = true
					changed = append(changed, id)
				}
			}
			if len(ready) == 0 && len(changed) == 0 {
				t.Fatalf("seed %d step %d: run stuck with nothing scheduled: %v", seed, step, st)
			}
			r.Shuffle(len(ready), func(i, j int) { ready[i], ready[j] = ready[j], ready[i] })
			for _, id := range ready[:min(len(ready), 1+r.IntN(3))] {
				switch r.IntN(7) {
				case 0, 1, 2:
					st[id] = success
				case 3:
					st[id] = failed
				case 4:
					st[id] = skipped
				case 5:
					st[id] = running
				default:
					st[id] = retry
				}
				changed = append(changed, id)
			}
		}
		if !finished {
			t.Fatalf("seed %d: run did not finish in 200 steps", seed)
		}
	}
}

func checkDecision(t *testing.T, seed uint64, g *Graph, byID map[string]*windsock.Task, before map[string]windsock.TaskInstanceState, due map[string]bool, post map[string]windsock.TaskInstanceState, d Decision) {
	t.Helper()
	counts := func(id string) UpstreamCounts {
		var c UpstreamCounts
		for _, u := range g.Upstream(id) {
			c.Add(post[u])
		}
		return c
	}
	for _, id := range d.Schedule {
		if s := before[id]; s != none && !due[id] {
			t.Fatalf("seed %d: scheduled %s from state %q (due %v)", seed, id, s, due[id])
		}
		if v := Judge(byID[id].TriggerRule, counts(id)); v != Run {
			t.Fatalf("seed %d: scheduled %s (%s) but its rule says %s", seed, id, byID[id].TriggerRule, v)
		}
	}
	for id, s := range d.SetState {
		want := map[windsock.TaskInstanceState]Verdict{upFailed: MarkUpstreamFailed, skipped: MarkSkipped}[s]
		if v := Judge(byID[id].TriggerRule, counts(id)); v != want {
			t.Fatalf("seed %d: set %s to %s but its rule says %s", seed, id, s, v)
		}
		if !schedulable(before[id]) {
			t.Fatalf("seed %d: settled %s from state %q", seed, id, before[id])
		}
	}
}

func checkFinalState(t *testing.T, seed uint64, g *Graph, post map[string]windsock.TaskInstanceState, d Decision) {
	t.Helper()
	want := windsock.DagRunSuccess
	for _, id := range g.Leaves() {
		if s := post[id]; s == failed || s == upFailed {
			want = windsock.DagRunFailed
		}
	}
	if d.RunState != want || d.Reason == ReasonDeadlock {
		t.Fatalf("seed %d: run %q (%s), want %q from leaves %v", seed, d.RunState, d.Reason, want, post)
	}
}
