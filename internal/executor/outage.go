package executor

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/taskrun"
	"github.com/windsock/windsock/internal/windsock"
)

// contact tracks whether the metadata database answers this executor, so
// that an outage is logged when it starts and when it ends rather than at
// every failed claim, heartbeat or record (a worker retrying through an
// 11-minute outage once logged the same error 9,700 times a minute).
type contact struct {
	logger *slog.Logger
	clock  func() time.Time

	mu    sync.Mutex
	down  bool
	since time.Time
}

// failed notes a call the database did not answer; the first of an outage
// is logged, with how many outcomes wait in the journal.
func (c *contact) failed(what string, err error, journaled int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return
	}
	c.down, c.since = true, c.clock()
	c.logger.Error("metadata database unreachable: no claims until it is back; finished tries' outcomes are kept in the journal",
		"failed", what, "error", err, "journaled", journaled)
}

// ok notes a call the database answered; the first after an outage is
// logged.
func (c *contact) ok() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.down {
		return
	}
	c.down = false
	c.logger.Info("metadata database back", "unreachable_for", c.clock().Sub(c.since).Round(time.Millisecond))
}

// backoff is an exponential delay between attempts to reach the database,
// from backoffMin up to a cap.
type backoff struct {
	max  time.Duration
	next time.Duration
}

const backoffMin = 100 * time.Millisecond

// delay returns the pause before the next attempt and doubles the one
// after.
func (b *backoff) delay() time.Duration {
	d := max(b.next, backoffMin)
	b.next = min(2*d, b.max)
	return d
}

func (b *backoff) reset() { b.next = 0 }

// lateOutcome is a finished try whose outcome waits in the journal; try is
// nil for an entry a previous run of this worker left.
type lateOutcome struct {
	try    *taskrun.Try
	finish *taskrun.Finish
	replay bool
}

// keepLate hands an outcome the database did not take to the recorder.
func (e *Local) keepLate(l lateOutcome) {
	e.mu.Lock()
	e.late = append(e.late, l)
	e.mu.Unlock()
	// The recorder tries again at once, and reports the outage if the
	// database is still away.
	select {
	case e.lateWake <- struct{}{}:
	default:
	}
}

// replayJournal queues what a previous run of this worker left in the
// journal; claims wait until it is recorded, so that nothing this worker
// owes the database is overtaken by new work.
func (e *Local) replayJournal() {
	j := e.cfg.Runner.Journal
	if j == nil {
		return
	}
	entries, err := j.Entries()
	if err != nil {
		e.cfg.Logger.Error("some journal entries could not be read", "journal", j.Dir(), "error", err)
	}
	if len(entries) == 0 {
		return
	}
	e.cfg.Logger.Info("recording the outcomes a previous run of this worker journaled before claiming new work", "journal", j.Dir(), "outcomes", len(entries))
	e.mu.Lock()
	for _, f := range entries {
		e.late = append(e.late, lateOutcome{finish: f, replay: true})
	}
	e.replaying = true
	e.mu.Unlock()
}

// recordLate records the journaled outcomes until ctx ends, backing off
// while the database is away. What is left when ctx ends stays in the
// journal for the next start.
func (e *Local) recordLate(ctx context.Context) {
	b := backoff{max: e.retryMax()}
	recorded := 0
	for {
		e.mu.Lock()
		batch := append([]lateOutcome(nil), e.late...)
		e.mu.Unlock()
		if len(batch) == 0 {
			if recorded > 0 {
				e.cfg.Logger.Info("recorded the outcomes journaled while the metadata database was unreachable", "outcomes", recorded)
				recorded = 0
			}
			select {
			case <-ctx.Done():
				return
			case <-e.lateWake:
				continue
			}
		}
		done := 0
		for _, l := range batch {
			if ctx.Err() != nil {
				return
			}
			if !e.recordOne(ctx, l) {
				break
			}
			done++
		}
		recorded += done
		e.mu.Lock()
		e.late = e.late[done:]
		replayed := e.replaying && !hasReplay(e.late)
		if replayed {
			e.replaying = false
		}
		e.mu.Unlock()
		if replayed {
			e.poke() // claims may start
		}
		if done == len(batch) {
			b.reset()
			continue
		}
		t := time.NewTimer(b.delay())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// recordOne makes one attempt to record l; false when the database did
// not answer.
func (e *Local) recordOne(ctx context.Context, l lateOutcome) bool {
	try := l.try
	if try == nil {
		try = e.replayedTry(ctx, l.finish)
	}
	rctx, cancel := context.WithTimeout(ctx, e.recordTimeout())
	out, err := e.cfg.Runner.RecordLate(rctx, callbackTry(try), l.finish)
	cancel()
	if err != nil && windsock.ErrorCode(err) == windsock.EINTERNAL {
		if ctx.Err() != nil {
			return false // stopping: the entry stays for the next start
		}
		e.mu.Lock()
		n := len(e.late)
		e.mu.Unlock()
		e.contact.failed("record a journaled outcome", err, n)
		return false
	}
	e.contact.ok()
	ti := l.finish.TI
	if err != nil {
		e.cfg.Logger.Error("a journaled outcome cannot be recorded; dropped", "dag_id", ti.DagID, "task_id", ti.TaskID, "run_id", ti.RunID, "try_number", ti.TryNumber, "error", err)
		out = &taskrun.Outcome{Err: err}
	} else if !out.Recorded {
		e.cfg.Logger.Warn("a journaled outcome was not recorded: the task instance moved on meanwhile (presumed dead, cleared or marked)",
			"dag_id", ti.DagID, "task_id", ti.TaskID, "run_id", ti.RunID, "try_number", ti.TryNumber, "state", out.State)
	}
	if e.cfg.OnDone != nil {
		e.cfg.OnDone(try, out)
	}
	return true
}

// replayedTry rebuilds the try of an entry a previous run left, with its
// DAG and run when they can be read (for the task's callbacks).
func (e *Local) replayedTry(ctx context.Context, f *taskrun.Finish) *taskrun.Try {
	ti := f.TI
	try := &taskrun.Try{TI: &ti}
	if dag, err := e.cfg.DAG(ctx, ti.DagID); err == nil {
		try.DAG = dag
	}
	if run, err := e.cfg.Store.DagRunGet(ctx, ti.DagID, ti.RunID); err == nil {
		try.Run = run
	}
	return try
}

// callbackTry is try when the task's callbacks can run for it (its DAG and
// run are known), nil otherwise.
func callbackTry(try *taskrun.Try) *taskrun.Try {
	if try.DAG == nil || try.Run == nil {
		return nil
	}
	return try
}

func hasReplay(late []lateOutcome) bool {
	for _, l := range late {
		if l.replay {
			return true
		}
	}
	return false
}

// retryMax caps the pause between attempts to reach the database: a few
// seconds, and well under the zombie threshold, so that a worker records
// what it owes soon after the database is back, long before the
// schedulers' grace (a threshold from when they see it again) runs out.
func (e *Local) retryMax() time.Duration {
	d := 5 * time.Second
	if e.cfg.LostContactAfter > 0 {
		d = min(d, e.cfg.LostContactAfter/4)
	}
	return max(d, backoffMin)
}

// recordTimeout bounds one attempt to record a journaled outcome.
func (e *Local) recordTimeout() time.Duration {
	return max(e.storeTimeout(), 10*time.Second)
}
