package app

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/benchdir"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/operator/process"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// benchEnv opens an environment in a temporary home whose DAG folder holds
// the given files, parsed into the store; environ adds settings.
func benchEnv(tb testing.TB, files map[string]string, environ ...string) *Environment {
	tb.Helper()
	cfg, environ := benchConfig(tb, files, environ...)
	ctx := context.Background()
	env, err := Open(ctx, cfg, Options{Environ: environ})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { env.Close() })
	proc, err := env.NewDAGProcessor(nil)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := proc.Sync(ctx); err != nil {
		tb.Fatal(err)
	}
	return env
}

// benchConfig writes a fresh home whose DAG folder holds files and
// returns its config and environment variables (environ adds settings).
func benchConfig(tb testing.TB, files map[string]string, environ ...string) (*config.Config, []string) {
	tb.Helper()
	home := benchHome(tb)
	for name, content := range files {
		path := filepath.Join(home, "dags", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	environ = append([]string{"WINDSOCK_HOME=" + home, "HOME=" + home, "PATH=" + os.Getenv("PATH"), "WINDSOCK__CORE__LOAD_EXAMPLES=False", "WINDSOCK__CORE__DAGS_ARE_PAUSED_AT_CREATION=False"}, environ...)
	if _, err := config.EnsureFile(home, environ); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(home, environ)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg, environ
}

// benchHome is a fresh WINDSOCK_HOME on the disk being measured (see
// package benchdir).
func benchHome(tb testing.TB) string {
	return benchdir.New(tb, "home")
}

func chainYAML(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  schedule: null\n  start_date: 2024-01-01\n  tasks:\n", id)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    - task_id: t%d\n      operator: bash\n      bash_command: \"true\"\n", i)
		if i > 0 {
			fmt.Fprintf(&b, "      dependencies: [t%d]\n", i-1)
		}
	}
	return b.String()
}

func fanYAML(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  schedule: null\n  start_date: 2024-01-01\n  max_active_tasks: %d\n  tasks:\n", id, n)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    - task_id: t%d\n      operator: bash\n      bash_command: \"true\"\n", i)
	}
	return b.String()
}

// runOnce triggers dagID on a started engine and waits for the run to end.
func runOnce(tb testing.TB, env *Environment, dagID string, i int) time.Duration {
	tb.Helper()
	ctx := context.Background()
	done := make(chan *windsock.DagRun, 1)
	engine, err := env.NewEngine(EngineOptions{OnRunFinished: func(r *windsock.DagRun) { done <- r }})
	if err != nil {
		tb.Fatal(err)
	}
	if err := engine.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	defer engine.Stop()
	d, err := engine.Scheduler.DAG(ctx, dagID)
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	run, err := scheduler.CreateRun(ctx, env.Store, d, decide.NewGraph(d), scheduler.NewRun{
		LogicalDate: time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC), Now: time.Now(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	engine.Scheduler.RunChanged(run.DagID, run.RunID)
	select {
	case r := <-done:
		if r.State != windsock.DagRunSuccess {
			tb.Fatalf("run ended %s", r.State)
		}
	case <-time.After(2 * time.Minute):
		tb.Fatal("run did not finish within 2 minutes")
	}
	return time.Since(start)
}

// BenchmarkChain100 is a chain of 100 `true` bash tasks from trigger to
// the last success (target: under 250 ms, 2.5 ms per hop).
func BenchmarkChain100(b *testing.B) {
	env := benchEnv(b, map[string]string{"chain.yaml": chainYAML("chain100", 100)})
	b.ResetTimer()
	var total time.Duration
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		total += runOnce(b, env, "chain100", i)
	}
	cpu.report(b, 100*b.N)
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/100/1000, "ms/hop")
}

// BenchmarkFanOut1000 runs 1,000 independent `true` tasks (target: 1,000
// tasks/s or more).
func BenchmarkFanOut1000(b *testing.B) {
	env := benchEnv(b, map[string]string{"fan.yaml": fanYAML("fan1000", 1000)})
	b.ResetTimer()
	var total time.Duration
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		total += runOnce(b, env, "fan1000", i)
	}
	cpu.report(b, 1000*b.N)
	b.ReportMetric(1000*float64(b.N)/total.Seconds(), "tasks/s")
}

// cpuUse is the processor time used since startCPU, by this process
// (Windsock: scheduler, executor, store) and by its waited-for children
// (the tasks' processes). On a machine whose cores are saturated the
// wall-clock figures follow from these, and unlike them these hardly move
// with whatever else the machine does, so they are what to compare when
// changing the engine.
type cpuUse struct{ self, children time.Duration }

func startCPU() cpuUse { return readCPU() }

func readCPU() cpuUse {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return cpuUse{
		self:     tv(self.Utime) + tv(self.Stime),
		children: tv(children.Utime) + tv(children.Stime),
	}
}

// report adds the processor time per task since c as two metrics:
// engine-µs/task and task-µs/task.
func (c cpuUse) report(b *testing.B, tasks int) {
	now := readCPU()
	b.ReportMetric(float64((now.self-c.self).Microseconds())/float64(tasks), "engine-µs/task")
	b.ReportMetric(float64((now.children-c.children).Microseconds())/float64(tasks), "task-µs/task")
}

// benchmarkIdlePass measures one periodic scheduler pass with n idle DAGs
// loaded (scheduled daily, next run not due): its cost must not grow with
// the number of DAGs.
func benchmarkIdlePass(b *testing.B, n int) {
	files := map[string]string{}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("idle_%04d", i)
		files[id+".yaml"] = fmt.Sprintf("%s:\n  schedule: '@daily'\n  start_date: 2024-01-01\n  catchup: false\n  tasks:\n    - {task_id: a, operator: empty}\n", id)
	}
	env := benchEnv(b, files)
	ctx := context.Background()
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	env.Clock = func() time.Time { return now }
	engine, err := env.NewEngine(EngineOptions{})
	if err != nil {
		b.Fatal(err)
	}
	// The first pass loads the definitions and creates today's runs; run
	// them to the end so that every DAG is idle.
	for i := 0; i < 2; i++ {
		if err := engine.Scheduler.Pass(ctx, true); err != nil {
			b.Fatal(err)
		}
	}
	runs, err := env.Store.DagRunList(ctx, &store.DagRunListParams{})
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range runs {
		if err := scheduler.SetDagRunState(ctx, env.Store, r, windsock.DagRunSuccess, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := engine.Scheduler.Pass(ctx, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIdlePass10DAGs(b *testing.B)   { benchmarkIdlePass(b, 10) }
func BenchmarkIdlePass1000DAGs(b *testing.B) { benchmarkIdlePass(b, 1000) }

// BenchmarkBashTrueLimit measures the machine's physical limit the engine
// figures are read against: how many `bash -c true` it starts per second
// with nothing else going on, 16 at a time as slots would (one op is
// 1,000 starts). FanOut1000's tasks/s divided by this is the share of the
// limit the engine reaches; the target (1,000 of ~1,500) is two
// thirds.
func BenchmarkBashTrueLimit(b *testing.B) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		b.Skip("no bash")
	}
	cmd := &process.Command{Path: bash, Args: []string{"bash", "-c", "true"}}
	const starts, slots = 1000, 16
	for b.Loop() {
		work := make(chan struct{}, starts)
		for range starts {
			work <- struct{}{}
		}
		close(work)
		var wg sync.WaitGroup
		for range slots {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range work {
					if _, err := (process.Runner{}).Run(context.Background(), cmd); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(starts*b.N)/b.Elapsed().Seconds(), "starts/s")
}
