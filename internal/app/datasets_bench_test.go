package app

import (
	"context"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// BenchmarkDatasetTrigger measures, per producer run, the time from the
// producer's success (its try's end date, written in the transaction that
// records the dataset event) to the creation of the consumer's
// dataset_triggered run (its queued_at): event-driven, so well under the
// 100 ms target and independent of the scheduler's safety-net interval,
// which is set to an hour here.
func BenchmarkDatasetTrigger(b *testing.B) {
	env := benchEnv(b, map[string]string{"datasets.yaml": `
producer:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: load, operator: bash, bash_command: "true", outlets: ['s3://bench/x']}
consumer:
  schedule: ['s3://bench/x']
  start_date: 2024-01-01
  tasks:
    - {task_id: report, operator: empty}
`})
	ctx := context.Background()
	runs := make(chan *windsock.DagRun, 16)
	engine, err := env.NewEngine(EngineOptions{Interval: time.Hour, OnRunFinished: func(r *windsock.DagRun) { runs <- r }})
	if err != nil {
		b.Fatal(err)
	}
	if err := engine.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer engine.Stop()
	er := &engineRun{env: env, engine: engine, runs: runs}
	var total, worst time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		produced, consumed := er.produce(b, "producer", "consumer", day.Add(time.Duration(i)*time.Second))
		ti, err := env.Store.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: "producer", TaskID: "load", RunID: produced.RunID, MapIndex: -1})
		if err != nil {
			b.Fatal(err)
		}
		d := consumed.QueuedAt.Sub(*ti.EndDate)
		total += d
		worst = max(worst, d)
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-to-consumer-run")
	b.ReportMetric(float64(worst.Microseconds())/1000, "ms-worst")
	if q, err := env.Store.DatasetQueueList(ctx, &store.DatasetQueueParams{}); err != nil || len(q) != 0 {
		b.Fatalf("queue left %d rows (%v)", len(q), err)
	}
}
