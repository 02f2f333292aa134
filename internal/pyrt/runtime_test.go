package pyrt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// testPython is Debian's interpreter: the python3 first on PATH may be a
// slow version-manager shim.
func testPython(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3")
	}
	return "/usr/bin/python3"
}

func setup(t *testing.T) *Runtime {
	t.Helper()
	ctx := context.Background()
	r, err := New(ctx, Config{Python: testPython(t), CacheDir: t.TempDir(), DagsFolder: t.TempDir(), KillGrace: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// eval runs code in a child of the parse server.
func eval(ctx context.Context, t *testing.T, r *Runtime, code string, h Handler) (json.RawMessage, string, error) {
	t.Helper()
	s, err := r.server(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	res, err := r.do(ctx, s, map[string]any{"op": "eval", "code": code}, &log, h)
	return res, log.String(), err
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestChildCallsAndResult(t *testing.T) {
	t.Parallel()
	r := setup(t)
	h := HandlerFunc(func(ctx context.Context, name string, args json.RawMessage) (any, error) {
		var a struct{ Key string }
		_ = json.Unmarshal(args, &a)
		if name == "variable_get" && a.Key == "greeting" {
			return "hello", nil
		}
		return nil, windsock.Errorf(windsock.ENOTFOUND, "variable %s does not exist", a.Key)
	})
	code := `
import sys
print("to the log")
print("and stderr", file=sys.stderr)
v = rpc.call("variable_get", key="greeting")
try:
    rpc.call("variable_get", key="missing")
    missing = "found"
except rpc.NotFound as e:
    missing = "not found: " + e.message
rpc.call("result", value=v, missing=missing, big=12345678901234567, f=5.0)
`
	res, log, err := eval(context.Background(), t, r, code, h)
	if err != nil {
		t.Fatalf("eval: %v (log %q)", err, log)
	}
	var m map[string]any
	if err := windsock.DecodeJSON(res, &m); err != nil {
		t.Fatal(err)
	}
	if m["value"] != "hello" || m["missing"] != "not found: variable missing does not exist" {
		t.Errorf("result = %v", m)
	}
	if _, isFloat := m["f"].(float64); !isFloat {
		t.Errorf("5.0 came back as %T, want a float", m["f"])
	}
	if !strings.Contains(log, "to the log\n") || !strings.Contains(log, "and stderr\n") {
		t.Errorf("log = %q, want both lines", log)
	}
}

func TestChildWithoutResult(t *testing.T) {
	t.Parallel()
	r := setup(t)
	_, _, err := eval(context.Background(), t, r, "import os; os._exit(3)", nil)
	if err == nil || !strings.Contains(err.Error(), "exited with return code 3 without reporting a result") {
		t.Fatalf("err = %v", err)
	}
	_, log, err := eval(context.Background(), t, r, "raise ValueError('boom')", nil)
	if err == nil || !strings.Contains(log, "ValueError: boom") {
		t.Fatalf("err = %v, log = %q", err, log)
	}
}

// A cancelled request kills the child and what it started, and the server
// goes on serving.
func TestCancelKillsChildGroup(t *testing.T) {
	t.Parallel()
	r := setup(t)
	started := make(chan int, 1)
	h := HandlerFunc(func(ctx context.Context, name string, args json.RawMessage) (any, error) {
		var a struct{ PID int }
		_ = json.Unmarshal(args, &a)
		started <- a.PID
		return nil, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := eval(ctx, t, r, `
import subprocess, time
p = subprocess.Popen(["sleep", "300"])
rpc.call("started", pid=p.pid)
time.sleep(300)
`, h)
		done <- err
	}()
	grandchild := <-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The group is gone once do returns (it waits for that).
	if running(grandchild) {
		t.Fatalf("the task's subprocess %d survived the kill", grandchild)
	}
	if _, _, err := eval(context.Background(), t, r, `rpc.call("result", ok=1)`, nil); err != nil {
		t.Fatalf("server after a kill: %v", err)
	}
}

// running reports whether pid is a live process: a zombie (killed, not yet
// reaped by whoever adopted it) is not.
func running(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// A server that dies fails its requests with its stderr, and the next
// request starts a new one.
func TestServerDeathIsReported(t *testing.T) {
	t.Parallel()
	r := setup(t)
	ctx := context.Background()
	s, err := r.server(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.done
	if _, _, err := eval(ctx, t, r, `rpc.call("result", ok=1)`, nil); err != nil {
		t.Fatalf("a new server should serve: %v", err)
	}
}

func TestStopEndsChildren(t *testing.T) {
	t.Parallel()
	r := setup(t)
	started := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, name string, args json.RawMessage) (any, error) {
		close(started)
		return nil, nil
	})
	done := make(chan error, 1)
	go func() {
		_, _, err := eval(context.Background(), t, r, "import time\nrpc.call('started')\ntime.sleep(300)", h)
		done <- err
	}()
	<-started
	r.Stop()
	if err := <-done; err == nil {
		t.Fatal("a child of a stopped runtime reported success")
	}
	if _, err := r.Parse(context.Background(), "/nonexistent.py", 0, nil); !errors.Is(err, errStopped) {
		t.Fatalf("Parse after Stop: %v", err)
	}
}

func TestExtractShipsRuntimeOnly(t *testing.T) {
	t.Parallel()
	cache := t.TempDir()
	dir, err := Extract(cache)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "windsock_rt", "forkserver.py")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tests")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("tests were extracted: %v", err)
	}
	again, err := Extract(cache)
	if err != nil || again != dir {
		t.Fatalf("second Extract = %q, %v", again, err)
	}
}

// A version-manager shim is resolved to the interpreter it starts.
func TestResolvePythonThroughShim(t *testing.T) {
	t.Parallel()
	py := testPython(t)
	dir := t.TempDir()
	shim := filepath.Join(dir, "python3-shim")
	if err := os.WriteFile(shim, []byte("#!/bin/sh\nexec "+py+" \"$@\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	// A fork by a parallel test may briefly hold the shim open for writing
	// (ETXTBSY); the uncached resolver is retried until it is closed.
	var got string
	var err error
	for range 100 {
		if got, err = resolvePython(context.Background(), shim, nil); err == nil || !strings.Contains(err.Error(), "text file busy") {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	want, _ := exec.Command(py, "-c", "import sys; print(sys.executable)").Output()
	if got != strings.TrimSpace(string(want)) || got == shim {
		t.Fatalf("resolved %q, want %q", got, want)
	}
	if _, err := ResolvePython(context.Background(), filepath.Join(dir, "missing"), nil); err == nil {
		t.Fatal("a missing interpreter resolved")
	}
	// A name is looked up on the environment's PATH, not this process's.
	if got, err := ResolvePython(context.Background(), "python3-shim", []string{"PATH=/nonexistent:" + dir}); err != nil || got != strings.TrimSpace(string(want)) {
		t.Fatalf("python3-shim on the environment's PATH resolved to %q, %v; want %q", got, err, want)
	}
	if _, err := ResolvePython(context.Background(), "python3-shim", []string{"PATH=" + os.Getenv("PATH")}); err == nil {
		t.Fatal("python3-shim resolved though it is not on the environment's PATH")
	}
}

// A worker serves one request after another, and what a request changed
// in the process environment or working directory is put back before the
// next one.
func TestWorkerReuseIsolation(t *testing.T) {
	t.Parallel()
	r := setup(t)
	ctx := context.Background()
	first, _, err := eval(ctx, t, r, `
import os
os.environ["WINDSOCK_LEAK"] = "1"
os.chdir("/")
rpc.call("result", pid=os.getpid())
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := eval(ctx, t, r, `
import os
rpc.call("result", pid=os.getpid(), leak=os.environ.get("WINDSOCK_LEAK"), cwd=os.getcwd())
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	var a, b struct {
		PID  int
		Leak *string
		Cwd  string
	}
	if err := json.Unmarshal(first, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(second, &b); err != nil {
		t.Fatal(err)
	}
	// The server hands a request to the worker that went idle last, so
	// the second request meets the first one's worker: without that the
	// check below would prove nothing.
	if a.PID != b.PID {
		t.Fatalf("the second request went to another worker (%d, then %d)", a.PID, b.PID)
	}
	if b.Leak != nil || b.Cwd == "/" {
		t.Fatalf("the first request's changes leaked into the next: env %v, cwd %q", b.Leak, b.Cwd)
	}
}

// A worker whose try caught SIGTERM (Windsock was stopping it) serves no
// other request: the next one goes to another worker.
func TestWorkerRetiresAfterTerminatedTry(t *testing.T) {
	t.Parallel()
	r := setup(t)
	ctx := context.Background()
	pidOf := func(code string) int {
		t.Helper()
		res, _, err := eval(ctx, t, r, code, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ PID int }
		if err := json.Unmarshal(res, &out); err != nil {
			t.Fatal(err)
		}
		return out.PID
	}
	stopped := pidOf(`
import os
from windsock_rt import execute
execute.terminated = True  # what execute's SIGTERM handler records
rpc.call("result", pid=os.getpid())
`)
	for range 3 {
		if next := pidOf(`import os; rpc.call("result", pid=os.getpid())`); next == stopped {
			t.Fatalf("worker %d served another request after its try was terminated", stopped)
		}
	}
}
