package scheduler

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Several schedulers share the work through the database, with no leader:
// each DAG (creating and starting its runs) and each running run
// (evaluating its tasks) is owned by one live scheduler, chosen by
// rendezvous hashing over the scheduler jobs heartbeating within
// scheduler_health_check_threshold. When a scheduler dies its heartbeat goes
// stale and the others take over what it owned on their next pass. Owning
// is only about sharing the work: every write is guarded (a task instance
// changes only from the state it was read in; runs are created under a
// lock after re-reading the DAG row), so two schedulers that briefly both
// think they own a run cannot double-create or double-queue anything.
// Queueing, which must see every scheduler's pools and limits at once, is
// a critical section under one database lock, as in Airflow 2.

// ownership is the set of live schedulers.
type ownership struct {
	mu   sync.RWMutex
	self int64
	ids  []int64 // sorted, self included
}

// set replaces the live set and reports whether it changed.
func (o *ownership) set(self int64, ids []int64) bool {
	if !slices.Contains(ids, self) {
		ids = append(ids, self) // this scheduler is alive, whatever its last heartbeat says
	}
	slices.Sort(ids)
	o.mu.Lock()
	defer o.mu.Unlock()
	changed := o.self != self || !slices.Equal(o.ids, ids)
	o.self, o.ids = self, ids
	return changed
}

// owns reports whether this scheduler owns key.
func (o *ownership) owns(key string) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if len(o.ids) <= 1 {
		return true
	}
	var best int64
	var bestScore uint64
	for _, id := range o.ids {
		h := fnv.New64a()
		h.Write([]byte(key))
		h.Write([]byte{0})
		h.Write([]byte(strconv.FormatInt(id, 10)))
		if score := h.Sum64(); best == 0 || score > bestScore {
			best, bestScore = id, score
		}
	}
	return best == o.self
}

func (o *ownership) live() []int64 {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return slices.Clone(o.ids)
}

// ownsDAG reports whether this scheduler creates and starts a DAG's runs.
func (s *Scheduler) ownsDAG(dagID string) bool {
	return s.only != nil || s.own.owns(dagID)
}

// ownsRun reports whether this scheduler evaluates a run.
func (s *Scheduler) ownsRun(ref RunRef) bool {
	if s.only != nil {
		return s.only[ref]
	}
	return s.own.owns(ref.DagID + "\x00" + ref.RunID)
}

// refreshMembers re-reads the live schedulers; when the set changed, the
// runs this scheduler no longer owns are dropped and the next pass looks
// for what it now owns.
func (s *Scheduler) refreshMembers(ctx context.Context, now time.Time) error {
	if s.only != nil {
		return nil
	}
	jobs, err := s.cfg.Store.JobListAlive(ctx, windsock.JobTypeScheduler, now.Add(-s.cfg.HealthThreshold))
	if err != nil {
		return err
	}
	ids := make([]int64, 0, len(jobs))
	for _, j := range jobs {
		// A scheduler of this host whose process is gone (crashed, and
		// perhaps restarted as this one) owns nothing, whatever its last
		// heartbeat says.
		if s.processGone(j) {
			continue
		}
		ids = append(ids, j.ID)
	}
	if !s.own.set(s.jobID, ids) {
		return nil
	}
	s.cfg.Logger.Info("schedulers changed; sharing the work again", "live", s.own.live(), "self", s.jobID)
	for ref := range s.runs {
		if !s.ownsRun(ref) {
			s.forget(ref)
		}
	}
	s.mu.Lock()
	s.membersChanged = true
	s.mu.Unlock()
	return nil
}

// listen wakes the scheduler on what other processes sharing the store
// report: tries ended by workers, runs changed by web servers, DAGs parsed
// by a DAG processor.
func (s *Scheduler) listen(ctx context.Context) error {
	tries, err := s.cfg.Store.Listen(ctx, store.ChannelTryDone)
	if err != nil {
		return err
	}
	runs, err := s.cfg.Store.Listen(ctx, store.ChannelRunChanged)
	if err != nil {
		return err
	}
	dags, err := s.cfg.Store.Listen(ctx, store.ChannelDAGsChanged)
	if err != nil {
		return err
	}
	go func() {
		for p := range tries {
			s.remoteTryDone(ctx, p)
		}
	}()
	go func() {
		for p := range runs {
			if p == "" {
				s.resync()
				continue
			}
			var ref RunRef
			if err := json.Unmarshal([]byte(p), &ref); err == nil && s.ownsRun(ref) {
				s.RunChanged(ref.DagID, ref.RunID)
			}
		}
	}()
	go func() {
		for range dags {
			s.DAGsChanged()
		}
	}()
	return nil
}

// remoteTryDone handles a try-done notification: the owner of the run
// reads the recorded task instance and evaluates what it affects.
func (s *Scheduler) remoteTryDone(ctx context.Context, payload string) {
	if payload == "" {
		s.resync()
		return
	}
	d, err := store.DecodeTryDone(payload)
	if err != nil {
		s.cfg.Logger.Warn("ignoring a malformed notification", "error", err)
		return
	}
	ref := RunRef{d.Key.DagID, d.Key.RunID}
	if !s.ownsRun(ref) {
		return
	}
	var ti *windsock.TaskInstance
	if !d.Reload {
		if ti, err = s.cfg.Store.TaskInstanceGet(ctx, d.Key); err != nil {
			ti = nil // re-read the run instead
		}
	}
	s.mu.Lock()
	s.dirty[ref] = true
	if ti == nil {
		s.reload[ref] = true
	} else {
		s.finished[ref] = append(s.finished[ref], ti)
	}
	s.mu.Unlock()
	s.poke()
}

// resync re-reads every cached run: notifications may have been missed.
func (s *Scheduler) resync() {
	s.mu.Lock()
	s.resyncAll = true
	s.mu.Unlock()
	s.poke()
}

// NotifyRunChanged tells the schedulers sharing st that a run changed (a
// web server in another process triggered, cleared or marked it).
func NotifyRunChanged(ctx context.Context, st store.Store, dagID, runID string) error {
	b, _ := json.Marshal(RunRef{dagID, runID})
	return st.Notify(ctx, store.ChannelRunChanged, string(b))
}
