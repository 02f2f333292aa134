package decide_test

import (
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/windsock"
)

func ExampleGraph_Evaluate() {
	dag := &windsock.DAG{DagID: "etl", Tasks: []*windsock.Task{
		{TaskID: "extract", TriggerRule: windsock.TriggerAllSuccess},
		{TaskID: "transform", TriggerRule: windsock.TriggerAllSuccess, Upstream: []string{"extract"}},
		{TaskID: "load", TriggerRule: windsock.TriggerAllSuccess, Upstream: []string{"transform"}},
		{TaskID: "notify", TriggerRule: windsock.TriggerAllDone, Upstream: []string{"load"}},
	}}
	g := decide.NewGraph(dag)

	d := g.Evaluate(decide.RunState{})
	fmt.Println("schedule:", d.Schedule)

	d = g.Evaluate(decide.RunState{States: map[string]windsock.TaskInstanceState{"extract": windsock.TaskStateFailed}})
	fmt.Println("schedule:", d.Schedule, "set:", d.SetState)

	d = g.Evaluate(decide.RunState{States: map[string]windsock.TaskInstanceState{
		"extract": windsock.TaskStateFailed, "transform": windsock.TaskStateUpstreamFailed,
		"load": windsock.TaskStateUpstreamFailed, "notify": windsock.TaskStateSuccess,
	}})
	// The only leaf succeeded, so the run succeeds despite the failure.
	fmt.Println("finished:", d.RunFinished, d.RunState)
	// Output:
	// schedule: [extract]
	// schedule: [notify] set: map[load:upstream_failed transform:upstream_failed]
	// finished: true success
}

func ExampleRetryDelay() {
	t := &windsock.Task{TaskID: "load", RetryDelay: windsock.Duration(5 * time.Minute), RetryExponentialBackoff: true}
	for try := 1; try <= 3; try++ {
		fmt.Println(try, decide.RetryDelay(t, "etl", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), try))
	}
	// Output:
	// 1 5m22s
	// 2 19m35s
	// 3 29m13s
}
