// Package executor runs queued task instances. Local runs them in this
// process's worker slots (each try in its own OS process, started by its
// operator), heartbeating them so a scheduler can tell a live try from a
// dead one.
package executor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/taskrun"
	"github.com/windsock/windsock/internal/windsock"
)

// Config is what a Local executor needs.
type Config struct {
	Store  store.Store
	Runner *taskrun.Runner
	// DAG returns a DAG's definition (the scheduler's cache).
	DAG func(ctx context.Context, dagID string) (*windsock.DAG, error)
	// Run returns a DAG run (the scheduler's cache when it has it).
	Run func(ctx context.Context, dagID, runID string) (*windsock.DagRun, error)
	// Slots is how many tries run at once (core.parallelism). Default 32.
	Slots int
	// HeartbeatInterval is how often running tries are heartbeated.
	// Default 5 s.
	HeartbeatInterval time.Duration
	// OnDone is called after each try's outcome is recorded.
	OnDone   func(try *taskrun.Try, out *taskrun.Outcome)
	JobID    func() int64
	Hostname string
	Logger   *slog.Logger
	Clock    func() time.Time
}

// claimRetryDelay is the pause before claiming again after a failed claim.
const claimRetryDelay = 200 * time.Millisecond

// Local runs task instances in this process.
type Local struct {
	cfg Config

	mu      sync.Mutex
	pending []windsock.TaskInstanceKey
	running map[windsock.TaskInstanceKey]context.CancelFunc
	wake    chan struct{}

	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{}
}

// New returns a Local executor.
func New(cfg Config) (*Local, error) {
	if cfg.Store == nil || cfg.Runner == nil || cfg.DAG == nil {
		return nil, errors.New("executor: Store, Runner and DAG are required")
	}
	if cfg.Slots <= 0 {
		cfg.Slots = 32
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Local{cfg: cfg, running: map[windsock.TaskInstanceKey]context.CancelFunc{}, wake: make(chan struct{}, 1)}, nil
}

// Submit queues task instances to claim and run.
func (e *Local) Submit(keys []windsock.TaskInstanceKey) {
	if len(keys) == 0 {
		return
	}
	e.mu.Lock()
	e.pending = append(e.pending, keys...)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Start runs the dispatcher and the heartbeat until Stop or ctx ends.
func (e *Local) Start(ctx context.Context) error {
	if e.cancel != nil {
		return errors.New("executor already started")
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.cancel = cancel
	e.done = make(chan struct{})
	go func() {
		defer close(e.done)
		e.dispatch(runCtx)
		e.wg.Wait()
	}()
	go func() {
		select {
		case <-ctx.Done():
			e.Stop()
		case <-e.done:
		}
	}()
	return nil
}

// Stop stops claiming, cancels running tries (killing their processes) and
// waits for their outcomes to be recorded. Safe to call more than once.
func (e *Local) Stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	<-e.done
}

func (e *Local) dispatch(ctx context.Context) {
	hb := time.NewTicker(e.cfg.HeartbeatInterval)
	defer hb.Stop()
	for {
		select {
		case <-ctx.Done():
			e.mu.Lock()
			for _, c := range e.running {
				c()
			}
			e.mu.Unlock()
			return
		case <-hb.C:
			e.heartbeat(ctx)
		case <-e.wake:
			e.claimAndStart(ctx)
		}
	}
}

// claimAndStart claims as many pending task instances as there are free
// slots and starts them.
func (e *Local) claimAndStart(ctx context.Context) {
	for {
		e.mu.Lock()
		free := e.cfg.Slots - len(e.running)
		n := min(free, len(e.pending))
		if n <= 0 {
			e.mu.Unlock()
			return
		}
		batch := append([]windsock.TaskInstanceKey(nil), e.pending[:n]...)
		e.pending = e.pending[n:]
		e.mu.Unlock()

		var jobID *int64
		if e.cfg.JobID != nil {
			id := e.cfg.JobID()
			jobID = &id
		}
		tis, err := e.cfg.Store.TaskInstanceClaim(ctx, &store.TaskInstanceClaimParams{
			Keys: batch, Limit: n, Hostname: e.cfg.Hostname, Unixname: unixName(), JobID: jobID, Now: e.cfg.Clock().UTC(),
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// Keep them and try again shortly: dropping them would leave
			// them queued until task_queued_timeout.
			e.cfg.Logger.Error("claim task instances failed; retrying", "error", err)
			e.mu.Lock()
			e.pending = append(batch, e.pending...)
			e.mu.Unlock()
			time.AfterFunc(claimRetryDelay, func() {
				select {
				case e.wake <- struct{}{}:
				default:
				}
			})
			return
		}
		for _, ti := range tis {
			e.start(ctx, ti)
		}
	}
}

func (e *Local) start(ctx context.Context, ti *windsock.TaskInstance) {
	tryCtx, cancel := context.WithCancel(ctx)
	e.mu.Lock()
	e.running[ti.TaskInstanceKey] = cancel
	e.mu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer func() {
			cancel()
			e.mu.Lock()
			delete(e.running, ti.TaskInstanceKey)
			e.mu.Unlock()
			select {
			case e.wake <- struct{}{}:
			default:
			}
		}()
		e.runTry(tryCtx, ti)
	}()
}

func (e *Local) runTry(ctx context.Context, ti *windsock.TaskInstance) {
	// The outcome is recorded even when the executor is stopping: a
	// cancelled try is a failed try, and retries decide what comes next.
	recordCtx := context.WithoutCancel(ctx)
	dag, err := e.cfg.DAG(recordCtx, ti.DagID)
	if err != nil {
		e.cfg.Logger.Error("cannot load the DAG of a claimed task instance", "dag_id", ti.DagID, "error", err)
		return
	}
	getRun := e.cfg.Store.DagRunGet
	if e.cfg.Run != nil {
		getRun = e.cfg.Run
	}
	run, err := getRun(recordCtx, ti.DagID, ti.RunID)
	if err != nil {
		e.cfg.Logger.Error("cannot load the run of a claimed task instance", "dag_id", ti.DagID, "run_id", ti.RunID, "error", err)
		return
	}
	pid := os.Getpid()
	ti.PID = &pid
	try := &taskrun.Try{TI: ti, DAG: dag, Run: run}
	out, err := e.cfg.Runner.Run(ctx, try)
	if err != nil {
		// The scheduler re-reads the run; a try left running is found by
		// zombie detection.
		e.cfg.Logger.Error("recording a try failed", "dag_id", ti.DagID, "task_id", ti.TaskID, "run_id", ti.RunID, "error", err)
		out = &taskrun.Outcome{Err: err}
	}
	if e.cfg.OnDone != nil {
		e.cfg.OnDone(try, out)
	}
}

func (e *Local) heartbeat(ctx context.Context) {
	e.mu.Lock()
	keys := make([]windsock.TaskInstanceKey, 0, len(e.running))
	for k := range e.running {
		keys = append(keys, k)
	}
	e.mu.Unlock()
	if len(keys) == 0 {
		return
	}
	if err := e.cfg.Store.TaskInstanceHeartbeat(ctx, keys, e.cfg.Clock().UTC()); err != nil && ctx.Err() == nil {
		e.cfg.Logger.Warn("task heartbeat failed", "error", err)
		return
	}
	// A try whose task instance is no longer running (marked success or
	// failed, cleared) is killed, as Airflow's task runner does when its
	// heartbeat finds the state changed.
	for _, k := range keys {
		ti, err := e.cfg.Store.TaskInstanceGet(ctx, k)
		if err != nil || ti.State == windsock.TaskStateRunning {
			continue
		}
		e.mu.Lock()
		cancel := e.running[k]
		e.mu.Unlock()
		if cancel != nil {
			e.cfg.Logger.Info("killing a try whose task instance changed state", "dag_id", k.DagID, "task_id", k.TaskID, "run_id", k.RunID, "state", ti.State)
			cancel()
		}
	}
}
