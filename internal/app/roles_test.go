package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/windsock"
)

// openWithRoles opens an environment in a fresh home whose DAG folder
// holds files, running roles.
func openWithRoles(tb testing.TB, files map[string]string, roles Roles) *Environment {
	tb.Helper()
	cfg, environ := benchConfig(tb, files)
	env, err := Open(context.Background(), cfg, Options{Environ: environ, Roles: roles, Version: "test"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(env.Stop)
	return env
}

// createRun stores a manual run of a parsed DAG, as the API of another
// process would: only the store tells the schedulers of it.
func createRun(t *testing.T, env *Environment, dagID string) *windsock.DagRun {
	t.Helper()
	ctx := context.Background()
	sd, err := env.Store.SerializedDAGGet(ctx, dagID)
	if err != nil {
		t.Fatal(err)
	}
	var d windsock.DAG
	if err := windsock.DecodeJSON(sd.Data, &d); err != nil {
		t.Fatal(err)
	}
	run, err := scheduler.CreateRun(ctx, env.Store, &d, decide.NewGraph(&d), scheduler.NewRun{LogicalDate: day, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestOpenRunsTheRolesNamed: an environment opened with a DAG processor,
// a scheduler and the web server parses its DAGs, runs a triggered run to
// the end, answers /health through its Handler and its own listener, and
// reports its load; Stop stops it all, and may be called again.
func TestOpenRunsTheRolesNamed(t *testing.T) {
	t.Parallel()
	env := openWithRoles(t, map[string]string{"hello.yaml": chainYAML("hello", 2)},
		Roles{DAGProcessor: true, Schedulers: 1, Web: true, WebAddr: "127.0.0.1:0"})
	ctx := context.Background()
	h := env.Health(ctx)
	if h.Metadatabase.Status != "healthy" || h.Scheduler.Status == nil || *h.Scheduler.Status != "healthy" ||
		h.DagProcessor.Status == nil || *h.DagProcessor.Status != "healthy" {
		t.Fatalf("health of a started environment: %+v", h)
	}
	rec := httptest.NewRecorder()
	env.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/health", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /health through Handler: %d", rec.Code)
	}
	resp, err := http.Get("http://" + env.WebAddr() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var served struct{ Version string }
	err = json.NewDecoder(resp.Body).Decode(&served)
	resp.Body.Close()
	if err != nil || served.Version != "test" {
		t.Fatalf("GET /health on %s: version %q, %v", env.WebAddr(), served.Version, err)
	}
	load, err := env.Load(ctx)
	if err != nil || load.Slots != env.Config.Core.Parallelism || load.Running != 0 || load.Queued != 0 {
		t.Fatalf("load of an idle environment: %+v, %v", load, err)
	}

	// A run created in the store (as another process's API would) is
	// started by the scheduler's periodic pass and runs to the end.
	run := createRun(t, env, "hello")
	eventually(t, time.Minute, "the run's success", func() bool {
		r, err := env.Store.DagRunGet(ctx, "hello", run.RunID)
		return err == nil && r.State == windsock.DagRunSuccess
	})
	env.Stop()
	env.Stop()
	if env.Failed() == nil {
		t.Fatal("Failed is nil after Start")
	}
	select {
	case err := <-env.Failed():
		t.Fatalf("a role failed: %v", err)
	default:
	}
}

// TestDrainHandsBackWhatOutlivesTheGrace: Load counts a running try; Drain
// with no grace hands it back (to run again as the same try) and stops
// every role; the store stays open until Stop.
func TestDrainHandsBackWhatOutlivesTheGrace(t *testing.T) {
	t.Parallel()
	env := openWithRoles(t, map[string]string{"slow.yaml": `
slow:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: nap, operator: bash, bash_command: "sleep 300"}
`}, Roles{DAGProcessor: true, Schedulers: 1})
	ctx := context.Background()
	run := createRun(t, env, "slow")
	eventually(t, time.Minute, "the try running", func() bool {
		l, err := env.Load(ctx)
		return err == nil && l.Running == 1
	})
	env.Drain(ctx, 0)
	ti, err := env.Store.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: "slow", TaskID: "nap", RunID: run.RunID, MapIndex: -1})
	if err != nil {
		t.Fatal(err)
	}
	if ti.State == windsock.TaskStateRunning || ti.State == windsock.TaskStateFailed {
		t.Fatalf("after Drain the try is %s, want handed back", ti.State)
	}
	if l, err := env.Load(ctx); err != nil || l.Running != 0 {
		t.Fatalf("load after Drain: %+v, %v", l, err)
	}
	if job, err := env.Store.JobLatest(ctx, windsock.JobTypeScheduler); windsock.ErrorCode(err) != windsock.ENOTFOUND {
		t.Fatalf("a scheduler job still runs after Drain: %+v, %v", job, err)
	}
}

// BenchmarkIdleEnvironments opens WINDSOCK_IDLE_ENVS (default 40) idle
// environments in this process, each with its own SQLite home and a DAG
// processor, a scheduler and a local executor, and reports what each
// costs: live heap bytes, and CPU while idle for WINDSOCK_IDLE_SECONDS
// (default 10) as a percentage of one core (target: under 3 MB and 0.2 %).
func BenchmarkIdleEnvironments(b *testing.B) {
	n := envInt("WINDSOCK_IDLE_ENVS", 40)
	idle := time.Duration(envInt("WINDSOCK_IDLE_SECONDS", 10)) * time.Second
	for range b.N {
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rss0 := residentBytes(b)
		envs := make([]*Environment, n)
		for i := range envs {
			envs[i] = openWithRoles(b, map[string]string{"hello.yaml": chainYAML(fmt.Sprintf("hello%d", i), 3)},
				Roles{DAGProcessor: true, Schedulers: 1})
		}
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		rss := residentBytes(b) - rss0
		cpu0 := cpuTime(b)
		start := time.Now()
		time.Sleep(idle) // the measurement itself: idle time, not a wait for an event
		used := cpuTime(b) - cpu0
		wall := time.Since(start)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heap-B/env")
		// The SQLite driver allocates outside the Go heap: the resident
		// set counts it.
		b.ReportMetric(float64(rss)/float64(n), "rss-B/env")
		b.ReportMetric(100*used.Seconds()/wall.Seconds()/float64(n), "%core/env")
		for _, env := range envs {
			env.Stop()
		}
	}
}

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(name), &v); err != nil || v <= 0 {
		return def
	}
	return v
}

// residentBytes is this process's resident set size.
func residentBytes(tb testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		tb.Skip("no /proc/self/statm:", err)
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		tb.Fatal(err)
	}
	return resident * int64(os.Getpagesize())
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
