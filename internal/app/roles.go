package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/windsock/windsock/internal/api"
	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/dagprocessor"
	"github.com/windsock/windsock/internal/executor"
	"github.com/windsock/windsock/internal/logserver"
	"github.com/windsock/windsock/internal/metrics"
	"github.com/windsock/windsock/internal/startstop"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/web"
	"github.com/windsock/windsock/internal/windsock"
)

// Roles names the long-running parts of an environment that run in this
// process. The zero value runs none: the environment is then only its
// store and adapters, which is what one-shot commands need.
//
// The CLI's commands are presets of it: `standalone` is DAGProcessor,
// Schedulers 1 and Web; `scheduler` is DAGProcessor (unless
// scheduler.standalone_dag_processor), Schedulers 1, Metrics and, with
// PostgreSQL and a LocalExecutor, LogServer; `worker` is Worker,
// LogServer and Metrics; `webserver` is Web; `dag-processor` is
// DAGProcessor and Metrics.
type Roles struct {
	// DAGProcessor parses the DAG folder into the store and keeps
	// watching it; the schedulers of this process hear of every change at
	// once, those of other processes through the store's notifications.
	DAGProcessor bool
	// Schedulers is how many schedulers run here, each with a local
	// executor of core.parallelism slots unless core.executor =
	// CeleryExecutor (then workers run the tries). More than one shares
	// the work only on PostgreSQL.
	Schedulers int
	// Worker, when set, runs a worker that claims queued task instances
	// (core.executor = CeleryExecutor, PostgreSQL).
	Worker *WorkerOptions
	// LogServer serves the logs of the tries run here to the web servers
	// of other hosts, on LogServerAddr: by default
	// logging.worker_log_server_port on every interface, or a free port
	// when another process of the host has it. Its address is recorded in
	// the job rows of this process's executors and worker.
	LogServer     bool
	LogServerAddr string
	// Web builds the web UI, the REST API and /health (Handler); with
	// WebAddr set (as in net.Listen, port 0 for any free port) it also
	// serves them there.
	Web     bool
	WebAddr string
	// Metrics serves the process's metrics at /metrics on a listener of
	// its own, at metrics.metrics_host:metrics_port (a free port when
	// the default one is taken; a port the user set that is taken fails
	// the start): for a process without a web server. Its address
	// is recorded in the job rows of the process's scheduler, DAG
	// processor, executors and worker.
	Metrics bool
	// WebAnyPortIfTaken serves on a free port of WebAddr's host, with a
	// warning, when another process has WebAddr's port: a second
	// standalone on the default port starts rather than fails (WebAddr
	// tells where it went).
	WebAnyPortIfTaken bool
	// ExecutorSlots, when above 0, is how many tries each local executor
	// runs at once, set before it claims anything (else core.parallelism):
	// a control plane scales an environment run as one process this way
	// (SetExecutorSlots changes it later).
	ExecutorSlots int
}

// Load is how busy an environment is, for an autoscaler.
type Load struct {
	// Queued counts the task instances of the whole environment (every
	// process sharing its store) that are scheduled or queued: waiting
	// for a slot.
	Queued int
	// Running counts the tries running in this process's executors and
	// worker.
	Running int
	// Slots is how many tries this process's executors and worker may run
	// at once.
	Slots int
}

// roles are the started roles of an environment (guarded by mu).
type roles struct {
	mu      sync.Mutex
	engines []*Engine
	worker  *executor.Local
	proc    *dagprocessor.Processor
	logs    *logserver.Server
	metrics *startstop.HTTP
	web     *startstop.Func
	webAddr string
	handler http.Handler
	failed  chan error
	drained bool
}

// Start starts the roles named (Open does when Options.Roles names some).
// They run until Drain or Stop, or until ctx ends, which stops them at
// once as Stop does: a caller that wants a graceful stop on a signal
// passes a context the signal does not end and calls Drain. An
// environment starts its roles once.
func (e *Environment) Start(ctx context.Context, want Roles) error {
	if want.Worker != nil && !e.Shared() {
		return windsock.Errorf(windsock.EINVALID, "a worker needs a metadata database other processes share: set database.sql_alchemy_conn to a postgresql:// URL")
	}
	if want.DAGProcessor || want.Schedulers > 0 {
		if err := e.EnsureDagsFolder(); err != nil {
			return err
		}
	}
	r := &e.roles
	r.mu.Lock()
	if r.failed != nil {
		r.mu.Unlock()
		return windsock.Errorf(windsock.ECONFLICT, "the roles of this environment were started already")
	}
	r.failed = make(chan error, 1)
	err := e.startRoles(ctx, want)
	r.mu.Unlock()
	if err != nil {
		e.stopRoles(context.Background(), 0)
		return err
	}
	return nil
}

// startRoles builds and starts each role in turn: the log server first and
// the web server last, so that tries have their logs served from the start
// and requests find the schedulers running.
func (e *Environment) startRoles(ctx context.Context, want Roles) error {
	r := &e.roles
	if want.Metrics {
		port := e.Config.Metrics.MetricsPort
		m := &startstop.HTTP{Name: "metrics", Handler: e.metricsHandler(), Logger: e.Logger,
			Addr: net.JoinHostPort(e.Config.Metrics.MetricsHost, strconv.Itoa(port)),
			// Only the default moves: the processes of a host all start
			// on it. A port the user chose is theirs to change, as the
			// web server's.
			AnyPortIfTaken: port == config.DefaultMetricsPort}
		if err := m.Start(ctx); err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("metrics.metrics_port %d is taken by another process on %s: set another port, or 0 for any free one: %w",
					port, e.Config.Metrics.MetricsHost, err)
			}
			return err
		}
		r.metrics = m
		e.metricsAddr = m.ListenAddr()
	}
	// Where the web servers fetch the logs of the tries run here, recorded
	// in the executors' job rows.
	logAddr := ""
	if want.LogServer {
		ls := e.NewLogServer()
		if want.LogServerAddr != "" {
			ls.Addr = want.LogServerAddr
		}
		if err := ls.Start(ctx); err != nil {
			return fmt.Errorf("serve task logs on %s: %w", ls.Addr, err)
		}
		r.logs = ls
		logAddr = e.LogServerAddress(ls)
	}
	for range want.Schedulers {
		engine, err := e.NewEngine(EngineOptions{LogServer: logAddr})
		if err != nil {
			return err
		}
		r.engines = append(r.engines, engine)
	}
	if want.DAGProcessor {
		announce := e.Shared() || len(r.engines) == 0
		proc, err := e.NewDAGProcessor(func(rep *dagprocessor.Report) {
			for _, engine := range r.engines {
				engine.Scheduler.DAGsChanged()
			}
			if announce {
				e.announceDAGs(rep)
			}
		})
		if err != nil {
			return err
		}
		if err := proc.Start(ctx); err != nil {
			return err
		}
		r.proc = proc
	}
	for _, engine := range r.engines {
		if want.ExecutorSlots > 0 && engine.Executor != nil {
			engine.Executor.SetSlots(want.ExecutorSlots)
		}
	}
	for i, engine := range r.engines {
		if err := engine.Start(ctx); err != nil {
			r.engines = r.engines[:i] // the others never started
			return err
		}
	}
	if want.Worker != nil {
		opts := *want.Worker
		if opts.LogServer == "" {
			opts.LogServer = logAddr
		}
		w, err := e.NewWorker(opts)
		if err != nil {
			return err
		}
		if err := w.Start(ctx); err != nil {
			return err
		}
		r.worker = w
	}
	e.registerMetrics(want)
	if want.Web {
		r.handler = e.newHandler()
		if want.WebAddr != "" {
			if err := e.serveWeb(ctx, want.WebAddr, want.WebAnyPortIfTaken); err != nil {
				return err
			}
		}
	}
	return nil
}

// announceDAGs tells the schedulers sharing the store that definitions
// changed.
func (e *Environment) announceDAGs(rep *dagprocessor.Report) {
	if rep.Written == 0 && rep.Removed == 0 {
		return
	}
	if err := e.Store.Notify(context.Background(), store.ChannelDAGsChanged, ""); err != nil {
		e.Logger.Warn("could not announce changed DAGs", "error", err)
	}
}

// newHandler builds the web UI beside the REST API and /health, with one
// authenticator (login throttling and the bound on password checks hold
// for the environment, not per half) and one authorizer (a role edited
// through the API applies to the UI's next page at once).
func (e *Environment) newHandler() http.Handler {
	authn := auth.NewAuthenticator(e.Store, e.Config, e.Clock, e.Logger)
	authz := &auth.Authorizer{Store: e.Store, Clock: e.Clock, Logger: e.Logger}
	remoteLogs, err := e.RemoteLogStore()
	if err != nil {
		e.Logger.Warn("remote logs cannot be read: logging.remote_base_log_folder is unusable", "error", err)
	}
	apiHandler := (&api.Server{
		Store: e.Store, Config: e.Config, Version: e.version, Logger: e.Logger, Clock: e.Clock, Authenticator: authn, Authorizer: authz,
		Variables: e.Variables, Connections: e.Connections, LogFolder: e.LogFolder(),
		Runs: e.runNotifier(), RemoteLogs: remoteLogs, Metrics: e.metricsHandler(),
		HealthThreshold: e.Config.Scheduler.SchedulerHealthCheckThreshold,
	}).Handler()
	webHandler := (&web.Server{
		Store: e.Store, Config: e.Config, Version: e.version, Logger: e.Logger, Clock: e.Clock, Authenticator: authn, Authorizer: authz,
		Variables: e.Variables, Connections: e.Connections, LogFolder: e.LogFolder(),
	}).Handler()
	return web.Mux(apiHandler, webHandler)
}

// runNotifier is who hears of the runs the API triggers, clears or marks:
// the schedulers of this process, and through the store those of others.
func (e *Environment) runNotifier() api.RunNotifier {
	engines := e.roles.engines
	switch {
	case len(engines) == 0 && !e.Shared():
		return nil
	case len(engines) == 0:
		return NotifyRuns{Env: e}
	}
	return runNotifiers{env: e, engines: engines}
}

// runNotifiers tells the schedulers of this process about a changed run,
// and those of other processes when the store is shared.
type runNotifiers struct {
	env     *Environment
	engines []*Engine
}

func (n runNotifiers) RunChanged(dagID, runID string) {
	for _, engine := range n.engines {
		engine.Scheduler.RunChanged(dagID, runID)
	}
	if n.env.Shared() {
		NotifyRuns{Env: n.env}.RunChanged(dagID, runID)
	}
}

// serveWeb listens on addr (or, when its port is taken and anyPort is
// set, on a free port of its host) and serves the handler until the roles
// stop; a server that fails later says so on Failed.
func (e *Environment) serveWeb(ctx context.Context, addr string, anyPort bool) error {
	r := &e.roles
	srv := &http.Server{Handler: r.handler, ReadHeaderTimeout: 10 * time.Second}
	svc := startstop.NewFunc(func(ctx context.Context) (func(context.Context), error) {
		ln, moved, err := startstop.Listen(ctx, addr, anyPort)
		if moved {
			e.Logger.Warn("the web server's port is in use (another windsock standalone?): serving on a free port instead",
				"wanted", addr, "url", "http://"+ln.Addr().String())
		}
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
		r.webAddr = ln.Addr().String()
		return func(ctx context.Context) {
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			select {
			case err := <-served:
				r.failed <- fmt.Errorf("web server stopped: %w", err)
				return
			case <-ctx.Done():
			}
			shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				e.Logger.Warn("web server did not shut down cleanly", "error", err)
			}
		}, nil
	})
	if err := svc.Start(ctx); err != nil {
		return err
	}
	r.web = svc
	if warn := api.StartupWarning(e.Config); warn != "" {
		e.Logger.Warn(warn)
	}
	return nil
}

// Handler is the web UI, the REST API and /health of the environment (nil
// unless the Web role started), for a caller that serves several
// environments from one server.
func (e *Environment) Handler() http.Handler {
	e.roles.mu.Lock()
	defer e.roles.mu.Unlock()
	return e.roles.handler
}

// WebAddr is the address the web server listens on ("" when it does not):
// the port chosen when Roles.WebAddr asked for port 0.
func (e *Environment) WebAddr() string {
	e.roles.mu.Lock()
	defer e.roles.mu.Unlock()
	return e.roles.webAddr
}

// Failed receives the error of a role that stopped by itself (the web
// server losing its listener); nil before Start.
func (e *Environment) Failed() <-chan error {
	e.roles.mu.Lock()
	defer e.roles.mu.Unlock()
	return e.roles.failed
}

// Health reports the metadata database and the heartbeat of each
// component, as /health does.
func (e *Environment) Health(ctx context.Context) api.HealthInfo {
	return (&api.Server{
		Store: e.Store, Config: e.Config, Version: e.version, Clock: e.Clock, Logger: e.Logger,
		HealthThreshold: e.Config.Scheduler.SchedulerHealthCheckThreshold,
	}).Health(ctx)
}

// Load reads how busy the environment is.
func (e *Environment) Load(ctx context.Context) (Load, error) {
	var l Load
	l.Running, l.Slots = e.executorLoad()
	// Counted by the database: a backlog of thousands is not read to be
	// counted (one row comes with the count).
	_, waiting, err := e.Store.TaskInstanceQuery(ctx, &store.TaskInstanceQueryParams{
		States: []windsock.TaskInstanceState{windsock.TaskStateScheduled, windsock.TaskStateQueued}, Limit: 1,
	})
	if err != nil {
		return Load{}, fmt.Errorf("count waiting task instances: %w", err)
	}
	l.Queued = waiting
	return l, nil
}

// executorLoad sums the running tries and the slots of this process's
// executors and worker.
func (e *Environment) executorLoad() (running, slots int) {
	e.roles.mu.Lock()
	defer e.roles.mu.Unlock()
	for _, ex := range e.executors() {
		r, s := ex.Load()
		running += r
		slots += s
	}
	return running, slots
}

// metricsHandler serves the process's metrics.
func (e *Environment) metricsHandler() http.Handler { return e.Metrics.Handler() }

// registerMetrics adds the gauges of the started roles (roles.mu held):
// the process's own executors, and, in a process with a scheduler or a
// web server (where Airflow users look for them), the environment-wide
// ones read from the store.
func (e *Environment) registerMetrics(want Roles) {
	own := len(e.executors()) > 0
	if own {
		e.mustRegister(metrics.Executors{Load: e.executorLoad})
	}
	if want.Schedulers > 0 || want.Web {
		e.mustRegister(&metrics.Environment{Store: e.Store, Parallelism: e.Config.Core.Parallelism, OwnExecutors: own, Logger: e.Logger})
	}
}

func (e *Environment) mustRegister(c prometheus.Collector) {
	if err := e.Metrics.Register(c); err != nil {
		e.Logger.Warn("metrics: a collector was refused", "error", err)
	}
}

// MetricsAddr is where the process's own metrics listener serves ("" when
// Roles.Metrics was not asked for).
func (e *Environment) MetricsAddr() string {
	e.roles.mu.Lock()
	defer e.roles.mu.Unlock()
	return e.metricsAddr
}

// SetExecutorSlots changes how many tries each local executor of the
// started schedulers runs at once (executor.Local.SetSlots: lowering it
// stops nothing).
func (e *Environment) SetExecutorSlots(n int) {
	e.roles.mu.Lock()
	defer e.roles.mu.Unlock()
	for _, engine := range e.roles.engines {
		if engine.Executor != nil {
			engine.Executor.SetSlots(n)
		}
	}
}

// executors are the local executors and the worker of the started roles
// (roles.mu held).
func (e *Environment) executors() []*executor.Local {
	var out []*executor.Local
	for _, engine := range e.roles.engines {
		if engine.Executor != nil {
			out = append(out, engine.Executor)
		}
	}
	if e.roles.worker != nil {
		out = append(out, e.roles.worker)
	}
	return out
}

// Drain stops the roles gracefully: the web server stops taking requests,
// the executors and the worker claim nothing more, the schedulers stop,
// and the running tries may finish for up to grace, or until hurry ends;
// the rest are handed back to run again, as the same try, under the next
// scheduler. The DAG processor and the log server stop last. The store
// stays open (Stop closes it). Only the first call does anything.
func (e *Environment) Drain(hurry context.Context, grace time.Duration) {
	e.stopRoles(hurry, grace)
}

func (e *Environment) stopRoles(hurry context.Context, grace time.Duration) {
	r := &e.roles
	r.mu.Lock()
	if r.drained {
		r.mu.Unlock()
		return
	}
	r.drained = true
	// What Load and Handler read stays; nothing is started any more.
	engines, worker, proc, logs, webSvc, metricsSvc := r.engines, r.worker, r.proc, r.logs, r.web, r.metrics
	r.mu.Unlock()
	if webSvc != nil {
		webSvc.Stop()
	}
	// The grace period is one for all: the executors drain side by side.
	var wg sync.WaitGroup
	for _, engine := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			engine.Drain(hurry, grace)
		}()
	}
	if worker != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker.Drain(hurry, grace)
		}()
	}
	wg.Wait()
	if proc != nil {
		proc.Stop()
	}
	if logs != nil {
		logs.Stop()
	}
	if metricsSvc != nil {
		metricsSvc.Stop()
	}
}

// Stop stops the roles at once (their running tries are handed back, as
// after a Drain whose grace ran out) and closes the environment. It may
// be called more than once.
func (e *Environment) Stop() {
	if err := e.Close(); err != nil {
		e.Logger.Warn("closing the environment failed", "error", err)
	}
}
