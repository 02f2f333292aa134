// Package scheduler decides what runs when: it creates DAG runs from
// timetables, starts queued runs within max_active_runs, evaluates task
// dependencies (with the pure code in decide), queues ready task instances
// within pools and limits, and hands them to an executor. It reacts to
// events (a task finished, a run was triggered) at once; a periodic pass is
// the safety net for retries, zombies and timeouts.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/user"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/metrics"
	"github.com/windsock/windsock/internal/osproc"
	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/startstop"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Executor runs queued task instances.
type Executor interface {
	// Submit hands over queued task instances to run.
	Submit(keys []windsock.TaskInstanceKey)
}

// TxSubmitter is an Executor that takes queued task instances within the
// transaction that queues them (a notification sent on commit).
type TxSubmitter interface {
	SubmitTx(ctx context.Context, q store.Queries, keys []windsock.TaskInstanceKey) error
}

// Config is what a Scheduler needs; zero values mean the documented
// defaults.
type Config struct {
	Store    store.Store
	Executor Executor
	// Parallelism is core.parallelism: task instances queued and running
	// at once. Default 32.
	Parallelism int
	// Interval is the safety-net pass period (scheduler_idle_sleep_time).
	// Default 1 s.
	Interval time.Duration
	// HeartbeatInterval is scheduler.scheduler_heartbeat_sec. Default 5 s.
	HeartbeatInterval time.Duration
	// ZombieThreshold is scheduler.scheduler_zombie_task_threshold: a
	// running task instance whose heartbeat is older is failed (retries
	// apply). Default 300 s.
	ZombieThreshold time.Duration
	// QueuedTimeout is scheduler.task_queued_timeout. Default 600 s.
	QueuedTimeout time.Duration
	// OnlyRuns, when set, limits the scheduler to these runs and creates
	// no scheduled runs (dags test, backfill).
	OnlyRuns []RunRef
	Logger   *slog.Logger
	Clock    func() time.Time
	Hostname string
	// OnRunFinished is called after a run reaches success or failed, off
	// the scheduling loop (so a slow listener delays only itself): calls
	// about one run come in order, calls about several may overlap, and
	// Stop waits for them.
	OnRunFinished func(run *windsock.DagRun)
	// OnRunEndedElsewhere, with OnlyRuns, is called once for each of those
	// runs that another process ended (a scheduler daemon that took one
	// of its tries and finished the run, or a user who deleted it): run is
	// as read, or carries only its ids when it was deleted. A one-shot
	// engine ends when its runs end, whoever ended them. Called as
	// OnRunFinished is.
	OnRunEndedElsewhere func(run *windsock.DagRun)
	// EndOrphan, when set, is called for each try found running on this
	// host without the process that ran it (a scheduler killed before
	// this one started), before the try is failed: it ends the processes
	// the try left, which outlive their scheduler.
	EndOrphan func(ti *windsock.TaskInstance)
	// OnTryLost, when set, is called (on a goroutine of its own, which
	// Stop waits for) after a try whose process is gone was recorded
	// up_for_retry or failed, with the task instance as recorded and why:
	// it runs the task's callbacks.
	OnTryLost func(ti *windsock.TaskInstance, reason string)
	// OnSLAMiss, when set, is called (off the loop, as OnRunFinished is;
	// Stop waits for it) with a DAG's newly recorded SLA misses, each once
	// across all schedulers: it runs the DAG's sla_miss_callback and
	// sends the SLA alert emails.
	OnSLAMiss func(dagID string, misses []*windsock.SlaMiss)
	// Shared is set when other processes share the store (PostgreSQL):
	// the scheduler listens for their notifications and shares the work
	// with the other live schedulers.
	Shared bool
	// HealthThreshold is scheduler.scheduler_health_check_threshold: a
	// scheduler whose heartbeat is older is dead and the others take over
	// its DAGs and runs. Default 30 s.
	HealthThreshold time.Duration
	// WorkerHealthThreshold is scheduler.worker_health_check_threshold: the
	// tries of an executor (worker or local) whose job heartbeat is older
	// are handed back or failed at once. Default 30 s.
	WorkerHealthThreshold time.Duration
	// RetryLostToCrash is scheduler.retry_tries_lost_to_crash: a try whose
	// executor died runs again as the same try, without using up a retry;
	// otherwise it fails as a zombie does (Airflow's behaviour).
	RetryLostToCrash bool
	// Metrics counts the heartbeats and the zombies (nil: none).
	Metrics *metrics.Process
	// MetricsAddr is where this process serves its metrics, recorded in
	// the scheduler's job row; "" when it serves none of its own.
	MetricsAddr string
}

// RunRef names a DAG run.
type RunRef struct{ DagID, RunID string }

// Scheduler is the scheduling service of one environment.
type Scheduler struct {
	startstop.Base
	cfg  Config
	dags *dagCache
	// lost counts OnTryLost calls under way; Stop waits for them (each
	// callback is bounded by callback.Timeout), so a one-shot engine
	// (dags test, backfill) does not exit in the middle of one.
	lost sync.WaitGroup
	// hooks runs OnRunFinished and OnRunEndedElsewhere off the loop.
	hooks *hookQueue

	// slaMissesPending: misses may wait for notification (see
	// notifySLAMisses); only the loop's goroutine touches it.
	slaMissesPending bool

	mu        sync.Mutex
	dirty     map[RunRef]bool
	dagsDirty bool
	wake      chan struct{}
	// finished are task instances whose tries ended since the last pass,
	// as recorded; reload are runs whose cached state must be re-read.
	finished map[RunRef][]*windsock.TaskInstance
	reload   map[RunRef]bool

	// runs caches the state of running runs, so that a finished task costs
	// a look at its downstream tasks, not a re-read of the whole run. Only
	// the loop goroutine touches it.
	runs      map[RunRef]*runState
	passCount int
	// running holds the rows of the runs in runs, for the executors'
	// goroutines (which must not touch runs).
	running sync.Map // RunRef -> *windsock.DagRun

	// own is the set of live schedulers this one shares the work with;
	// membersChanged and resyncAll ask the next pass to look again at
	// everything (guarded by mu).
	own            ownership
	membersChanged bool
	resyncAll      bool
	// startRuns is set when a queued run may be able to start: a run was
	// triggered or changed, or one finished and freed its max_active_runs
	// slot. Passes woken by finished tries skip the look otherwise.
	startRuns bool
	// datasetDAGs are consumer DAGs with newly queued dataset events;
	// datasetsAll asks for a look at every consumer with queued events
	// (guarded by mu).
	datasetDAGs map[string]bool
	datasetsAll bool

	// contact is this scheduler's access to the database, as its
	// heartbeats tell: zombie detection pauses while it is lost and gives
	// the workers a threshold to report once it is back. Loop goroutine
	// only.
	contact decide.Contact
	// startedAt is when Start ran: contact.Since until the first outage.
	startedAt time.Time

	jobID int64
	only  map[RunRef]bool
	// ended are the runs of only that ended and were reported (loop
	// goroutine only).
	ended map[RunRef]bool
}

// New returns a scheduler for cfg.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Store == nil || cfg.Executor == nil {
		return nil, errors.New("scheduler: Store and Executor are required")
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = 32
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 5 * time.Second
	}
	if cfg.ZombieThreshold <= 0 {
		cfg.ZombieThreshold = 300 * time.Second
	}
	if cfg.QueuedTimeout <= 0 {
		cfg.QueuedTimeout = 600 * time.Second
	}
	if cfg.HealthThreshold <= 0 {
		cfg.HealthThreshold = 30 * time.Second
	}
	if cfg.WorkerHealthThreshold <= 0 {
		cfg.WorkerHealthThreshold = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	s := &Scheduler{
		cfg: cfg, dags: newDAGCache(cfg.Store), dirty: map[RunRef]bool{}, dagsDirty: true, wake: make(chan struct{}, 1),
		finished: map[RunRef][]*windsock.TaskInstance{}, reload: map[RunRef]bool{}, runs: map[RunRef]*runState{},
		hooks: newHookQueue(), slaMissesPending: true,
	}
	if len(cfg.OnlyRuns) > 0 {
		s.only, s.ended = map[RunRef]bool{}, map[RunRef]bool{}
		for _, r := range cfg.OnlyRuns {
			s.only[r] = true
		}
	}
	return s, nil
}

func (s *Scheduler) now() time.Time { return s.cfg.Clock().UTC() }

// DAG returns the cached definition of a DAG (loading it if needed).
func (s *Scheduler) DAG(ctx context.Context, dagID string) (*windsock.DAG, error) {
	e, err := s.dags.get(ctx, dagID)
	if err != nil {
		return nil, err
	}
	return e.dag, nil
}

// RunChanged tells the scheduler that something in a run changed outside
// it (a run was triggered, cleared or marked); it re-reads and evaluates the
// run at once.
func (s *Scheduler) RunChanged(dagID, runID string) {
	ref := RunRef{dagID, runID}
	s.mu.Lock()
	s.dirty[ref] = true
	s.reload[ref] = true
	s.startRuns = true
	s.mu.Unlock()
	s.poke()
}

// TryDone tells the scheduler that a try ended and was recorded as ti
// (nil when it could not be recorded); downstream tasks are evaluated at
// once. skipped lists tasks the try skipped (branches).
func (s *Scheduler) TryDone(ti *windsock.TaskInstance, dagID, runID string, skipped []string) {
	ref := RunRef{dagID, runID}
	s.mu.Lock()
	s.dirty[ref] = true
	if ti == nil || len(skipped) > 0 {
		s.reload[ref] = true
	} else {
		s.finished[ref] = append(s.finished[ref], ti)
	}
	s.mu.Unlock()
	s.poke()
}

// Run returns a run: executors call it for every try, so running runs
// come from memory.
func (s *Scheduler) Run(ctx context.Context, dagID, runID string) (*windsock.DagRun, error) {
	if r, ok := s.running.Load(RunRef{dagID, runID}); ok {
		run := *r.(*windsock.DagRun)
		return &run, nil
	}
	return s.cfg.Store.DagRunGet(ctx, dagID, runID)
}

// DAGsChanged tells the scheduler that DAG definitions may have changed.
func (s *Scheduler) DAGsChanged() {
	s.mu.Lock()
	s.dagsDirty = true
	s.mu.Unlock()
	s.poke()
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start records a SchedulerJob, recovers what a previous process left
// running, and runs the loop until Stop or ctx ends (the startstop shape).
func (s *Scheduler) Start(ctx context.Context) error {
	ctx, started, stopped, err := s.StartInit(ctx)
	if err != nil {
		return fmt.Errorf("start scheduler: %w", err)
	}
	if err := s.startUp(ctx); err != nil {
		stopped()
		return err
	}
	go func() {
		defer stopped()
		s.loop(ctx)
		endCtx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		if err := s.cfg.Store.JobEnd(endCtx, s.jobID, windsock.JobSuccess, s.now()); err != nil {
			s.cfg.Logger.Warn("could not end scheduler job", "error", err)
		}
		// A one-shot engine (dags test, backfill) must not exit in the
		// middle of a callback.
		s.lost.Wait()
		s.hooks.wait()
	}()
	started()
	return nil
}

// startUp is Start's synchronous part: the job row, the live schedulers,
// the orphans, the notifications listened to.
func (s *Scheduler) startUp(ctx context.Context) error {
	now := s.now()
	jobType := windsock.JobTypeScheduler
	if s.only != nil {
		jobType = windsock.JobTypeBackfill // runs only its own runs: not a member of the schedulers
	}
	self := osproc.Self()
	job := &windsock.Job{State: windsock.JobRunning, JobType: jobType, StartDate: now, LatestHeartbeat: now, ExecutorClass: "LocalExecutor", Hostname: s.cfg.Hostname, Unixname: unixName(),
		PID: self.PID, ProcessStart: self.Start, MetricsAddr: s.cfg.MetricsAddr}
	if err := s.cfg.Store.JobCreate(ctx, job); err != nil {
		return fmt.Errorf("record scheduler job: %w", err)
	}
	s.cfg.Metrics.SchedulerHeartbeat() // the job row is its first beat
	s.jobID = job.ID
	s.contact = decide.Contact{Since: now}
	s.startedAt = now
	s.own.set(s.jobID, nil)
	if err := s.refreshMembers(ctx, now); err != nil {
		return fmt.Errorf("read live schedulers: %w", err)
	}
	if err := s.adoptOrphans(ctx); err != nil {
		return err
	}
	if s.cfg.Shared && s.only == nil {
		if err := s.listen(ctx); err != nil {
			return fmt.Errorf("listen for other processes: %w", err)
		}
	}
	if s.only == nil {
		if err := s.listenDatasets(ctx); err != nil {
			return fmt.Errorf("listen for dataset events: %w", err)
		}
	}
	return nil
}

func (s *Scheduler) loop(ctx context.Context) {
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	heartbeat := time.NewTicker(s.cfg.HeartbeatInterval)
	defer heartbeat.Stop()
	s.pass(ctx, true)
	for {
		periodic := false
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
			periodic = true
		case <-heartbeat.C:
			if err := s.cfg.Store.JobHeartbeat(ctx, s.jobID, s.now()); err != nil && ctx.Err() == nil {
				if !s.contact.Lost {
					s.contact.Lost = true
					s.cfg.Logger.Warn("scheduler heartbeat failed: the metadata database is unreachable; no try is presumed dead until it is back", "error", err)
				}
				continue
			}
			s.cfg.Metrics.SchedulerHeartbeat()
			if s.contact.Lost {
				s.contact = decide.Contact{Since: s.now()}
				s.cfg.Logger.Info("metadata database back: tries are presumed dead only once it has been back for scheduler_zombie_task_threshold, so that workers can record what ended meanwhile",
					"threshold", s.cfg.ZombieThreshold)
			}
			if err := s.refreshMembers(ctx, s.now()); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn("reading the live schedulers failed", "error", err)
			}
			s.mu.Lock()
			again := s.membersChanged
			s.mu.Unlock()
			if !again {
				continue
			}
		}
		s.pass(ctx, periodic)
	}
}

// pass runs one scheduling pass; errors are logged and retried on the
// next, except while the heartbeat finds the database unreachable: that
// was said once, and every pass fails until it is back.
func (s *Scheduler) pass(ctx context.Context, periodic bool) {
	if err := s.runPass(ctx, periodic); err != nil && ctx.Err() == nil && !s.contact.Lost {
		s.cfg.Logger.Error("scheduling pass failed; retrying on the next", "error", err)
	}
}

// Pass runs one scheduling pass (the periodic duties when periodic is set,
// then every run that changed, then queueing) and returns once the
// listeners it called have returned: a caller driving the passes itself
// (a test) sees their effects. The loop does not wait for them.
func (s *Scheduler) Pass(ctx context.Context, periodic bool) error {
	err := s.runPass(ctx, periodic)
	s.hooks.wait()
	return err
}

func (s *Scheduler) runPass(ctx context.Context, periodic bool) error {
	s.mu.Lock()
	dirty := s.dirty
	s.dirty = map[RunRef]bool{}
	dagsDirty := s.dagsDirty
	s.dagsDirty = false
	finished, reload := s.finished, s.reload
	s.finished, s.reload = map[RunRef][]*windsock.TaskInstance{}, map[RunRef]bool{}
	membersChanged, resyncAll, startRuns := s.membersChanged, s.resyncAll, s.startRuns
	s.membersChanged, s.resyncAll, s.startRuns = false, false, false
	datasetDAGs, datasetsAll := s.datasetDAGs, s.datasetsAll
	s.datasetDAGs, s.datasetsAll = nil, false
	s.mu.Unlock()
	if membersChanged {
		// A scheduler came or went: look for what this one now owns.
		periodic = true
	}
	if periodic {
		s.passCount++
		if s.passCount%safetyReloadEvery == 0 {
			// The safety net: re-read every running run, in case something
			// outside this process changed it unannounced.
			resyncAll = true
			dagsDirty = dagsDirty || s.cfg.Shared
		}
	}
	if resyncAll {
		for ref := range s.runs {
			reload[ref] = true
			dirty[ref] = true
		}
	}

	now := s.now()
	var errs []error
	if dagsDirty {
		changed, err := s.dags.refresh(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		if s.only == nil {
			for _, id := range changed {
				if err := s.updateNextDagrun(ctx, id, now); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if periodic {
		if s.only == nil {
			if err := s.createDueRuns(ctx, now); err != nil {
				errs = append(errs, err)
			}
		}
		if err := s.periodicDuties(ctx, now, dirty, reload); err != nil {
			errs = append(errs, err)
		}
		if err := s.findRunsEndedElsewhere(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.only == nil && (len(datasetDAGs) > 0 || datasetsAll || periodic) {
		if datasetDAGs == nil {
			datasetDAGs = map[string]bool{}
		}
		created, err := s.createDatasetRuns(ctx, now, datasetDAGs, datasetsAll || periodic)
		if err != nil {
			errs = append(errs, err)
		}
		for _, ref := range created {
			// Evaluated as a triggered run is (RunChanged) once started.
			dirty[ref], reload[ref], startRuns = true, true, true
		}
	}
	if membersChanged {
		if err := s.adoptQueued(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if periodic || startRuns || dagsDirty {
		if err := s.startQueuedRuns(ctx, now, dirty); err != nil {
			errs = append(errs, err)
		}
	}
	for ref := range dirty {
		if !s.ownsRun(ref) {
			s.forget(ref)
			continue
		}
		if err := s.evaluateRun(ctx, ref, finished[ref], reload[ref], now); err != nil {
			s.forget(ref)
			errs = append(errs, fmt.Errorf("evaluate run %s/%s: %w", ref.DagID, ref.RunID, err))
		}
	}
	if err := s.queueScheduled(ctx, now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// safetyReloadEvery is how many periodic passes go by between full
// re-reads of the running runs.
const safetyReloadEvery = 10

func unixName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// dagCache keeps parsed definitions and their graphs, reloaded when the
// stored dag_hash changes.
type dagCache struct {
	store store.Store
	mu    sync.Mutex
	byID  map[string]*dagEntry
	known map[string]string // dag_id -> dag_hash seen at the last refresh
}

type dagEntry struct {
	dag   *windsock.DAG
	graph *decide.Graph
	hash  string
	tt    schedule.Timetable
}

func newDAGCache(st store.Store) *dagCache {
	return &dagCache{store: st, byID: map[string]*dagEntry{}, known: map[string]string{}}
}

// refresh drops the definitions whose stored hash changed and returns the
// ids of the DAGs that are new or changed since the last refresh.
func (c *dagCache) refresh(ctx context.Context) ([]string, error) {
	hashes, err := c.store.SerializedDAGHashes(ctx)
	if err != nil {
		return nil, fmt.Errorf("read dag hashes: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var changed []string
	for id, h := range hashes {
		if c.known[id] != h {
			changed = append(changed, id)
			delete(c.byID, id)
		}
	}
	for id := range c.known {
		if _, ok := hashes[id]; !ok {
			delete(c.byID, id)
		}
	}
	c.known = hashes
	return changed, nil
}

func (c *dagCache) get(ctx context.Context, dagID string) (*dagEntry, error) {
	c.mu.Lock()
	e, ok := c.byID[dagID]
	c.mu.Unlock()
	if ok {
		return e, nil
	}
	sd, err := c.store.SerializedDAGGet(ctx, dagID)
	if err != nil {
		return nil, err
	}
	var d windsock.DAG
	if err := windsock.DecodeJSON(sd.Data, &d); err != nil {
		return nil, fmt.Errorf("decode dag %s: %w", dagID, err)
	}
	tt, err := timetable(&d)
	if err != nil {
		return nil, err
	}
	e = &dagEntry{dag: &d, graph: decide.NewGraph(&d), hash: sd.DagHash, tt: tt}
	c.mu.Lock()
	c.byID[dagID] = e
	c.mu.Unlock()
	return e, nil
}
