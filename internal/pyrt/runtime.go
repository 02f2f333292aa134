package pyrt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/windsock/windsock/internal/operator/process"
	"github.com/windsock/windsock/internal/windsock"
)

// Config says how to run Python. Zero values mean the documented defaults.
type Config struct {
	// Python is core.python_executable; "" means the first python3 on PATH,
	// resolved to the real binary (see ResolvePython).
	Python string
	// CacheDir is where the runtime tree is extracted; default
	// os.UserCacheDir()/windsock-python.
	CacheDir string
	// DagsFolder and PluginsFolder go on sys.path after the runtime.
	DagsFolder, PluginsFolder string
	// Env is the environment of the Python processes, and where Python is
	// looked up (its PATH); never this process's own.
	Env []string
	// KillGrace is the time between SIGTERM and SIGKILL when a child is
	// stopped; zero means process.DefaultKillGrace.
	KillGrace time.Duration
	// MaxIdle is how many idle workers the server keeps for the next
	// requests; default 32 (core.parallelism's default). More run at once
	// when more requests come; a worker beyond it exits after its request,
	// and a new one costs a warm-up, so it should cover the usual number
	// of tries at once.
	MaxIdle int
	// Preload names modules the server imports before forking workers, on
	// top of airflow and the runtime's own (jinja2 by default when
	// importable).
	Preload []string
}

// Handler answers a child's calls (variable_get, xcom_pull, ...). Errors
// whose windsock code is ENOTFOUND reach Python as rpc.NotFound.
type Handler interface {
	Call(ctx context.Context, name string, args json.RawMessage) (any, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, name string, args json.RawMessage) (any, error)

// Call calls f.
func (f HandlerFunc) Call(ctx context.Context, name string, args json.RawMessage) (any, error) {
	return f(ctx, name, args)
}

// Runtime runs Python requests (parse a file, run a try) in the workers of
// one warm Python server, started on first use and again if it dies.
type Runtime struct {
	cfg    Config
	python string
	rtDir  string
	env    []string

	mu      sync.Mutex
	srv     *server
	stopped bool
}

// New returns a Runtime; it resolves the interpreter and extracts the tree
// but starts no process until first used.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	if cfg.MaxIdle <= 0 {
		cfg.MaxIdle = 32
	}
	if cfg.Preload == nil {
		cfg.Preload = []string{"jinja2"}
	}
	if cfg.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		cfg.CacheDir = filepath.Join(base, "windsock-python")
	}
	python, err := ResolvePython(ctx, cfg.Python, cfg.Env)
	if err != nil {
		return nil, err
	}
	rtDir, err := Extract(cfg.CacheDir)
	if err != nil {
		return nil, err
	}
	env := cfg.Env
	// Byte code goes to the cache, never next to the user's DAG files.
	env = append(append([]string(nil), env...),
		"PYTHONPYCACHEPREFIX="+filepath.Join(cfg.CacheDir, "pycache"),
		"PYTHONUNBUFFERED=1")
	return &Runtime{cfg: cfg, python: python, rtDir: rtDir, env: env}, nil
}

// Python returns the interpreter in use.
func (r *Runtime) Python() string { return r.python }

// Stop ends the server and its workers. It is idempotent; later calls to
// Parse or Run fail.
func (r *Runtime) Stop() {
	r.mu.Lock()
	r.stopped = true
	s := r.srv
	r.srv = nil
	r.mu.Unlock()
	if s != nil {
		s.stop()
	}
}

var errStopped = errors.New("python runtime stopped")

// server returns the warm server, starting it when needed.
func (r *Runtime) server(ctx context.Context) (*server, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return nil, errStopped
	}
	if r.srv != nil && r.srv.alive() {
		return r.srv, nil
	}
	opts := map[string]any{
		"dags_folder": r.cfg.DagsFolder, "plugins_folder": r.cfg.PluginsFolder,
		"preload": r.cfg.Preload, "max_idle": r.cfg.MaxIdle,
	}
	s, err := startServer(ctx, r.python, r.rtDir, opts, r.env)
	if err != nil {
		return nil, err
	}
	r.srv = s
	return s, nil
}

// ParseResult is what parsing one file gave (see windsock_rt/parse.py).
type ParseResult struct {
	DAGs []struct {
		DagID string          `json:"dag_id"`
		Line  int             `json:"line"`
		Doc   json.RawMessage `json:"doc"`
	} `json:"dags"`
	ImportErrors []struct {
		Line    int    `json:"line"`
		Message string `json:"message"`
	} `json:"import_errors"`
	Warnings      []string `json:"warnings"`
	VariablesRead []string `json:"variables_read"`
	Duration      float64  `json:"duration_s"`
	// Output is what the file printed while it was imported.
	Output string `json:"-"`
}

// ErrTimeout is returned by Parse when the file took longer than its
// timeout to import.
var ErrTimeout = errors.New("python import timed out")

// Parse imports path in a worker and returns its DAGs.
// A file that takes longer than timeout (zero: no limit) is killed and
// ErrTimeout returned.
func (r *Runtime) Parse(ctx context.Context, path string, timeout time.Duration, h Handler) (*ParseResult, error) {
	s, err := r.server(ctx)
	if err != nil {
		return nil, err
	}
	runCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var out tailBuffer
	out.max = 64 << 10
	raw, err := r.do(runCtx, s, map[string]any{"op": "parse", "file": path}, &out, h)
	if err != nil {
		if errors.Is(runCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("%w after %s", ErrTimeout, timeout)
		}
		return nil, err
	}
	var res ParseResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("read parse result of %s: %w", path, err)
	}
	res.Output = string(out.Bytes())
	return &res, nil
}

// RunRequest asks for one try (or callback) of a task of a DAG file.
type RunRequest struct {
	// File is the DAG file, imported afresh for the request as Airflow
	// re-parses it in every try.
	File string
	// Request is handed to windsock_rt.execute.run_task as its req.
	Request any
}

// leftoverWait is how long a finished request's output may stay open
// before what holds it (something the task left running) is killed.
const leftoverWait = 20 * time.Millisecond

// Run runs req in a worker, writing its output to log, and returns the
// outcome it sent. ctx's end kills the worker's process group (the worker
// and whatever the try started) and returns ctx.Err(), with the outcome
// when the worker sent one before it was stopped.
func (r *Runtime) Run(ctx context.Context, req RunRequest, log io.Writer, h Handler) (json.RawMessage, error) {
	s, err := r.server(ctx)
	if err != nil {
		return nil, err
	}
	return r.do(ctx, s, map[string]any{"op": "run", "file": req.File, "req": req.Request}, log, h)
}

// do sends one request to s, serves the child's calls through h, copies its
// output to log, and returns the payload of its result message.
func (r *Runtime) do(ctx context.Context, s *server, req map[string]any, log io.Writer, h Handler) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	logR, logW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("python child: %w", err)
	}
	defer logR.Close()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		logW.Close()
		return nil, fmt.Errorf("python child: socketpair: %w", err)
	}
	rpcOurs, rpcChild := os.NewFile(uintptr(fds[0]), "pyrt-rpc"), os.NewFile(uintptr(fds[1]), "pyrt-rpc-child")
	conn, err := net.FileConn(rpcOurs)
	rpcOurs.Close()
	if err != nil {
		logW.Close()
		rpcChild.Close()
		return nil, fmt.Errorf("python child: %w", err)
	}
	defer conn.Close()

	p, err := s.request(req, logW, rpcChild)
	// The server has its own copies now; ours must go, or EOF never comes.
	logW.Close()
	rpcChild.Close()
	if err != nil {
		return nil, err
	}

	logDone := make(chan error, 1)
	go func() {
		if log == nil {
			log = io.Discard
		}
		line := make([]byte, 0, 256)
		c := &process.Command{Line: func(b []byte) {
			line = append(append(line[:0], b...), '\n')
			_, _ = log.Write(line)
		}}
		logDone <- c.ReadLines(logR)
	}()
	type rpcOutcome struct {
		result json.RawMessage
		err    error
	}
	rpcDone := make(chan rpcOutcome, 1)
	go func() {
		res, err := serveCalls(ctx, conn, h)
		rpcDone <- rpcOutcome{res, err}
	}()

	// A cancellation before the worker's pid is known kills it once the
	// pid comes.
	killed, cancel := false, ctx.Done()
	pid := 0
	for pid <= 0 {
		select {
		case pid = <-p.pid:
		case err := <-p.err:
			return nil, fmt.Errorf("python child: %w", err)
		case <-cancel:
			killed, cancel = true, nil
		}
	}
	group := process.NewGroup(pid, r.cfg.KillGrace)
	var stopKill func() bool
	terminate := func() { group.Terminate(context.Cause(ctx)) }
	if killed {
		terminate()
	} else {
		stopKill = context.AfterFunc(ctx, terminate)
	}
	var status, code int
	died := false
	select {
	case status = <-p.exit:
		died = true
	case code = <-p.done:
	case err := <-p.err:
		return nil, fmt.Errorf("python child: %w", err)
	}
	var cancelled bool
	if died {
		// The worker exited (a kill, or a task that ended the process):
		// its output and channel close once whatever it started in the
		// background lets go of them; as with a bash task, the try lasts
		// until then, and ctx's end still kills that group.
		<-logDone
		cancelled = killed || !stopKill()
		if cancelled {
			group.Finish()
		}
	} else {
		// The worker is reused for later requests, so its group is not
		// killed once the request is done; what the task left running in
		// it is (Airflow's task runner reaps the task's process group too),
		// and whatever still holds the output holds the try only until
		// ctx ends; the outcome the worker sent stands.
		cancelled = killed || !stopKill()
		if !cancelled {
			// The worker let go of the output before it said done; the
			// read sees the end at once unless something else holds it
			// (a moment's wait spares most tries a scan of /proc).
			t := time.NewTimer(leftoverWait)
			select {
			case <-logDone:
				logDone <- nil // read again below
			case <-t.C:
				process.KillGroupExcept(pid, pid)
			}
			t.Stop()
		}
		if cancelled {
			// The worker caught the SIGTERM (a Python task turns it into
			// AirflowTaskTerminated) and finished the request. Told to
			// die, it must not serve another: it goes now with whatever
			// the try left, rather than at the end of the kill grace.
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			group.Finish()
		}
		select {
		case <-logDone:
		case <-ctx.Done():
		}
	}
	out := <-rpcDone
	if cancelled {
		// What the child reported before it was stopped (a Python task
		// that caught the SIGTERM reports its failure and has run its
		// callbacks) comes with the error.
		return out.result, ctx.Err()
	}
	if out.err != nil {
		return nil, out.err
	}
	if out.result == nil {
		if died {
			return nil, fmt.Errorf("python child %s without reporting a result", describeStatus(syscall.WaitStatus(status)))
		}
		return nil, fmt.Errorf("python child ended with return code %d without reporting a result", code)
	}
	return out.result, nil
}

// serveCalls answers the child's calls until it closes the channel, and
// returns the payload of its result message.
func serveCalls(ctx context.Context, conn net.Conn, h Handler) (json.RawMessage, error) {
	var result json.RawMessage
	for {
		b, err := readFrame(conn)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) {
				return result, nil
			}
			return result, fmt.Errorf("read from python child: %w", err)
		}
		var msg struct {
			Call string          `json:"call"`
			Args json.RawMessage `json:"args"`
		}
		if err := json.Unmarshal(b, &msg); err != nil {
			return result, fmt.Errorf("read from python child: %w", err)
		}
		if msg.Call == "result" {
			if result == nil {
				result = msg.Args
			}
			continue
		}
		reply := answer(ctx, h, msg.Call, msg.Args)
		rb, err := json.Marshal(reply)
		if err != nil {
			rb, _ = json.Marshal(map[string]any{"error": map[string]string{"code": "internal", "message": "encode answer: " + err.Error()}})
		}
		if err := writeFrame(conn, rb); err != nil {
			// The child went away while we answered; its exit tells why.
			return result, nil
		}
	}
}

// answer runs one call through h.
func answer(ctx context.Context, h Handler, name string, args json.RawMessage) (reply map[string]any) {
	defer func() {
		if v := recover(); v != nil {
			reply = map[string]any{"error": map[string]string{"code": "internal", "message": fmt.Sprintf("%s: internal error: %v", name, v)}}
		}
	}()
	if h == nil {
		return map[string]any{"error": map[string]string{"code": "unavailable", "message": name + " is not available here"}}
	}
	v, err := h.Call(ctx, name, args)
	if err != nil {
		code := windsock.ErrorCode(err)
		if code == "" {
			code = "error"
		}
		return map[string]any{"error": map[string]string{"code": code, "message": windsock.ErrorMessage(err)}}
	}
	return map[string]any{"ok": v}
}

func describeStatus(ws syscall.WaitStatus) string {
	switch {
	case ws.Signaled():
		return fmt.Sprintf("was killed by signal %s", ws.Signal())
	case ws.Exited():
		return fmt.Sprintf("exited with return code %d", ws.ExitStatus())
	}
	return fmt.Sprintf("ended with status %d", int(ws))
}
