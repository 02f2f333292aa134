package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/taskrun"
	"github.com/windsock/windsock/internal/windsock"
)

// engineRun is a started engine with signals for finished runs and tries.
type engineRun struct {
	env    *Environment
	engine *Engine
	runs   chan *windsock.DagRun
	mu     sync.Mutex
	tries  []*taskrun.Outcome
}

func startEngine(t *testing.T, env *Environment, onTry func(*taskrun.Try, *taskrun.Outcome)) *engineRun {
	t.Helper()
	er := &engineRun{env: env, runs: make(chan *windsock.DagRun, 16)}
	engine, err := env.NewEngine(EngineOptions{
		Interval:      50 * time.Millisecond,
		OnRunFinished: func(r *windsock.DagRun) { er.runs <- r },
		OnTryDone: func(try *taskrun.Try, out *taskrun.Outcome) {
			er.mu.Lock()
			er.tries = append(er.tries, out)
			er.mu.Unlock()
			if onTry != nil {
				onTry(try, out)
			}
		},
	})
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

// trigger creates a manual run and returns it once it has finished.
func (er *engineRun) trigger(t *testing.T, dagID string, logical time.Time, conf map[string]any) *windsock.DagRun {
	t.Helper()
	ctx := context.Background()
	d, err := er.engine.Scheduler.DAG(ctx, dagID)
	if err != nil {
		t.Fatal(err)
	}
	run, err := scheduler.CreateRun(ctx, er.env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: logical, Conf: conf, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	er.engine.Scheduler.RunChanged(run.DagID, run.RunID)
	return er.wait(t, run.RunID)
}

func (er *engineRun) wait(t *testing.T, runID string) *windsock.DagRun {
	t.Helper()
	// Generous: a run of 1,000 mapped tries among the package's other
	// parallel engine tests on a loaded 2-core machine took over a minute.
	timeout := time.After(180 * time.Second)
	for {
		select {
		case r := <-er.runs:
			if r.RunID == runID {
				return r
			}
		case <-timeout:
			t.Fatalf("run %s did not finish within 60 s", runID)
		}
	}
}

func states(t *testing.T, env *Environment, run *windsock.DagRun) map[string]*windsock.TaskInstance {
	t.Helper()
	tis, err := env.Store.TaskInstanceList(context.Background(), &store.TaskInstanceListParams{DagID: run.DagID, RunID: run.RunID})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*windsock.TaskInstance{}
	for _, ti := range tis {
		out[ti.TaskID] = ti
	}
	return out
}

func readLog(t *testing.T, env *Environment, ti *windsock.TaskInstance, try int) string {
	t.Helper()
	b, err := os.ReadFile(tasklog.Path(env.Config.Logging.BaseLogFolder, ti.TaskInstanceKey, try))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var day = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

func TestEngineRunsDependenciesTemplatesAndXCom(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"flow.yaml": `
flow:
  schedule: "@daily"
  start_date: 2024-01-01
  params: {greeting: hello}
  tasks:
    - task_id: produce
      operator: bash
      bash_command: 'echo "{{ params.greeting }} {{ ds }} {{ dag_run.conf.who }}"'
    - task_id: consume
      operator: bash
      bash_command: 'echo "got: {{ ti.xcom_pull(task_ids=''produce'') }} run={{ run_id }}"'
      dependencies: [produce]
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "flow", day, map[string]any{"who": "world"})
	if run.State != windsock.DagRunSuccess {
		t.Fatalf("run ended %s", run.State)
	}
	tis := states(t, env, run)
	x, err := env.Store.XComGet(context.Background(), &store.XComGetParams{DagID: "flow", RunID: run.RunID, TaskID: "consume", MapIndex: -1, Key: "return_value"})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`"got: hello 2024-03-01 world run=%s"`, run.RunID)
	if string(x.Value) != want {
		t.Errorf("consume returned %s, want %s", x.Value, want)
	}
	if !tis["consume"].StartDate.After(*tis["produce"].EndDate) && !tis["consume"].StartDate.Equal(*tis["produce"].EndDate) {
		t.Errorf("consume started %v before produce ended %v", tis["consume"].StartDate, tis["produce"].EndDate)
	}
	if log := readLog(t, env, tis["produce"], 1); !strings.Contains(log, "hello 2024-03-01 world") {
		t.Errorf("produce log lacks its output:\n%s", log)
	}
	rendered, err := env.Store.RenderedFieldsGet(context.Background(), tis["produce"].TaskInstanceKey)
	if err != nil || !strings.Contains(string(rendered), "hello 2024-03-01 world") {
		t.Errorf("rendered fields = %s, %v", rendered, err)
	}
}

func TestEngineFailurePropagatesAndLeavesDecideTheRun(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"f.yaml": `
fails:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: ok, operator: bash, bash_command: "true"}
    - {task_id: boom, operator: bash, bash_command: "exit 3", dependencies: [ok]}
    - {task_id: after_boom, operator: bash, bash_command: "true", dependencies: [boom]}
    - {task_id: after_after, operator: empty, dependencies: [after_boom]}
    - {task_id: cleanup, operator: bash, bash_command: "true", trigger_rule: all_done, dependencies: [after_after]}
    - {task_id: alert, operator: bash, bash_command: "echo alert", trigger_rule: one_failed, dependencies: [boom]}
    - {task_id: skip_me, operator: bash, bash_command: "exit 99"}
    - {task_id: after_skip, operator: empty, dependencies: [skip_me]}
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "fails", day, nil)
	tis := states(t, env, run)
	want := map[string]windsock.TaskInstanceState{
		"ok": "success", "boom": "failed", "after_boom": "upstream_failed", "after_after": "upstream_failed",
		"cleanup": "success", "alert": "success", "skip_me": "skipped", "after_skip": "skipped",
	}
	for id, st := range want {
		if tis[id].State != st {
			t.Errorf("%s = %q, want %q", id, tis[id].State, st)
		}
	}
	// Leaves: cleanup (success), alert (success), after_skip (skipped): the
	// failure upstream does not fail the run, as in Airflow.
	if run.State != windsock.DagRunSuccess {
		t.Errorf("run = %s, want success (no leaf failed)", run.State)
	}
	if log := readLog(t, env, tis["boom"], 1); !strings.Contains(log, "non-zero exit code 3") {
		t.Errorf("boom log:\n%s", log)
	}
	fails, err := env.Store.TaskFailList(context.Background(), tis["boom"].TaskInstanceKey)
	if err != nil || len(fails) != 1 {
		t.Errorf("task_fail rows = %d, %v; want 1", len(fails), err)
	}
}

func TestEngineRetriesAfterTheRetryDelay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	counter := filepath.Join(dir, "count")
	env := benchEnv(t, map[string]string{"r.yaml": fmt.Sprintf(`
retry:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: flaky
      operator: bash
      retries: 2
      retry_delay: 0
      # Fails on its first two tries, succeeds on the third.
      bash_command: 'echo x >> %s; test $(wc -l < %s) -ge 3'
`, counter, counter)})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "retry", day, nil)
	if run.State != windsock.DagRunSuccess {
		t.Fatalf("run = %s", run.State)
	}
	ti := states(t, env, run)["flaky"]
	if ti.TryNumber != 3 || ti.State != windsock.TaskStateSuccess {
		t.Errorf("flaky: try %d %s, want try 3 success", ti.TryNumber, ti.State)
	}
	for try := 1; try <= 3; try++ {
		if log := readLog(t, env, ti, try); !strings.Contains(log, fmt.Sprintf("Starting attempt %d of 3", try)) {
			t.Errorf("log of try %d:\n%s", try, log)
		}
	}
	fails, _ := env.Store.TaskFailList(context.Background(), ti.TaskInstanceKey)
	if len(fails) != 2 {
		t.Errorf("task_fail rows = %d, want 2", len(fails))
	}
}

func TestEngineTimeoutFailsTheTry(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"t.yaml": `
slow:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: sleepy
      operator: bash
      execution_timeout: 1s
      bash_command: 'sleep 300 & sleep 300; wait'
`})
	resetOperators(env)
	env.Config.Core.KilledTaskCleanupTime = 2 * time.Second
	er := startEngine(t, env, nil)
	start := time.Now()
	run := er.trigger(t, "slow", day, nil)
	if run.State != windsock.DagRunFailed {
		t.Fatalf("run = %s, want failed", run.State)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s; the timeout is 1 s", d)
	}
	ti := states(t, env, run)["sleepy"]
	if log := readLog(t, env, ti, 1); !strings.Contains(log, "execution_timeout") {
		t.Errorf("log does not name the timeout:\n%s", log)
	}
}

func TestEnginePoolAndPriorityOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	order := filepath.Join(dir, "order")
	env := benchEnv(t, map[string]string{"p.yaml": fmt.Sprintf(`
pooled:
  schedule: null
  start_date: 2024-01-01
  default_args: {pool: single}
  tasks:
    - {task_id: low, operator: bash, priority_weight: 1, bash_command: "echo low >> %[1]s"}
    - {task_id: high, operator: bash, priority_weight: 10, bash_command: "echo high >> %[1]s"}
    - {task_id: mid, operator: bash, priority_weight: 5, bash_command: "echo mid >> %[1]s"}
`, order)})
	ctx := context.Background()
	if err := env.Store.PoolUpsert(ctx, &windsock.Pool{Pool: "single", Slots: 1}); err != nil {
		t.Fatal(err)
	}
	er := startEngine(t, env, nil)
	run := er.trigger(t, "pooled", day, nil)
	if run.State != windsock.DagRunSuccess {
		t.Fatalf("run = %s", run.State)
	}
	b, _ := os.ReadFile(order)
	if got := strings.Fields(string(b)); strings.Join(got, ",") != "high,mid,low" {
		t.Errorf("order = %v, want high, mid, low (one slot, by priority)", got)
	}
}

// More high-priority tasks than there are open slots wait on a full pool:
// the queueing pass must look past them and start the lower-priority task
// whose pool has room. Here that task opens the gate the pool's running
// task waits for, so the run only succeeds if it was not held back behind
// the 40 others.
func TestEngineQueuesPastAFullPool(t *testing.T) {
	t.Parallel()
	gate := filepath.Join(t.TempDir(), "gate")
	var tasks strings.Builder
	fmt.Fprintf(&tasks, "    - {task_id: free, operator: bash, priority_weight: 1, pool: default_pool, bash_command: \"touch %s\"}\n", gate)
	// p00 runs first (ties go by task_id) and holds the pool's only slot
	// until the gate opens, failing if it does not within 10 s.
	fmt.Fprintf(&tasks, "    - {task_id: p00, operator: bash, priority_weight: 10, bash_command: 'for i in $(seq 1000); do [ -e %s ] && exit 0; sleep 0.01; done; exit 1'}\n", gate)
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&tasks, "    - {task_id: p%02d, operator: bash, priority_weight: 10, bash_command: \"true\"}\n", i)
	}
	env := benchEnv(t, map[string]string{"pool.yaml": "crowded:\n  schedule: null\n  start_date: 2024-01-01\n  max_active_tasks: 64\n  default_args: {pool: single}\n  tasks:\n" + tasks.String()})
	if err := env.Store.PoolUpsert(context.Background(), &windsock.Pool{Pool: "single", Slots: 1}); err != nil {
		t.Fatal(err)
	}
	er := startEngine(t, env, nil)
	run := er.trigger(t, "crowded", day, nil)
	got := states(t, env, run)
	if run.State != windsock.DagRunSuccess || got["p00"].State != windsock.TaskStateSuccess {
		t.Fatalf("run %s, p00 %s: the task with room in its pool was held back behind the full pool", run.State, got["p00"].State)
	}
}

// A sensor in reschedule mode gives its slot back between pokes: the
// engine records a task_reschedule, schedules it again when due, and the
// same try goes on (Airflow does not count a reschedule as a retry).
func TestEngineSensorReschedulesWithinOneTry(t *testing.T) {
	t.Parallel()
	gate := filepath.Join(t.TempDir(), "gate")
	env := benchEnv(t, map[string]string{"s.yaml": fmt.Sprintf(`
sensing:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: wait
      operator: BashSensor
      mode: reschedule
      poke_interval: 0
      # The first poke finds no gate and makes it; the second finds it.
      bash_command: 'if [ -e %[1]s ]; then exit 0; fi; touch %[1]s; exit 1'
`, gate)})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "sensing", day, nil)
	ti := states(t, env, run)["wait"]
	if run.State != windsock.DagRunSuccess || ti.State != windsock.TaskStateSuccess || ti.TryNumber != 1 {
		t.Fatalf("run %s, sensor %s on try %d; want success on try 1", run.State, ti.State, ti.TryNumber)
	}
	rs, err := env.Store.TaskRescheduleList(context.Background(), ti.TaskInstanceKey, 1)
	if err != nil || len(rs) != 1 {
		t.Fatalf("task_reschedule rows for try 1 = %d (%v), want 1", len(rs), err)
	}
}

func TestEngineKilledTaskProcessIsRetried(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "killed-once")
	env := benchEnv(t, map[string]string{"k.yaml": fmt.Sprintf(`
killed:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: victim
      operator: bash
      retries: 1
      retry_delay: 0
      # The first try kills its own process with SIGKILL, as an OOM killer would.
      bash_command: 'if [ ! -e %[1]s ]; then touch %[1]s; kill -9 $$; fi; echo survived'
`, marker)})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "killed", day, nil)
	ti := states(t, env, run)["victim"]
	if run.State != windsock.DagRunSuccess || ti.TryNumber != 2 {
		t.Fatalf("run %s, victim try %d %s; want success on try 2", run.State, ti.TryNumber, ti.State)
	}
}

func TestEngineDependsOnPast(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gate := filepath.Join(dir, "gate")
	env := benchEnv(t, map[string]string{"d.yaml": fmt.Sprintf(`
past:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: gated, operator: bash, depends_on_past: true, bash_command: "test -e %s"}
    - {task_id: free, operator: bash, bash_command: "true"}
`, gate)})
	tries := make(chan *taskrun.Try, 16)
	er := startEngine(t, env, func(try *taskrun.Try, _ *taskrun.Outcome) { tries <- try })
	first := er.trigger(t, "past", day, nil)
	if first.State != windsock.DagRunFailed {
		t.Fatalf("first run = %s, want failed", first.State)
	}
	// The second run's gated task must wait for the first run's to succeed;
	// its free task runs. Clearing the first run's failure unblocks it.
	ctx := context.Background()
	d, _ := er.engine.Scheduler.DAG(ctx, "past")
	second, err := scheduler.CreateRun(ctx, env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: day.Add(24 * time.Hour), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	er.engine.Scheduler.RunChanged("past", second.RunID)
	// Wait for the second run's free task to finish, then check that gated
	// has not started.
	deadline := time.After(30 * time.Second)
wait:
	for {
		select {
		case try := <-tries:
			if try.TI.RunID == second.RunID && try.TI.TaskID == "free" {
				break wait
			}
		case <-deadline:
			t.Fatal("free never ran")
		}
	}
	if st := states(t, env, second)["gated"].State; st != windsock.TaskStateNone {
		t.Fatalf("gated = %q while the previous run's gated failed", st)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := scheduler.ClearTaskInstances(ctx, env.Store, d, scheduler.ClearParams{RunIDs: []string{first.RunID}, TaskIDs: []string{"gated"}, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	er.engine.Scheduler.RunChanged("past", first.RunID)
	if r := er.wait(t, first.RunID); r.State != windsock.DagRunSuccess {
		t.Fatalf("cleared first run = %s", r.State)
	}
	er.engine.Scheduler.RunChanged("past", second.RunID)
	if r := er.wait(t, second.RunID); r.State != windsock.DagRunSuccess {
		t.Fatalf("second run = %s", r.State)
	}
}

func TestEngineHoldsRunsOfPausedDAGs(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"p.yaml": "held:\n  schedule: null\n  start_date: 2024-01-01\n  tasks:\n    - {task_id: a, operator: bash, bash_command: 'true'}\n"})
	ctx := context.Background()
	if err := env.Store.DAGSetPaused(ctx, "held", true); err != nil {
		t.Fatal(err)
	}
	// The scheduler is not started: the test runs its passes itself.
	engine, err := env.NewEngine(EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := engine.Scheduler.DAG(ctx, "held")
	run, err := scheduler.CreateRun(ctx, env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: day, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := engine.Scheduler.Pass(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := env.Store.DagRunGet(ctx, "held", run.RunID)
	if got.State != windsock.DagRunQueued {
		t.Errorf("run of a paused DAG is %s, want queued", got.State)
	}
	// Unpaused, the next pass starts it.
	if err := env.Store.DAGSetPaused(ctx, "held", false); err != nil {
		t.Fatal(err)
	}
	if err := engine.Scheduler.Pass(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := env.Store.DagRunGet(ctx, "held", run.RunID); got.State != windsock.DagRunRunning {
		t.Errorf("after unpause the run is %s, want running", got.State)
	}
}

func TestSchedulerCreatesScheduledRunsWithCatchup(t *testing.T) {
	t.Parallel()
	for _, catchup := range []bool{true, false} {
		t.Run(fmt.Sprint("catchup=", catchup), func(t *testing.T) {
			t.Parallel()
			env := benchEnv(t, map[string]string{"s.yaml": fmt.Sprintf(
				"daily:\n  schedule: '@daily'\n  start_date: 2024-01-01\n  catchup: %v\n  is_paused_upon_creation: false\n  tasks:\n    - {task_id: a, operator: empty}\n", catchup)})
			ctx := context.Background()
			now := time.Date(2024, 1, 4, 0, 30, 0, 0, time.UTC)
			env.Clock = func() time.Time { return now }
			engine, err := env.NewEngine(EngineOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; i++ {
				if err := engine.Scheduler.Pass(ctx, true); err != nil {
					t.Fatal(err)
				}
			}
			runs, err := env.Store.DagRunList(ctx, &store.DagRunListParams{DagID: "daily"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range runs {
				got = append(got, r.RunID)
				if r.RunType != windsock.RunTypeScheduled || r.DataIntervalEnd.Sub(*r.DataIntervalStart) != 24*time.Hour {
					t.Errorf("run %+v", r)
				}
			}
			want := "scheduled__2024-01-01T00:00:00+00:00,scheduled__2024-01-02T00:00:00+00:00,scheduled__2024-01-03T00:00:00+00:00"
			if !catchup {
				want = "scheduled__2024-01-03T00:00:00+00:00"
			}
			if strings.Join(got, ",") != want {
				t.Errorf("runs = %v, want %s", got, want)
			}
			m, _ := env.Store.DAGGet(ctx, "daily")
			if m.NextDagrunCreateAfter == nil || !m.NextDagrunCreateAfter.Equal(time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("next_dagrun_create_after = %v, want 2024-01-05", m.NextDagrunCreateAfter)
			}
		})
	}
}

func TestEngineCallbacks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	taskLog := filepath.Join(dir, "task-callbacks")
	hook := make(chan map[string]any, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		json.NewDecoder(r.Body).Decode(&ev)
		hook <- ev
	}))
	defer srv.Close()
	env := benchEnv(t, map[string]string{"c.yaml": fmt.Sprintf(`
cb:
  schedule: null
  start_date: 2024-01-01
  on_failure_callback: {url: "%[2]s"}
  default_args:
    on_failure_callback: 'echo "failure $AIRFLOW_CTX_TASK_ID $WINDSOCK_STATE" >> %[1]s'
    on_retry_callback: 'echo "retry $AIRFLOW_CTX_TASK_ID try=$AIRFLOW_CTX_TRY_NUMBER" >> %[1]s'
  tasks:
    - {task_id: ok, operator: bash, bash_command: "true", on_success_callback: 'echo "success $AIRFLOW_CTX_TASK_ID" >> %[1]s'}
    - {task_id: bad, operator: bash, bash_command: "exit 1", retries: 1, retry_delay: 0}
`, taskLog, srv.URL)})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "cb", day, nil)
	if run.State != windsock.DagRunFailed {
		t.Fatalf("run = %s", run.State)
	}
	// A task's callback runs once its outcome is recorded, as Airflow's
	// does after committing the state: the run may end before it has.
	want := []string{"failure bad failed", "retry bad try=1", "success ok"}
	var lines []string
	eventually(t, 30*time.Second, "the task callbacks", func() bool {
		b, _ := os.ReadFile(taskLog)
		lines = strings.Split(strings.TrimSpace(string(b)), "\n")
		return len(lines) >= len(want)
	})
	sort.Strings(lines)
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("task callbacks ran %q, want %q", lines, want)
	}
	select {
	case ev := <-hook:
		if ev["dag_id"] != "cb" || ev["state"] != "failed" || ev["reason"] != "task_failure" || ev["run_id"] != run.RunID {
			t.Errorf("dag callback event %v", ev)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the DAG's on_failure_callback webhook was not called")
	}
}

func TestEngineXComFromBashToPython(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	env := benchEnv(t, map[string]string{
		"x.yaml": `
mixed:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: shout, operator: bash, bash_command: 'echo "from bash {{ ds }}"'}
    - task_id: double
      operator: python
      python_callable: tasks/double.py:double
      op_kwargs: {text: "{{ ti.xcom_pull(task_ids='shout') }}"}
      dependencies: [shout]
    - {task_id: echo_back, operator: bash, bash_command: 'echo "{{ ti.xcom_pull(task_ids=''double'')[1] }}"', dependencies: [double]}
`,
		"tasks/double.py": "def double(text, ds):\n    print('doubling', text)\n    return [text, text + ' / ' + ds]\n",
	})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "mixed", day, nil)
	if run.State != windsock.DagRunSuccess {
		tis := states(t, env, run)
		t.Fatalf("run = %s; double log:\n%s", run.State, readLog(t, env, tis["double"], 1))
	}
	x, err := env.Store.XComGet(context.Background(), &store.XComGetParams{DagID: "mixed", RunID: run.RunID, TaskID: "echo_back", MapIndex: -1, Key: "return_value"})
	if err != nil {
		t.Fatal(err)
	}
	if string(x.Value) != `"from bash 2024-03-01 / 2024-03-01"` {
		t.Errorf("echo_back returned %s", x.Value)
	}
}

func TestSchedulerRecordsSLAMissesAndFailsStuckQueued(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"s.yaml": `
late:
  schedule: '@daily'
  start_date: 2024-01-01
  catchup: false
  is_paused_upon_creation: false
  tasks:
    - {task_id: slow, operator: bash, bash_command: "true", sla: 1h, retries: 1, retry_delay: 0}
`})
	ctx := context.Background()
	now := time.Date(2024, 1, 4, 0, 30, 0, 0, time.UTC)
	env.Clock = func() time.Time { return now }
	// No executor runs anything: the engine is not started, passes are run
	// by hand with a clock the test moves.
	engine, err := env.NewEngine(EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pass := func() {
		t.Helper()
		if err := engine.Scheduler.Pass(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	pass()
	pass()
	misses, err := env.Store.SlaMissList(ctx, "late")
	if err != nil || len(misses) != 0 {
		t.Fatalf("misses before the deadline: %v %v", misses, err)
	}
	now = now.Add(time.Hour) // data interval ended at 00:00, sla 1 h
	pass()
	misses, _ = env.Store.SlaMissList(ctx, "late")
	if len(misses) != 1 || misses[0].TaskID != "slow" || !misses[0].ExecutionDate.Equal(time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("misses = %+v", misses)
	}
	pass()
	if misses, _ = env.Store.SlaMissList(ctx, "late"); len(misses) != 1 {
		t.Errorf("a second pass recorded the miss again: %d", len(misses))
	}

	// The task has been queued since the first pass; past
	// task_queued_timeout (600 s) its try fails and, with a retry left (no
	// delay), it is queued again as try 2.
	runs, _ := env.Store.DagRunList(ctx, &store.DagRunListParams{DagID: "late"})
	tis := states(t, env, runs[0])
	if tis["slow"].State != windsock.TaskStateQueued || tis["slow"].TryNumber != 2 {
		t.Errorf("stuck queued task is %q try %d, want queued again as try 2", tis["slow"].State, tis["slow"].TryNumber)
	}
	fails, _ := env.Store.TaskFailList(ctx, tis["slow"].TaskInstanceKey)
	if len(fails) != 1 {
		t.Errorf("task_fail rows = %d, want 1", len(fails))
	}
}

func TestEngineKillsATryMarkedFromOutside(t *testing.T) {
	t.Parallel()
	env, er, run, tries := startLongTry(t, "marked", 0)
	ctx := context.Background()
	tis := states(t, env, run)
	if err := scheduler.SetTaskInstanceState(ctx, env.Store, []*windsock.TaskInstance{tis["long"]}, windsock.TaskStateSuccess, time.Now()); err != nil {
		t.Fatal(err)
	}
	er.engine.Scheduler.RunChanged(run.DagID, run.RunID)
	start := time.Now()
	if r := er.wait(t, run.RunID); r.State != windsock.DagRunSuccess {
		t.Errorf("run = %s, want success (marked by hand)", r.State)
	}
	// The killed try ends and reports its (unrecorded) outcome.
	select {
	case out := <-tries:
		if out.Recorded {
			t.Errorf("the killed try's outcome %s was recorded over the hand-set state", out.State)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the marked try was not killed within 30 s")
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("killing took %s", time.Since(start))
	}
	if got := states(t, env, run)["long"].State; got != windsock.TaskStateSuccess {
		t.Errorf("after the kill the task is %q; the hand-set success must stay", got)
	}
}

// waitForPipe blocks until a task's subprocess writes to the named pipe
// at path (bounded by a timeout).
func waitForPipe(t *testing.T, path string) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		f, err := os.Open(path) // blocks until the writer opens it
		if err == nil {
			_, err = io.ReadAll(f)
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("nothing wrote to %s within 30 s", path)
	}
}

func TestSchedulerFailsZombiesByHeartbeat(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"z.yaml": `
zombie:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: lost, operator: bash, bash_command: "true", retries: 1, retry_delay: 0}
    - {task_id: dead, operator: bash, bash_command: "true"}
`})
	ctx := context.Background()
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	env.Clock = func() time.Time { return now }
	// Not started: the test runs the passes, so no executor heartbeats.
	engine, err := env.NewEngine(EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := engine.Scheduler.DAG(ctx, "zombie")
	run, err := scheduler.CreateRun(ctx, env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: day, State: windsock.DagRunRunning, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// Both tries run on another host whose process went silent at 11:50.
	beat := now.Add(-10 * time.Minute)
	for _, ti := range states(t, env, run) {
		ti.State, ti.TryNumber, ti.Hostname, ti.StartDate, ti.LastHeartbeatAt = windsock.TaskStateRunning, 1, "elsewhere", &beat, &beat
		if _, err := env.Store.TaskInstanceUpdate(ctx, ti); err != nil {
			t.Fatal(err)
		}
	}
	now = beat.Add(4 * time.Minute) // within scheduler_zombie_task_threshold (300 s)
	if err := engine.Scheduler.Pass(ctx, true); err != nil {
		t.Fatal(err)
	}
	if st := states(t, env, run)["lost"].State; st != windsock.TaskStateRunning {
		t.Fatalf("within the threshold lost is %q, want running", st)
	}
	zombiesKilled := func() float64 {
		rec := httptest.NewRecorder()
		env.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		v, _ := sample(rec.Body.String(), "airflow_zombies_killed")
		return v
	}
	if n := zombiesKilled(); n != 0 {
		t.Fatalf("airflow_zombies_killed = %v within the threshold", n)
	}
	now = beat.Add(6 * time.Minute)
	if err := engine.Scheduler.Pass(ctx, true); err != nil {
		t.Fatal(err)
	}
	tis := states(t, env, run)
	if tis["dead"].State != windsock.TaskStateFailed {
		t.Errorf("dead (no retries) = %q, want failed", tis["dead"].State)
	}
	// lost had a retry: failed over to up_for_retry, then queued again.
	if tis["lost"].TryNumber != 2 || (tis["lost"].State != windsock.TaskStateQueued && tis["lost"].State != windsock.TaskStateScheduled) {
		t.Errorf("lost = %q try %d, want retried as try 2", tis["lost"].State, tis["lost"].TryNumber)
	}
	for _, id := range []string{"lost", "dead"} {
		if fails, _ := env.Store.TaskFailList(ctx, tis[id].TaskInstanceKey); len(fails) != 1 {
			t.Errorf("%s: %d task_fail rows, want 1", id, len(fails))
		}
	}
	if n := zombiesKilled(); n != 2 {
		t.Errorf("airflow_zombies_killed = %v, want 2", n)
	}
}

// TestEmptyTasksSkipTheExecutor: EmptyOperator tasks without callbacks
// succeed in the scheduler, without a try being run (no log, no host), as
// Airflow does; one with on_success_callback runs like any other task.
func TestEmptyTasksSkipTheExecutor(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"e.yaml": `
hollow:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: first, operator: empty}
    - {task_id: second, operator: empty, dependencies: [first]}
    - {task_id: work, operator: bash, bash_command: "true", dependencies: [second]}
    - {task_id: noted, operator: empty, on_success_callback: "true", dependencies: [work]}
    - {task_id: last, operator: empty, dependencies: [noted]}
`})
	ctx := context.Background()
	engine, err := env.NewEngine(EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := engine.Scheduler.DAG(ctx, "hollow")
	run, err := scheduler.CreateRun(ctx, env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), State: windsock.DagRunRunning, Now: env.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	// One pass, no executor started: the empty tasks before work succeed,
	// work waits to be run.
	if err := engine.Scheduler.Pass(ctx, true); err != nil {
		t.Fatal(err)
	}
	tis := states(t, env, run)
	for _, id := range []string{"first", "second"} {
		if tis[id].State != windsock.TaskStateSuccess || tis[id].TryNumber != 1 || tis[id].Hostname != "" {
			t.Fatalf("%s = %s try %d on %q, want success try 1 without a host", id, tis[id].State, tis[id].TryNumber, tis[id].Hostname)
		}
		if _, err := os.Stat(tasklog.Path(env.LogFolder(), tis[id].TaskInstanceKey, 1)); !os.IsNotExist(err) {
			t.Fatalf("%s has a log file: it was run", id)
		}
	}
	if st := tis["work"].State; st != windsock.TaskStateQueued {
		t.Fatalf("work = %s, want queued for the executor", st)
	}
	// Run the rest for real.
	done := make(chan struct{})
	engine2, err := env.NewEngine(EngineOptions{OnlyRuns: []scheduler.RunRef{{DagID: "hollow", RunID: run.RunID}}, OnRunFinished: func(*windsock.DagRun) { close(done) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer engine2.Stop()
	<-done
	tis = states(t, env, run)
	if tis["noted"].Hostname == "" {
		t.Fatal("noted (with on_success_callback) did not run on an executor")
	}
	if tis["last"].State != windsock.TaskStateSuccess || tis["last"].Hostname != "" {
		t.Fatalf("last = %s on %q, want success in the scheduler", tis["last"].State, tis["last"].Hostname)
	}
}

// TestEngineKillsATryRetriedElsewhere: a try presumed dead and retried on
// another host (its row now shows a later try there) is killed at the next
// heartbeat, and that row is not heartbeated for it: one running try per
// task instance.
func TestEngineKillsATryRetriedElsewhere(t *testing.T) {
	t.Parallel()
	env, _, run, tries := startLongTry(t, "elsewhere", 2)
	ctx := context.Background()

	// Meanwhile the schedulers gave up on try 1 and try 2 runs on "other".
	ti := states(t, env, run)["long"]
	beat := time.Now().UTC().Truncate(time.Second) // recent: "other" is alive
	ti.TryNumber, ti.Hostname, ti.LastHeartbeatAt = ti.TryNumber+1, "other", &beat
	if _, err := env.Store.TaskInstanceUpdate(ctx, ti); err != nil {
		t.Fatal(err)
	}
	select {
	case out := <-tries:
		if out.Recorded {
			t.Errorf("try 1's outcome %s was recorded over try 2", out.State)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the superseded try was not killed within 30 s")
	}
	got := states(t, env, run)["long"]
	if got.State != windsock.TaskStateRunning || got.Hostname != "other" || got.TryNumber != ti.TryNumber {
		t.Fatalf("row = %s try %d on %q, want try 2 still running on other", got.State, got.TryNumber, got.Hostname)
	}
	if got.LastHeartbeatAt == nil || !got.LastHeartbeatAt.Equal(beat) {
		t.Fatalf("try 2's heartbeat = %v, want %v untouched by try 1's executor", got.LastHeartbeatAt, beat)
	}
}

// startLongTry starts an engine (heartbeats every 100 ms) and a run of a
// DAG whose one task, long, sleeps for minutes, and returns once the task
// runs; tries receives each try's outcome.
func startLongTry(t *testing.T, dagID string, retries int) (*Environment, *engineRun, *windsock.DagRun, chan *taskrun.Outcome) {
	t.Helper()
	// The task writes to a named pipe once it runs: reading the pipe is the
	// signal that it has started.
	started := filepath.Join(t.TempDir(), "started")
	if err := syscall.Mkfifo(started, 0o600); err != nil {
		t.Fatal(err)
	}
	env := benchEnv(t, map[string]string{dagID + ".yaml": fmt.Sprintf(`
%s:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: long, operator: bash, bash_command: 'echo up > %s; sleep 300', retries: %d}
`, dagID, started, retries)})
	env.Config.Scheduler.SchedulerHeartbeatSec = 100 * time.Millisecond
	env.Config.Core.KilledTaskCleanupTime = time.Second
	resetOperators(env)
	ctx := context.Background()
	tries := make(chan *taskrun.Outcome, 4)
	er := startEngine(t, env, func(_ *taskrun.Try, out *taskrun.Outcome) { tries <- out })
	d, _ := er.engine.Scheduler.DAG(ctx, dagID)
	run, err := scheduler.CreateRun(ctx, env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: day, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	er.engine.Scheduler.RunChanged(run.DagID, run.RunID)
	waitForPipe(t, started)
	return env, er, run, tries
}
