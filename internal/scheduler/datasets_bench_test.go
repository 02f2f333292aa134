package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// BenchmarkDatasetTriggerPostgres measures, with two schedulers sharing
// PostgreSQL (woken by LISTEN/NOTIFY, safety-net pass every hour), the
// time from a dataset event's commit time (its timestamp, taken just
// before) to the creation of the consumer's run (its queued_at).
func BenchmarkDatasetTriggerPostgres(b *testing.B) {
	stores := sharedPostgres(b, 3)
	storeConsumer(b, stores[0], "consumer", windsock.DatasetURI("s3://a"))
	for _, st := range stores[:2] {
		s, err := New(Config{Store: st, Executor: nopExecutor{}, Shared: true, Interval: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(s.Stop)
	}
	ctx := context.Background()
	var total, worst time.Duration
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var ev *windsock.DatasetEvent
		if err := stores[2].InTx(ctx, func(q store.Queries) error {
			var err error
			ev, err = RecordDatasetEvent(ctx, q, &store.DatasetEventCreateParams{URI: "s3://a", SourceMapIndex: -1, Timestamp: time.Now()})
			return err
		}); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			runs, err := stores[2].DagRunList(ctx, &store.DagRunListParams{DagID: "consumer", OrderBy: "-execution_date", Limit: 1})
			if err != nil {
				b.Fatal(err)
			}
			if len(runs) > 0 && !runs[0].LogicalDate.Before(ev.Timestamp) {
				d := runs[0].QueuedAt.Sub(ev.Timestamp)
				total += d
				worst = max(worst, d)
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("event %d: no consumer run within 30 s", i)
			}
			<-tick.C
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-to-consumer-run")
	b.ReportMetric(float64(worst.Microseconds())/1000, "ms-worst")
}
