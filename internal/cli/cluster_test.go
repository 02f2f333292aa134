package cli_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/benchdir"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/postgres/pgtest"
	"github.com/windsock/windsock/internal/store/storetest"
	"github.com/windsock/windsock/internal/windsock"
)

// cluster is a distributed Windsock on this machine: real windsock
// processes (schedulers, workers, a DAG processor) sharing one PostgreSQL
// schema, as they would share a database across hosts. Each process has a
// home (and task log folder) of its own; they share the DAG folder.
type cluster struct {
	t     testing.TB
	url   string
	dags  string
	side  string // where tasks append their side effects
	env   []string
	store store.Store // the test's own view of the database
	// wrapper, when set, is the command the processes started run under
	// (unshare, to run one in a pid namespace of its own).
	wrapper []string
}

// clusterOption is one setting (a WINDSOCK__ variable) for every process.
type clusterOption struct{ name, value string }

func newCluster(t testing.TB, opts ...clusterOption) *cluster {
	t.Helper()
	return newClusterAt(t, storetest.PostgresURL(t), opts...)
}

func newClusterAt(t testing.TB, base string, opts ...clusterOption) *cluster {
	t.Helper()
	ctx := context.Background()
	dbURL := pgtest.SchemaURL(t, base)
	dir := t.TempDir()
	c := &cluster{t: t, url: dbURL, dags: filepath.Join(dir, "dags"), side: filepath.Join(dir, "side_effects.log")}
	if err := os.MkdirAll(c.dags, 0o755); err != nil {
		t.Fatal(err)
	}
	var key [32]byte
	rand.Read(key[:])
	settings := map[string]string{
		"DATABASE__SQL_ALCHEMY_CONN":                  c.url,
		"CORE__EXECUTOR":                              "CeleryExecutor",
		"CORE__FERNET_KEY":                            base64.URLEncoding.EncodeToString(key[:]),
		"WEBSERVER__SECRET_KEY":                       hex.EncodeToString(key[:]),
		"CORE__DAGS_FOLDER":                           c.dags,
		"CORE__LOAD_EXAMPLES":                         "False",
		"CORE__DAGS_ARE_PAUSED_AT_CREATION":           "False",
		"CORE__PARALLELISM":                           "64",
		"CORE__MAX_ACTIVE_TASKS_PER_DAG":              "64",
		"SCHEDULER__STANDALONE_DAG_PROCESSOR":         "True",
		"SCHEDULER__SCHEDULER_HEARTBEAT_SEC":          "1",
		"SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "3",
		"SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD":  "6",
		"LOGGING__WORKER_LOG_SERVER_PORT":             freePort(t),
	}
	for _, o := range opts {
		settings[o.name] = o.value
	}
	c.env = []string{"PATH=" + os.Getenv("PATH"), "SIDE=" + c.side}
	for k, v := range settings {
		c.env = append(c.env, "WINDSOCK__"+k+"="+v)
	}
	c.run("db", "migrate")
	var err error
	if c.store, err = postgres.Open(ctx, c.url); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.store.Close() })
	return c
}

// tempDir is a directory for a process's home, on the disk being measured
// when it is a benchmark's (see package benchdir).
func (c *cluster) tempDir() string {
	return benchdir.New(c.t, "cluster")
}

// process is one running windsock process.
type process struct {
	name string
	home string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// start starts `windsock args...` in a home of its own.
func (c *cluster) start(name string, args ...string) *process {
	c.t.Helper()
	return c.startIn(c.tempDir(), name, args...)
}

// startIn starts `windsock args...` in home (that of a process that
// stopped, say).
func (c *cluster) startIn(home, name string, args ...string) *process {
	c.t.Helper()
	logPath := filepath.Join(home, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		c.t.Fatal(err)
	}
	argv := append(append(append([]string(nil), c.wrapper...), binary), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append([]string{"WINDSOCK_HOME=" + home, "HOME=" + home}, c.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	p := &process{name: name, home: home, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	c.t.Cleanup(func() {
		p.kill()
		if c.t.Failed() {
			b, _ := os.ReadFile(logPath)
			lines := strings.Split(string(b), "\n")
			c.t.Logf("--- last lines of %s ---\n%s", name, strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
	return p
}

func (p *process) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// alive reports whether the process is still running.
func (p *process) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// run runs a one-off windsock command and returns its stdout.
func (c *cluster) run(args ...string) string {
	c.t.Helper()
	home := c.tempDir()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"WINDSOCK_HOME=" + home, "HOME=" + home}, c.env...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		c.t.Fatalf("windsock %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return string(out)
}

// writeDAG writes a DAG file into the shared DAG folder.
func (c *cluster) writeDAG(name, content string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dags, name), []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// waitFor polls cond (every 50 ms, a read of the database) until it holds,
// failing the test after timeout.
func (c *cluster) waitFor(what string, timeout time.Duration, cond func() (bool, error)) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil && windsock.ErrorCode(err) != windsock.ENOTFOUND {
			c.t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: not within %s", what, timeout)
		}
		<-tick.C
	}
}

// waitDAG waits until the DAG processor stored a DAG.
func (c *cluster) waitDAG(dagID string) {
	c.t.Helper()
	c.waitFor("DAG "+dagID+" parsed", 30*time.Second, func() (bool, error) {
		_, err := c.store.SerializedDAGGet(context.Background(), dagID)
		return err == nil, err
	})
}

// waitRun waits until a run ends and returns its state.
func (c *cluster) waitRun(dagID, runID string, timeout time.Duration) windsock.DagRunState {
	c.t.Helper()
	var state windsock.DagRunState
	c.waitFor("run "+dagID+"/"+runID+" to end", timeout, func() (bool, error) {
		r, err := c.store.DagRunGet(context.Background(), dagID, runID)
		if err != nil {
			return false, err
		}
		state = r.State
		return state == windsock.DagRunSuccess || state == windsock.DagRunFailed, nil
	})
	return state
}

// sideEffects counts the lines tasks appended, by their first field.
func (c *cluster) sideEffects() map[string]int {
	c.t.Helper()
	f, err := os.Open(c.side)
	if os.IsNotExist(err) {
		return map[string]int{}
	}
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 0 {
			counts[fields[0]]++
		}
	}
	return counts
}

// ti reads a task instance of a run.
func (c *cluster) ti(dagID, runID, taskID string) *windsock.TaskInstance {
	c.t.Helper()
	ti, err := c.store.TaskInstanceGet(context.Background(), windsock.TaskInstanceKey{DagID: dagID, RunID: runID, TaskID: taskID, MapIndex: -1})
	if err != nil {
		c.t.Fatal(err)
	}
	return ti
}

// sideEffect is a bash command appending "<task_id> <try> <host>" to the
// side-effect file: what tests count to tell how often a task really ran.
const sideEffect = `echo "{{ ti.task_id }} {{ ti.try_number }} {{ ti.hostname }}" >> "$SIDE"`

// wideDAG is a DAG of n tasks: start, n-2 in parallel, end.
func wideDAG(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  schedule: null\n  start_date: 2024-01-01\n  tasks:\n", id)
	fmt.Fprintf(&b, "    - {task_id: start, operator: bash, bash_command: '%s'}\n", sideEffect)
	for i := 1; i <= n-2; i++ {
		fmt.Fprintf(&b, "    - {task_id: t%03d, operator: bash, bash_command: '%s', dependencies: [start]}\n", i, sideEffect)
	}
	b.WriteString("    - task_id: end\n      operator: bash\n      bash_command: '" + sideEffect + "'\n      dependencies: [")
	for i := 1; i <= n-2; i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "t%03d", i)
	}
	b.WriteString("]\n")
	return b.String()
}

// TestClusterRunsEveryTaskOnce: two schedulers and three workers run a
// 500-task DAG to success, every task exactly once (counted from side
// effects, not states), spread over the workers.
func TestClusterRunsEveryTaskOnce(t *testing.T) {
	t.Parallel()
	// Not a fault test: a zombie threshold long enough that a machine
	// busy with the rest of the suite never fences a worker whose
	// heartbeat was late (half of 6 s was seen to pass under -race).
	c := newCluster(t, clusterOption{"SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD", "30"})
	c.writeDAG("wide.yaml", wideDAG("wide", 500))
	c.start("dag-processor", "dag-processor")
	c.start("scheduler-1", "scheduler")
	c.start("scheduler-2", "scheduler")
	for i := 1; i <= 3; i++ {
		c.start(fmt.Sprintf("worker-%d", i), "worker", "--hostname", fmt.Sprintf("127.0.0.%d", i+1), "--concurrency", "16")
	}
	c.waitDAG("wide")
	c.run("dags", "trigger", "wide", "-r", "once")
	if state := c.waitRun("wide", "once", 3*time.Minute); state != windsock.DagRunSuccess {
		t.Fatalf("run ended %s, want success", state)
	}
	counts := c.sideEffects()
	if len(counts) != 500 {
		t.Fatalf("%d tasks left a side effect, want 500", len(counts))
	}
	for task, n := range counts {
		if n != 1 {
			t.Fatalf("task %s ran %d times, want exactly once", task, n)
		}
	}
	hosts := map[string]int{}
	tis, err := c.store.TaskInstanceList(context.Background(), &store.TaskInstanceListParams{DagID: "wide", RunID: "once"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range tis {
		if ti.State != windsock.TaskStateSuccess || ti.TryNumber != 1 {
			t.Fatalf("%s: %s try %d, want success on try 1", ti.TaskID, ti.State, ti.TryNumber)
		}
		hosts[ti.Hostname]++
	}
	if len(hosts) < 2 {
		t.Fatalf("tasks ran on %v: want them spread over the workers", hosts)
	}
}

// chainDAG is a chain of n tasks, each sleeping a little.
func chainDAG(id string, n int, sleep string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  schedule: null\n  start_date: 2024-01-01\n  tasks:\n", id)
	for i := 1; i <= n; i++ {
		dep := ""
		if i > 1 {
			dep = fmt.Sprintf(", dependencies: [%s_%02d]", id, i-1)
		}
		fmt.Fprintf(&b, "    - {task_id: %s_%02d, operator: bash, bash_command: 'sleep %s; %s'%s}\n", id, i, sleep, sideEffect, dep)
	}
	return b.String()
}

// TestClusterSchedulerKilled: kill -9 of one of two schedulers mid-run
// leaves the other running everything: every run succeeds, no run is
// created twice, no task runs twice.
func TestClusterSchedulerKilled(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	const dags = 6
	for i := range dags {
		c.writeDAG(fmt.Sprintf("c%d.yaml", i), chainDAG(fmt.Sprintf("c%d", i), 8, "0.3"))
	}
	c.start("dag-processor", "dag-processor")
	victim := c.start("scheduler-1", "scheduler")
	c.start("scheduler-2", "scheduler")
	c.start("worker-1", "worker", "--hostname", "127.0.0.2")
	for i := range dags {
		c.waitDAG(fmt.Sprintf("c%d", i))
	}
	for i := range dags {
		c.run("dags", "trigger", fmt.Sprintf("c%d", i), "-r", "r")
	}
	// Kill the first scheduler once the runs are under way.
	c.waitFor("some tasks done", time.Minute, func() (bool, error) {
		return len(c.sideEffects()) >= dags, nil
	})
	victim.cmd.Process.Signal(syscall.SIGKILL)
	<-victim.done
	for i := range dags {
		if state := c.waitRun(fmt.Sprintf("c%d", i), "r", 2*time.Minute); state != windsock.DagRunSuccess {
			t.Fatalf("run of c%d ended %s, want success", i, state)
		}
	}
	for task, n := range c.sideEffects() {
		if n != 1 {
			t.Fatalf("task %s ran %d times, want once", task, n)
		}
	}
	if got := len(c.sideEffects()); got != dags*8 {
		t.Fatalf("%d tasks ran, want %d", got, dags*8)
	}
	for i := range dags {
		runs, err := c.store.DagRunList(context.Background(), &store.DagRunListParams{DagID: fmt.Sprintf("c%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 {
			t.Fatalf("c%d has %d runs, want 1", i, len(runs))
		}
	}
}
