package envrunner

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/windsock/windsock/internal/atomicfile"
	"github.com/windsock/windsock/internal/bucketsync"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/supervise"
)

// environment is one running environment.
type environment struct {
	r    *Runner
	name string
	h    home

	// mu guards everything below.
	mu       sync.Mutex
	spec     envspec.Spec
	lay      *layout
	procs    map[string]*supervise.Process
	extraEnv []string // exported by the startup script
	st       store.Store
	stCfg    *config.Config // the configuration st reads with (thresholds)
	// stClosed: the environment is stopping or let go, and its store is
	// not opened again (an Activity then would leak it).
	stClosed  bool
	logger    *slog.Logger
	logFile   *os.File
	cancel    context.CancelFunc
	startedAt time.Time
	idleSince time.Time
	scaling   string

	dagSync *bucketsync.DagSync

	// op serializes what restarts processes (updates, scaling).
	op       sync.Mutex
	loops    sync.WaitGroup
	draining sync.WaitGroup // workers scaled in, finishing their tries
}

func newEnvironment(r *Runner, spec envspec.Spec) *environment {
	return &environment{r: r, name: spec.Name, h: home(EnvironmentHome(r.cfg.Home, spec.Name)), spec: spec, procs: map[string]*supervise.Process{}}
}

// start prepares the home, starts (or adopts) the processes, waits for the
// web server and starts the loops.
func (e *environment) start(ctx context.Context) error {
	if err := os.MkdirAll(e.h.runDir(), 0o700); err != nil {
		return fmt.Errorf("create environment home: %w", err)
	}
	f, err := os.OpenFile(e.h.path("controlplane.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	e.logFile = f
	e.logger = slog.New(slog.NewMultiHandler(e.r.cfg.Logger.Handler(), slog.NewTextHandler(f, nil))).With("environment", e.name)

	single := e.r.cfg.DatabaseURL == ""
	lay, adopting := e.h.readLayout()
	if !adopting || lay.Single != single {
		lay = &layout{Single: single}
	}
	if err := e.prepare(ctx, e.spec, single); err != nil {
		if !adopting {
			e.closeLog()
			return err
		}
		// Processes already run from this home: adopt them with what it
		// holds; the DAG sync retries the bucket.
		e.logger.Warn("preparing the environment failed; adopting it as its home is", "error", err)
	}
	fail := func(err error) error {
		e.stopProcesses(true)
		e.releaseLayoutPorts()
		e.closeLog()
		return err
	}
	e.mu.Lock()
	e.lay = lay
	e.mu.Unlock()
	if err := e.allocate(lay, e.spec); err != nil {
		return fail(err)
	}
	if err := e.startProcesses(ctx); err != nil {
		return fail(err)
	}
	e.mu.Lock()
	e.startedAt = e.r.cfg.Clock()
	e.mu.Unlock()
	loopCtx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.loops.Add(2)
	go e.every(loopCtx, e.r.cfg.DagSyncInterval, e.syncOnce)
	go e.every(loopCtx, e.r.cfg.ScaleInterval, e.scaleOnce)
	e.logger.Info("environment available", "webserver", e.currentStatus().WebserverHostname, "adopted", adopting)
	return nil
}

// prepare writes the configuration and fetches what the bucket holds,
// before any process (re)starts: a failure here changes nothing running.
func (e *environment) prepare(ctx context.Context, spec envspec.Spec, single bool) error {
	dbURL := "sqlite:///" + e.h.path("windsock.db")
	if !single {
		schema := schemaName(spec.Name)
		if err := createSchema(ctx, e.r.cfg.DatabaseURL, schema); err != nil {
			return err
		}
		u, err := schemaURL(e.r.cfg.DatabaseURL, schema)
		if err != nil {
			return err
		}
		dbURL = u
	}
	if err := renderConfig(e.h, spec, dbURL, single); err != nil {
		return err
	}
	if spec.Bucket == "" {
		return os.MkdirAll(e.h.dags(), 0o755)
	}
	src := e.r.source(spec.Bucket)
	dagSync := &bucketsync.DagSync{Source: src, Prefix: spec.DagS3Path, Dir: e.h.dags(), Logger: e.logger}
	e.mu.Lock()
	e.dagSync = dagSync // the loop retries it should this first pass fail
	e.mu.Unlock()
	if _, err := dagSync.Sync(ctx); err != nil {
		return fmt.Errorf("read the DAGs from the bucket: %w", err)
	}
	for _, obj := range []struct{ key, version, dst string }{
		{spec.PluginsS3Path, spec.PluginsS3ObjectVersion, e.h.path("plugins.zip")},
		{spec.RequirementsS3Path, spec.RequirementsS3ObjectVersion, e.h.path("requirements.txt")},
		{spec.StartupScriptS3Path, spec.StartupScriptS3ObjectVersion, e.h.path("startup.sh")},
	} {
		if obj.key == "" {
			os.Remove(obj.dst)
			continue
		}
		if err := bucketsync.Fetch(ctx, src, obj.key, obj.version, obj.dst); err != nil {
			return fmt.Errorf("read %s from the bucket: %w", obj.key, err)
		}
	}
	extra, err := e.runStartupScript(ctx, spec.StartupScriptS3Path != "")
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.extraEnv = extra
	e.mu.Unlock()
	return nil
}

// runStartupScript runs the startup script (MWAA runs it before each
// component starts) and returns the variables it exported, for every
// process. A failing script fails the start, with its output.
func (e *environment) runStartupScript(ctx context.Context, present bool) ([]string, error) {
	if !present {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	base := e.r.childEnviron(e.h)
	// The script is sourced so that its exports reach `env -0`.
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `. ./startup.sh >&2 && env -0`)
	cmd.Dir, cmd.Env = string(e.h), base
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	os.WriteFile(e.h.path("startup.log"), []byte(stderr.String()), 0o600)
	if err != nil {
		return nil, fmt.Errorf("startup script failed: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	had := map[string]bool{}
	for _, kv := range base {
		had[kv] = true
	}
	var extra []string
	for _, kv := range strings.Split(string(out), "\x00") {
		name, _, ok := strings.Cut(kv, "=")
		// MWAA refuses a startup script's changes to its own variables.
		if !ok || had[kv] || name == "WINDSOCK_HOME" || strings.HasPrefix(name, "AIRFLOW__") || name == "PWD" || name == "SHLVL" || name == "_" {
			continue
		}
		extra = append(extra, kv)
	}
	return extra, nil
}

// allocate gives lay the ports and workers spec needs, under e.mu: lay
// may be the published layout that Status reads.
func (e *environment) allocate(lay *layout, spec envspec.Spec) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var held []int
	held = append(held, lay.WebPorts...)
	for _, p := range lay.WorkerPorts {
		held = append(held, p)
	}
	e.r.reservePorts(held...)
	if lay.WorkerPorts == nil {
		lay.WorkerPorts = map[int]int{}
	}
	webservers := 1
	if !lay.Single {
		webservers = max(spec.MinWebservers, 1)
	}
	for len(lay.WebPorts) < webservers {
		p, err := e.r.freePort()
		if err != nil {
			return err
		}
		lay.WebPorts = append(lay.WebPorts, p)
	}
	lay.Workers = min(max(lay.Workers, spec.MinWorkers, 1), max(spec.MaxWorkers, spec.MinWorkers, 1))
	// One log server port per worker process; the single process has one.
	want := lay.Workers
	if lay.Single {
		want = 1
	}
	// Bounds lowered by an update: the highest-numbered workers go (the
	// restart drains them as processes no longer planned).
	for !lay.Single && len(lay.WorkerPorts) > want {
		highest := 0
		for n := range lay.WorkerPorts {
			highest = max(highest, n)
		}
		e.r.releasePorts(lay.WorkerPorts[highest])
		delete(lay.WorkerPorts, highest)
	}
	for n := 1; len(lay.WorkerPorts) < want; n++ {
		if _, ok := lay.WorkerPorts[n]; ok {
			continue
		}
		p, err := e.r.freePort()
		if err != nil {
			return err
		}
		lay.WorkerPorts[n] = p
	}
	if lay.Single {
		// plan reads the single process's log server port at 0.
		lay.WorkerPorts = map[int]int{0: firstPort(lay.WorkerPorts)}
		if err := atomicfile.Write(e.h.slotsFile(), []byte(strconv.Itoa(lay.Workers*concurrency(spec))+"\n"), 0o600); err != nil {
			return err
		}
	}
	return e.h.writeLayout(lay)
}

func firstPort(m map[int]int) int {
	for _, p := range m {
		return p
	}
	return 0
}

// startProcesses starts (or adopts) every planned process and waits for
// the web servers.
func (e *environment) startProcesses(ctx context.Context) error {
	e.mu.Lock()
	specs := plan(e.spec, e.lay, e.h.slotsFile())
	webPorts := append([]int(nil), e.lay.WebPorts...)
	e.mu.Unlock()
	// The web servers first: the first to open a fresh database migrates
	// it, and the others would only contend with it. Once they answer,
	// the rest start against a migrated database.
	for _, web := range []bool{true, false} {
		for _, ps := range specs {
			if (ps.group == GroupWebServer || ps.id == "standalone") != web {
				continue
			}
			if err := e.startProcess(ps); err != nil {
				return err
			}
		}
		if web {
			if err := e.waitHealthy(ctx, webPorts); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *environment) startProcess(ps procSpec) error {
	e.mu.Lock()
	spec, extra := e.spec, e.extraEnv
	e.mu.Unlock()
	env := append(append(e.r.childEnviron(e.h), extra...), ps.env...)
	logFile := filepath.Join(e.h.groupDir(e.name, ps.group), ps.id+".log")
	if m, ok := spec.Logging[ps.group]; ok && !m.Enabled && !(ps.id == "standalone" && anyEnabled(spec)) {
		logFile = ""
	}
	p, err := supervise.Run(supervise.Command{
		Name: e.name + "/" + ps.id, Path: e.r.cfg.Executable, Args: ps.args, Env: env, Dir: string(e.h),
		LogFile: logFile, StateFile: e.h.stateFile(ps.id),
		// standalone prints the generated admin password on stdout; it
		// stays in the home's password file, out of the log groups.
		DiscardStdout: ps.id == "standalone",
	}, supervise.Options{Logger: e.logger, MinBackoff: e.r.cfg.RestartBackoff,
		OnRestart: func() { e.r.cfg.Metrics.ProcessRestarted(e.name, ps.id) }})
	if err != nil {
		return err
	}
	if ps.id == "standalone" && logFile != "" {
		linkSingleLog(e.h, e.name, spec, logFile)
	}
	e.mu.Lock()
	e.procs[ps.id] = p
	e.mu.Unlock()
	return nil
}

func anyEnabled(spec envspec.Spec) bool {
	for _, g := range []string{GroupScheduler, GroupDAGProcessing, GroupWebServer, GroupWorker} {
		if m, ok := spec.Logging[g]; !ok || m.Enabled {
			return true
		}
	}
	return false
}

// linkSingleLog makes the one process's log a stream of every enabled
// component's group: it does the work of all of them.
func linkSingleLog(h home, name string, spec envspec.Spec, logFile string) {
	for _, g := range []string{GroupDAGProcessing, GroupWebServer, GroupWorker} {
		link := filepath.Join(h.groupDir(name, g), "standalone.log")
		if m, ok := spec.Logging[g]; ok && !m.Enabled {
			os.Remove(link)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
			continue
		}
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		os.Symlink(logFile, link)
	}
}

// waitHealthy waits until every web server answers /health with 200.
func (e *environment) waitHealthy(ctx context.Context, ports []int) error {
	ctx, cancel := context.WithTimeout(ctx, e.r.cfg.StartTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for i, port := range ports {
		url := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + "/health"
		id := "webserver-" + strconv.Itoa(i+1)
		if e.lay.Single {
			id = "standalone"
		}
		e.mu.Lock()
		p := e.procs[id]
		e.mu.Unlock()
		for {
			if healthy(ctx, client, url) {
				break
			}
			if p != nil && p.Starts() > 1 {
				return fmt.Errorf("the %s process exits at start: %s", id, tail(filepath.Join(e.h.groupDir(e.name, groupOfID(id)), id+".log"), 600))
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("the web server did not answer /health: %w", ctx.Err())
			case <-time.After(25 * time.Millisecond):
			}
		}
	}
	return nil
}

func groupOfID(id string) string {
	if strings.HasPrefix(id, "webserver") {
		return GroupWebServer
	}
	return GroupScheduler
}

func healthy(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// currentStatus is the environment's Status. The lock is held only to
// copy what it reads: the state files and /proc are read after, so that
// a Get of the control plane never waits on the disk behind a restart or
// a scaling step holding e.mu.
func (e *environment) currentStatus() envspec.Status {
	e.mu.Lock()
	st := envspec.Status{LastScaling: e.scaling, StartedAt: e.startedAt, Healthy: true}
	var webPort int
	public := publicWeb(e.spec)
	if e.lay != nil {
		st.Workers = e.lay.Workers
		if len(e.lay.WebPorts) > 0 {
			webPort = e.lay.WebPorts[0]
		}
	}
	stateFiles := make([]string, 0, len(e.procs))
	for _, p := range e.procs {
		stateFiles = append(stateFiles, e.h.stateFile(procID(p)))
	}
	e.mu.Unlock()

	if webPort != 0 {
		host := "localhost"
		if public {
			if h, err := os.Hostname(); err == nil {
				host = h
			}
		}
		st.WebserverHostname = net.JoinHostPort(host, strconv.Itoa(webPort))
	}
	for _, f := range stateFiles {
		if _, alive := supervise.Recorded(f); !alive {
			st.Healthy = false
		}
	}
	return st
}

// procID is the id a process was started under (its name's last part).
func procID(p *supervise.Process) string {
	name := p.Name()
	return name[strings.LastIndexByte(name, '/')+1:]
}

// stopProcesses stops every process: forced hands running tries back at
// once, otherwise they get StopGrace to finish first.
func (e *environment) stopProcesses(forced bool) {
	e.mu.Lock()
	procs := e.procs
	e.procs = map[string]*supervise.Process{}
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			grace := e.r.cfg.StopGrace
			if forced {
				grace = 0
			}
			stopDraining(p, grace)
		}()
	}
	wg.Wait()
}

// stopDraining sends SIGTERM (the process stops taking work and lets its
// running tries finish); after grace a second SIGTERM makes it hand the
// rest back to run again as the same try; a process still there 30 s
// later is killed.
func stopDraining(p *supervise.Process, grace time.Duration) {
	done := make(chan struct{})
	go func() {
		p.Stop(syscall.SIGTERM, grace+30*time.Second)
		close(done)
	}()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		_ = p.Signal(syscall.SIGTERM)
		<-done
	}
}

// stop ends the loops and the processes.
func (e *environment) stop(_ context.Context) {
	e.mu.Lock()
	e.stClosed = true
	e.mu.Unlock()
	if e.cancel != nil {
		e.cancel()
	}
	e.loops.Wait()
	e.op.Lock() // an update in flight finishes first
	defer e.op.Unlock()
	e.stopProcesses(false)
	e.draining.Wait()
	e.closeStore()
	e.releaseLayoutPorts()
	e.logger.Info("environment stopped")
	e.closeLog()
}

// releaseLayoutPorts hands the environment's ports back to the runner.
func (e *environment) releaseLayoutPorts() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lay == nil {
		return
	}
	ports := append([]int(nil), e.lay.WebPorts...)
	for _, p := range e.lay.WorkerPorts {
		ports = append(ports, p)
	}
	e.r.releasePorts(ports...)
}

// release lets go of the processes, leaving them running.
func (e *environment) release() {
	e.mu.Lock()
	e.stClosed = true
	e.mu.Unlock()
	if e.cancel != nil {
		e.cancel()
	}
	e.loops.Wait()
	e.mu.Lock()
	procs := e.procs
	e.procs = map[string]*supervise.Process{}
	e.mu.Unlock()
	for _, p := range procs {
		p.Release()
	}
	e.closeStore()
	e.closeLog()
}

func (e *environment) closeLog() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.logFile != nil {
		e.logFile.Close()
		e.logFile = nil
	}
}

func (e *environment) closeStore() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st != nil {
		e.st.Close()
		e.st = nil
	}
}

// createSchema makes the environment's PostgreSQL schema when missing.
func createSchema(ctx context.Context, base, schema string) error {
	st, err := postgres.Open(ctx, base)
	if err != nil {
		return fmt.Errorf("open the control plane's database: %w", err)
	}
	defer st.Close()
	// schema comes from schemaName over a checked name: no quoting needed.
	if _, err := st.DB().ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

func dropSchema(ctx context.Context, base, schema string) error {
	st, err := postgres.Open(ctx, base)
	if err != nil {
		return fmt.Errorf("open the control plane's database: %w", err)
	}
	defer st.Close()
	if _, err := st.DB().ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	return nil
}
