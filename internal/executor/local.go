// Package executor runs queued task instances. Local runs them in this
// process's worker slots (each try in its own OS process, started by its
// operator), heartbeating them so a scheduler can tell a live try from a
// dead one.
package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/windsock/windsock/internal/metrics"
	"github.com/windsock/windsock/internal/operator/process"
	"github.com/windsock/windsock/internal/startstop"
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
	Hostname string
	// LogServer is host:port of the log server serving this executor's
	// task logs, recorded in its job row for the web servers; "" when
	// none serves them.
	LogServer string
	// Metrics counts the tries this executor runs (nil: none);
	// MetricsAddr is where this process serves them, recorded in its job
	// row ("" when it serves none of its own).
	Metrics     *metrics.Process
	MetricsAddr string
	Logger      *slog.Logger
	Clock       func() time.Time

	// ClaimQueued makes this a worker: it claims any queued task instance
	// (of Queues, when set) rather than only those submitted, when woken
	// by a notification on store.ChannelQueued or every PollInterval.
	ClaimQueued bool
	Queues      []string
	// PollInterval is how often a worker looks for queued task instances
	// without being woken. Default 1 s.
	PollInterval time.Duration
	// LostContactAfter, when set, kills the running tries once heartbeats
	// have failed for that long: a worker cut off from the database stops
	// its tries before the schedulers presume them dead and run them
	// elsewhere. Keep it under scheduler_zombie_task_threshold.
	LostContactAfter time.Duration
}

// ErrLostContact is the cause a worker stops its tries with when it has
// lost contact with the metadata database.
var ErrLostContact = errors.New("lost contact with the metadata database")

var errStateChanged = errors.New("the task instance changed state while the try ran")

// Local runs task instances in this process.
type Local struct {
	startstop.Base
	cfg Config

	mu       sync.Mutex
	pending  []windsock.TaskInstanceKey
	running  map[windsock.TaskInstanceKey]*runningTry
	draining bool
	// claiming counts claims in flight: Drain waits for them, so that a
	// try claimed as the worker stops is handed back, not lost.
	claiming int
	idle     chan struct{} // signalled when a try ends while draining
	wake     chan struct{}
	// lastContact is when a heartbeat last reached the store (dispatch
	// goroutine only).
	lastContact time.Time

	// contact logs the database's outages once each.
	contact *contact
	// late are finished tries whose outcomes wait in the journal for the
	// database (lateWake wakes their recorder); replaying holds claims
	// back while some are a previous run's.
	late      []lateOutcome
	lateWake  chan struct{}
	replaying bool
	// claimWait backs off claims while they fail; claimNotBefore is when
	// the next may be tried (dispatch goroutine only).
	claimWait      backoff
	claimNotBefore time.Time

	// jobID is this executor's WorkerJob row: its heartbeat vouches for
	// the tries it claims.
	jobID atomic.Int64

	wg sync.WaitGroup
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
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	e := &Local{
		cfg: cfg, running: map[windsock.TaskInstanceKey]*runningTry{}, wake: make(chan struct{}, 1), idle: make(chan struct{}, 1),
		lateWake: make(chan struct{}, 1), contact: &contact{logger: cfg.Logger, clock: cfg.Clock},
	}
	e.claimWait.max = e.retryMax()
	return e, nil
}

// runningTry is a try this executor runs: the try number and host it was
// claimed with (a row showing another is no longer this try's), and how
// to stop it.
type runningTry struct {
	tryNumber int
	cancel    context.CancelCauseFunc
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

// SetSlots changes how many tries run at once (at least 1). Lowering it
// stops nothing: running tries finish and fewer new ones start, which is
// how an environment run as one process scales its executor in without
// losing a try; raising it starts queued tries at once.
func (e *Local) SetSlots(n int) {
	n = max(n, 1)
	e.mu.Lock()
	e.cfg.Slots = n
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Start runs the dispatcher and the heartbeat until Stop or ctx ends (the
// startstop shape). Stop (and the end of ctx) stops claiming, cancels the
// running tries (killing their processes) and waits for their outcomes to
// be recorded.
func (e *Local) Start(ctx context.Context) error {
	ctx, started, stopped, err := e.StartInit(ctx)
	if err != nil {
		return fmt.Errorf("start executor: %w", err)
	}
	if err := e.createJob(ctx); err != nil {
		stopped()
		return err
	}
	if e.cfg.ClaimQueued {
		queued, err := e.cfg.Store.Listen(ctx, store.ChannelQueued)
		if err != nil {
			e.endJob()
			stopped()
			return err
		}
		go func() {
			for range queued {
				e.poke()
			}
		}()
	}
	e.replayJournal()
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		e.recordLate(ctx)
	}()
	go func() {
		defer stopped()
		e.dispatch(ctx)
		e.wg.Wait()
		<-recorded
		e.mu.Lock()
		left := len(e.late)
		e.mu.Unlock()
		if left > 0 {
			e.cfg.Logger.Warn("stopping with outcomes the metadata database has not taken: they stay in the journal and are recorded when this worker starts again",
				"outcomes", left, "journal", e.cfg.Runner.Journal.Dir())
		}
		e.endJob()
	}()
	started()
	return nil
}

// Load returns how many tries run here and how many may run at once.
func (e *Local) Load() (running, slots int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.running), e.cfg.Slots
}

// StopClaiming makes the executor claim nothing more: what was submitted
// and not claimed stays queued, for the next scheduler to adopt.
func (e *Local) StopClaiming() {
	e.mu.Lock()
	e.draining = true
	e.pending = nil
	e.mu.Unlock()
}

// Drain is a graceful shutdown (of a worker, or of a scheduler with its
// local executor): it stops claiming, lets the running tries finish for up
// to grace, or until hurry ends (a second SIGINT), then stops the rest,
// which are handed back to run again as the same try (taskrun.ErrHandBack),
// and stops the executor.
func (e *Local) Drain(hurry context.Context, grace time.Duration) {
	e.StopClaiming()
	// A claim in flight ends in running tries (handed back at once, see
	// start): wait for it before counting.
	for {
		e.mu.Lock()
		busy := e.claiming > 0
		e.mu.Unlock()
		if !busy {
			break
		}
		<-e.idle
	}
	e.mu.Lock()
	left := len(e.running)
	e.mu.Unlock()
	if left > 0 {
		e.cfg.Logger.Info("draining: waiting for running tries", "running", left, "grace_period", grace)
		timer := time.NewTimer(grace)
		defer timer.Stop()
	wait:
		for {
			select {
			case <-e.idle:
				e.mu.Lock()
				left = len(e.running)
				e.mu.Unlock()
				if left == 0 {
					break wait
				}
			case <-timer.C:
				e.cfg.Logger.Warn("grace period over: handing the running tries back", "running", left)
				e.cancelAll(taskrun.ErrHandBack)
				break wait
			case <-hurry.Done():
				e.cfg.Logger.Warn("told to stop at once: handing the running tries back", "running", left)
				e.cancelAll(taskrun.ErrHandBack)
				break wait
			}
		}
	}
	e.Stop()
}

func (e *Local) cancelAll(cause error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.running {
		r.cancel(cause)
	}
}

func (e *Local) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Local) dispatch(ctx context.Context) {
	hb := time.NewTicker(e.cfg.HeartbeatInterval)
	defer hb.Stop()
	var poll <-chan time.Time
	if e.cfg.ClaimQueued {
		t := time.NewTicker(e.cfg.PollInterval)
		defer t.Stop()
		poll = t.C
		e.poke()
	}
	e.lastContact = e.cfg.Clock()
	for {
		select {
		case <-ctx.Done():
			e.cancelAll(context.Canceled)
			return
		case <-hb.C:
			e.heartbeat(ctx)
		case <-poll:
			e.claimAndStart(ctx)
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
		if e.draining || e.replaying || e.cfg.Clock().Before(e.claimNotBefore) {
			e.mu.Unlock()
			return
		}
		free := e.cfg.Slots - len(e.running)
		n := min(free, len(e.pending))
		if e.cfg.ClaimQueued {
			n = free
		}
		if n <= 0 {
			e.mu.Unlock()
			return
		}
		var batch []windsock.TaskInstanceKey
		if !e.cfg.ClaimQueued {
			batch = append(batch, e.pending[:n]...)
			e.pending = e.pending[n:]
		}
		e.claiming++
		e.mu.Unlock()
		done := func() {
			e.mu.Lock()
			e.claiming--
			e.mu.Unlock()
			e.signalIdle()
		}

		jobID := e.jobID.Load()
		cctx, cancelClaim := context.WithTimeout(ctx, e.storeTimeout())
		tis, err := e.cfg.Store.TaskInstanceClaim(cctx, &store.TaskInstanceClaimParams{
			Keys: batch, Queues: e.cfg.Queues, Limit: n, Hostname: e.cfg.Hostname, Unixname: unixName(), JobID: &jobID,
			PID: os.Getpid(), Now: e.cfg.Clock().UTC(),
		})
		cancelClaim()
		if err != nil {
			done()
			if ctx.Err() != nil {
				return
			}
			// Keep them and try again shortly: dropping them would leave
			// them queued until task_queued_timeout.
			e.mu.Lock()
			e.pending = append(batch, e.pending...)
			journaled := len(e.late)
			e.mu.Unlock()
			e.contact.failed("claim task instances", err, journaled)
			wait := e.claimWait.delay()
			e.claimNotBefore = e.cfg.Clock().Add(wait)
			time.AfterFunc(wait, e.poke)
			return
		}
		e.contact.ok()
		e.claimWait.reset()
		for _, ti := range tis {
			e.start(ctx, ti)
		}
		done()
		if e.cfg.ClaimQueued && len(tis) < n {
			return // nothing more is queued for now
		}
	}
}

func (e *Local) start(ctx context.Context, ti *windsock.TaskInstance) {
	tryCtx, cancel := context.WithCancelCause(ctx)
	e.mu.Lock()
	e.running[ti.TaskInstanceKey] = &runningTry{tryNumber: ti.TryNumber, cancel: cancel}
	if e.draining {
		// Claimed as the worker stops: give it straight back.
		cancel(taskrun.ErrHandBack)
	}
	e.mu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer func() {
			cancel(nil)
			e.mu.Lock()
			delete(e.running, ti.TaskInstanceKey)
			draining := e.draining
			e.mu.Unlock()
			if draining {
				e.signalIdle()
			}
			e.poke()
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
		e.handBack(recordCtx, ti, fmt.Errorf("load its DAG: %w", err))
		return
	}
	getRun := e.cfg.Store.DagRunGet
	if e.cfg.Run != nil {
		getRun = e.cfg.Run
	}
	run, err := getRun(recordCtx, ti.DagID, ti.RunID)
	if err != nil {
		e.handBack(recordCtx, ti, fmt.Errorf("load its run: %w", err))
		return
	}
	try := &taskrun.Try{TI: ti, DAG: dag, Run: run}
	e.cfg.Metrics.TryStarted(ti.DagID, ti.TaskID)
	began := time.Now()
	out, err := e.cfg.Runner.Run(ctx, try)
	if err == nil {
		e.cfg.Metrics.TryFinished(ti.DagID, ti.TaskID, out.State, time.Since(began))
	}
	if err == nil && out.Pending != nil {
		// Journaled: the try is done; its outcome is recorded (and
		// OnDone called) once the database is back.
		e.keepLate(lateOutcome{try: try, finish: out.Pending})
		return
	}
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

// handBack returns a claimed task instance that could not be started (its
// DAG or run could not be read): up_for_retry at once, without using up
// a retry, rather than left running until presumed dead.
func (e *Local) handBack(ctx context.Context, ti *windsock.TaskInstance, why error) {
	e.cfg.Logger.Error("cannot start a claimed task instance; handing it back", "dag_id", ti.DagID, "task_id", ti.TaskID, "run_id", ti.RunID, "error", why)
	now := e.cfg.Clock().UTC()
	back := *ti
	back.State, back.EndDate, back.NextRetryAt = windsock.TaskStateUpForRetry, &now, &now
	back.MaxTries++
	if _, err := e.cfg.Store.TaskInstanceFinishTry(ctx, &back); err != nil {
		e.cfg.Logger.Error("handing back a task instance failed; it is failed over once presumed dead", "dag_id", ti.DagID, "task_id", ti.TaskID, "error", err)
	}
	if e.cfg.OnDone != nil {
		e.cfg.OnDone(&taskrun.Try{TI: ti}, &taskrun.Outcome{Err: why})
	}
}

func (e *Local) heartbeat(ctx context.Context) {
	e.mu.Lock()
	mine := make(map[windsock.TaskInstanceKey]int, len(e.running))
	for k, r := range e.running {
		mine[k] = r.tryNumber
	}
	e.mu.Unlock()
	now := e.cfg.Clock()
	jobErr := e.heartbeatJob(ctx, now)
	if len(mine) == 0 {
		e.lastContact = now // nothing runs that could run twice
		if jobErr == nil {
			e.contact.ok()
		}
		return
	}
	// A try whose task instance is no longer this running try (marked
	// success or failed, cleared, or presumed dead and retried elsewhere)
	// is killed, as Airflow's task runner does when its heartbeat finds
	// the state, host or pid changed; only the others are heartbeated.
	tries := make([]store.Try, 0, len(mine))
	for k, tryNumber := range mine {
		rctx, cancel := context.WithTimeout(ctx, e.storeTimeout())
		ti, err := e.cfg.Store.TaskInstanceGet(rctx, k)
		cancel()
		if err != nil || ti.State == windsock.TaskStateRunning && ti.TryNumber == tryNumber && ti.Hostname == e.cfg.Hostname {
			// Still this try (or unknown: the heartbeat below tells).
			tries = append(tries, store.Try{Key: k, TryNumber: tryNumber})
			continue
		}
		e.mu.Lock()
		r := e.running[k]
		e.mu.Unlock()
		if r != nil {
			e.cfg.Logger.Info("killing a try whose task instance changed", "dag_id", k.DagID, "task_id", k.TaskID, "run_id", k.RunID,
				"state", ti.State, "try_number", ti.TryNumber, "hostname", ti.Hostname)
			r.cancel(errStateChanged)
		}
	}
	if len(tries) == 0 {
		return
	}
	hctx, cancel := context.WithTimeout(ctx, e.storeTimeout())
	err := e.cfg.Store.TaskInstanceHeartbeat(hctx, tries, now.UTC())
	cancel()
	if err == nil {
		// The job's heartbeat vouches for the tries as much as theirs:
		// without it the schedulers presume this worker dead.
		err = jobErr
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		e.mu.Lock()
		journaled := len(e.late)
		e.mu.Unlock()
		e.contact.failed("heartbeat the running tries", err, journaled)
		if e.cfg.LostContactAfter > 0 && e.cfg.Clock().Sub(e.lastContact) > e.cfg.LostContactAfter {
			// The schedulers will soon presume these tries dead and run
			// them again elsewhere: stop them so that they do not run twice.
			e.cfg.Logger.Error("lost contact with the metadata database: stopping the running tries", "for", e.cfg.Clock().Sub(e.lastContact), "running", len(tries))
			e.cancelAll(process.Hurry(ErrLostContact, e.cfg.LostContactAfter/fenceGraceDivisor))
		}
		return
	}
	e.contact.ok()
	e.lastContact = now
}

// fenceGraceDivisor sets the grace of a fenced worker's tries between
// SIGTERM and SIGKILL to LostContactAfter/8 (about 2 s by default) instead
// of core.killed_task_cleanup_time (60 s): a task that ignores SIGTERM must
// be dead before the schedulers hand its try back, which they do once the
// worker's heartbeat is twice LostContactAfter old. The fence itself is
// noticed up to a heartbeat interval and a store timeout late, so the
// grace takes only a small share of what is left.
const fenceGraceDivisor = 8

// storeTimeout bounds a heartbeat's or a claim's call to the store, so
// that a database that stopped answering (packets dropped, not refused)
// is noticed as lost contact in time rather than after TCP gives up.
func (e *Local) storeTimeout() time.Duration {
	d := e.cfg.HeartbeatInterval
	if e.cfg.LostContactAfter > 0 {
		d = min(d, e.cfg.LostContactAfter/2)
	}
	return max(d, time.Second)
}

// signalIdle wakes a Drain waiting for claims or tries to end.
func (e *Local) signalIdle() {
	select {
	case e.idle <- struct{}{}:
	default:
	}
}
