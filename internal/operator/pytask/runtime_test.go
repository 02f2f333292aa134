package pytask

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/pyrt"
	"github.com/windsock/windsock/internal/windsock"
)

// These tests run the operator over a real pyrt runtime and Python, with
// the Python side of Contract 3 (windsock_rt.execute.run_task) replaced by
// a small stand-in in a private copy of the runtime tree, so that they
// pin down what the Go side sends, how it reads the outcome, and what a
// kill leaves behind, whatever the real run_task does with a DAG file.

// stubExecute stands in for windsock_rt.execute: the request's context
// says what to do ("echo" the request back as the return value, "sleep"
// with a subprocess after writing both pids to pidfile).
const stubExecute = `
import os, subprocess, time

def run_task(req, rpc):
    outcome = _run(req, rpc)
    rpc.call("result", **outcome)
    return outcome

def _run(req, rpc):
    for k, v in (req.get("env") or {}).items():
        os.environ[k] = v
    ctx = req.get("context") or {}
    if req["kind"] == "render":
        return {"state": "success", "rendered_fields": {"sql": "SELECT '%s'" % ctx.get("ds")}}
    if ctx.get("mode") == "sleep":
        child = subprocess.Popen(["sleep", "300"])
        with open(ctx["pidfile"] + ".tmp", "w") as f:
            f.write("%d %d" % (os.getpid(), child.pid))
        os.rename(ctx["pidfile"] + ".tmp", ctx["pidfile"])
        time.sleep(300)
    if ctx.get("mode") == "term":  # handles SIGTERM as a Python task does
        import signal
        def stop(*_):
            raise RuntimeError("Task received SIGTERM signal")
        signal.signal(signal.SIGTERM, stop)
        try:
            with open(ctx["pidfile"] + ".tmp", "w") as f:
                f.write("%d" % os.getpid())
            os.rename(ctx["pidfile"] + ".tmp", ctx["pidfile"])
            time.sleep(300)
        except RuntimeError as e:
            print("on_failure_callback ran")
            return {"state": "failed", "rendered_fields": {"x": "1"},
                    "error": {"types": ["AirflowTaskTerminated"], "message": str(e), "traceback": ""}}
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if ctx.get("mode") == "background":
        child = subprocess.Popen(["sleep", "60"])  # holds the log open
        with open(ctx["pidfile"] + ".tmp", "w") as f:
            f.write("%d %d" % (os.getpid(), child.pid))
        os.rename(ctx["pidfile"] + ".tmp", ctx["pidfile"])
        return {"state": "success"}
    if ctx.get("mode") == "call":
        value = rpc.call("variable_get", key="color")
        return {"state": "success", "has_return": True, "return_value": value}
    print("stub ran", req["task_id"])
    return {"state": "success", "has_return": True, "return_value": req,
            "rendered_fields": {"templates_dict": {"t": ctx.get("ds")}}}
`

// stubParse stands in for windsock_rt.parse, which a file server calls to
// import its DAG file first.
const stubParse = `
def parse_file(path, opts):
    return {"dags": [], "import_errors": [], "warnings": []}
`

// testPython is Debian's interpreter: the python3 first on PATH may be a
// slow version-manager shim.
func testPython(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3")
	}
	return "/usr/bin/python3"
}

// stubCache extracts the runtime tree into a fresh cache directory and
// puts the stand-ins in place; runtimes made over that directory use them.
func stubCache(t *testing.T) string {
	t.Helper()
	cache := t.TempDir()
	dir, err := pyrt.Extract(cache)
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{"execute.py": stubExecute, "parse.py": stubParse} {
		if err := os.WriteFile(filepath.Join(dir, "windsock_rt", name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cache
}

// newRuntime returns a runtime over the stand-ins.
func newRuntime(t *testing.T, cache string) *pyrt.Runtime {
	t.Helper()
	rt, err := pyrt.New(context.Background(), pyrt.Config{Python: testPython(t), CacheDir: cache, DagsFolder: t.TempDir(), KillGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Stop)
	return rt
}

// tryContext is a try of task "work" of a DAG whose file is in dir.
func tryContext(t *testing.T, dir string, template map[string]any) *operator.Context {
	t.Helper()
	file := filepath.Join(dir, "flow.py")
	if err := os.WriteFile(file, []byte("# a DAG file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pid, job := 4242, int64(7)
	logical := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	return &operator.Context{
		DAG:  &windsock.DAG{DagID: "flow", Fileloc: file},
		Task: &windsock.Task{TaskID: "work", Owner: "data"},
		Run:  &windsock.DagRun{DagID: "flow", RunID: "manual__x", LogicalDate: logical},
		TI: &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "flow", TaskID: "work", RunID: "manual__x", MapIndex: -1},
			TryNumber: 2, MaxTries: 3, PID: &pid, JobID: &job},
		Template: template,
	}
}

func runtimeFunc(rt *pyrt.Runtime) RuntimeFunc {
	return func(context.Context) (Runtime, error) { return rt, nil }
}

// TestExecuteOverPython: the request reaches run_task as Contract 3 says
// (ids, try numbers, the template context with floats kept, the
// AIRFLOW_CTX_* variables and try mark to export, a mapped instance's
// arguments), what the child prints
// goes to the log, and the outcome comes back with its rendered fields.
func TestExecuteOverPython(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, stubCache(t))
	var log strings.Builder
	tc := tryContext(t, t.TempDir(), map[string]any{"ds": "2024-05-01", "ratio": 5.0})
	tc.Log = &log
	tc.Mapped = map[string]any{"x": 2.0}
	res, err := New(runtimeFunc(rt)).Execute(context.Background(), tc)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := res.ReturnValue.(map[string]any)
	ctx, _ := req["context"].(map[string]any)
	env, _ := req["env"].(map[string]any)
	for k, want := range map[string]any{
		"kind": "task", "file": tc.DAG.Fileloc, "dag_id": "flow", "task_id": "work", "run_id": "manual__x",
		"map_index": json.Number("-1"), "try_number": json.Number("2"), "max_tries": json.Number("3"),
	} {
		if req[k] != want {
			t.Errorf("request %s = %#v, want %#v", k, req[k], want)
		}
	}
	if expand, _ := req["expand"].(map[string]any); expand["x"] != json.Number("2.0") {
		t.Errorf("a mapped instance's arguments reached python as %v", req["expand"])
	}
	if ctx["ratio"] != json.Number("5.0") || ctx["ds"] != "2024-05-01" {
		t.Errorf("context reached python as %v", ctx)
	}
	if env["AIRFLOW_CTX_DAG_ID"] != "flow" || env["AIRFLOW_CTX_TRY_NUMBER"] != "2" || env["WINDSOCK_TRY"] != "env= map_index=-1 pid=4242 job=7" {
		t.Errorf("env to export: %v", env)
	}
	if !strings.Contains(log.String(), "stub ran work") {
		t.Errorf("log %q lacks what the child printed", log.String())
	}
	if got := res.RenderedFields["templates_dict"]; fmt.Sprint(got) != "map[t:2024-05-01]" {
		t.Errorf("rendered fields %v", res.RenderedFields)
	}
}

// TestRenderFieldsOverPython: tasks render asks Python for the task's
// rendered fields.
func TestRenderFieldsOverPython(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, stubCache(t))
	tc := tryContext(t, t.TempDir(), map[string]any{"ds": "2024-05-01"})
	got, err := New(runtimeFunc(rt)).RenderFields(context.Background(), tc)
	if err != nil || got["sql"] != "SELECT '2024-05-01'" {
		t.Fatalf("rendered %v, %v", got, err)
	}
}

// TestExecuteAnswersCalls: the child's calls during the try are answered
// from the try's sources.
func TestExecuteAnswersCalls(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, stubCache(t))
	tc := tryContext(t, t.TempDir(), map[string]any{"mode": "call"})
	tc.Variables = colorVariables{}
	res, err := New(runtimeFunc(rt)).Execute(context.Background(), tc)
	if err != nil {
		t.Fatal(err)
	}
	if res.ReturnValue != "teal" {
		t.Errorf("return value %#v, want the variable's value", res.ReturnValue)
	}
}

// colorVariables holds one variable, color=teal.
type colorVariables struct{}

func (colorVariables) Get(_ context.Context, key string) (string, error) {
	if key == "color" {
		return "teal", nil
	}
	return "", windsock.Errorf(windsock.ENOTFOUND, "variable %q does not exist", key)
}
func (colorVariables) Set(context.Context, string, string, string) error {
	return errors.ErrUnsupported
}
func (colorVariables) Delete(context.Context, string) error { return errors.ErrUnsupported }

// readPids waits for the sleeping stand-in to write its pid and its
// subprocess's.
func readPids(t *testing.T, path string, failed func() bool) []int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if b, err := os.ReadFile(path); err == nil {
			var pids []int
			for _, f := range strings.Fields(string(b)) {
				n, _ := strconv.Atoi(f)
				pids = append(pids, n)
			}
			return pids
		}
		if failed() || time.Now().After(deadline) {
			t.Fatal("the Python try did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitEnded waits until each process has ended (gone, or a zombie no one
// reaped), failing after a minute.
func waitEnded(t *testing.T, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for _, pid := range pids {
		for !ended(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d still runs", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func ended(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the state follows the command name
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

// TestTimeoutKillsTheTryAndItsSubprocess: the end of the try's context
// (execution_timeout) kills the Python child and what it started.
func TestTimeoutKillsTheTryAndItsSubprocess(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, stubCache(t))
	pidfile := filepath.Join(t.TempDir(), "pids")
	tc := tryContext(t, t.TempDir(), map[string]any{"mode": "sleep", "pidfile": pidfile})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := New(runtimeFunc(rt)).Execute(ctx, tc)
		done <- err
	}()
	pids := readPids(t, pidfile, func() bool { return len(done) > 0 })
	cancel() // as execution_timeout's deadline does
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Execute = %v, want the context's error", err)
	}
	waitEnded(t, pids...)
}

// TestStoppedTryThatRanItsCallbacks: a try stopped by its context whose
// Python caught the SIGTERM and ran its callbacks (as a task's failure
// handling does) says so, so the worker does not run them again, and
// keeps its rendered fields.
func TestStoppedTryThatRanItsCallbacks(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, stubCache(t))
	pidfile := filepath.Join(t.TempDir(), "pids")
	var log strings.Builder
	tc := tryContext(t, t.TempDir(), map[string]any{"mode": "term", "pidfile": pidfile})
	tc.Log = &syncWriter{w: &log}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type answer struct {
		res *operator.Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := New(runtimeFunc(rt)).Execute(ctx, tc)
		done <- answer{res, err}
	}()
	pids := readPids(t, pidfile, func() bool { return len(done) > 0 })
	cancel()
	a := <-done
	if !errors.Is(a.err, context.Canceled) || a.res == nil || !a.res.CallbacksRan || a.res.RenderedFields["x"] != "1" {
		t.Fatalf("Execute = %+v, %v; want the context's error with CallbacksRan and the rendered fields", a.res, a.err)
	}
	waitEnded(t, pids...) // the worker told to die goes
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestLeftoversEndWithTheTry: what a Python try left running in the
// background (here holding its log open) is killed when the try ends, as
// Airflow's task runner reaps the task's process group; the worker, reused
// for later tries, stays.
func TestLeftoversEndWithTheTry(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, stubCache(t))
	pidfile := filepath.Join(t.TempDir(), "pids")
	tc := tryContext(t, t.TempDir(), map[string]any{"mode": "background", "pidfile": pidfile})
	// Left alone, the subprocess would hold the try for a minute.
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	if _, err := New(runtimeFunc(rt)).Execute(ctx, tc); err != nil {
		t.Fatal(err)
	}
	pids := readPids(t, pidfile, func() bool { return false })
	t.Cleanup(func() { syscall.Kill(pids[1], syscall.SIGKILL) })
	waitEnded(t, pids[1])
	if ended(pids[0]) {
		t.Errorf("the worker %d was killed with what the try left", pids[0])
	}
}

// TestWorkerKilledLeavesNoPython: when the process running a Python try
// dies by SIGKILL, as a worker killed mid-try does, neither the try's
// Python child nor the subprocess it started keeps running.
func TestWorkerKilledLeavesNoPython(t *testing.T) {
	t.Parallel()
	testPython(t)
	cache := stubCache(t)
	pidfile := filepath.Join(t.TempDir(), "pids")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWorker$")
	cmd.Env = append(os.Environ(), "PYTASK_HELPER_CACHE="+cache, "PYTASK_HELPER_PIDFILE="+pidfile, "PYTASK_HELPER_DIR="+t.TempDir())
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	pids := readPids(t, pidfile, func() bool {
		select {
		case <-exited:
			return true
		default:
			return false
		}
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	waitEnded(t, pids...)
	if t.Failed() {
		t.Logf("worker output:\n%s", out)
	}
}

// TestHelperWorker is the worker TestWorkerKilledLeavesNoPython kills: it
// runs one sleeping Python try (only when started by that test).
func TestHelperWorker(t *testing.T) {
	cache := os.Getenv("PYTASK_HELPER_CACHE")
	if cache == "" {
		t.Skip("run by TestWorkerKilledLeavesNoPython")
	}
	rt := newRuntime(t, cache)
	tc := tryContext(t, os.Getenv("PYTASK_HELPER_DIR"), map[string]any{"mode": "sleep", "pidfile": os.Getenv("PYTASK_HELPER_PIDFILE")})
	_, err := New(runtimeFunc(rt)).Execute(context.Background(), tc)
	t.Fatalf("the try ended (%v); it should have been killed with this process", err)
}
