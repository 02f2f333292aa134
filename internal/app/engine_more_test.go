package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/taskrun"
	"github.com/windsock/windsock/internal/windsock"
)

// startEngineWith is startEngine with the caller's options (its
// OnRunFinished and OnTryDone are replaced by the engineRun's).
func startEngineWith(t *testing.T, env *Environment, opts EngineOptions, onTry func(*taskrun.Try, *taskrun.Outcome)) *engineRun {
	t.Helper()
	er := &engineRun{env: env, runs: make(chan *windsock.DagRun, 16)}
	opts.OnRunFinished = func(r *windsock.DagRun) { er.runs <- r }
	opts.OnTryDone = func(try *taskrun.Try, out *taskrun.Outcome) {
		er.mu.Lock()
		er.tries = append(er.tries, out)
		er.mu.Unlock()
		if onTry != nil {
			onTry(try, out)
		}
	}
	engine, err := env.NewEngine(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Stop)
	er.engine = engine
	return er
}

// start creates a manual run and tells the scheduler, without waiting for
// it to finish.
func (er *engineRun) start(t testing.TB, dagID string, logical time.Time) *windsock.DagRun {
	t.Helper()
	ctx := context.Background()
	d, err := er.engine.Scheduler.DAG(ctx, dagID)
	if err != nil {
		t.Fatal(err)
	}
	run, err := scheduler.CreateRun(ctx, er.env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: logical, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	er.engine.Scheduler.RunChanged(run.DagID, run.RunID)
	return run
}

// eventually checks cond until it holds, for state only visible in files
// and in the store (task processes cannot signal the test).
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		<-tick.C
	}
}

// processGone reports whether pid no longer runs (exited, or a zombie
// waiting to be reaped).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return os.IsNotExist(err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the state follows the command name
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestEngineDagrunTimeout: a run past dagrun_timeout is failed, its running
// task is skipped and its process tree (a background child included) is
// killed, and the DAG's on_failure_callback is told reason "timed_out"; a
// run of a DAG with a dagrun_timeout that fails in time reports
// "task_failure".
func TestEngineDagrunTimeout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gate, pidFile := filepath.Join(dir, "gate-never-made"), filepath.Join(dir, "child.pid")
	timedOutCB, failedCB := filepath.Join(dir, "timed-out-callback"), filepath.Join(dir, "failed-callback")
	// The callback writes what it was told to a file, atomically.
	callback := func(out string) string {
		return fmt.Sprintf(`'echo "$WINDSOCK_CALLBACK|$WINDSOCK_STATE|$WINDSOCK_REASON|$AIRFLOW_CTX_DAG_RUN_ID" > %[1]s.tmp && mv %[1]s.tmp %[1]s'`, out)
	}
	env := benchEnv(t, map[string]string{
		"timeout.yaml": fmt.Sprintf(`
overdue:
  schedule: null
  start_date: 2024-01-01
  dagrun_timeout: 2s
  on_failure_callback: %s
  tasks:
    - task_id: stuck
      operator: bash
      # A child in the background, then a wait (60 s at most) for a gate
      # that never opens.
      bash_command: 'sleep 300 >/dev/null 2>&1 & echo $! > %[2]s.tmp && mv %[2]s.tmp %[2]s; for i in $(seq 600); do [ -e %[3]s ] && exit 0; sleep 0.1; done; exit 1'
`, callback(timedOutCB), pidFile, gate),
		"quick.yaml": fmt.Sprintf(`
quick_fail:
  schedule: null
  start_date: 2024-01-01
  dagrun_timeout: 1h
  on_failure_callback: %s
  tasks:
    - {task_id: boom, operator: bash, bash_command: "exit 1"}
`, callback(failedCB)),
	})
	// Executors heartbeat (and so notice the skipped task) every 100 ms.
	env.Config.Scheduler.SchedulerHeartbeatSec = 100 * time.Millisecond
	env.Config.Core.KilledTaskCleanupTime = time.Second
	resetOperators(env)
	tries := make(chan *taskrun.Outcome, 8)
	er := startEngine(t, env, func(try *taskrun.Try, out *taskrun.Outcome) {
		if try.TI.DagID == "overdue" {
			tries <- out
		}
	})
	run := er.start(t, "overdue", day)
	var pid int
	eventually(t, 30*time.Second, "the task wrote its child's pid", func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return false
		}
		_, err = fmt.Sscan(string(b), &pid)
		return err == nil
	})
	if processGone(pid) {
		t.Fatalf("the task's child %d is not running before the timeout", pid)
	}

	if r := er.wait(t, run.RunID); r.State != windsock.DagRunFailed {
		t.Fatalf("run = %s, want failed past dagrun_timeout", r.State)
	}
	if st := states(t, env, run)["stuck"].State; st != windsock.TaskStateSkipped {
		t.Errorf("the running task is %q after the timeout, want skipped", st)
	}
	select {
	case out := <-tries:
		if out.Recorded {
			t.Errorf("the killed try's outcome %s was recorded over the skip", out.State)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the timed-out run's try was not stopped within 30 s")
	}
	eventually(t, 10*time.Second, "the task's background child is killed", func() bool { return processGone(pid) })
	if st := states(t, env, run)["stuck"].State; st != windsock.TaskStateSkipped {
		t.Errorf("after the kill the task is %q, want skipped", st)
	}
	read := func(path string) string {
		var got string
		eventually(t, 30*time.Second, "the DAG's on_failure_callback ran", func() bool {
			b, err := os.ReadFile(path)
			got = strings.TrimSpace(string(b))
			return err == nil
		})
		return got
	}
	if got, want := read(timedOutCB), "on_failure_callback|failed|timed_out|"+run.RunID; got != want {
		t.Errorf("timed-out run's callback was told %q, want %q", got, want)
	}

	// Failing well within its dagrun_timeout is a task failure.
	quick := er.trigger(t, "quick_fail", day, nil)
	if quick.State != windsock.DagRunFailed {
		t.Fatalf("quick_fail run = %s", quick.State)
	}
	if got, want := read(failedCB), "on_failure_callback|failed|task_failure|"+quick.RunID; got != want {
		t.Errorf("failed run's callback was told %q, want %q", got, want)
	}
}

// TestEngineStartsDownstreamTasksOnEvents: with the periodic pass an hour
// apart, a chain of three tasks still runs to the end: each finished try
// starts what follows, not the safety-net poll.
func TestEngineStartsDownstreamTasksOnEvents(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"chain.yaml": `
evented:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: one, operator: bash, bash_command: "true"}
    - {task_id: two, operator: bash, bash_command: "true", dependencies: [one]}
    - {task_id: three, operator: bash, bash_command: "true", dependencies: [two]}
`})
	er := startEngineWith(t, env, EngineOptions{Interval: time.Hour}, nil)
	start := time.Now()
	run := er.trigger(t, "evented", day, nil) // fails the test after 60 s
	if run.State != windsock.DagRunSuccess {
		t.Fatalf("run = %s", run.State)
	}
	for id, ti := range states(t, env, run) {
		if ti.State != windsock.TaskStateSuccess {
			t.Errorf("%s = %s", id, ti.State)
		}
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the chain took %s", d)
	}
}

// TestEngineHoldsARetryUntilItsDelay drives the scheduler by hand with an
// injected clock: a failed try waits in up_for_retry until next_retry_at
// (retry_delay with exponential backoff), however many passes run, and is
// retried once the clock passes it.
func TestEngineHoldsARetryUntilItsDelay(t *testing.T) {
	t.Parallel()
	counter := filepath.Join(t.TempDir(), "count")
	env := benchEnv(t, map[string]string{"later.yaml": fmt.Sprintf(`
later:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: flaky
      operator: bash
      retries: 1
      retry_delay: 1h
      retry_exponential_backoff: true
      # Fails on its first try, succeeds on the second.
      bash_command: 'echo x >> %[1]s; test $(wc -l < %[1]s) -ge 2'
`, counter)})
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now().UTC().Truncate(time.Second)
	env.Clock = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	setClock := func(t time.Time) {
		mu.Lock()
		now = t
		mu.Unlock()
	}
	tries := make(chan *taskrun.Outcome, 4)
	engine, err := env.NewEngine(EngineOptions{OnTryDone: func(_ *taskrun.Try, out *taskrun.Outcome) { tries <- out }})
	if err != nil {
		t.Fatal(err)
	}
	// Only the executor runs on its own; the test runs the passes.
	if err := engine.Executor.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Executor.Stop)
	pass := func() {
		t.Helper()
		if err := engine.Scheduler.Pass(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	nextTry := func() *taskrun.Outcome {
		t.Helper()
		select {
		case out := <-tries:
			return out
		case <-time.After(30 * time.Second):
			t.Fatal("no try ended within 30 s")
			return nil
		}
	}
	d, _ := engine.Scheduler.DAG(ctx, "later")
	run, err := scheduler.CreateRun(ctx, env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: day, Now: env.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	pass()
	if out := nextTry(); out.State != windsock.TaskStateUpForRetry {
		t.Fatalf("try 1 ended %s, want up_for_retry", out.State)
	}
	pass()
	ti := states(t, env, run)["flaky"]
	if ti.State != windsock.TaskStateUpForRetry || ti.TryNumber != 1 || ti.EndDate == nil || ti.NextRetryAt == nil {
		t.Fatalf("flaky = %s try %d end %v next_retry_at %v", ti.State, ti.TryNumber, ti.EndDate, ti.NextRetryAt)
	}
	if !ti.EndDate.Equal(now) {
		t.Errorf("try 1 ended at %v, want the injected clock's %v", ti.EndDate, now)
	}
	// With exponential backoff the first retry waits retry_delay plus a
	// jitter in [0, retry_delay) from the SHA-1 of
	// "later#flaky#2024-03-01 00:00:00+00:00#1": 6794 s in Airflow 2.10.
	delay := ti.NextRetryAt.Sub(*ti.EndDate)
	if want := decide.RetryDelay(d.Task("flaky"), "later", run.LogicalDate, 1); delay != want || delay != 6794*time.Second {
		t.Errorf("next_retry_at is %s after the end, want %s (1h53m14s)", delay, want)
	}

	// A second before it is due, passes leave it alone.
	setClock(ti.NextRetryAt.Add(-time.Second))
	pass()
	pass()
	if got := states(t, env, run)["flaky"]; got.State != windsock.TaskStateUpForRetry || got.TryNumber != 1 {
		t.Fatalf("before next_retry_at flaky is %s try %d, want up_for_retry try 1", got.State, got.TryNumber)
	}
	select {
	case out := <-tries:
		t.Fatalf("a try ran before next_retry_at: %s", out.State)
	default:
	}

	setClock(ti.NextRetryAt.Add(time.Second))
	// The periodic pass that finds the retry due starts it (an earlier
	// version only flagged the run for the next pass).
	pass()
	if out := nextTry(); out.State != windsock.TaskStateSuccess || out.TI == nil || out.TI.TryNumber != 2 {
		t.Fatalf("after next_retry_at the retry ended %s (%+v), want success on try 2", out.State, out.TI)
	}
	pass()
	if got, _ := env.Store.DagRunGet(ctx, "later", run.RunID); got.State != windsock.DagRunSuccess {
		t.Errorf("run = %s, want success", got.State)
	}
}

// TestEngineMaxActiveRuns: with max_active_runs: 1, the second of two runs
// waits queued while the first runs, then runs after it.
func TestEngineMaxActiveRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gate, log := filepath.Join(dir, "gate"), filepath.Join(dir, "log")
	env := benchEnv(t, map[string]string{"single.yaml": fmt.Sprintf(`
single:
  schedule: null
  start_date: 2024-01-01
  max_active_runs: 1
  tasks:
    - task_id: hold
      operator: bash
      bash_command: 'echo "start {{ ds }}" >> %[1]s; for i in $(seq 600); do if [ -e %[2]s ]; then echo "end {{ ds }}" >> %[1]s; exit 0; fi; sleep 0.1; done; exit 1'
`, log, gate)})
	ctx := context.Background()
	// Paused while both runs are created, so that one pass sees both queued.
	if err := env.Store.DAGSetPaused(ctx, "single", true); err != nil {
		t.Fatal(err)
	}
	er := startEngine(t, env, nil)
	first := er.start(t, "single", day)
	second := er.start(t, "single", day.Add(24*time.Hour))
	if err := env.Store.DAGSetPaused(ctx, "single", false); err != nil {
		t.Fatal(err)
	}
	er.engine.Scheduler.RunChanged("single", first.RunID)
	eventually(t, 30*time.Second, "the first run's task started", func() bool {
		l := readLines(t, log)
		return len(l) > 0
	})
	if got := readLines(t, log); len(got) != 1 || got[0] != "start 2024-03-01" {
		t.Fatalf("log = %q, want only the first run's task started", got)
	}
	r1, _ := env.Store.DagRunGet(ctx, "single", first.RunID)
	r2, _ := env.Store.DagRunGet(ctx, "single", second.RunID)
	if r1.State != windsock.DagRunRunning || r2.State != windsock.DagRunQueued {
		t.Fatalf("runs are %s and %s, want running and queued", r1.State, r2.State)
	}
	if st := states(t, env, second)["hold"].State; st != windsock.TaskStateNone {
		t.Fatalf("the queued run's task is %q", st)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := er.wait(t, first.RunID); r.State != windsock.DagRunSuccess {
		t.Fatalf("first run = %s", r.State)
	}
	r2 = er.wait(t, second.RunID)
	if r2.State != windsock.DagRunSuccess {
		t.Fatalf("second run = %s", r2.State)
	}
	r1, _ = env.Store.DagRunGet(ctx, "single", first.RunID)
	if r2.StartDate == nil || r1.EndDate == nil || r2.StartDate.Before(*r1.EndDate) {
		t.Errorf("second run started %v, before the first ended %v", r2.StartDate, r1.EndDate)
	}
	want := []string{"start 2024-03-01", "end 2024-03-01", "start 2024-03-02", "end 2024-03-02"}
	if got := readLines(t, log); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("log = %q, want %q", got, want)
	}
}

// TestEngineWaitForDownstream: a task with wait_for_downstream waits for
// its previous run's instance and that one's downstream tasks, not just
// for its own previous instance (depends_on_past).
func TestEngineWaitForDownstream(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gate, log := filepath.Join(dir, "gate"), filepath.Join(dir, "log")
	env := benchEnv(t, map[string]string{"wfd.yaml": fmt.Sprintf(`
waiting:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: a, operator: bash, wait_for_downstream: true, bash_command: 'echo "a {{ ds }}" >> %[1]s'}
    - task_id: b
      operator: bash
      dependencies: [a]
      bash_command: 'echo "b-start {{ ds }}" >> %[1]s; for i in $(seq 600); do if [ -e %[2]s ]; then echo "b {{ ds }}" >> %[1]s; exit 0; fi; sleep 0.1; done; exit 1'
    - {task_id: free, operator: bash, bash_command: "true"}
`, log, gate)})
	tries := make(chan *taskrun.Try, 64)
	er := startEngine(t, env, func(try *taskrun.Try, _ *taskrun.Outcome) { tries <- try })
	first := er.start(t, "waiting", day)
	eventually(t, 30*time.Second, "the first run's b started", func() bool {
		l := readLines(t, log)
		return len(l) == 2 && l[1] == "b-start 2024-03-01"
	})
	// The second run starts with the first's a done and b running: free
	// runs; a, evaluated in the same pass, must not be scheduled.
	second := er.start(t, "waiting", day.Add(24*time.Hour))
	deadline := time.After(30 * time.Second)
wait:
	for {
		select {
		case try := <-tries:
			if try.TI.RunID == second.RunID && try.TI.TaskID == "free" {
				break wait
			}
		case <-deadline:
			t.Fatal("the second run's free task never ran")
		}
	}
	if st := states(t, env, second)["a"].State; st != windsock.TaskStateNone {
		t.Fatalf("second run's a is %q while the first run's b runs, want none", st)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*windsock.DagRun{first, second} {
		if got := er.wait(t, r.RunID); got.State != windsock.DagRunSuccess {
			t.Fatalf("run %s = %s", r.RunID, got.State)
		}
	}
	want := []string{"a 2024-03-01", "b-start 2024-03-01", "b 2024-03-01", "a 2024-03-02", "b-start 2024-03-02", "b 2024-03-02"}
	if got := readLines(t, log); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("log = %q, want %q", got, want)
	}
}
