package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/windsock"
)

// trueTasksDAG is a DAG of n independent `true` tasks.
func trueTasksDAG(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  schedule: null\n  start_date: 2024-01-01\n  max_active_tasks: 1000\n  tasks:\n", id)
	for i := range n {
		fmt.Fprintf(&b, "    - {task_id: t%04d, operator: bash, bash_command: 'true'}\n", i)
	}
	return b.String()
}

// trueChainDAG is a chain of n `true` tasks.
func trueChainDAG(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  schedule: null\n  start_date: 2024-01-01\n  tasks:\n", id)
	for i := range n {
		dep := ""
		if i > 0 {
			dep = fmt.Sprintf(", dependencies: [t%03d]", i-1)
		}
		fmt.Fprintf(&b, "    - {task_id: t%03d, operator: bash, bash_command: 'true'%s}\n", i, dep)
	}
	return b.String()
}

// startCluster starts a DAG processor, the schedulers and the workers
// (each with concurrency slots) and waits for the DAGs.
func startCluster(b *testing.B, c *cluster, schedulers, workers, concurrency int, dagIDs ...string) {
	c.start("dag-processor", "dag-processor")
	for i := range schedulers {
		c.start(fmt.Sprintf("scheduler-%d", i+1), "scheduler")
	}
	for i := range workers {
		c.start(fmt.Sprintf("worker-%d", i+1), "worker", "--hostname", fmt.Sprintf("127.0.0.%d", i+2), "--concurrency", fmt.Sprint(concurrency))
	}
	for _, id := range dagIDs {
		c.waitDAG(id)
	}
}

// trigger creates a manual run straight in the database and tells the
// schedulers, as `dags trigger` does without the cost of starting a
// process (which would dominate the figures).
func (c *cluster) trigger(dagID, runID string) {
	c.t.Helper()
	ctx := context.Background()
	sd, err := c.store.SerializedDAGGet(ctx, dagID)
	if err != nil {
		c.t.Fatal(err)
	}
	var d windsock.DAG
	if err := json.Unmarshal(sd.Data, &d); err != nil {
		c.t.Fatal(err)
	}
	if _, err := scheduler.CreateRun(ctx, c.store, &d, decide.NewGraph(&d), scheduler.NewRun{RunID: runID, LogicalDate: time.Now(), Now: time.Now()}); err != nil {
		c.t.Fatal(err)
	}
	if err := scheduler.NotifyRunChanged(ctx, c.store, dagID, runID); err != nil {
		c.t.Fatal(err)
	}
}

// runAll triggers a run of each DAG and waits for all to succeed.
func runAll(b *testing.B, c *cluster, runID string, dagIDs ...string) {
	for _, id := range dagIDs {
		c.trigger(id, runID)
	}
	for _, id := range dagIDs {
		if state := c.waitRun(id, runID, 5*time.Minute); state != windsock.DagRunSuccess {
			b.Fatalf("run %s/%s ended %s", id, runID, state)
		}
	}
}

// BenchmarkClusterFanOut1000 runs 1,000 independent `true` tasks through 2
// schedulers and 2 workers on PostgreSQL (issue target: 300 tasks/s).
func BenchmarkClusterFanOut1000(b *testing.B) {
	c := newCluster(b, clusterOption{"CORE__PARALLELISM", "64"}, clusterOption{"CORE__MAX_ACTIVE_TASKS_PER_DAG", "1000"})
	c.writeDAG("fan.yaml", trueTasksDAG("fan", 1000))
	startCluster(b, c, 2, 2, 32, "fan")
	b.ResetTimer()
	for i := range b.N {
		runAll(b, c, fmt.Sprintf("r%d", i), "fan")
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "tasks/s")
}

// BenchmarkClusterChain100 measures the per-hop latency of a chain of 100
// `true` tasks through 2 schedulers and 2 workers (issue target: < 10 ms).
func BenchmarkClusterChain100(b *testing.B) {
	c := newCluster(b)
	c.writeDAG("chain.yaml", trueChainDAG("chain", 100))
	startCluster(b, c, 2, 2, 16, "chain")
	b.ResetTimer()
	for i := range b.N {
		runAll(b, c, fmt.Sprintf("r%d", i), "chain")
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(100*b.N), "ms/hop")
}

// BenchmarkClusterSchedulers runs 10 DAGs of 100 independent `true` tasks
// with 1 and then 2 schedulers (2 workers): how scheduling throughput
// grows with a second scheduler.
func BenchmarkClusterSchedulers(b *testing.B) {
	benchmarkSchedulers(b, 10, 100, 2, 32, func(d int) (string, string) {
		id := fmt.Sprintf("d%02d", d)
		return id, trueTasksDAG(id, 100)
	}, clusterOption{"CORE__PARALLELISM", "64"})
}

// benchmarkSchedulers runs dags DAGs of tasks tasks each (made by dag from
// their number), with 1 and then 2 schedulers and the given workers, and
// reports tasks/s.
func benchmarkSchedulers(b *testing.B, dags, tasks, workers, concurrency int, dag func(d int) (id, yaml string), opts ...clusterOption) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("schedulers=%d", n), func(b *testing.B) {
			c := newCluster(b, opts...)
			var ids []string
			for d := range dags {
				id, yaml := dag(d)
				ids = append(ids, id)
				c.writeDAG(id+".yaml", yaml)
			}
			startCluster(b, c, n, workers, concurrency, ids...)
			b.ResetTimer()
			for i := range b.N {
				runAll(b, c, fmt.Sprintf("r%d", i), ids...)
			}
			b.ReportMetric(float64(dags*tasks*b.N)/b.Elapsed().Seconds(), "tasks/s")
		})
	}
}

// emptyChainDAG is a chain of n EmptyOperator tasks: scheduling work only
// (the scheduler marks them successful without a worker).
func emptyChainDAG(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  schedule: null\n  start_date: 2024-01-01\n  tasks:\n", id)
	for i := range n {
		dep := ""
		if i > 0 {
			dep = fmt.Sprintf(", dependencies: [t%03d]", i-1)
		}
		fmt.Fprintf(&b, "    - {task_id: t%03d, operator: empty%s}\n", i, dep)
	}
	return b.String()
}

// BenchmarkClusterSchedulingOnly measures the schedulers alone: 40 runs of
// 50-task EmptyOperator chains (2,000 task decisions, each its own
// transaction), with 1 and then 2 schedulers and no workers.
func BenchmarkClusterSchedulingOnly(b *testing.B) {
	benchmarkSchedulers(b, 40, 50, 0, 0, func(d int) (string, string) {
		id := fmt.Sprintf("e%02d", d)
		return id, emptyChainDAG(id, 50)
	})
}
