package cli_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// stuckOnFirstTry is a DAG of one task whose first try hangs for hang and
// whose later tries finish at once; it appends "<id>-start <try>" and
// "<id>-end <try>" to the side-effect file.
func stuckOnFirstTry(dagID string, retries int, hang string) string {
	return fmt.Sprintf(`%s:
  schedule: null
  start_date: 2024-01-01
  default_args: {retries: %d, retry_delay: 1s}
  tasks:
    - task_id: job
      operator: bash
      bash_command: 'echo "job-start {{ ti.try_number }}" >> "$SIDE"; if [ "{{ ti.try_number }}" = 1 ]; then sleep %s; fi; echo "job-end {{ ti.try_number }}" >> "$SIDE"'
`, dagID, retries, hang)
}

// sideLines returns the side-effect file's lines.
func (c *cluster) sideLines() []string {
	b, err := os.ReadFile(c.side)
	if err != nil && !os.IsNotExist(err) {
		c.t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(string(b), " ", "_"))
}

func has(lines []string, want string) int {
	n := 0
	for _, l := range lines {
		if l == want {
			n++
		}
	}
	return n
}

// waitRunningOn waits until the task runs on host.
func (c *cluster) waitRunningOn(dagID, runID, taskID, host string) {
	c.t.Helper()
	c.waitFor(taskID+" running on "+host, time.Minute, func() (bool, error) {
		ti := c.ti(dagID, runID, taskID)
		return ti.State == windsock.TaskStateRunning && ti.Hostname == host && has(c.sideLines(), "job-start_1") == 1, nil
	})
}

// TestClusterWorkerKilled: with scheduler.retry_tries_lost_to_crash off
// (Airflow's behaviour), kill -9 of a worker mid-task fails its try (a
// task_fail row, a retry used up) as soon as its death is seen; the retry
// runs on another worker. (By default the try would run again as the same
// try: TestClusterWorkerKilledOnThisMachine.)
func TestClusterWorkerKilled(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOption{"SCHEDULER__RETRY_TRIES_LOST_TO_CRASH", "False"})
	c.writeDAG("victim.yaml", stuckOnFirstTry("victim", 1, "60"))
	c.start("dag-processor", "dag-processor")
	c.start("scheduler", "scheduler")
	w1 := c.start("worker-1", "worker", "--hostname", "127.0.0.2")
	c.waitDAG("victim")
	c.run("dags", "trigger", "victim", "-r", "r")
	c.waitRunningOn("victim", "r", "job", "127.0.0.2")

	w1.cmd.Process.Signal(syscall.SIGKILL)
	<-w1.done
	killed := time.Now()
	c.start("worker-2", "worker", "--hostname", "127.0.0.3")
	if state := c.waitRun("victim", "r", time.Minute); state != windsock.DagRunSuccess {
		t.Fatalf("run ended %s, want success", state)
	}
	t.Logf("failed over and finished %s after the kill", time.Since(killed).Round(time.Millisecond))
	ti := c.ti("victim", "r", "job")
	if ti.TryNumber != 2 || ti.Hostname != "127.0.0.3" {
		t.Fatalf("task = try %d on %q, want try 2 on 127.0.0.3", ti.TryNumber, ti.Hostname)
	}
	lines := c.sideLines()
	if has(lines, "job-end_1") != 0 || has(lines, "job-start_2") != 1 || has(lines, "job-end_2") != 1 {
		t.Fatalf("side effects %v: want try 1 cut short (its process died with the worker) and try 2 run once", lines)
	}
	fails, err := c.store.TaskFailList(context.Background(), ti.TaskInstanceKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(fails) != 1 {
		t.Fatalf("%d task_fail rows, want 1 for the dead try", len(fails))
	}
}

// TestClusterWorkerDrains: SIGTERM makes a worker stop claiming, wait for
// its tries up to the grace period, then hand them back to run again as
// the same try, without using up a retry (the task has none), and exit
// cleanly.
func TestClusterWorkerDrains(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	// The first execution hangs; the one after the hand-back, the same
	// try, does not.
	c.writeDAG("drained.yaml", `drained:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: job
      operator: bash
      bash_command: 'echo "job-start {{ ti.try_number }}" >> "$SIDE"; if [ ! -e "$SIDE.held" ]; then touch "$SIDE.held"; sleep 60; fi; echo "job-end {{ ti.try_number }}" >> "$SIDE"'
`)
	c.start("dag-processor", "dag-processor")
	c.start("scheduler", "scheduler")
	w1 := c.start("worker-1", "worker", "--hostname", "127.0.0.2", "--grace-period", "1s")
	c.waitDAG("drained")
	c.run("dags", "trigger", "drained", "-r", "r")
	c.waitRunningOn("drained", "r", "job", "127.0.0.2")

	w1.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w1.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not exit within 30 s of SIGTERM with a 1 s grace period")
	}
	if w1.err != nil {
		t.Fatalf("worker exited with %v, want a clean exit", w1.err)
	}
	ti := c.ti("drained", "r", "job")
	if (ti.State != windsock.TaskStateScheduled && ti.State != windsock.TaskStateQueued) || ti.TryNumber != 1 {
		t.Fatalf("handed-back task is %s on try %d, want it waiting to run again as try 1", ti.State, ti.TryNumber)
	}
	c.start("worker-2", "worker", "--hostname", "127.0.0.3")
	if state := c.waitRun("drained", "r", time.Minute); state != windsock.DagRunSuccess {
		t.Fatalf("run ended %s, want success", state)
	}
	ti = c.ti("drained", "r", "job")
	if ti.TryNumber != 1 || ti.MaxTries != 0 || ti.Hostname != "127.0.0.3" {
		t.Fatalf("task = try %d (max_tries %d) on %q, want try 1 again on 127.0.0.3, the hand-back not counted against its 0 retries", ti.TryNumber, ti.MaxTries, ti.Hostname)
	}
	if lines := c.sideLines(); has(lines, "job-start_1") != 2 || has(lines, "job-end_1") != 1 {
		t.Fatalf("side effects %v: want try 1 started twice, cut short the first time", lines)
	}
}

// TestClusterPartitionedWorker: a worker that cannot reach the database
// stops its tries before the schedulers presume them dead, so a task never
// runs twice at once; the retry runs elsewhere.
func TestClusterPartitionedWorker(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOption{"SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD", "8"})
	proxy := newTCPProxy(t, c.url)
	c.writeDAG("cut.yaml", stuckOnFirstTry("cut", 1, "14"))
	c.start("dag-processor", "dag-processor")
	c.start("scheduler", "scheduler")
	w1 := c.startWith("worker-1", []string{"WINDSOCK__DATABASE__SQL_ALCHEMY_CONN=" + proxy.url}, "worker", "--hostname", "127.0.0.2")
	c.waitDAG("cut")
	c.run("dags", "trigger", "cut", "-r", "r")
	c.waitRunningOn("cut", "r", "job", "127.0.0.2")

	proxy.cut()
	c.start("worker-2", "worker", "--hostname", "127.0.0.3")
	if state := c.waitRun("cut", "r", time.Minute); state != windsock.DagRunSuccess {
		t.Fatalf("run ended %s, want success", state)
	}
	lines := c.sideLines()
	if has(lines, "job-end_1") != 0 {
		t.Fatalf("side effects %v: the cut-off worker's try ran on to its end", lines)
	}
	if has(lines, "job-start_2") != 1 || has(lines, "job-end_2") != 1 {
		t.Fatalf("side effects %v: want try 2 run once", lines)
	}
	if ti := c.ti("cut", "r", "job"); ti.Hostname != "127.0.0.3" {
		t.Fatalf("retry ran on %q, want 127.0.0.3", ti.Hostname)
	}
	b, _ := os.ReadFile(w1.log)
	if !strings.Contains(string(b), "lost contact with the metadata database") {
		t.Fatalf("the cut-off worker did not report losing contact:\n%s", b)
	}
	if !w1.alive() {
		t.Fatal("the cut-off worker crashed; it should wait for the database")
	}
}

// TestClusterPostgresRestart: every process survives a PostgreSQL restart
// and the run completes with each task run once. It needs a server of its
// own to restart: WINDSOCK_TEST_POSTGRES_RESTART_URL and the command that
// restarts it, WINDSOCK_TEST_POSTGRES_RESTART_CMD (.ci/run sets both).
func TestClusterPostgresRestart(t *testing.T) {
	srv := lockRestartServer(t)
	c := newClusterAt(t, srv.url, clusterOption{"SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD", "30"})
	c.writeDAG("steady.yaml", chainDAG("steady", 10, "0.3"))
	procs := []*process{
		c.start("dag-processor", "dag-processor"),
		c.start("scheduler-1", "scheduler"),
		c.start("scheduler-2", "scheduler"),
		c.start("worker-1", "worker", "--hostname", "127.0.0.2"),
	}
	c.waitDAG("steady")
	c.run("dags", "trigger", "steady", "-r", "r")
	c.waitFor("two tasks done", time.Minute, func() (bool, error) { return len(c.sideEffects()) >= 2, nil })

	srv.run("restart")
	if state := c.waitRun("steady", "r", 2*time.Minute); state != windsock.DagRunSuccess {
		t.Fatalf("run ended %s, want success", state)
	}
	counts := c.sideEffects()
	if len(counts) != 10 {
		t.Fatalf("%d tasks ran, want 10", len(counts))
	}
	for task, n := range counts {
		if n != 1 {
			t.Fatalf("task %s ran %d times, want once", task, n)
		}
	}
	for _, p := range procs {
		if !p.alive() {
			t.Fatalf("%s exited after the restart: %v", p.name, p.err)
		}
	}
}

// startWith starts a process with extra environment (later entries win).
func (c *cluster) startWith(name string, extra []string, args ...string) *process {
	saved := c.env
	c.env = append(append([]string(nil), c.env...), extra...)
	defer func() { c.env = saved }()
	return c.start(name, args...)
}

// tcpProxy forwards connections to a PostgreSQL server until cut, when it
// drops them all and refuses new ones: a host cut off from the database.
type tcpProxy struct {
	url    string
	ln     net.Listener
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func newTCPProxy(t *testing.T, dbURL string) *tcpProxy {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.Host = ln.Addr().String()
	p := &tcpProxy{url: u.String(), ln: ln}
	t.Cleanup(p.cut)
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			if p.closed {
				p.mu.Unlock()
				in.Close()
				out.Close()
				return
			}
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	return p
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}
