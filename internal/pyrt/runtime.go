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
	// Env is the environment of the Python processes; nil inherits ours.
	Env []string
	// KillGrace is the time between SIGTERM and SIGKILL when a child is
	// stopped; zero means process.DefaultKillGrace.
	KillGrace time.Duration
	// MaxServers caps the warm file servers kept (idle ones are stopped,
	// least recently used first); default 32.
	MaxServers int
	// Preload names modules every server imports before forking, on top
	// of airflow (jinja2 by default when importable).
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

// Runtime runs Python children from warm servers: one parse server, and one
// file server per DAG file version for tries.
type Runtime struct {
	cfg    Config
	python string
	rtDir  string
	env    []string

	mu      sync.Mutex
	parse   *server
	files   map[fileKey]*fileServer
	tick    int64
	stopped bool
}

type fileKey struct{ path, hash string }

type fileServer struct {
	srv  *server
	used int64
}

// New returns a Runtime; it resolves the interpreter and extracts the tree
// but starts no process until first used.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	if cfg.MaxServers <= 0 {
		cfg.MaxServers = 32
	}
	if cfg.Preload == nil {
		cfg.Preload = []string{"jinja2", "windsock_rt.parse"}
	}
	if cfg.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		cfg.CacheDir = filepath.Join(base, "windsock-python")
	}
	python, err := ResolvePython(ctx, cfg.Python)
	if err != nil {
		return nil, err
	}
	rtDir, err := Extract(cfg.CacheDir)
	if err != nil {
		return nil, err
	}
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	// Byte code goes to the cache, never next to the user's DAG files.
	env = append(append([]string(nil), env...),
		"PYTHONPYCACHEPREFIX="+filepath.Join(cfg.CacheDir, "pycache"),
		"PYTHONUNBUFFERED=1")
	return &Runtime{cfg: cfg, python: python, rtDir: rtDir, env: env, files: map[fileKey]*fileServer{}}, nil
}

// Python returns the interpreter in use.
func (r *Runtime) Python() string { return r.python }

// Dir returns the directory the runtime tree was extracted to.
func (r *Runtime) Dir() string { return r.rtDir }

// Stop ends every server and its children. It is idempotent; later calls
// to Parse or Run fail.
func (r *Runtime) Stop() {
	r.mu.Lock()
	r.stopped = true
	servers := make([]*server, 0, len(r.files)+1)
	if r.parse != nil {
		servers = append(servers, r.parse)
		r.parse = nil
	}
	for k, f := range r.files {
		servers = append(servers, f.srv)
		delete(r.files, k)
	}
	r.mu.Unlock()
	for _, s := range servers {
		s.stop()
	}
}

var errStopped = errors.New("python runtime stopped")

func (r *Runtime) opts(file string) map[string]any {
	return map[string]any{
		"dags_folder": r.cfg.DagsFolder, "plugins_folder": r.cfg.PluginsFolder,
		"preload": r.cfg.Preload, "file": file,
	}
}

// parseServer returns the warm parse server, starting it when needed.
func (r *Runtime) parseServer(ctx context.Context) (*server, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return nil, errStopped
	}
	if r.parse != nil && r.parse.alive() {
		return r.parse, nil
	}
	s, err := startServer(ctx, r.python, r.rtDir, r.opts(""), r.env)
	if err != nil {
		return nil, err
	}
	r.parse = s
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

// Parse imports path in a child of the parse server and returns its DAGs.
// A file that takes longer than timeout (zero: no limit) is killed and
// ErrTimeout returned.
func (r *Runtime) Parse(ctx context.Context, path string, timeout time.Duration, h Handler) (*ParseResult, error) {
	s, err := r.parseServer(ctx)
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

// RunRequest asks for one child of the warm server of a DAG file.
type RunRequest struct {
	// File is the DAG file; FileHash names its version (a server that
	// imported another version is not used).
	File, FileHash string
	// Request is handed to windsock_rt.execute.run_task as its req.
	Request any
}

// Run runs req in a child of the warm server that imported req.File (at
// req.FileHash), writing the child's output to log, and returns the
// outcome the child sent. ctx's end kills the child's process group.
func (r *Runtime) Run(ctx context.Context, req RunRequest, log io.Writer, h Handler) (json.RawMessage, error) {
	s, err := r.fileServer(ctx, req.File, req.FileHash, log, h)
	if err != nil {
		return nil, err
	}
	defer r.release(s)
	return r.do(ctx, s, map[string]any{"op": "run", "req": req.Request}, log, h)
}

// fileServer returns the warm server of a file version, starting it (and
// importing the file in it) when needed; the caller must release it.
func (r *Runtime) fileServer(ctx context.Context, path, hash string, log io.Writer, h Handler) (*server, error) {
	key := fileKey{path, hash}
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return nil, errStopped
	}
	r.tick++
	if f := r.files[key]; f != nil && f.srv.alive() {
		f.used = r.tick
		f.srv.mu.Lock()
		f.srv.busy++
		f.srv.mu.Unlock()
		r.mu.Unlock()
		return f.srv, nil
	}
	r.mu.Unlock()

	s, err := startServer(ctx, r.python, r.rtDir, r.opts(path), r.env)
	if err != nil {
		return nil, err
	}
	// The file is imported in the server itself, so children start with
	// it; what the import prints goes to the first try's log.
	if _, err := r.do(ctx, s, map[string]any{"op": "preload", "file": path}, log, h); err != nil {
		s.stop()
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	s.mu.Lock()
	s.busy++
	s.mu.Unlock()

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		go s.stop()
		return nil, errStopped
	}
	if old := r.files[key]; old != nil {
		go r.stopWhenIdle(old.srv)
	}
	r.tick++
	r.files[key] = &fileServer{srv: s, used: r.tick}
	r.evict()
	return s, nil
}

// release marks one request of s as done.
func (r *Runtime) release(s *server) {
	s.mu.Lock()
	s.busy--
	s.mu.Unlock()
}

// evict stops idle file servers beyond MaxServers, least recently used
// first (r.mu held). Busy servers are kept: stopping one would kill its
// tries.
func (r *Runtime) evict() {
	for len(r.files) > r.cfg.MaxServers {
		var oldest *fileKey
		var at int64
		for k, f := range r.files {
			f.srv.mu.Lock()
			idle := f.srv.busy == 0
			f.srv.mu.Unlock()
			if idle && (oldest == nil || f.used < at) {
				k := k
				oldest, at = &k, f.used
			}
		}
		if oldest == nil {
			return
		}
		s := r.files[*oldest].srv
		delete(r.files, *oldest)
		go s.stop()
	}
}

func (r *Runtime) stopWhenIdle(s *server) {
	s.mu.Lock()
	idle := s.busy == 0
	s.mu.Unlock()
	if idle {
		s.stop()
	}
	// A busy server of an older version is left to finish; it is no longer
	// in the map, so nothing new reaches it, and Stop of the runtime does
	// not know it: its children end with their tries.
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

	var group *process.Group
	var killed bool
	pid := -1
	for pid < 0 {
		select {
		case pid = <-p.pid:
		case err := <-p.err:
			return nil, fmt.Errorf("python child: %w", err)
		case <-ctx.Done():
			if !killed {
				killed = true
				// The pid is not known yet: it comes, then the kill.
			}
		}
	}
	if pid > 0 {
		group = process.NewGroup(pid, r.cfg.KillGrace)
	}
	var stopKill func() bool
	if group != nil {
		if killed {
			group.Terminate()
		} else {
			stopKill = context.AfterFunc(ctx, group.Terminate)
		}
	}
	var status int
	select {
	case status = <-p.exit:
	case err := <-p.err:
		return nil, fmt.Errorf("python child: %w", err)
	}
	// A child's output and channel close when it exits, unless something it
	// started in the background still holds them; as with a bash task, the
	// try lasts until they are closed too, and ctx's end still kills the
	// group (what holds them is in it).
	<-logDone
	out := <-rpcDone
	cancelled := killed || (stopKill != nil && !stopKill())
	if cancelled && group != nil {
		group.Finish()
	}
	if cancelled {
		return nil, ctx.Err()
	}
	if out.err != nil {
		return nil, out.err
	}
	if out.result == nil {
		return nil, fmt.Errorf("python child %s without reporting a result", describeStatus(syscall.WaitStatus(status)))
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
