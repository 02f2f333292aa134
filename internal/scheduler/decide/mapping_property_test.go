package decide

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

// sameMappedDecision compares the mapped parts of two decisions.
func sameMappedDecision(a, b Decision) bool {
	return sameDecision(a, b) && slices.Equal(a.ScheduleMapped, b.ScheduleMapped) &&
		slices.Equal(a.Expand, b.Expand) && maps.Equal(a.SetStateMapped, b.SetStateMapped)
}

// TestEvaluateMappedProperties runs random 15-task DAGs in which about a
// third of the tasks are mapped over their first upstream's XCom (the
// test expands them to 0..4 instances when asked), finishing instances
// with random states, and checks on every step that Evaluate agrees with
// EvaluateChanged, schedules an instance only from none (or a due retry)
// with its rule met over every upstream instance, asks to expand only
// unexpanded tasks whose rule is met, and ends the run exactly when every
// instance is finished.
func TestEvaluateMappedProperties(t *testing.T) {
	t.Parallel()
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		tasks := randomDAG(r, 15)
		for _, tk := range tasks {
			if len(tk.Upstream) > 0 && r.IntN(3) == 0 {
				tk.Expand = &windsock.Expand{Kind: windsock.ExpandDictOfLists, Args: []windsock.ExpandArg{{Name: "x",
					MapSource: windsock.MapSource{XCom: &windsock.XComArg{TaskID: tk.Upstream[0], Key: windsock.XComReturnKey}}}}}
			}
		}
		g := graph(t, tasks...)
		byID := map[string]*windsock.Task{}
		for _, tk := range tasks {
			byID[tk.TaskID] = tk
		}
		rs := RunState{States: map[string]windsock.TaskInstanceState{}, Mapped: map[string][]windsock.TaskInstanceState{},
			Due: map[string]bool{}, DueMapped: map[Ref]bool{}}
		instances := func(id string) []windsock.TaskInstanceState {
			if ms, ok := rs.Mapped[id]; ok {
				return ms
			}
			return []windsock.TaskInstanceState{rs.States[id]}
		}
		counts := func(id string) UpstreamCounts {
			var c UpstreamCounts
			for _, u := range g.Upstream(id) {
				for _, s := range instances(u) {
					c.Add(s)
				}
			}
			return c
		}
		var changed []string
		finished := false
		for step := 0; step < 300 && !finished; step++ {
			d := g.Evaluate(rs)
			if step > 0 {
				if dc := g.EvaluateChanged(rs, changed); !sameMappedDecision(d, dc) {
					t.Fatalf("seed %d step %d: Evaluate %+v != EvaluateChanged(%v) %+v", seed, step, d, changed, dc)
				}
			}
			changed = nil
			// Apply, checking each part against the states before.
			for id, s := range d.SetState {
				rs.States[id] = s
				changed = append(changed, id)
			}
			for ref, s := range d.SetStateMapped {
				rs.Mapped[ref.TaskID] = slices.Clone(rs.Mapped[ref.TaskID])
				rs.Mapped[ref.TaskID][ref.MapIndex] = s
				changed = append(changed, ref.TaskID)
			}
			for _, id := range d.Schedule {
				rs.States[id] = sched
			}
			for _, ref := range d.ScheduleMapped {
				ms := rs.Mapped[ref.TaskID]
				if s := ms[ref.MapIndex]; s != none && !rs.DueMapped[ref] {
					t.Fatalf("seed %d: scheduled %v from %q", seed, ref, s)
				}
				if v := Judge(byID[ref.TaskID].TriggerRule, counts(ref.TaskID)); v != Run {
					t.Fatalf("seed %d: scheduled %v but its rule says %s", seed, ref, v)
				}
				ms = slices.Clone(ms)
				ms[ref.MapIndex] = sched
				rs.Mapped[ref.TaskID] = ms
			}
			for _, id := range d.Expand {
				if _, done := rs.Mapped[id]; done || !g.Mapped(id) || rs.States[id] != none {
					t.Fatalf("seed %d: asked to expand %s (state %q)", seed, id, rs.States[id])
				}
				if v := Judge(byID[id].TriggerRule, counts(id)); v != Run {
					t.Fatalf("seed %d: expand %s but its rule says %s", seed, id, v)
				}
				if n := r.IntN(5); n == 0 {
					rs.States[id] = skipped
				} else {
					delete(rs.States, id)
					rs.Mapped[id] = make([]windsock.TaskInstanceState, n)
				}
				changed = append(changed, id)
			}
			allDone := true
			for _, id := range g.Tasks() {
				for _, s := range instances(id) {
					allDone = allDone && s.Finished()
				}
			}
			// An expansion is applied after the decision: the next one
			// judges the run.
			if d.RunFinished != allDone && len(d.Expand) == 0 {
				t.Fatalf("seed %d step %d: RunFinished=%v but all done=%v", seed, step, d.RunFinished, allDone)
			}
			if d.RunFinished {
				finished = true
				break
			}
			if len(d.Expand) > 0 || len(d.SetState) > 0 || len(d.SetStateMapped) > 0 {
				continue // evaluate what the expansion or settling changed
			}
			// Finish some scheduled instances; make due the retries.
			rs.Due, rs.DueMapped = map[string]bool{}, map[Ref]bool{}
			type inst struct{ ref Ref }
			var ready []inst
			for _, id := range g.Tasks() {
				if ms, ok := rs.Mapped[id]; ok {
					ms = slices.Clone(ms)
					for i, s := range ms {
						switch s {
						case running:
							ms[i] = success
							changed = append(changed, id)
						case sched:
							ready = append(ready, inst{Ref{id, i}})
						case retry:
							rs.DueMapped[Ref{id, i}] = true
							changed = append(changed, id)
						}
					}
					rs.Mapped[id] = ms
					continue
				}
				switch rs.States[id] {
				case running:
					rs.States[id] = success
					changed = append(changed, id)
				case sched:
					ready = append(ready, inst{Ref{id, -1}})
				case retry:
					rs.Due[id] = true
					changed = append(changed, id)
				}
			}
			if len(ready) == 0 && len(changed) == 0 {
				t.Fatalf("seed %d step %d: run stuck: %v %v", seed, step, rs.States, rs.Mapped)
			}
			r.Shuffle(len(ready), func(i, j int) { ready[i], ready[j] = ready[j], ready[i] })
			for _, in := range ready[:min(len(ready), 1+r.IntN(4))] {
				s := []windsock.TaskInstanceState{success, success, success, failed, skipped, running, retry}[r.IntN(7)]
				if in.ref.MapIndex < 0 {
					rs.States[in.ref.TaskID] = s
				} else {
					rs.Mapped[in.ref.TaskID][in.ref.MapIndex] = s
				}
				changed = append(changed, in.ref.TaskID)
			}
		}
		if !finished {
			t.Fatalf("seed %d: run did not finish", seed)
		}
	}
}
