package envrunner_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/envrunner"
	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/supervise"
	"github.com/windsock/windsock/internal/windsock"
)

// setupPostgres is setup with the control plane on PostgreSQL: each
// environment gets a schema and separate processes. It skips without
// WINDSOCK_TEST_POSTGRES_URL.
func setupPostgres(t testing.TB) *testRunner {
	t.Helper()
	url := os.Getenv("WINDSOCK_TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("WINDSOCK_TEST_POSTGRES_URL not set")
	}
	return setup(t, func(c *envrunner.Config) { c.DatabaseURL = url })
}

// uniqueName is an environment name no other test run uses (the schema
// is named after it in a shared database).
func uniqueName(t testing.TB, prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// startRemoved starts s and removes it (home and PostgreSQL schema) at
// the end.
func (tr *testRunner) startRemoved(s envspec.Spec) {
	tr.t.Helper()
	tr.t.Cleanup(func() {
		r, err := envrunner.New(tr.cfg)
		if err == nil {
			tr.Runner.Close()
			r.Adopt(context.Background(), s)
			r.Remove(context.Background(), s.Name)
		}
	})
	tr.start(s)
}

// TestPostgresProcesses: on PostgreSQL an environment runs its schedulers,
// DAG processor, web server and workers as processes; SIGKILL of a worker
// and of a scheduler mid-run restarts them and every try ends; the load
// scales the workers out and back in.
func TestPostgresProcesses(t *testing.T) {
	t.Parallel()
	tr := setupPostgres(t)
	name := uniqueName(t, "pg")
	s := spec(name, "pgbucket")
	s.Schedulers, s.MinWorkers, s.MaxWorkers = 2, 1, 3
	s.AirflowConfigurationOptions["scheduler.scheduler_zombie_task_threshold"] = "10"
	tr.putLocal("pgbucket", "dags/.keep", "")
	began := time.Now()
	tr.startRemoved(s)
	t.Logf("Start -> AVAILABLE in %s", time.Since(began))
	h := envrunner.EnvironmentHome(tr.home, name)
	if n := len(windsockProcs(t, h)); n != 5 {
		t.Fatalf("%d windsock processes, want 5 (2 schedulers, DAG processor, web server, worker)", n)
	}
	db := tr.openStore(name)

	tr.putLocal("pgbucket", "dags/work.yaml", dagYAMLRetries("work", 30, "sleep 2", 2))
	waitFor(t, 2*time.Minute, "tries to run", func() bool { return states(t, db, "work")[windsock.TaskStateRunning] > 0 })
	waitFor(t, time.Minute, "scale out", func() bool { st, _ := tr.Status(name); return st.Workers > 1 })
	for _, id := range []string{"worker-1", "scheduler-1"} {
		state := filepath.Join(h, "run", id+".json")
		pid, alive := supervise.Recorded(state)
		if !alive {
			t.Fatalf("%s not running", id)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Minute, id+" to be restarted", func() bool {
			now, alive := supervise.Recorded(state)
			return alive && now != pid
		})
	}
	waitFor(t, 5*time.Minute, "every try to end", func() bool { return allFinal(t, db, "work", 30) })
	t.Logf("states after the kills: %v", states(t, db, "work"))
	waitFor(t, time.Minute, "scale in to 1 worker", func() bool { st, _ := tr.Status(name); return st.Workers == 1 })
	waitFor(t, time.Minute, "the drained workers to stop", func() bool { return len(windsockProcs(t, h)) == 5 })
}

// TestPostgresUpdateLowersWorkers: an update that lowers MaxWorkers below
// the running workers drains the extra ones while tries run, and none of
// those tries fails.
func TestPostgresUpdateLowersWorkers(t *testing.T) {
	t.Parallel()
	tr := setupPostgres(t)
	name := uniqueName(t, "lower")
	s := spec(name, "lowerbucket")
	s.MinWorkers, s.MaxWorkers = 1, 3
	tr.putLocal("lowerbucket", "dags/.keep", "")
	tr.startRemoved(s)
	db := tr.openStore(name)
	tr.putLocal("lowerbucket", "dags/busy.yaml", dagYAML("busy", 40, "sleep 2"))
	waitFor(t, 2*time.Minute, "scale out to 3", func() bool { st, _ := tr.Status(name); return st.Workers == 3 })

	lower := s
	lower.MaxWorkers = 1
	lower.WorkerReplacementStrategy = "GRACEFUL"
	if _, err := tr.Update(context.Background(), s, lower); err != nil {
		t.Fatal(err)
	}
	if st, _ := tr.Status(name); st.Workers != 1 {
		t.Fatalf("%d workers after lowering the maximum to 1", st.Workers)
	}
	h := envrunner.EnvironmentHome(tr.home, name)
	// 1 scheduler, DAG processor, web server, 1 worker.
	if n := len(windsockProcs(t, h)); n != 4 {
		t.Fatalf("%d windsock processes after the update, want 4", n)
	}
	waitFor(t, 5*time.Minute, "every try to end", func() bool { return allFinal(t, db, "busy", 40) })
	if c := states(t, db, "busy"); c[windsock.TaskStateSuccess] != 40 {
		t.Fatalf("states: %v, want 40 successes", c)
	}
}
