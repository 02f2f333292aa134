package app

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/osproc"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

// With scheduler.retry_tries_lost_to_crash off (Airflow's behaviour), a
// try left running by a scheduler process that is gone (its pid is dead)
// is failed when the next scheduler daemon's engine starts on the host
// (a one-shot engine leaves it alone), and, as Airflow does for zombies,
// the task's on_failure_callback runs and the try's log says why.
func TestEngineOrphanedTryRunsItsFailureCallback(t *testing.T) {
	t.Parallel()
	called := filepath.Join(t.TempDir(), "called")
	env := benchEnv(t, map[string]string{"o.yaml": fmt.Sprintf(`
orphaned:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: work
      operator: bash
      bash_command: "true"
      on_failure_callback: 'echo "failure $AIRFLOW_CTX_TASK_ID $WINDSOCK_STATE" >> %s'
`, called)})
	env.Config.Scheduler.RetryTriesLostToCrash = false
	ctx := context.Background()
	d, err := scheduler.NewDAGCache(env.Store, time.Minute).DAG(ctx, "orphaned")
	if err != nil {
		t.Fatal(err)
	}
	run, err := scheduler.CreateRun(ctx, env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: day, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	// The try a killed scheduler left: running on this host, claimed by a
	// process that no longer exists.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	pid, now := gone.Process.Pid, time.Now().UTC()
	ti, err := env.Store.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: "orphaned", TaskID: "work", RunID: run.RunID, MapIndex: -1})
	if err != nil {
		t.Fatal(err)
	}
	ti.State, ti.TryNumber, ti.Hostname, ti.PID, ti.StartDate, ti.LastHeartbeatAt = windsock.TaskStateRunning, 1, env.Hostname, &pid, &now, &now
	if _, err := env.Store.TaskInstanceUpdate(ctx, ti); err != nil {
		t.Fatal(err)
	}

	// A one-shot engine (dags test, backfill) for another run leaves the
	// orphan to the scheduler daemon.
	other, err := scheduler.CreateRun(ctx, env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: day.Add(time.Hour), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	oneShot, err := env.NewEngine(EngineOptions{OnlyRuns: []scheduler.RunRef{{DagID: other.DagID, RunID: other.RunID}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := oneShot.Start(ctx); err != nil {
		t.Fatal(err)
	}
	oneShot.Stop()
	if got, _ := env.Store.TaskInstanceGet(ctx, ti.TaskInstanceKey); got.State != windsock.TaskStateRunning {
		t.Fatalf("a one-shot engine for another run changed the orphan to %s", got.State)
	}

	er := startEngine(t, env, nil)
	if got := er.wait(t, run.RunID); got.State != windsock.DagRunFailed {
		t.Fatalf("run %s, want failed (its only try was lost)", got.State)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(called)
		if strings.TrimSpace(string(b)) == "failure work failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("on_failure_callback wrote %q, want %q", b, "failure work failed")
		}
		time.Sleep(10 * time.Millisecond) // the callback is another process: nothing to wait on
	}
	log, _, err := tasklog.Read(env.Config.Logging.BaseLogFolder, ti.TaskInstanceKey, 1, 0)
	if err != nil || !strings.Contains(string(log), "the process that ran this try is gone") {
		t.Errorf("try 1's log (err %v) does not say why it ended:\n%s", err, log)
	}
}

// By default a try lost to the crash of the process running it runs again
// as the same try when the next engine starts on the host, without using
// up a retry: a task with retries: 0 succeeds. The crashed process is told
// from a later one that reuses its pid by its start time: here its job
// records this very process's pid, started at another time.
func TestEngineTryLostToCrashRunsAgain(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"o.yaml": `
crashed:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: work
      operator: bash
      bash_command: "echo ran"
`})
	if !env.Config.Scheduler.RetryTriesLostToCrash {
		t.Fatal("scheduler.retry_tries_lost_to_crash is off by default")
	}
	ctx := context.Background()
	d, err := scheduler.NewDAGCache(env.Store, time.Minute).DAG(ctx, "crashed")
	if err != nil {
		t.Fatal(err)
	}
	run, err := scheduler.CreateRun(ctx, env.Store, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: day, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	// The executor that claimed the try: its pid is alive (it is this
	// test's), but it started at another time.
	self := osproc.Self()
	now := time.Now().UTC()
	job := &windsock.Job{State: windsock.JobRunning, JobType: windsock.JobTypeWorker, StartDate: now, LatestHeartbeat: now,
		Hostname: env.Hostname, PID: self.PID, ProcessStart: self.Start + "1"}
	if err := env.Store.JobCreate(ctx, job); err != nil {
		t.Fatal(err)
	}
	ti, err := env.Store.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: "crashed", TaskID: "work", RunID: run.RunID, MapIndex: -1})
	if err != nil {
		t.Fatal(err)
	}
	ti.State, ti.TryNumber, ti.Hostname, ti.PID, ti.JobID, ti.StartDate, ti.LastHeartbeatAt = windsock.TaskStateRunning, 1, env.Hostname, &self.PID, &job.ID, &now, &now
	if _, err := env.Store.TaskInstanceUpdate(ctx, ti); err != nil {
		t.Fatal(err)
	}

	er := startEngine(t, env, nil)
	if got := er.wait(t, run.RunID); got.State != windsock.DagRunSuccess {
		t.Fatalf("run %s, want success (the try lost to a crash runs again)", got.State)
	}
	got, err := env.Store.TaskInstanceGet(ctx, ti.TaskInstanceKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != windsock.TaskStateSuccess || got.TryNumber != 1 || got.JobID == nil || *got.JobID == job.ID {
		t.Fatalf("task instance %s, try %d, job %v: want success as try 1 under the new executor's job", got.State, got.TryNumber, got.JobID)
	}
	if fails, err := env.Store.TaskFailList(ctx, ti.TaskInstanceKey); err != nil || len(fails) != 0 {
		t.Fatalf("task_fail rows %v (%v), want none: the task did not fail", fails, err)
	}
	if j, err := env.Store.JobGet(ctx, job.ID); err != nil || j.State != windsock.JobFailed {
		t.Fatalf("the crashed executor's job is %+v (%v), want failed", j, err)
	}
}
