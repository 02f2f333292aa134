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

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

// A try left running by a scheduler process that is gone (its pid is dead)
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
