package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// updateNextDagrun computes when the scheduler next creates a run of a DAG,
// from its last scheduled run, and stores it in the dag row.
func (s *Scheduler) updateNextDagrun(ctx context.Context, dagID string, now time.Time) error {
	e, err := s.dags.get(ctx, dagID)
	if err != nil {
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return nil
		}
		return err
	}
	last, err := s.cfg.Store.DagRunList(ctx, &store.DagRunListParams{
		DagID: dagID, RunTypes: []windsock.RunType{windsock.RunTypeScheduled}, OrderBy: "-execution_date", Limit: 1,
	})
	if err != nil {
		return fmt.Errorf("last scheduled run of %s: %w", dagID, err)
	}
	var lastIv *schedule.DataInterval
	if len(last) > 0 && last[0].DataIntervalStart != nil && last[0].DataIntervalEnd != nil {
		lastIv = &schedule.DataInterval{Start: *last[0].DataIntervalStart, End: *last[0].DataIntervalEnd}
	}
	return s.setNext(ctx, s.cfg.Store, e, lastIv, now)
}

func restriction(d *windsock.DAG) schedule.Restriction {
	return schedule.Restriction{Earliest: d.StartDate, Latest: d.EndDate, Catchup: d.Catchup}
}

// setNext stores the run that follows lastIv (none when the timetable has
// no more).
func (s *Scheduler) setNext(ctx context.Context, q store.Queries, e *dagEntry, lastIv *schedule.DataInterval, now time.Time) error {
	p := &store.DAGSetNextDagrunParams{DagID: e.dag.DagID}
	if info, ok := e.tt.NextRun(lastIv, restriction(e.dag), now); ok {
		start, end, after := info.DataInterval.Start, info.DataInterval.End, info.RunAfter
		p.NextDagrun, p.NextDagrunDataIntervalStart, p.NextDagrunDataIntervalEnd, p.NextDagrunCreateAfter = &start, &start, &end, &after
	}
	if err := q.DAGSetNextDagrun(ctx, p); err != nil && windsock.ErrorCode(err) != windsock.ENOTFOUND {
		return fmt.Errorf("set next run of %s: %w", e.dag.DagID, err)
	}
	return nil
}

// createDueRuns creates the scheduled runs whose time has come, as many per
// DAG as max_active_runs leaves room for (catchup fills the gap run by run).
func (s *Scheduler) createDueRuns(ctx context.Context, now time.Time) error {
	due, err := s.cfg.Store.DAGListDue(ctx, now, 0)
	if err != nil {
		return fmt.Errorf("list due dags: %w", err)
	}
	if len(due) == 0 {
		return nil
	}
	active, err := s.cfg.Store.DagRunCounts(ctx, []windsock.DagRunState{windsock.DagRunQueued, windsock.DagRunRunning})
	if err != nil {
		return err
	}
	for _, m := range due {
		if !s.ownsDAG(m.DagID) {
			continue
		}
		e, err := s.dags.get(ctx, m.DagID)
		if err != nil {
			s.cfg.Logger.Warn("cannot load due dag", "dag_id", m.DagID, "error", err)
			continue
		}
		for m.NextDagrunCreateAfter != nil && !m.NextDagrunCreateAfter.After(now) && active[m.DagID] < e.dag.MaxActiveRuns {
			var fresh *windsock.DAGModel
			err := s.cfg.Store.InTx(ctx, func(q store.Queries) error {
				// Another scheduler may have created this run meanwhile (it
				// owned the DAG until a moment ago): decide on the DAG row as
				// it is under the lock.
				if err := q.TxLock(ctx, "create_dag_run:"+m.DagID); err != nil {
					return err
				}
				var err error
				if fresh, err = q.DAGGet(ctx, m.DagID); err != nil {
					return err
				}
				if fresh.NextDagrunCreateAfter == nil || fresh.NextDagrunCreateAfter.After(now) || fresh.NextDagrun == nil {
					return nil
				}
				iv := schedule.DataInterval{Start: *fresh.NextDagrunDataIntervalStart, End: *fresh.NextDagrunDataIntervalEnd}
				exists, err := q.DagRunList(ctx, &store.DagRunListParams{DagID: m.DagID, LogicalDateGTE: fresh.NextDagrun, LogicalDateLTE: fresh.NextDagrun, Limit: 1})
				if err != nil {
					return err
				}
				if len(exists) == 0 { // else triggered or backfilled for that date already
					if _, err := CreateRun(ctx, q, e.dag, e.graph, NewRun{
						RunType: windsock.RunTypeScheduled, LogicalDate: *fresh.NextDagrun, Interval: &iv, DagHash: e.hash, Now: now,
					}); err != nil {
						return err
					}
				}
				if err := s.setNext(ctx, q, e, &iv, now); err != nil {
					return err
				}
				fresh, err = q.DAGGet(ctx, m.DagID)
				return err
			})
			if err != nil {
				return fmt.Errorf("create scheduled run of %s: %w", m.DagID, err)
			}
			if fresh == nil {
				break
			}
			active[m.DagID]++
			m = fresh
		}
	}
	return nil
}

// startQueuedRuns moves queued runs to running within max_active_runs and
// marks them for evaluation.
func (s *Scheduler) startQueuedRuns(ctx context.Context, now time.Time, dirty map[RunRef]bool) error {
	queued, err := s.cfg.Store.DagRunList(ctx, &store.DagRunListParams{States: []windsock.DagRunState{windsock.DagRunQueued}, OrderBy: "execution_date"})
	if err != nil || len(queued) == 0 {
		return err
	}
	running, err := s.cfg.Store.DagRunCounts(ctx, []windsock.DagRunState{windsock.DagRunRunning})
	if err != nil {
		return err
	}
	limits := map[string]int{}
	paused := s.pausedLookup(ctx, s.cfg.Store)
	var candidates []*windsock.DagRun
	for _, r := range queued {
		if s.only != nil && !s.only[RunRef{r.DagID, r.RunID}] {
			continue
		}
		if s.only == nil && (!s.ownsDAG(r.DagID) || paused(r.DagID)) {
			continue // runs of paused DAGs wait, as in Airflow
		}
		e, err := s.dags.get(ctx, r.DagID)
		if err != nil {
			s.cfg.Logger.Warn("queued run of a dag that cannot be loaded", "dag_id", r.DagID, "run_id", r.RunID, "error", err)
			continue
		}
		limits[r.DagID] = e.dag.MaxActiveRuns
		candidates = append(candidates, r)
	}
	for _, r := range decide.RunsToStart(candidates, running, limits) {
		r.State = windsock.DagRunRunning
		r.StartDate = &now
		if err := s.cfg.Store.DagRunUpdate(ctx, r); err != nil {
			return fmt.Errorf("start run %s/%s: %w", r.DagID, r.RunID, err)
		}
		dirty[RunRef{r.DagID, r.RunID}] = true
	}
	return nil
}

// pausedLookup returns a function telling whether a DAG is paused, reading
// each DAG's row at most once per call site.
func (s *Scheduler) pausedLookup(ctx context.Context, q store.Queries) func(dagID string) bool {
	seen := map[string]bool{}
	return func(dagID string) bool {
		if p, ok := seen[dagID]; ok {
			return p
		}
		m, err := q.DAGGet(ctx, dagID)
		p := err == nil && m.IsPaused
		seen[dagID] = p
		return p
	}
}
