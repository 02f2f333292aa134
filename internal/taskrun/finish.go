package taskrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/taskmap"
	"github.com/windsock/windsock/internal/windsock"
)

// MaxXComBytes caps one XCom value. Airflow leaves the limit to the
// database; a clear error beats a metadata database full of blobs.
const MaxXComBytes = 1 << 20

// finish decides the try's new state from res and records it.
func (r *Runner) finish(ctx context.Context, try *Try, logf tryLog, res *result, rendered map[string]any) (*Outcome, error) {
	ti := *try.TI
	task := try.DAG.Task(ti.TaskID)
	now := r.now()
	ti.EndDate = &now
	if ti.StartDate != nil {
		d := now.Sub(*ti.StartDate).Seconds()
		ti.Duration = &d
	}
	// The pid stays: it tells, as in Airflow, which process ran the try.
	out := &Outcome{}

	var xcoms []*windsock.XCom
	var reschedule *windsock.TaskReschedule
	var fail *windsock.TaskFail
	switch {
	case res.err == nil && res.op != nil && res.op.RescheduleAt != nil:
		out.State = windsock.TaskStateUpForReschedule
		at := res.op.RescheduleAt.UTC()
		ti.NextRetryAt = &at
		start := now
		if try.TI.StartDate != nil {
			start = *try.TI.StartDate
		}
		reschedule = &windsock.TaskReschedule{
			DagID: ti.DagID, TaskID: ti.TaskID, RunID: ti.RunID, MapIndex: ti.MapIndex, TryNumber: ti.TryNumber,
			StartDate: start, EndDate: now, Duration: int(now.Sub(start).Seconds()), RescheduleDate: at,
		}
	case res.err == nil:
		out.State = windsock.TaskStateSuccess
		var err error
		if xcoms, err = r.xcoms(try, task, res.op, now); err != nil {
			res.err = err
			return r.finish(ctx, try, logf, res, rendered)
		}
		out.Skipped = skippedDownstream(try.DAG, ti.TaskID, res.op)
	case res.handBack:
		// Reset as Airflow resets the tries of a scheduler or worker that
		// is gone: scheduled again as the same try, so that no retry is
		// used up (the next scheduling does not count a try from
		// scheduled) and no callback fires.
		out.Err = ErrHandBack
		out.State = windsock.TaskStateScheduled
		ti.EndDate, ti.Duration = nil, nil
	case errors.Is(res.err, operator.ErrSkip):
		out.State = windsock.TaskStateSkipped
	default:
		out.Err = res.err
		fail = &windsock.TaskFail{DagID: ti.DagID, TaskID: ti.TaskID, RunID: ti.RunID, MapIndex: ti.MapIndex, StartDate: ti.StartDate, EndDate: &now}
		if ti.Duration != nil {
			d := int(*ti.Duration)
			fail.Duration = &d
		}
		if task != nil && !errors.Is(res.err, operator.ErrFail) && task.Retries > 0 && ti.TryNumber <= ti.MaxTries {
			out.State = windsock.TaskStateUpForRetry
			at := now.Add(decide.RetryDelay(task, ti.DagID, try.Run.LogicalDate, ti.TryNumber))
			ti.NextRetryAt = &at
		} else {
			out.State = windsock.TaskStateFailed
		}
	}
	ti.State = out.State
	if res.renderedMapIndex != "" {
		ti.RenderedMapIndex = truncateRunes(res.renderedMapIndex, maxRenderedMapIndex)
	}
	if out.State != windsock.TaskStateUpForRetry && out.State != windsock.TaskStateUpForReschedule {
		ti.NextRetryAt = nil
	}

	if logf != nil {
		r.logOutcome(logf, &ti, out)
	}
	f := &Finish{TI: ti, XComs: xcoms, Fail: fail, Reschedule: reschedule, Skipped: out.Skipped, Now: now, Announce: r.AnnounceTries}
	if out.State == windsock.TaskStateSuccess && task != nil {
		f.Outlets = task.Outlets
		if res.op != nil {
			f.OutletExtras = res.op.OutletExtras
		}
	}
	if out.Err != nil {
		f.Reason = out.Err.Error()
	}
	if rendered != nil {
		if b, err := json.Marshal(rendered); err == nil {
			f.Rendered = b
		}
	}
	record := func(q store.Queries) error {
		var err error
		out.Recorded, out.TI = false, nil
		if out.Recorded, err = RecordFinish(ctx, q, f); out.Recorded {
			out.TI = &f.TI
		}
		return err
	}
	var err error
	if r.Journal != nil {
		err = r.recordJournaled(ctx, f, out, record)
	} else {
		err = r.recordRetrying(ctx, record)
	}
	if err != nil {
		return out, fmt.Errorf("record outcome of %s.%s: %w", ti.DagID, ti.TaskID, err)
	}
	if !out.Recorded && out.Pending == nil && logf != nil {
		logf.Infof("The task instance was changed while it ran (cleared or marked); this try's outcome (%s) was not recorded.", out.State)
	}
	return out, nil
}

// Without a Journal, recording a try's outcome is retried while the
// database is unreachable (a restart, a failover): the try already ran,
// and giving up would leave it running until presumed dead and run again.
// A worker journals instead, and never gives up.
const (
	recordRetryMin = 100 * time.Millisecond
	recordRetryMax = 5 * time.Second
	recordGiveUp   = 2 * time.Minute
)

// recordRetrying runs fn in a transaction, again with backoff while the
// failure is the database's (not an application error such as a missing
// row), for up to recordGiveUp.
func (r *Runner) recordRetrying(ctx context.Context, fn func(q store.Queries) error) error {
	wait, deadline := recordRetryMin, r.now().Add(recordGiveUp)
	for {
		err := r.Store.InTx(ctx, fn)
		if err == nil || windsock.ErrorCode(err) != windsock.EINTERNAL || ctx.Err() != nil || r.now().After(deadline) {
			return err
		}
		r.logger().Warn("recording a try's outcome failed; retrying", "error", err, "in", wait)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, recordRetryMax)
	}
}

// xcoms returns the values a successful try pushes.
func (r *Runner) xcoms(try *Try, task *windsock.Task, res *operator.Result, now time.Time) ([]*windsock.XCom, error) {
	if res == nil {
		return nil, nil
	}
	var out []*windsock.XCom
	add := func(key string, v any) error {
		b, err := marshalXCom(key, v, MaxXComBytes)
		if err != nil {
			return err
		}
		out = append(out, &windsock.XCom{
			DagRunID: try.Run.ID, TaskID: try.TI.TaskID, MapIndex: try.TI.MapIndex, Key: key,
			DagID: try.TI.DagID, RunID: try.TI.RunID, Value: b, Timestamp: now,
		})
		return nil
	}
	if res.HasReturn && (task == nil || task.DoXComPush) {
		if err := add(windsock.XComReturnKey, res.ReturnValue); err != nil {
			return nil, err
		}
	}
	if taskmap.NeedsMappable(try.DAG, try.TI.TaskID) {
		// A mapped task downstream maps over the return value: check it
		// now, failing this try as Airflow's _record_task_map_for_downstreams.
		var ret []byte
		if len(out) > 0 && out[0].Key == windsock.XComReturnKey {
			ret = out[0].Value
		}
		if err := windsock.CheckMappable(ret, r.MaxMapLength); err != nil {
			return nil, err
		}
	}
	keys := make([]string, 0, len(res.XComs))
	for k := range res.XComs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := add(k, res.XComs[k]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// skippedDownstream returns the tasks a branch or short circuit skips:
// for a branch, the direct downstream tasks not followed; for a short
// circuit, every downstream task (or only the direct ones when downstream
// trigger rules are respected).
func skippedDownstream(d *windsock.DAG, taskID string, res *operator.Result) []string {
	if res == nil || (res.Branch == nil && !res.SkipDownstream && len(res.Skip) == 0) {
		return nil
	}
	direct := map[string][]string{}
	for _, t := range d.Tasks {
		for _, up := range t.Upstream {
			direct[up] = append(direct[up], t.TaskID)
		}
	}
	var out []string
	switch {
	case res.Branch != nil:
		follow := map[string]bool{}
		for _, id := range res.Branch {
			follow[id] = true
		}
		for _, id := range direct[taskID] {
			if !follow[id] {
				out = append(out, id)
			}
		}
	case res.IgnoreDownstreamTriggerRules:
		seen := map[string]bool{}
		var walk func(string)
		walk = func(id string) {
			for _, down := range direct[id] {
				if !seen[down] {
					seen[down] = true
					out = append(out, down)
					walk(down)
				}
			}
		}
		walk(taskID)
	case res.SkipDownstream:
		out = append(out, direct[taskID]...)
	}
	// Tasks the operator skipped itself (SkipMixin.skip) join them.
	for _, id := range res.Skip {
		if id != taskID && d.Task(id) != nil && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func (r *Runner) logOutcome(logf tryLog, ti *windsock.TaskInstance, out *Outcome) {
	if errors.Is(out.Err, ErrHandBack) {
		logf.Infof("Handing the task back: %v. It will run again as try %d, without using up a retry. dag_id=%s, task_id=%s, run_id=%s", out.Err, ti.TryNumber, ti.DagID, ti.TaskID, ti.RunID)
		return
	}
	if out.Err != nil {
		logf.Infof("Task failed with exception: %v", out.Err)
	}
	verb := map[windsock.TaskInstanceState]string{
		windsock.TaskStateSuccess: "SUCCESS", windsock.TaskStateSkipped: "SKIPPED", windsock.TaskStateFailed: "FAILED",
		windsock.TaskStateUpForRetry: "UP_FOR_RETRY", windsock.TaskStateUpForReschedule: "UP_FOR_RESCHEDULE",
	}[out.State]
	start, end := "", ""
	if ti.StartDate != nil {
		start = windsock.ISOFormat(*ti.StartDate)
	}
	if ti.EndDate != nil {
		end = windsock.ISOFormat(*ti.EndDate)
	}
	logf.Infof("Marking task as %s. dag_id=%s, task_id=%s, run_id=%s, start_date=%s, end_date=%s", verb, ti.DagID, ti.TaskID, ti.RunID, start, end)
}
