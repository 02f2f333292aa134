package bash

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/sensor"
	"github.com/windsock/windsock/internal/windsock"
)

// syncBuffer is a log that the test may read while the operator writes.
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

func setup(t testing.TB, args map[string]any) (*operator.Context, *syncBuffer) {
	t.Helper()
	log := &syncBuffer{}
	logical := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tc := &operator.Context{
		DAG:  &windsock.DAG{DagID: "dag1"},
		Task: &windsock.Task{TaskID: "task1", Owner: "alice"},
		Run:  &windsock.DagRun{DagID: "dag1", RunID: "manual__2024-01-02T03:04:05+00:00", LogicalDate: logical},
		TI: &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{
			DagID: "dag1", TaskID: "task1", RunID: "manual__2024-01-02T03:04:05+00:00", MapIndex: -1}, TryNumber: 2},
		Args:    args,
		Log:     log,
		Environ: []string{"PATH=" + os.Getenv("PATH"), "HOME=/home/test", "KEEP=kept"},
		Now:     time.Now,
	}
	return tc, log
}

func TestBashOperator(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    map[string]any
		want    string // return value
		wantErr string // error text, "" for success
		skip    bool
		inLog   []string
	}{
		{name: "last line is the return value", args: map[string]any{"bash_command": "echo hello; echo 'world  '"},
			want: "world", inLog: []string{"hello\n", "world\n", "Command exited with return code 0"}},
		{name: "no output", args: map[string]any{"bash_command": "true"}, want: ""},
		{name: "stderr goes to the log", args: map[string]any{"bash_command": "echo oops >&2; echo out"},
			want: "out", inLog: []string{"oops\n"}},
		{name: "non-zero exit fails", args: map[string]any{"bash_command": "echo before; exit 3"},
			wantErr: "Bash command failed. The command returned a non-zero exit code 3."},
		{name: "99 skips by default", args: map[string]any{"bash_command": "exit 99"}, skip: true},
		{name: "skip codes list", args: map[string]any{"bash_command": "exit 4", "skip_on_exit_code": []any{3, 4.0}}, skip: true},
		{name: "skip code int", args: map[string]any{"bash_command": "exit 5", "skip_on_exit_code": 5}, skip: true},
		{name: "skip code null", args: map[string]any{"bash_command": "exit 99", "skip_on_exit_code": nil},
			wantErr: "Bash command failed. The command returned a non-zero exit code 99."},
		{name: "airflow context variables", args: map[string]any{"bash_command": `echo "$AIRFLOW_CTX_DAG_ID $AIRFLOW_CTX_TASK_ID $AIRFLOW_CTX_EXECUTION_DATE $AIRFLOW_CTX_LOGICAL_DATE $AIRFLOW_CTX_TRY_NUMBER $AIRFLOW_CTX_DAG_RUN_ID $AIRFLOW_CTX_DAG_OWNER"`},
			want: "dag1 task1 2024-01-02T03:04:05+00:00 2024-01-02T03:04:05+00:00 2 manual__2024-01-02T03:04:05+00:00 alice"},
		{name: "base environment", args: map[string]any{"bash_command": `echo "$KEEP $HOME"`}, want: "kept /home/test"},
		{name: "env replaces the environment", args: map[string]any{"bash_command": `echo "${KEEP:-none} $FOO $N $AIRFLOW_CTX_DAG_ID"`, "env": map[string]any{"FOO": "bar", "N": 7}},
			want: "none bar 7 dag1"},
		{name: "append_env", args: map[string]any{"bash_command": `echo "$KEEP $FOO"`, "env": map[string]any{"FOO": "bar", "KEEP": "over"}, "append_env": true},
			want: "over bar"},
		{name: "cwd", args: map[string]any{"bash_command": "pwd", "cwd": dir}, want: dir},
		{name: "missing cwd", args: map[string]any{"bash_command": "pwd", "cwd": filepath.Join(dir, "nope")},
			wantErr: "Can not find the cwd: " + filepath.Join(dir, "nope")},
		{name: "cwd is a file", args: map[string]any{"bash_command": "pwd", "cwd": file},
			wantErr: "The cwd " + file + " must be a directory"},
		{name: "invalid utf-8 is backslash-escaped", args: map[string]any{"bash_command": `printf 'caf\xe9\n'`}, want: `caf\xe9`},
		{name: "latin-1", args: map[string]any{"bash_command": `printf 'caf\xe9\n'`, "output_encoding": "latin-1"}, want: "café"},
		{name: "utf-16 via x/text", args: map[string]any{"bash_command": `printf 'h\0i\0'`, "output_encoding": "UTF-16LE"}, want: "hi"},
		{name: "unknown encoding", args: map[string]any{"bash_command": "true", "output_encoding": "klingon"},
			wantErr: `argument output_encoding: unknown or unsupported encoding "klingon"`},
	}
	op := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tc, log := setup(t, tt.args)
			res, err := op.Execute(context.Background(), tc)
			switch {
			case tt.skip:
				if !errors.Is(err, operator.ErrSkip) {
					t.Fatalf("error %v, want ErrSkip", err)
				}
			case tt.wantErr != "":
				if err == nil || err.Error() != tt.wantErr || errors.Is(err, operator.ErrSkip) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatalf("Execute: %v\nlog:\n%s", err, log)
				}
				if !res.HasReturn || res.ReturnValue != tt.want {
					t.Errorf("return value %q (%v), want %q", res.ReturnValue, res.HasReturn, tt.want)
				}
			}
			for _, s := range tt.inLog {
				if !strings.Contains(log.String(), s) {
					t.Errorf("log lacks %q:\n%s", s, log)
				}
			}
		})
	}
}

// Without cwd the command runs in an empty temporary directory: one it
// wrote to is removed afterwards, an empty one is reused.
func TestBashTemporaryCwd(t *testing.T) {
	t.Parallel()
	op := New(Options{})
	run := func(command string) string {
		t.Helper()
		tc, log := setup(t, map[string]any{"bash_command": command})
		res, err := op.Execute(context.Background(), tc)
		if err != nil {
			t.Fatalf("%s: %v\n%s", command, err, log)
		}
		return res.ReturnValue.(string)
	}
	dir := run("touch litter; pwd")
	if !strings.HasPrefix(filepath.Base(dir), "airflowtmp") {
		t.Errorf("ran in %q, want a temporary airflowtmp* directory", dir)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary directory %q still there after the command wrote to it (stat error %v)", dir, err)
	}
	first := run("pwd")
	if second := run("pwd"); second != first {
		t.Errorf("an empty working directory was not reused: %q then %q", first, second)
	}
	if n := run("ls -A | wc -l"); strings.TrimSpace(n) != "0" {
		t.Errorf("working directory holds %s entries, want 0", n)
	}
}

func TestBashMissing(t *testing.T) {
	t.Parallel()
	tc, _ := setup(t, map[string]any{"bash_command": "true"})
	_, err := New(Options{Bash: "/nonexistent/bash"}).Execute(context.Background(), tc)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/bash") {
		t.Fatalf("error %v, want one naming the missing executable", err)
	}
}

// pidWatcher is a log that records the pids a command prints as
// "pid <n>" and signals when it prints "ready".
type pidWatcher struct {
	mu    sync.Mutex
	pids  []int
	ready chan struct{}
	buf   []byte
}

func (w *pidWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if n, ok := strings.CutPrefix(line, "pid "); ok {
			pid, err := strconv.Atoi(n)
			if err == nil {
				w.pids = append(w.pids, pid)
			}
		}
		if line == "ready" {
			close(w.ready)
		}
	}
	return len(p), nil
}

// gone reports whether pid no longer runs: it does not exist, or it has
// exited and only waits to be reaped by init (a zombie holds nothing).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && len(stat) > i+2 && (stat[i+2] == 'Z' || stat[i+2] == 'X')
}

// treeScript starts two background sleeps and a child bash with its own
// background sleep (a grandchild); every process prints its pid, and the
// last one to start prints "ready".
const treeScript = `
echo "pid $$"
sleep 300 & echo "pid $!"
sleep 300 & echo "pid $!"
bash -c 'echo "pid $$"; sleep 300 & echo "pid $!"; echo ready; wait' &
wait
`

func runTree(t *testing.T, script string, grace time.Duration) (time.Duration, *pidWatcher) {
	t.Helper()
	tc, _ := setup(t, map[string]any{"bash_command": script})
	w := &pidWatcher{ready: make(chan struct{})}
	tc.Log = w
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := New(Options{KillGrace: grace}).Execute(ctx, tc)
		done <- err
	}()
	select {
	case <-w.ready:
	case err := <-done:
		t.Fatalf("command ended before it was ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("command never got ready")
	}
	start := time.Now()
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Execute did not return after cancellation")
	}
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pids) < 4 {
		t.Fatalf("recorded pids %v, want at least 4", w.pids)
	}
	for _, pid := range w.pids {
		if !gone(pid) {
			t.Errorf("process %d survived the cancellation", pid)
		}
	}
	return took, w
}

// Cancelling a try kills bash and everything it started: children and
// grandchildren, all gone by the time Execute returns.
func TestBashCancelKillsProcessTree(t *testing.T) {
	t.Parallel()
	took, w := runTree(t, treeScript, time.Minute)
	if took > 5*time.Second {
		t.Errorf("Execute took %v after cancellation; SIGTERM should have been enough", took)
	}
	if len(w.pids) != 5 {
		t.Errorf("recorded %d pids, want 5 (two sleeps, a child bash, its sleep, bash itself)", len(w.pids))
	}
}

// Processes that ignore SIGTERM get SIGKILL after the grace period.
func TestBashCancelEscalatesToSIGKILL(t *testing.T) {
	t.Parallel()
	took, _ := runTree(t, "trap '' TERM\n"+treeScript, 300*time.Millisecond)
	if took < 300*time.Millisecond {
		t.Errorf("Execute returned %v after cancellation, before the grace period", took)
	}
}

// An execution timeout is a cancellation with a deadline.
func TestBashTimeout(t *testing.T) {
	t.Parallel()
	tc, _ := setup(t, map[string]any{"bash_command": "sleep 300"})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := New(Options{}).Execute(ctx, tc)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want context.DeadlineExceeded", err)
	}
}

// Output reaches the log while the command still runs.
func TestBashStreamsOutput(t *testing.T) {
	t.Parallel()
	tc, _ := setup(t, map[string]any{"bash_command": "echo first; echo ready; sleep 300"})
	w := &pidWatcher{ready: make(chan struct{})}
	tc.Log = w
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := New(Options{}).Execute(ctx, tc)
		done <- err
	}()
	select {
	case <-w.ready:
	case <-time.After(10 * time.Second):
		t.Fatal("output did not reach the log while the command ran")
	}
	cancel()
	<-done
}

func TestBashSensor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	counter := filepath.Join(dir, "count")
	// Succeeds on the third poke.
	third := `n=$(cat ` + counter + ` 2>/dev/null || echo 0); n=$((n+1)); echo $n > ` + counter + `; [ $n -ge 3 ]`
	tc, log := setup(t, map[string]any{"bash_command": third, "poke_interval": 0.01})
	res, err := NewSensor(Options{}).Execute(context.Background(), tc)
	if err != nil {
		t.Fatalf("Execute: %v\n%s", err, log)
	}
	if res.HasReturn || res.RescheduleAt != nil {
		t.Errorf("result %+v, want a plain success", res)
	}
	if b, _ := os.ReadFile(counter); strings.TrimSpace(string(b)) != "3" {
		t.Errorf("poked %s times, want 3", b)
	}
	if !strings.Contains(log.String(), "Non 0 return code, will retry later") {
		t.Errorf("log lacks the retry message:\n%s", log)
	}
}

func TestBashSensorOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    map[string]any
		want    error
		resched bool
	}{
		{"retry code pokes again until timeout", map[string]any{"bash_command": "exit 1", "retry_exit_code": 1, "poke_interval": 0.01, "timeout": 0.05}, sensor.ErrTimeout, false},
		{"other code fails at once", map[string]any{"bash_command": "exit 2", "retry_exit_code": 1, "timeout": 3600}, operator.ErrFail, false},
		{"soft_fail skips on timeout", map[string]any{"bash_command": "exit 1", "poke_interval": 0.01, "timeout": 0.05, "soft_fail": true}, operator.ErrSkip, false},
		{"soft_fail skips on a failing code", map[string]any{"bash_command": "exit 2", "retry_exit_code": 1, "soft_fail": true}, operator.ErrSkip, false},
		{"reschedule mode", map[string]any{"bash_command": "exit 1", "mode": "reschedule", "poke_interval": 30}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tc, log := setup(t, tt.args)
			tc.FirstTryStart = time.Now()
			res, err := NewSensor(Options{}).Execute(context.Background(), tc)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("error %v, want %v\n%s", err, tt.want, log)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.resched {
				if res.RescheduleAt == nil || time.Until(*res.RescheduleAt) < 25*time.Second {
					t.Errorf("RescheduleAt %v, want about 30 s from now", res.RescheduleAt)
				}
			}
		})
	}
}

// BenchmarkBashTrue measures one BashOperator try of `true`: process
// start, environment, temporary directory, output plumbing.
func BenchmarkBashTrue(b *testing.B) {
	tc, _ := setup(b, map[string]any{"bash_command": "true"})
	tc.Log = io.Discard
	op := New(Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := op.Execute(ctx, tc); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBashLongLastLine: the return value is the whole last line, however
// it was split on its way out of the process, up to MaxReturnBytes; past
// that the task fails with an error naming the size and the limit, unless
// the value is not pushed.
func TestBashLongLastLine(t *testing.T) {
	t.Parallel()
	printLine := func(n int, c string, tail string) string {
		return "echo first; printf '%*s' " + strconv.Itoa(n) + " '' | tr ' ' " + c + "; printf '" + tail + "'"
	}
	tests := []struct {
		name    string
		command string
		noPush  bool
		want    string
		wantErr string
	}{
		{name: "100 KB line pushed whole", command: printLine(100_000, "a", `\n`), want: strings.Repeat("a", 100_000)},
		// Stored as JSON: the two quotes count, so the longest line pushed
		// is two bytes under the limit; one escaped character more and it
		// is over.
		{name: "exactly the limit as stored", command: printLine(MaxReturnBytes-2, "b", `  \n`), want: strings.Repeat("b", MaxReturnBytes-2)},
		{name: "escapes count", command: printLine(MaxReturnBytes-3, "b", `<\n`),
			wantErr: "is 1048581 bytes as stored, over the 1048576-byte XCom limit"},
		{name: "a long line before a short last one", command: printLine(1_100_000, "c", `\nshort\n`), want: "short"},
		{name: "1.1 MB line fails", command: printLine(1_100_000, "d", `\n`),
			wantErr: "the last line of the command's output, its return value, is 1100000 bytes as stored, over the 1048576-byte XCom limit"},
		{name: "1.1 MB line without newline fails", command: printLine(1_100_000, "e", ``),
			wantErr: "is 1100000 bytes as stored, over the 1048576-byte XCom limit"},
		{name: "not pushed: no limit", command: printLine(1_100_000, "f", `\n`), noPush: true},
	}
	op := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tc, log := setup(t, map[string]any{"bash_command": tt.command})
			tc.Task.DoXComPush = !tt.noPush
			res, err := op.Execute(context.Background(), tc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := res.ReturnValue.(string)
			if tt.noPush {
				if res.HasReturn {
					t.Errorf("an oversized value that is not pushed was returned (%d bytes)", len(got))
				}
				return
			}
			if !res.HasReturn || got != tt.want {
				t.Errorf("return value of %d bytes (%.20q...), want %d bytes", len(got), got, len(tt.want))
			}
			// The log holds the whole line too, each byte of it once.
			if n := strings.Count(log.String(), tt.want[:1]); n < len(tt.want) {
				t.Errorf("log holds %d of the line's %d bytes", n, len(tt.want))
			}
		})
	}
}
