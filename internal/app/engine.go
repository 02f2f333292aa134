package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/awssns"
	"github.com/windsock/windsock/internal/callback"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/dagprocessor"
	"github.com/windsock/windsock/internal/executor"
	"github.com/windsock/windsock/internal/logserver"
	"github.com/windsock/windsock/internal/operator/process"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/startstop"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/taskrun"
	"github.com/windsock/windsock/internal/windsock"
)

// EngineOptions tune an engine for its use.
type EngineOptions struct {
	// OnlyRuns limits the engine to these runs and creates no scheduled
	// runs (dags test, backfill).
	OnlyRuns []scheduler.RunRef
	// OnRunFinished is called when a run reaches success or failed; with
	// OnlyRuns also when another process ended one of them (a scheduler
	// daemon that took one of its tries), then with the run as read, or
	// only its ids when it was deleted.
	OnRunFinished func(*windsock.DagRun)
	// OnTryDone is called after every try is recorded.
	OnTryDone func(try *taskrun.Try, out *taskrun.Outcome)
	// Interval is the scheduler's safety-net pass period
	// (scheduler.scheduler_idle_sleep_time, 1 s by default).
	Interval time.Duration
	// LogServer is host:port of the log server serving the local
	// executor's task logs, recorded for the web servers.
	LogServer string
}

// Engine is a scheduler with its local executor (none with
// core.executor = CeleryExecutor, where workers run the tasks).
type Engine struct {
	Scheduler *scheduler.Scheduler
	Executor  *executor.Local
	Runner    *taskrun.Runner
}

// notifyTryDone tells the other processes sharing the store that a try
// ended, so that the scheduler owning its run evaluates what follows.
func (e *Environment) notifyTryDone(try *taskrun.Try, out *taskrun.Outcome) {
	d := store.TryDone{Key: try.TI.TaskInstanceKey, Reload: out.TI == nil || len(out.Skipped) > 0}
	if err := e.Store.Notify(context.Background(), store.ChannelTryDone, store.EncodeTryDone(d)); err != nil {
		// The schedulers' periodic re-read finds the outcome anyway.
		e.Logger.Warn("could not announce a finished try", "dag_id", try.TI.DagID, "task_id", try.TI.TaskID, "error", err)
	}
}

// NewTaskRunner returns a runner for this environment's tasks.
func (e *Environment) NewTaskRunner() *taskrun.Runner {
	host := e.Hostname
	remote, err := e.RemoteLogStore()
	if err != nil {
		// Logs stay on this host, where the worker's log server serves them.
		e.Logger.Warn("remote logging is off: logging.remote_base_log_folder is unusable", "error", err)
	}
	return &taskrun.Runner{
		Store: e.Store, Operators: e.OperatorRegistry(), Specs: e.Operators,
		Variables: e.Variables, Connections: e.Connections,
		Callbacks: e.callbackRunner(),
		LogFolder: e.Config.Logging.BaseLogFolder, DagsFolder: e.Config.Core.DagsFolder,
		Environ: e.Environ, EnvironmentID: e.ID, Hostname: host, Logger: e.Logger, Clock: e.Clock, BaseURL: e.Config.Webserver.BaseURL,
		RemoteLogs: remote, DeleteLocalLogs: e.Config.Logging.DeleteLocalLogs,
		AnnounceTries: e.Shared(), MaxMapLength: e.Config.Core.MaxMapLength,
		DagRuns: e.newDagRunTrigger(NotifyRuns{Env: e}.RunChanged),
	}
}

// NewEngine wires a scheduler to a local executor with core.parallelism
// slots.
func (e *Environment) NewEngine(opts EngineOptions) (*Engine, error) {
	host := e.Hostname
	runner := e.NewTaskRunner()
	var sched *scheduler.Scheduler
	shared := e.Shared()
	// Runs its tasks trigger start at once here; other schedulers sharing
	// the store hear of them too.
	runner.DagRuns = e.newDagRunTrigger(func(dagID, runID string) {
		sched.RunChanged(dagID, runID)
		if shared {
			NotifyRuns{Env: e}.RunChanged(dagID, runID)
		}
	})
	var run scheduler.Executor
	var local *executor.Local
	var err error
	if e.Config.Core.Executor == config.ExecutorCelery && len(opts.OnlyRuns) == 0 {
		// Workers claim what this scheduler queues; wake them.
		run = executor.NotifyWorkers{Store: e.Store, Logger: e.Logger}
	} else {
		local, err = e.newLocalExecutor(runner, host, opts, func() *scheduler.Scheduler { return sched })
		if err != nil {
			return nil, err
		}
		run = local
	}
	sched, err = scheduler.New(scheduler.Config{
		Store: e.Store, Executor: run, Parallelism: e.Config.Core.Parallelism,
		HeartbeatInterval:     e.Config.Scheduler.SchedulerHeartbeatSec,
		ZombieThreshold:       e.Config.Scheduler.SchedulerZombieTaskThreshold,
		QueuedTimeout:         e.Config.Scheduler.TaskQueuedTimeout,
		HealthThreshold:       e.Config.Scheduler.SchedulerHealthCheckThreshold,
		WorkerHealthThreshold: e.Config.Scheduler.WorkerHealthCheckThreshold,
		RetryLostToCrash:      e.Config.Scheduler.RetryTriesLostToCrash,
		Shared:                shared,
		OnlyRuns:              opts.OnlyRuns, Interval: opts.Interval,
		OnRunFinished: func(run *windsock.DagRun) {
			e.dagCallback(runner, sched, run)
			if opts.OnRunFinished != nil {
				opts.OnRunFinished(run)
			}
		},
		// Its DAG callbacks ran where it ended.
		OnRunEndedElsewhere: opts.OnRunFinished,
		EndOrphan:           e.endOrphan,
		OnSLAMiss: func(dagID string, misses []*windsock.SlaMiss) {
			e.slaMiss(runner, sched, dagID, misses)
		},
		OnTryLost: func(ti *windsock.TaskInstance, reason string) {
			ctx := context.Background()
			d, err := sched.DAG(ctx, ti.DagID)
			var run *windsock.DagRun
			if err == nil {
				run, err = e.Store.DagRunGet(ctx, ti.DagID, ti.RunID)
			}
			if err != nil {
				e.Logger.Warn("the callbacks of a lost try cannot run", "dag_id", ti.DagID, "task_id", ti.TaskID, "run_id", ti.RunID, "error", err)
				return
			}
			runner.Lost(ctx, &taskrun.Try{TI: ti, DAG: d, Run: run}, reason)
		},
		Logger: e.Logger, Clock: e.Clock, Hostname: host,
		Metrics: e.Metrics, MetricsAddr: e.metricsAddr,
	})
	if err != nil {
		return nil, err
	}
	return &Engine{Scheduler: sched, Executor: local, Runner: runner}, nil
}

// newLocalExecutor returns an executor running tries in this process for
// the scheduler sched returns (set once it exists).
func (e *Environment) newLocalExecutor(runner *taskrun.Runner, host string, opts EngineOptions, sched func() *scheduler.Scheduler) (*executor.Local, error) {
	shared := e.Shared() && len(opts.OnlyRuns) == 0
	return executor.New(executor.Config{
		Store: e.Store, Runner: runner, Slots: e.Config.Core.Parallelism, Hostname: host,
		HeartbeatInterval: e.Config.Scheduler.SchedulerHeartbeatSec,
		DAG:               func(ctx context.Context, dagID string) (*windsock.DAG, error) { return sched().DAG(ctx, dagID) },
		Run: func(ctx context.Context, dagID, runID string) (*windsock.DagRun, error) {
			return sched().Run(ctx, dagID, runID)
		},
		LogServer: opts.LogServer,
		OnDone: func(try *taskrun.Try, out *taskrun.Outcome) {
			sched().TryDone(out.TI, try.TI.DagID, try.TI.RunID, out.Skipped)
			if shared && !out.Recorded {
				e.notifyTryDone(try, out) // recorded outcomes were announced with their commit
			}
			if opts.OnTryDone != nil {
				opts.OnTryDone(try, out)
			}
		},
		LostContactAfter: e.lostContactAfter(),
		Metrics:          e.Metrics, MetricsAddr: e.metricsAddr,
		Logger: e.Logger, Clock: e.Clock,
	})
}

// lostContactAfter is how long an executor's heartbeats may fail before it
// stops its tries: half the shorter of the zombie and worker health
// thresholds, so that they are stopped before any scheduler presumes them
// dead and runs them again.
func (e *Environment) lostContactAfter() time.Duration {
	d := e.Config.Scheduler.SchedulerZombieTaskThreshold
	if w := e.Config.Scheduler.WorkerHealthCheckThreshold; w > 0 && (d <= 0 || w < d) {
		d = w
	}
	return d / 2
}

// The long-running services an environment starts share one shape.
var (
	_ startstop.Service = (*scheduler.Scheduler)(nil)
	_ startstop.Service = (*executor.Local)(nil)
	_ startstop.Service = (*dagprocessor.Processor)(nil)
	_ startstop.Service = (*logserver.Server)(nil)
)

// services are the engine's services in the order they start: the
// executor first, so that the scheduler's first pass has it.
func (en *Engine) services() []startstop.Service {
	if en.Executor == nil {
		return []startstop.Service{en.Scheduler}
	}
	return []startstop.Service{en.Executor, en.Scheduler}
}

// Start starts the executor, then the scheduler.
func (en *Engine) Start(ctx context.Context) error {
	return startstop.StartAll(ctx, en.services()...)
}

// Stop stops the scheduler, then the executor (whose running tries are
// cancelled and recorded).
func (en *Engine) Stop() {
	svcs := en.services()
	slices.Reverse(svcs)
	startstop.StopAll(svcs...)
}

// Drain is the engine's graceful shutdown, the one a worker has: the
// executor claims nothing more, the scheduler stops, and the running tries
// may finish for up to grace (or until hurry ends); the rest are handed
// back to run again, as the same try, under the next scheduler.
func (en *Engine) Drain(hurry context.Context, grace time.Duration) {
	if en.Executor != nil {
		en.Executor.StopClaiming()
	}
	en.Scheduler.Stop()
	if en.Executor != nil {
		en.Executor.Drain(hurry, grace)
	}
}

func (e *Environment) callbackRunner() *callback.Runner {
	return &callback.Runner{Environ: e.Environ, Dir: e.Config.Core.DagsFolder, SNS: e.publishSNS, Email: e.sendEmail, Python: e.pythonTasks()}
}

// publishSNS publishes an sns callback through the aws connection connID
// (or the AWS_* variables when it does not exist).
func (e *Environment) publishSNS(ctx context.Context, connID string, m callback.SNSMessage) error {
	var conn *awss3.Connection
	c, err := e.Connections.Get(ctx, connID)
	switch {
	case err == nil:
		var extra map[string]any
		if strings.TrimSpace(c.Extra) != "" {
			if err := json.Unmarshal([]byte(c.Extra), &extra); err != nil {
				return fmt.Errorf("connection %s: extra is not a JSON object: %w", connID, err)
			}
		}
		conn = &awss3.Connection{ConnID: connID, Host: c.Host, Login: c.Login, Password: c.Password, Extra: extra}
	case windsock.ErrorCode(err) != windsock.ENOTFOUND:
		return fmt.Errorf("get connection %s: %w", connID, err)
	}
	return awssns.Publish(ctx, awss3.SettingsFrom(conn, e.Environ), nil, awssns.Message{TopicArn: m.TopicArn, Subject: m.Subject, Message: m.Message})
}

// dagCallback runs a finished run's on_success_callback or
// on_failure_callback (Airflow runs them in its DAG processor); what they
// print and how they end go to this process's log, where Airflow's DAG
// processor log would have them. It is called as an OnRunFinished
// listener, off the scheduling loop, and the scheduler's Stop waits for
// it: a callback is never cut short by a stop.
func (e *Environment) dagCallback(runner *taskrun.Runner, sched *scheduler.Scheduler, run *windsock.DagRun) {
	d, err := sched.DAG(context.Background(), run.DagID)
	if err != nil || d.Callbacks == nil {
		return
	}
	name, reason := "on_success_callback", "success"
	if run.State == windsock.DagRunFailed {
		name, reason = "on_failure_callback", "task_failure"
		if timedOut(d, run) {
			reason = "timed_out" // Airflow's reason for a run past dagrun_timeout
		}
	}
	if _, ok := d.Callbacks[name]; !ok {
		return
	}
	var out strings.Builder
	if err := runner.DagCallback(context.Background(), d, run, name, reason, &out); err != nil {
		e.Logger.Warn("dag callback failed", "dag_id", run.DagID, "run_id", run.RunID, "callback", name, "error", err, "output", out.String())
		return
	}
	e.Logger.Info("dag callback ran", "dag_id", run.DagID, "run_id", run.RunID, "callback", name, "output", out.String())
}

// slaMiss runs a DAG's sla_miss_callback and SLA emails for its newly
// recorded misses; the outcome goes to this process's log, where
// Airflow's DAG processor log would have it.
func (e *Environment) slaMiss(runner *taskrun.Runner, sched *scheduler.Scheduler, dagID string, misses []*windsock.SlaMiss) {
	d, err := sched.DAG(context.Background(), dagID)
	if err != nil {
		e.Logger.Warn("the SLA misses of a DAG that cannot be loaded are not notified", "dag_id", dagID, "error", err)
		return
	}
	var out strings.Builder
	if err := runner.SLAMiss(context.Background(), d, misses, &out); err != nil {
		e.Logger.Warn("notifying SLA misses failed", "dag_id", dagID, "misses", len(misses), "error", err, "output", out.String())
		return
	}
	e.Logger.Info("SLA misses notified", "dag_id", dagID, "misses", len(misses), "output", out.String())
}

// timedOut reports whether a finished run was failed for exceeding its
// DAG's dagrun_timeout. The scheduler checks the timeout before any other
// decision about a run, so a run that ended later than the timeout after
// its start was ended by it.
func timedOut(d *windsock.DAG, run *windsock.DagRun) bool {
	if d.DagrunTimeout <= 0 || run.StartDate == nil || run.EndDate == nil {
		return false
	}
	return run.EndDate.Sub(*run.StartDate) > d.DagrunTimeout.Std()
}

// endOrphan ends the processes a try of this environment left running
// after the process that ran it died: only this environment's, since its
// mark holds the environment id.
func (e *Environment) endOrphan(ti *windsock.TaskInstance) {
	if n, err := process.KillLeftovers(e.ID, ti); err != nil {
		e.Logger.Warn("looking for processes an orphaned try left failed", "dag_id", ti.DagID, "task_id", ti.TaskID, "error", err)
	} else if n > 0 {
		e.Logger.Info("killed processes an orphaned try left", "dag_id", ti.DagID, "task_id", ti.TaskID, "try_number", ti.TryNumber, "count", n)
	}
}
