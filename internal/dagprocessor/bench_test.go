package dagprocessor

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkSync1000Files parses 1,000 DAG files of 10 tasks each into a
// fresh store: the target is under 2 s per op on 2 cores.
func BenchmarkSync1000Files(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		bundle := setup(b, nil)
		for f := 0; f < 1000; f++ {
			bundle.write(b, fmt.Sprintf("dir%02d/dag_%04d.yaml", f%20, f), chainDAG(fmt.Sprintf("dag_%04d", f), 10, "echo"))
		}
		b.StartTimer()
		rep, err := bundle.proc.Sync(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if rep.Written != 1000 {
			b.Fatalf("wrote %d DAGs, want 1000", rep.Written)
		}
	}
}

// BenchmarkChangeVisible measures, with 1,000 DAG files loaded and the
// service watching, the time from rewriting one file to its new definition
// being stored: the target is under 1 s.
func BenchmarkChangeVisible(b *testing.B) {
	ctx := context.Background()
	passes := make(chan *Report, 64)
	bundle := setup(b, func(r *Report) { passes <- r })
	for f := 0; f < 1000; f++ {
		bundle.write(b, fmt.Sprintf("dir%02d/dag_%04d.yaml", f%20, f), chainDAG(fmt.Sprintf("dag_%04d", f), 10, "echo"))
	}
	if err := bundle.proc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bundle.write(b, "dir07/dag_0007.yaml", chainDAG("dag_0007", 10, fmt.Sprintf("echo v%d", i)))
		timeout := time.After(10 * time.Second)
	wait:
		for {
			select {
			case r := <-passes:
				if r.Written > 0 {
					break wait
				}
			case <-timeout:
				b.Fatal("change not stored within 10 s")
			}
		}
	}
}
