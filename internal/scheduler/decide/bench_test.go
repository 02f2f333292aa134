package decide

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

// benchRun is a 1,000-task DAG of ten layers of 100, each task depending on
// three tasks of the layer before, caught mid-run: layers 0-4 succeeded,
// layer 5 is running except one task that has just succeeded.
func benchRun(b *testing.B) (*Graph, RunState, string) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	const layers, width = 10, 100
	var tasks []*windsock.Task
	id := func(l, i int) string { return fmt.Sprintf("l%d_t%03d", l, i) }
	for l := range layers {
		for i := range width {
			var up []string
			if l > 0 {
				for range 3 {
					up = append(up, id(l-1, r.IntN(width)))
				}
			}
			tasks = append(tasks, task(id(l, i), windsock.TriggerAllSuccess, up...))
		}
	}
	g := NewGraph(&windsock.DAG{DagID: "bench", Tasks: tasks})
	st := map[string]windsock.TaskInstanceState{}
	for l := range 5 {
		for i := range width {
			st[id(l, i)] = success
		}
	}
	for i := range width {
		st[id(5, i)] = running
	}
	changed := id(5, 42)
	st[changed] = success
	return g, RunState{States: st}, changed
}

func BenchmarkEvaluate1000(b *testing.B) {
	g, rs, _ := benchRun(b)
	b.ReportAllocs()
	for b.Loop() {
		g.Evaluate(rs)
	}
}

func BenchmarkEvaluateChanged1000(b *testing.B) {
	g, rs, changed := benchRun(b)
	if !sameDecision(g.Evaluate(rs), g.EvaluateChanged(rs, []string{changed})) {
		b.Fatal("EvaluateChanged disagrees with Evaluate")
	}
	b.ReportAllocs()
	for b.Loop() {
		g.EvaluateChanged(rs, []string{changed})
	}
}

// BenchmarkEvaluateChangedLastRunning is the slow path of the finished
// check: the only instance in flight is found by scanning the snapshot.
func BenchmarkEvaluateChangedLastRunning(b *testing.B) {
	g, rs, changed := benchRun(b)
	for id, s := range rs.States {
		if s == running {
			rs.States[id] = success
		}
	}
	rs.States["l5_t099"] = running
	// The next layer is already settled, so nothing gets scheduled and the
	// finished check has to look for the one running instance.
	for i := range 100 {
		rs.States[fmt.Sprintf("l6_t%03d", i)] = skipped
	}
	b.ReportAllocs()
	for b.Loop() {
		g.EvaluateChanged(rs, []string{changed})
	}
}

func BenchmarkNewGraph1000(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var tasks []*windsock.Task
	for l := range 10 {
		for i := range 100 {
			var up []string
			if l > 0 {
				for range 3 {
					up = append(up, fmt.Sprintf("l%d_t%03d", l-1, r.IntN(100)))
				}
			}
			tasks = append(tasks, task(fmt.Sprintf("l%d_t%03d", l, i), windsock.TriggerAllSuccess, up...))
		}
	}
	d := &windsock.DAG{DagID: "bench", Tasks: tasks}
	b.ReportAllocs()
	for b.Loop() {
		NewGraph(d)
	}
}
