package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// restartServer is the PostgreSQL server tests may stop and start
// (WINDSOCK_TEST_POSTGRES_RESTART_URL), held for one test at a time: go
// test runs packages in parallel, and a test stopping the server would cut
// off another's processes.
type restartServer struct {
	t   *testing.T
	url string
	cmd string // the restart command (WINDSOCK_TEST_POSTGRES_RESTART_CMD)
}

// restartLock is the lock file every test that stops or restarts the
// second server takes (flock), whatever its package.
const restartLock = "windsock-test-postgres-restart.lock"

// lockRestartServer takes the second server for the test, or skips it
// when the server is not configured (failing in CI).
func lockRestartServer(t *testing.T) *restartServer {
	t.Helper()
	base, restart := os.Getenv("WINDSOCK_TEST_POSTGRES_RESTART_URL"), os.Getenv("WINDSOCK_TEST_POSTGRES_RESTART_CMD")
	if (base == "" || restart == "") && os.Getenv("CI") == "true" {
		t.Fatal("WINDSOCK_TEST_POSTGRES_RESTART_URL and WINDSOCK_TEST_POSTGRES_RESTART_CMD must be set in CI")
	}
	if base == "" || restart == "" {
		t.Skip("WINDSOCK_TEST_POSTGRES_RESTART_URL and WINDSOCK_TEST_POSTGRES_RESTART_CMD are not set")
	}
	f, err := os.OpenFile(filepath.Join(os.TempDir(), restartLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() }) // releases the lock
	return &restartServer{t: t, url: base, cmd: restart}
}

// command is the server's control command for action (restart, stop or
// start): the configured restart command with its last word replaced, as
// pg_ctlcluster takes it.
func (s *restartServer) command(action string) string {
	cmd := s.cmd
	if action == "restart" {
		return cmd
	}
	i := strings.LastIndexByte(cmd, ' ')
	if i < 0 || cmd[i+1:] != "restart" {
		s.t.Skipf("cannot tell how to %s the server from WINDSOCK_TEST_POSTGRES_RESTART_CMD=%q", action, cmd)
	}
	return cmd[:i+1] + action
}

// run runs the server's control command for action.
func (s *restartServer) run(action string) {
	s.t.Helper()
	cmd := s.command(action)
	if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
		s.t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
}

// stop starts stopping the server (until start, or the end of the test)
// and returns when the stop command is done.
func (s *restartServer) stop() <-chan struct{} {
	s.t.Helper()
	cmd := s.command("stop")
	s.t.Cleanup(func() {
		// Started again unless the test did (then this fails, harmlessly).
		exec.Command("sh", "-c", s.command("start")).Run()
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
			s.t.Errorf("%s: %v\n%s", cmd, err, out)
		}
	}()
	return done
}

// releasedTasks is a DAG of n tasks that each append "<task_id> <try>" to
// the side-effect file, wait for the release file, then append
// "<task_id>-done <try>"; a last task depends on them all.
func releasedTasks(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  schedule: null\n  start_date: 2024-01-01\n  default_args: {retries: 1, retry_delay: 1s}\n  tasks:\n", id)
	var deps []string
	for i := 1; i <= n; i++ {
		task := fmt.Sprintf("t%d", i)
		deps = append(deps, task)
		fmt.Fprintf(&b, "    - {task_id: %s, operator: bash, bash_command: 'echo \"%s {{ ti.try_number }}\" >> \"$SIDE\"; while [ ! -e \"$RELEASE\" ]; do sleep 0.05; done; echo \"%s-done {{ ti.try_number }}\" >> \"$SIDE\"'}\n", task, task, task)
	}
	fmt.Fprintf(&b, "    - {task_id: after, operator: bash, bash_command: '%s', dependencies: [%s]}\n", sideEffect, strings.Join(deps, ", "))
	return b.String()
}

// journalEntries counts the outcomes waiting in a worker's journal.
func journalEntries(t *testing.T, home string) int {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(home, "journal"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := 0
	for _, de := range des {
		if strings.HasSuffix(de.Name(), ".json") {
			n++
		}
	}
	return n
}

func logLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

func countContaining(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// outageThreshold is the zombie threshold of the outage tests (seconds):
// short, so the outage that outlasts it is short too.
const outageThreshold = 8

// outage runs tasks that end while PostgreSQL is stopped for twice the
// zombie threshold; crash kills the worker during the outage and starts a
// new one in its home once the database is back. It returns the cluster
// and the worker that ran through the outage (or the one started after).
func outage(t *testing.T, crash bool) (*cluster, *process) {
	srv := lockRestartServer(t)
	threshold := outageThreshold
	if crash {
		// The worker started again must record its journal within the
		// threshold after the database is back, or its tries are presumed
		// dead, as they should be. Under the full -race suite its start
		// alone took 10 s once: a longer threshold keeps the test about
		// the journal, not about how fast a loaded host starts a process.
		threshold = 4 * outageThreshold
	}
	c := newClusterAt(t, srv.url, clusterOption{"SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD", fmt.Sprint(threshold)})
	release := filepath.Join(t.TempDir(), "release")
	c.env = append(c.env, "RELEASE="+release)
	const n = 6
	c.writeDAG("outage.yaml", releasedTasks("outage", n))
	c.start("dag-processor", "dag-processor")
	sched := c.start("scheduler", "scheduler")
	w := c.start("worker", "worker", "--hostname", "127.0.0.2")
	c.waitDAG("outage")
	c.run("dags", "trigger", "outage", "-r", "r")
	c.waitFor("every task running", time.Minute, func() (bool, error) {
		for i := 1; i <= n; i++ {
			if ti := c.ti("outage", "r", fmt.Sprintf("t%d", i)); ti.State != windsock.TaskStateRunning {
				return false, nil
			}
		}
		return len(c.sideEffects()) == n, nil
	})

	before, schedBefore := len(logLines(t, w.log)), len(logLines(t, sched.log))
	stopping := srv.stop()
	stopped := time.Now()
	// The tries end as soon as the database refuses the test, not when
	// the stop command returns: on a busy machine the shutdown's
	// checkpoint may take longer than the worker waits before stopping
	// tries it cannot heartbeat.
	c.waitFor("the database refusing", time.Minute, func() (bool, error) {
		_, err := c.store.TaskInstanceGet(t.Context(), windsock.TaskInstanceKey{DagID: "outage", TaskID: "t1", RunID: "r", MapIndex: -1})
		return err != nil, nil
	})
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The tries end now, with the database away (the worker stops tries
	// it cannot heartbeat only after half the threshold; these end within
	// a fraction of a second).
	c.waitFor("every try ended", time.Minute, func() (bool, error) {
		effects := c.sideEffects()
		for i := 1; i <= n; i++ {
			if effects[fmt.Sprintf("t%d-done", i)] != 1 {
				return false, nil
			}
		}
		return true, nil
	})
	<-stopping
	if crash {
		// Killed once the outcomes are in its journal, and only there.
		c.waitFor("every outcome journaled", time.Minute, func() (bool, error) { return journalEntries(t, w.home) == n, nil })
		w.cmd.Process.Signal(syscall.SIGKILL)
		<-w.done
	}
	// The outage outlasts the zombie threshold: an outage's length, not a
	// wait for something to happen.
	time.Sleep(time.Until(stopped.Add(2 * outageThreshold * time.Second)))
	during, schedDuring := logLines(t, w.log)[before:], logLines(t, sched.log)[schedBefore:]
	srv.run("start")
	t.Logf("PostgreSQL was stopped for %s; the worker logged %d lines meanwhile, the scheduler %d:\n%s\n%s", time.Since(stopped).Round(time.Millisecond),
		len(during), len(schedDuring), strings.Join(during, "\n"), strings.Join(schedDuring, "\n"))
	if !crash && len(during) > 4 {
		t.Errorf("the worker logged %d lines during the outage, want a few (one per change of state)", len(during))
	}
	// The scheduler's passes fail until its heartbeat (every second here)
	// finds the database gone; then it says so once.
	if len(schedDuring) > 6 {
		t.Errorf("the scheduler logged %d lines during the outage, want a few", len(schedDuring))
	}
	if crash {
		w = c.startIn(w.home, "worker-again", "worker", "--hostname", "127.0.0.2")
	}

	if state := c.waitRun("outage", "r", 2*time.Minute); state != windsock.DagRunSuccess {
		t.Fatalf("run ended %s, want success", state)
	}
	effects := c.sideEffects()
	for i := 1; i <= n; i++ {
		task := fmt.Sprintf("t%d", i)
		if effects[task] != 1 || effects[task+"-done"] != 1 {
			t.Errorf("%s ran %d times (ended %d times), want once", task, effects[task], effects[task+"-done"])
		}
		ti := c.ti("outage", "r", task)
		if ti.State != windsock.TaskStateSuccess || ti.TryNumber != 1 {
			t.Errorf("%s: %s on try %d, want the journaled success of try 1", task, ti.State, ti.TryNumber)
		}
		if fails, err := c.store.TaskFailList(t.Context(), ti.TaskInstanceKey); err != nil || len(fails) != 0 {
			t.Errorf("%s: %d task_fail rows (%v), want none", task, len(fails), err)
		}
	}
	if effects["after"] != 1 {
		t.Errorf("after ran %d times, want once", effects["after"])
	}
	if left := journalEntries(t, w.home); left != 0 {
		t.Errorf("%d outcomes left in the journal", left)
	}
	return c, w
}

// TestClusterOutageRecordsJournaledOutcomes: a worker whose tries end
// while PostgreSQL is stopped for longer than the zombie threshold records
// every outcome once the database returns; no try runs twice, and the
// worker logs the outage once rather than at every attempt.
func TestClusterOutageRecordsJournaledOutcomes(t *testing.T) {
	_, w := outage(t, false)
	lines := logLines(t, w.log)
	if n := countContaining(lines, "metadata database unreachable"); n != 1 {
		t.Errorf("%d lines report the database unreachable, want 1", n)
	}
	if n := countContaining(lines, "metadata database back"); n != 1 {
		t.Errorf("%d lines report the database back, want 1", n)
	}
	if n := countContaining(lines, "recorded the outcomes journaled"); n != 1 {
		t.Errorf("%d lines report the journaled outcomes recorded, want 1", n)
	}
	if !w.alive() {
		t.Fatalf("the worker exited: %v", w.err)
	}
}

// TestClusterOutageWorkerCrashReplaysJournal: a worker killed during the
// outage leaves its journal; started again in the same home once the
// database is back, it records the outcomes before claiming new work, and
// no try runs twice.
func TestClusterOutageWorkerCrashReplaysJournal(t *testing.T) {
	_, w := outage(t, true)
	if n := countContaining(logLines(t, w.log), "recording the outcomes a previous run of this worker journaled"); n != 1 {
		t.Errorf("the restarted worker did not report replaying its journal")
	}
}
