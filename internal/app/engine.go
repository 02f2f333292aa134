package app

import (
	"context"
	"os"
	"time"

	"github.com/windsock/windsock/internal/executor"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/taskrun"
	"github.com/windsock/windsock/internal/windsock"
)

// EngineOptions tune an engine for its use.
type EngineOptions struct {
	// OnlyRuns limits the engine to these runs and creates no scheduled
	// runs (dags test, backfill).
	OnlyRuns []scheduler.RunRef
	// OnRunFinished is called when a run reaches success or failed.
	OnRunFinished func(*windsock.DagRun)
	// OnTryDone is called after every try is recorded.
	OnTryDone func(try *taskrun.Try, out *taskrun.Outcome)
	// Interval is the scheduler's safety-net pass period
	// (scheduler.scheduler_idle_sleep_time, 1 s by default).
	Interval time.Duration
}

// Engine is a scheduler with its local executor.
type Engine struct {
	Scheduler *scheduler.Scheduler
	Executor  *executor.Local
	Runner    *taskrun.Runner
}

// NewTaskRunner returns a runner for this environment's tasks.
func (e *Environment) NewTaskRunner() *taskrun.Runner {
	host, _ := os.Hostname()
	return &taskrun.Runner{
		Store: e.Store, Operators: e.OperatorRegistry(), Specs: e.Operators,
		Variables: e.Variables, Connections: e.Connections,
		LogFolder: e.Config.Logging.BaseLogFolder, DagsFolder: e.Config.Core.DagsFolder,
		Environ: e.Environ, Hostname: host, Logger: e.Logger, Clock: e.Clock,
	}
}

// NewEngine wires a scheduler to a local executor with core.parallelism
// slots.
func (e *Environment) NewEngine(opts EngineOptions) (*Engine, error) {
	host, _ := os.Hostname()
	runner := e.NewTaskRunner()
	var sched *scheduler.Scheduler
	exec, err := executor.New(executor.Config{
		Store: e.Store, Runner: runner, Slots: e.Config.Core.Parallelism, Hostname: host,
		DAG: func(ctx context.Context, dagID string) (*windsock.DAG, error) { return sched.DAG(ctx, dagID) },
		Run: func(ctx context.Context, dagID, runID string) (*windsock.DagRun, error) {
			return sched.Run(ctx, dagID, runID)
		},
		JobID: func() int64 { return sched.JobID() },
		OnDone: func(try *taskrun.Try, out *taskrun.Outcome) {
			sched.TryDone(out.TI, try.TI.DagID, try.TI.RunID, out.Skipped)
			if opts.OnTryDone != nil {
				opts.OnTryDone(try, out)
			}
		},
		Logger: e.Logger, Clock: e.Clock,
	})
	if err != nil {
		return nil, err
	}
	sched, err = scheduler.New(scheduler.Config{
		Store: e.Store, Executor: exec, Parallelism: e.Config.Core.Parallelism,
		HeartbeatInterval: e.Config.Scheduler.SchedulerHeartbeatSec,
		ZombieThreshold:   e.Config.Scheduler.SchedulerZombieTaskThreshold,
		QueuedTimeout:     e.Config.Scheduler.TaskQueuedTimeout,
		OnlyRuns:          opts.OnlyRuns, OnRunFinished: opts.OnRunFinished, Interval: opts.Interval,
		Logger: e.Logger, Clock: e.Clock, Hostname: host,
	})
	if err != nil {
		return nil, err
	}
	return &Engine{Scheduler: sched, Executor: exec, Runner: runner}, nil
}

// Start starts the executor, then the scheduler.
func (en *Engine) Start(ctx context.Context) error {
	if err := en.Executor.Start(ctx); err != nil {
		return err
	}
	if err := en.Scheduler.Start(ctx); err != nil {
		en.Executor.Stop()
		return err
	}
	return nil
}

// Stop stops the scheduler, then the executor (whose running tries are
// cancelled and recorded).
func (en *Engine) Stop() {
	en.Scheduler.Stop()
	en.Executor.Stop()
}
