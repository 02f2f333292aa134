package cli_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// defaultThresholds are the settings a new user has: the tests of how
// fast a dead worker's tries run again use them, not the short ones the
// other cluster tests use.
var defaultThresholds = []clusterOption{
	{"SCHEDULER__SCHEDULER_HEARTBEAT_SEC", "5"},
	{"SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD", "30"},
	{"SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD", "300"},
}

// lockedDAG is a DAG of n independent tasks with no retries. Each takes
// an exclusive lock of its own (flock on a file beside the side-effect
// file) for as long as it and its children run, and records "<task>
// overlap" and fails when another execution holds it: the proof that a
// try never runs twice at once. The first execution of each task hangs
// (its sleep, a child of the task's shell, holds the lock); later ones
// end at once. prelude runs first (a trap, say).
//
// The first execution marks itself first before it writes "start": a
// test that kills the worker once each task wrote "start" must find every
// task marked, or a second execution would take itself for the first
// and sleep (that race made TestClusterWorkerKilledOnAnotherHost time
// out once under load).
func lockedDAG(id string, n int, prelude ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  schedule: null\n  start_date: 2024-01-01\n  default_args: {retries: 0}\n  tasks:\n", id)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `    - task_id: t%d
      operator: bash
      bash_command: '%s exec 9>>"$SIDE.lock.{{ ti.task_id }}"; if ! flock -n 9; then echo "{{ ti.task_id }} overlap" >> "$SIDE"; exit 1; fi; first=; if [ ! -e "$SIDE.first.{{ ti.task_id }}" ]; then touch "$SIDE.first.{{ ti.task_id }}"; first=1; fi; echo "{{ ti.task_id }} start" >> "$SIDE"; if [ -n "$first" ]; then sleep 300; fi; echo "{{ ti.task_id }} end" >> "$SIDE"'
`, i, strings.Join(prelude, " "))
	}
	return b.String()
}

// waitAllRunningOn waits until the n tasks of lockedDAG run on host, each
// holding its lock.
func (c *cluster) waitAllRunningOn(dagID, runID string, n int, host string) {
	c.t.Helper()
	c.waitFor(fmt.Sprintf("%d tasks running on %s", n, host), 2*time.Minute, func() (bool, error) {
		counts := c.sideEffects() // lines by their first field: the task id
		for i := 1; i <= n; i++ {
			ti := c.ti(dagID, runID, fmt.Sprintf("t%d", i))
			if ti.State != windsock.TaskStateRunning || ti.Hostname != host || counts[fmt.Sprintf("t%d", i)] != 1 {
				return false, nil
			}
		}
		return true, nil
	})
}

// checkLockedRun checks a finished lockedDAG run: success, each task run
// to its end once, as its first try (the try lost with its worker was not
// counted against its 0 retries), and never two executions of a task at
// once.
func (c *cluster) checkLockedRun(dagID, runID string, n int) {
	c.t.Helper()
	b, _ := os.ReadFile(c.side)
	side := string(b)
	if strings.Contains(side, "overlap") {
		c.t.Fatalf("a task ran while an earlier execution of it still held its lock:\n%s", side)
	}
	for i := 1; i <= n; i++ {
		task := fmt.Sprintf("t%d", i)
		if got := strings.Count(side, task+" end\n"); got != 1 {
			c.t.Fatalf("%s ended %d times, want once:\n%s", task, got, side)
		}
		ti := c.ti(dagID, runID, task)
		if ti.State != windsock.TaskStateSuccess || ti.TryNumber != 1 {
			c.t.Fatalf("%s is %s on try %d, want success on try 1", task, ti.State, ti.TryNumber)
		}
		fails, err := c.store.TaskFailList(context.Background(), ti.TaskInstanceKey)
		if err != nil || len(fails) != 0 {
			c.t.Fatalf("%s has task_fail rows %v (%v): the task did not fail, its worker did", task, fails, err)
		}
	}
}

// killWorkerMidTries runs n tries of lockedDAG on a worker started under
// wrapper, kills it with SIGKILL, starts another worker and checks that
// the tries run again there, as the same tries, within 45 s of the kill
// (default settings), never beside the first executions.
func killWorkerMidTries(t *testing.T, n int, wrapper ...string) {
	c := newCluster(t, defaultThresholds...)
	c.writeDAG("locked.yaml", lockedDAG("locked", n))
	c.start("dag-processor", "dag-processor")
	c.start("scheduler", "scheduler")
	c.wrapper = wrapper
	w1 := c.start("worker-1", "worker", "--hostname", "127.0.0.2")
	c.wrapper = nil
	c.waitDAG("locked")
	c.run("dags", "trigger", "locked", "-r", "r")
	c.waitAllRunningOn("locked", "r", n, "127.0.0.2")

	w1.cmd.Process.Signal(syscall.SIGKILL)
	<-w1.done
	killed := time.Now()
	c.start("worker-2", "worker", "--hostname", "127.0.0.3")
	// The bound: the tries run again elsewhere within 45 s of the
	// kill (a second "start" line per task); finishing them is load.
	c.waitFor("the killed worker's tries started again", 45*time.Second, func() (bool, error) {
		counts := c.sideEffects()
		for i := 1; i <= n; i++ {
			if counts[fmt.Sprintf("t%d", i)] < 2 {
				return false, nil
			}
		}
		return true, nil
	})
	t.Logf("the killed worker's %d tries ran again %s after the kill", n, time.Since(killed).Round(time.Millisecond))
	if state := c.waitRun("locked", "r", 2*time.Minute); state != windsock.DagRunSuccess {
		t.Fatalf("run ended %s, want success", state)
	}
	c.checkLockedRun("locked", "r", n)
}

// TestClusterWorkerKilledOnThisMachine: kill -9 of a worker mid-try, with
// the default settings: a scheduler on the same machine sees its process
// gone (whatever host name the worker was given), ends the processes its
// tries left (which hold their locks) and hands the tries back at once;
// another worker runs them as the same tries.
func TestClusterWorkerKilledOnThisMachine(t *testing.T) {
	t.Parallel()
	killWorkerMidTries(t, 4)
}

// TestClusterWorkerKilledOnAnotherHost: a worker whose machine dies (here:
// a worker alone in a pid namespace, so that no scheduler can see its
// process; unshare passes SIGKILL on to it, and it takes every process of
// its namespace along) is presumed dead once its heartbeat is older than
// scheduler.worker_health_check_threshold, with the default settings: its
// tries run again elsewhere within 45 s of the kill, as the same tries,
// never beside the first.
func TestClusterWorkerKilledOnAnotherHost(t *testing.T) {
	t.Parallel()
	wrapper := []string{"unshare", "--pid", "--fork", "--kill-child", "--mount-proc"}
	if err := exec.Command(wrapper[0], append(wrapper[1:], "true")...).Run(); err != nil {
		t.Skipf("cannot make a pid namespace here (%v)", err)
	}
	killWorkerMidTries(t, 3, wrapper...)
}

// TestClusterThreeWorkersOnOneHost: three workers on one host, started
// with no options (no host names, no ports): each serves its logs on a
// port of its own, recorded with it, and the webserver shows the log of a
// running try from whichever worker runs it.
func TestClusterThreeWorkersOnOneHost(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOption{"SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD", "30"})
	const n = 3
	c.writeDAG("locked.yaml", lockedDAG("locked", n))
	c.start("dag-processor", "dag-processor")
	c.start("scheduler", "scheduler")
	for i := 1; i <= 3; i++ {
		c.start(fmt.Sprintf("worker-%d", i), "worker", "--concurrency", "1")
	}
	c.run("users", "create", "-u", "admin", "-p", "admin", "-r", "Admin", "-f", "A", "-l", "B", "-e", "a@example.com")
	port := freePort(t)
	c.start("webserver", "webserver", "--port", port)
	c.waitDAG("locked")
	c.run("dags", "trigger", "locked", "-r", "r")
	// One try on each worker (concurrency 1), each hanging on its first
	// execution.
	c.waitFor("a try running on each worker", time.Minute, func() (bool, error) {
		jobs := map[int64]bool{}
		for i := 1; i <= n; i++ {
			ti := c.ti("locked", "r", fmt.Sprintf("t%d", i))
			if ti.State != windsock.TaskStateRunning || ti.JobID == nil {
				return false, nil
			}
			jobs[*ti.JobID] = true
		}
		return len(jobs) == 3 && c.sideEffects()["t1"]+c.sideEffects()["t2"]+c.sideEffects()["t3"] == 3, nil
	})
	addrs := map[string]bool{}
	for i := 1; i <= n; i++ {
		ti := c.ti("locked", "r", fmt.Sprintf("t%d", i))
		job, err := c.store.JobGet(context.Background(), *ti.JobID)
		if err != nil {
			t.Fatal(err)
		}
		if job.JobType != windsock.JobTypeWorker || job.LogServer == "" || job.Hostname != ti.Hostname {
			t.Fatalf("worker job %+v of %s: want a worker job recording its log server", job, ti.TaskID)
		}
		addrs[job.LogServer] = true
	}
	if len(addrs) != 3 {
		t.Fatalf("log servers %v: want one address per worker", addrs)
	}
	for i := 1; i <= n; i++ {
		task := fmt.Sprintf("t%d", i)
		var status int
		var body string
		c.waitFor("the log of "+task+" through the webserver", 30*time.Second, func() (bool, error) {
			req, _ := http.NewRequest("GET", "http://127.0.0.1:"+port+"/api/v1/dags/locked/dagRuns/r/taskInstances/"+task+"/logs/1", nil)
			req.SetBasicAuth("admin", "admin")
			req.Header.Set("Accept", "text/plain")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false, nil // the webserver is starting
			}
			defer resp.Body.Close()
			var sb strings.Builder
			buf := make([]byte, 4096)
			for {
				k, err := resp.Body.Read(buf)
				sb.Write(buf[:k])
				if err != nil {
					break
				}
			}
			status, body = resp.StatusCode, sb.String()
			return status == 200 && strings.Contains(body, "Running command"), nil
		})
		if status != 200 {
			t.Fatalf("log of %s: %d %s", task, status, body)
		}
	}
}

// TestStandaloneKilledMidRunLosesNoTry: `standalone` killed with SIGKILL
// while tasks with retries: 0 run, then started again in the same home:
// it finds its previous process's tries at once (their process is gone),
// ends what they left running (each still holds its task's lock) and runs
// them again as the same tries, so every task succeeds, within seconds of
// the restart rather than after the zombie threshold.
func TestStandaloneKilledMidRunLosesNoTry(t *testing.T) {
	t.Parallel()
	const n = 12
	side := filepath.Join(t.TempDir(), "side.log")
	h := newHome(t, "SIDE="+side, "WINDSOCK__CORE__DAGS_ARE_PAUSED_AT_CREATION=False")
	h.writeDAG(t, "locked.yaml", strings.Replace(lockedDAG("locked", n), "schedule: null", "schedule: '@once'", 1))
	lines := func() string { b, _ := os.ReadFile(side); return string(b) }
	waitLines := func(what, word string, limit time.Duration) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for strings.Count(lines(), " "+word+"\n") < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s; side effects:\n%s", what, limit, lines())
			}
			time.Sleep(50 * time.Millisecond) // the tasks are other processes writing a file: nothing to wait on
		}
	}

	first := h.start(t, "standalone-1", nil, "standalone", "--port", freePort(t))
	waitLines("every task running", "start", 2*time.Minute)
	first.cmd.Process.Signal(syscall.SIGKILL)
	<-first.done

	restarted := time.Now()
	h.start(t, "standalone-2", nil, "standalone", "--port", freePort(t))
	// Seconds on a quiet machine (the log line says how many); the limit
	// is for a loaded one running the whole suite.
	waitLines("every task ended", "end", 90*time.Second)
	t.Logf("the %d tries lost with the killed standalone ran again and ended %s after the restart", n, time.Since(restarted).Round(time.Millisecond))
	if strings.Contains(lines(), "overlap") {
		t.Fatalf("a task ran while its previous execution's leftovers held its lock:\n%s", lines())
	}

	st, err := sqlite.Open(t.Context(), filepath.Join(h.dir, "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		runs, err := st.DagRunList(t.Context(), &store.DagRunListParams{DagID: "locked"})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 && runs[0].State == windsock.DagRunSuccess {
			tis, err := st.TaskInstanceList(t.Context(), &store.TaskInstanceListParams{DagID: "locked"})
			if err != nil {
				t.Fatal(err)
			}
			for _, ti := range tis {
				if ti.State != windsock.TaskStateSuccess || ti.TryNumber != 1 {
					t.Errorf("%s is %s on try %d, want success on try 1", ti.TaskID, ti.State, ti.TryNumber)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs %v: want the one run success", runs)
		}
		time.Sleep(50 * time.Millisecond) // another process's database: nothing to wait on
	}
}

// TestClusterPartitionedWorkerStopsItsTriesFirst: a worker cut off from
// the database (alive, its tries running) stops them within half of
// scheduler.worker_health_check_threshold, before any scheduler presumes
// it dead and hands them back, so the tries that run again on another
// worker never run beside the first (each task's lock would tell).
func TestClusterPartitionedWorkerStopsItsTriesFirst(t *testing.T) {
	t.Parallel()
	partitionWorkerMidTries(t)
}

// TestClusterPartitionedWorkerKillsTriesThatIgnoreSIGTERM: as above, with
// tasks that ignore SIGTERM (they and their sleep): the fenced worker
// kills them after a short grace instead of
// core.killed_task_cleanup_time (60 s), so they are dead before the
// schedulers hand them back.
func TestClusterPartitionedWorkerKillsTriesThatIgnoreSIGTERM(t *testing.T) {
	t.Parallel()
	partitionWorkerMidTries(t, `trap "" TERM;`)
}

// partitionWorkerMidTries runs lockedDAG (with prelude) on a worker whose
// connection to the database is then cut, and checks the run succeeds on
// a second worker without two executions of a task at once.
func partitionWorkerMidTries(t *testing.T, prelude ...string) {
	const n = 3
	c := newCluster(t, clusterOption{"SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD", "300"}, clusterOption{"SCHEDULER__WORKER_HEALTH_CHECK_THRESHOLD", "8"})
	proxy := newTCPProxy(t, c.url)
	c.writeDAG("locked.yaml", lockedDAG("locked", n, prelude...))
	c.start("dag-processor", "dag-processor")
	c.start("scheduler", "scheduler")
	w1 := c.startWith("worker-1", []string{"WINDSOCK__DATABASE__SQL_ALCHEMY_CONN=" + proxy.url}, "worker", "--hostname", "127.0.0.2")
	c.waitDAG("locked")
	c.run("dags", "trigger", "locked", "-r", "r")
	c.waitAllRunningOn("locked", "r", n, "127.0.0.2")

	proxy.cut()
	c.start("worker-2", "worker", "--hostname", "127.0.0.3")
	if state := c.waitRun("locked", "r", time.Minute); state != windsock.DagRunSuccess {
		t.Fatalf("run ended %s, want success", state)
	}
	c.checkLockedRun("locked", "r", n)
	b, _ := os.ReadFile(w1.log)
	if !strings.Contains(string(b), "lost contact with the metadata database") {
		t.Fatalf("the cut-off worker did not report stopping its tries:\n%s", b)
	}
}
