package app

import (
	"context"
	"path/filepath"
	"time"

	"github.com/windsock/windsock/internal/executor"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/taskrun"
)

// WorkerOptions tune a worker.
type WorkerOptions struct {
	// Concurrency is how many tries run at once; celery.worker_concurrency
	// when 0.
	Concurrency int
	// Queues limits the worker to task instances of these queues (Airflow's
	// queue task attribute); every queue when empty.
	Queues []string
	// OnTryDone is called after every try is recorded.
	OnTryDone func(try *taskrun.Try, out *taskrun.Outcome)
	// LogServer is host:port of the log server serving this worker's task
	// logs, recorded for the web servers.
	LogServer string
	// JournalDir is where the worker keeps the outcomes of finished tries
	// until the database has them; $WINDSOCK_HOME/journal when empty.
	JournalDir string
}

// workerDAGMaxAge is how stale a worker's DAG definitions may be: a task
// queued just after its DAG file changed runs the new definition once the
// check comes round.
const workerDAGMaxAge = 2 * time.Second

// NewWorker returns a worker: an executor that claims queued task
// instances from the metadata database, runs them here and tells the
// schedulers when each try ends (`windsock worker`). An outcome the
// database does not take is journaled on disk until it does, so that a try
// that ends during a database outage is recorded when the database is
// back (or when the worker next starts), never run again for want of it.
func (e *Environment) NewWorker(opts WorkerOptions) (*executor.Local, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = e.Config.Celery.WorkerConcurrency
	}
	if opts.JournalDir == "" {
		opts.JournalDir = filepath.Join(e.Config.Home, "journal")
	}
	journal, err := taskrun.OpenJournal(opts.JournalDir)
	if err != nil {
		return nil, err
	}
	runner := e.NewTaskRunner()
	runner.Journal = journal
	dags := scheduler.NewDAGCache(e.Store, workerDAGMaxAge)
	return executor.New(executor.Config{
		Store: e.Store, Runner: runner, Slots: opts.Concurrency, Hostname: e.Hostname,
		HeartbeatInterval: e.Config.Scheduler.SchedulerHeartbeatSec,
		DAG:               dags.DAG,
		ClaimQueued:       true, Queues: opts.Queues,
		OnDone: func(try *taskrun.Try, out *taskrun.Outcome) {
			if !out.Recorded {
				e.notifyTryDone(try, out) // recorded outcomes were announced with their commit
			}
			if opts.OnTryDone != nil {
				opts.OnTryDone(try, out)
			}
		},
		LostContactAfter: e.lostContactAfter(), LogServer: opts.LogServer,
		Metrics: e.Metrics, MetricsAddr: e.metricsAddr,
		Logger: e.Logger, Clock: e.Clock,
	})
}

// NotifyRuns tells the schedulers sharing the store about runs a web
// server changed: the api.RunNotifier of a process without a scheduler.
type NotifyRuns struct{ Env *Environment }

// RunChanged announces the change; a scheduler's periodic pass finds it
// anyway if the announcement is lost.
func (n NotifyRuns) RunChanged(dagID, runID string) {
	if err := scheduler.NotifyRunChanged(context.Background(), n.Env.Store, dagID, runID); err != nil {
		n.Env.Logger.Warn("could not announce a changed run", "dag_id", dagID, "run_id", runID, "error", err)
	}
}
