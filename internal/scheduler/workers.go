package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/osproc"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Each executor (a worker, or a scheduler's local executor) records a
// WorkerJob row and heartbeats it; the tries it claims carry the job's
// id. A scheduler presumes an executor dead when its process is gone (on
// this host: pid and start time, so a crash is seen within a pass) or its
// heartbeat is older than worker_health_check_threshold (any host), and
// at once hands its tries back, or fails them with
// retry_tries_lost_to_crash off, rather than after the zombie threshold.
// A cut-off worker that is in fact alive stops its tries after half the
// threshold without a heartbeat (executor.Config.LostContactAfter), so the
// try run again elsewhere never runs beside the first.

// failDeadWorkers hands back (or fails) the running tries of dead
// executors and ends their job rows once none of their tries is left
// running. At start (a scheduler that may follow a crash of this host's
// previous one) it also ends the tries of this host that no executor job
// vouches for (claimed before executors had jobs) whose pid is gone.
func (s *Scheduler) failDeadWorkers(ctx context.Context, now time.Time, dirty, reload map[RunRef]bool, atStart bool) error {
	jobs, err := s.cfg.Store.JobList(ctx, &store.JobListParams{JobType: windsock.JobTypeWorker, State: windsock.JobRunning})
	if err != nil {
		return fmt.Errorf("list worker jobs: %w", err)
	}
	running := map[int64]bool{}
	dead := map[int64]string{}
	// here are the dead executors of this machine, whose tries' leftover
	// processes can be ended from here.
	here := map[int64]bool{}
	stale, staleOK := decide.StaleBefore(now, s.contact, s.cfg.WorkerHealthThreshold)
	// After an outage, a worker that crashed meanwhile and started again
	// records the outcomes it journaled before the try could be handed
	// back and run again: its process being gone is not enough until the
	// threshold has passed since the database came back.
	goneOK := !s.contact.Lost && (s.contact.Since.Equal(s.startedAt) || staleOK)
	for _, j := range jobs {
		running[j.ID] = true
		switch {
		case goneOK && s.processGone(j):
			dead[j.ID], here[j.ID] = fmt.Sprintf("the process that ran this try is gone (pid %d, %s on %s)", j.PID, j.ExecutorClass, j.Hostname), true
		case staleOK && j.LatestHeartbeat.Before(stale):
			dead[j.ID] = fmt.Sprintf("no heartbeat from the worker running this try (job %d on %s) for %s (scheduler.worker_health_check_threshold): it is presumed dead",
				j.ID, j.Hostname, s.cfg.WorkerHealthThreshold)
		}
	}
	if len(dead) == 0 && !atStart {
		return nil
	}
	tis, err := s.cfg.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{States: []windsock.TaskInstanceState{windsock.TaskStateRunning}})
	if err != nil {
		return err
	}
	left := map[int64]int{}
	for _, ti := range tis {
		var reason string
		switch {
		case ti.JobID != nil && dead[*ti.JobID] != "":
			reason = dead[*ti.JobID]
		case atStart && (ti.JobID == nil || !running[*ti.JobID]) && ti.Hostname == s.cfg.Hostname && ti.PID != nil && !processAlive(*ti.PID):
			reason = "the process that ran this try is gone (its scheduler stopped)"
			if ti.JobID != nil {
				here[*ti.JobID] = true
			} else {
				here[0] = true
			}
		default:
			continue
		}
		ref := RunRef{ti.DagID, ti.RunID}
		if !s.ownsRun(ref) {
			if ti.JobID != nil {
				left[*ti.JobID]++ // its owner hands it back
			}
			continue
		}
		if s.cfg.EndOrphan != nil && here[jobOf(ti)] {
			// Its processes may outlive the executor that started them:
			// gone before the try runs again.
			s.cfg.EndOrphan(ti)
		}
		if err := s.loseTry(ctx, ti, reason, now); err != nil {
			return err
		}
		dirty[ref], reload[ref] = true, true
	}
	for id := range dead {
		if left[id] > 0 {
			continue
		}
		if err := s.cfg.Store.JobEnd(ctx, id, windsock.JobFailed, now); err != nil {
			return fmt.Errorf("end the job of a dead worker: %w", err)
		}
	}
	return nil
}

// loseTry ends a try whose executor died: it runs again as the same try,
// without using up a retry (as a graceful shutdown hands it back), unless
// retry_tries_lost_to_crash is off, when it fails as a zombie does.
func (s *Scheduler) loseTry(ctx context.Context, ti *windsock.TaskInstance, reason string, now time.Time) error {
	if !s.cfg.RetryLostToCrash {
		return s.failTry(ctx, ti, reason, now)
	}
	s.cfg.Logger.Warn("handing back a try whose process is gone: it runs again as the same try, without using up a retry",
		"dag_id", ti.DagID, "task_id", ti.TaskID, "run_id", ti.RunID, "map_index", ti.MapIndex, "try_number", ti.TryNumber, "reason", reason)
	back := *ti
	back.State = windsock.TaskStateScheduled
	back.EndDate, back.Duration, back.NextRetryAt = nil, nil, nil
	_, err := s.cfg.Store.TaskInstanceUpdate(ctx, &back, windsock.TaskStateRunning)
	if err != nil {
		return fmt.Errorf("hand back a lost try: %w", err)
	}
	return nil
}

// processGone reports whether the process of an executor or scheduler job
// has ended on this machine (recorded in this boot and pid namespace: the
// host name a worker was given does not matter). A job recorded without a
// start time is judged by its pid only on a host of the same name.
func (s *Scheduler) processGone(j *windsock.Job) bool {
	if j.ProcessStart == "" && j.Hostname != s.cfg.Hostname {
		return false
	}
	return osproc.Identity{PID: j.PID, Start: j.ProcessStart}.Gone()
}

func jobOf(ti *windsock.TaskInstance) int64 {
	if ti.JobID == nil {
		return 0
	}
	return *ti.JobID
}
