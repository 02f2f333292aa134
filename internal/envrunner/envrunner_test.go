package envrunner_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/envrunner"
	"github.com/windsock/windsock/internal/windsock"
)

func TestDAGFromLocalBucket(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	tr.putLocal("srcbucket", "dags/first.yaml", dagYAML("first", 2, "echo first"))
	began := time.Now()
	st := tr.start(spec("local-env", "srcbucket"))
	t.Logf("Start -> AVAILABLE in %s (web server at %s)", time.Since(began), st.WebserverHostname)
	db := tr.openStore("local-env")
	waitFor(t, 2*time.Minute, "the first DAG to run", func() bool { return states(t, db, "first")[windsock.TaskStateSuccess] == 2 })

	// A DAG uploaded while the environment runs.
	uploaded := time.Now()
	tr.putLocal("srcbucket", "dags/second.yaml", dagYAML("second", 1, "echo second"))
	waitFor(t, 2*time.Minute, "the uploaded DAG to run", func() bool { return states(t, db, "second")[windsock.TaskStateSuccess] == 1 })
	t.Logf("uploaded DAG ran within %s", time.Since(uploaded))

	// The web server serves Airflow's metrics.
	resp, err := http.Get("http://" + st.WebserverHostname + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"airflow_ti_successes 3\n", `airflow_dagrun_duration_success_count{dag_id="first"} 1`, `airflow_pool_open_slots{pool_name="default_pool"} 512`, "airflow_dagbag_size 2\n", "\nairflow_scheduler_heartbeat "} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

// TestAutoscaleBurst: a burst of 200 tasks scales the environment out
// from 1 to its maximum, and once idle it scales back in to 1; no try
// fails because of the scale-in.
//
// On SQLite the one process's executor capacity scales; on PostgreSQL
// (with WINDSOCK_TEST_POSTGRES_URL) worker processes start and drain.
func TestAutoscaleBurst(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"sqlite", "postgres"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			var tr *testRunner
			if mode == "postgres" {
				tr = setupPostgres(t)
			} else {
				tr = setup(t)
			}
			testAutoscaleBurst(t, tr)
		})
	}
}

func testAutoscaleBurst(t *testing.T, tr *testRunner) {
	name := uniqueName(t, "burst")
	s := spec(name, "burstbucket")
	s.MaxWorkers = 4 // mw1.small: 5 tasks per worker, so up to 20 at once
	tr.putLocal("burstbucket", "dags/.keep", "")
	tr.startRemoved(s)
	if st, _ := tr.Status(name); st.Workers != 1 {
		t.Fatalf("starts with %d workers, want 1", st.Workers)
	}
	db := tr.openStore(name)

	tr.putLocal("burstbucket", "dags/burst.yaml", dagYAML("burst", 200, "sleep 1"))
	// Scale-out reaction: from the first queued try to the maximum.
	// A stalled start logs the environment's runs and process logs (the
	// DAG processor once missed a file copied in as it started).
	t.Cleanup(func() {
		if t.Failed() {
			tr.explain(name, db, "burst")
		}
	})
	waitFor(t, 2*time.Minute, "the burst to be queued", func() bool {
		c := states(t, db, "burst")
		return c[windsock.TaskStateQueued]+c[windsock.TaskStateRunning] > 0
	})
	loaded := time.Now()
	waitFor(t, time.Minute, "scale out to 4 workers", func() bool {
		st, _ := tr.Status(name)
		return st.Workers == 4
	})
	t.Logf("scale-out reaction: %s", time.Since(loaded))
	// The capacity is really there: more tries run at once than one
	// worker holds, never more than four do.
	most := 0
	waitFor(t, 5*time.Minute, "the burst to finish", func() bool {
		c := states(t, db, "burst")
		most = max(most, c[windsock.TaskStateRunning])
		if c[windsock.TaskStateRunning] > 20 {
			t.Fatalf("%d tries running at once, more than 4 workers of 5", c[windsock.TaskStateRunning])
		}
		return allFinal(t, db, "burst", 200)
	})
	if most <= 5 {
		t.Fatalf("at most %d tries ran at once: the capacity did not grow past one worker", most)
	}
	waitFor(t, time.Minute, "scale in to 1 worker", func() bool {
		st, _ := tr.Status(name)
		return st.Workers == 1
	})
	st, _ := tr.Status(name)
	if !strings.Contains(st.LastScaling, "scale in") {
		t.Fatalf("LastScaling %q does not tell the scale-in", st.LastScaling)
	}
	if c := states(t, db, "burst"); c[windsock.TaskStateSuccess] != 200 {
		t.Fatalf("states after the burst: %v, want 200 successes", c)
	}
}

// TestAdoptNeverDoubles: a new Runner over the same home (a control plane
// restart) adopts the live process; a dead one is started again; never
// two.
func TestAdoptNeverDoubles(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	s := spec("adopted", "")
	tr.start(s)
	h := envrunner.EnvironmentHome(tr.home, "adopted")
	before := windsockProcs(t, h)
	if len(before) != 1 {
		t.Fatalf("%d windsock processes, want 1", len(before))
	}
	tr.Runner.Close() // the control plane goes away; the environment runs on

	r2, err := envrunner.New(tr.cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.Runner = r2
	if _, err := r2.Adopt(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if after := windsockProcs(t, h); len(after) != 1 || after[0] != before[0] {
		t.Fatalf("after adoption: processes %v, want only %v", after, before)
	}
	// Adopting twice in one runner is refused, not doubled.
	if _, err := r2.Adopt(context.Background(), s); err == nil {
		t.Fatal("a second Adopt succeeded")
	}

	// A process that died while no control plane ran is started again.
	r2.Close()
	if err := syscall.Kill(before[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the process to die", func() bool { return len(windsockProcs(t, h)) == 0 })
	r3, err := envrunner.New(tr.cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.Runner = r3
	if _, err := r3.Adopt(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if after := windsockProcs(t, h); len(after) != 1 || after[0] == before[0] {
		t.Fatalf("after adopting a dead environment: processes %v, want one new", after)
	}

	// Removing an environment no runner holds still ends its processes.
	r3.Close()
	r4, err := envrunner.New(tr.cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.Runner = r4
	if err := r4.Remove(context.Background(), "adopted"); err != nil {
		t.Fatal(err)
	}
	if left := windsockProcs(t, h); len(left) != 0 {
		t.Fatalf("processes %v outlived their removed environment", left)
	}
}
