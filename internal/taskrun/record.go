package taskrun

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Finish is everything the transaction recording a try's outcome writes:
// what a worker keeps in its journal (see Journal) until the database has
// it, so that a try that ended while the database was away is recorded
// when it comes back rather than run again.
type Finish struct {
	// TI is the task instance as the try ends it: state, end date,
	// duration, max_tries, pid, next_retry_at, and the try number that
	// guards the write.
	TI windsock.TaskInstance
	// Reason is why the try failed, for failed and up_for_retry.
	Reason string `json:",omitempty"`
	// Rendered is the try's rendered templated fields (secrets masked).
	Rendered   json.RawMessage          `json:",omitempty"`
	XComs      []*windsock.XCom         `json:",omitempty"`
	Fail       *windsock.TaskFail       `json:",omitempty"`
	Reschedule *windsock.TaskReschedule `json:",omitempty"`
	// Skipped are downstream tasks a branch or short circuit skips, as of
	// Now.
	Skipped []string `json:",omitempty"`
	// Outlets are the URIs of the datasets a successful try updated: each
	// gets a dataset event, queued for its consumers.
	Outlets []string `json:",omitempty"`
	// OutletExtras are the extras of those events, by URI.
	OutletExtras map[string]map[string]any `json:",omitempty"`
	Now          time.Time
	// Announce makes the transaction notify store.ChannelTryDone.
	Announce bool `json:",omitempty"`
}

// Outcome returns the Outcome f records (Recorded unset).
func (f *Finish) Outcome() *Outcome {
	out := &Outcome{State: f.TI.State, Skipped: f.Skipped}
	if f.Reason != "" {
		out.Err = errors.New(f.Reason)
	}
	return out
}

// RecordFinish writes f in the transaction q. It is idempotent: it writes
// only while the stored task instance is still running f's try (the guard
// of store.Queries.TaskInstanceFinishTry), so an outcome recorded late
// (after a database outage, or replayed from a journal after a restart)
// never lands on a later try nor undoes a user's clear or mark. A try
// cleared while it ran (restarting) is reset to be scheduled afresh, again
// only while the row is still that try. recorded reports whether f's
// outcome was written.
func RecordFinish(ctx context.Context, q store.Queries, f *Finish) (recorded bool, err error) {
	ti := f.TI
	updated, err := q.TaskInstanceFinishTry(ctx, &ti)
	if err != nil {
		return false, err
	}
	if !updated {
		return settled(ctx, q, &f.TI)
	}
	if len(f.Rendered) > 0 {
		if err := q.RenderedFieldsSet(ctx, ti.TaskInstanceKey, f.Rendered); err != nil {
			return false, err
		}
	}
	if ti.State == windsock.TaskStateSuccess {
		// Values of earlier tries were cleared when this one started.
		for _, x := range f.XComs {
			if err := q.XComSet(ctx, x); err != nil {
				return false, err
			}
		}
	}
	if ti.State == windsock.TaskStateSuccess {
		if err := recordOutlets(ctx, q, &ti, f.Outlets, f.OutletExtras, f.Now); err != nil {
			return false, err
		}
	}
	if f.Fail != nil {
		if err := q.TaskFailInsert(ctx, f.Fail); err != nil {
			return false, err
		}
	}
	if f.Reschedule != nil {
		if err := q.TaskRescheduleInsert(ctx, f.Reschedule); err != nil {
			return false, err
		}
	}
	if err := skip(ctx, q, ti.DagID, ti.RunID, f.Skipped, f.Now); err != nil {
		return false, err
	}
	if f.Announce {
		d := store.TryDone{Key: ti.TaskInstanceKey, Reload: len(f.Skipped) > 0}
		if err := q.Notify(ctx, store.ChannelTryDone, store.EncodeTryDone(d)); err != nil {
			return false, err
		}
	}
	f.TI.Note, f.TI.UpdatedAt = ti.Note, ti.UpdatedAt
	return true, nil
}

// settled handles an outcome the guard refused. When the stored row
// already holds it (an earlier attempt committed, but its answer was lost
// with the connection), it was recorded. When the task instance was
// cleared while the try ran (Airflow's restarting), it becomes a fresh
// start now that the try is over; the stored row is the one changed, since
// the clear set its max_tries. Anything else is newer than this try and
// stays.
func settled(ctx context.Context, q store.Queries, try *windsock.TaskInstance) (recorded bool, err error) {
	ti, err := q.TaskInstanceGet(ctx, try.TaskInstanceKey)
	if err != nil || ti.TryNumber != try.TryNumber {
		return false, err
	}
	switch {
	case ti.State == try.State && sameInstant(ti.EndDate, try.EndDate):
		try.Note, try.UpdatedAt = ti.Note, ti.UpdatedAt
		return true, nil
	case ti.State == windsock.TaskStateRestarting:
		ti.State, ti.NextRetryAt, ti.PID = windsock.TaskStateNone, nil, nil
		_, err = q.TaskInstanceUpdate(ctx, ti, windsock.TaskStateRestarting)
		return false, err
	}
	return false, nil
}

// sameInstant compares two stored times to the database's precision.
func sameInstant(a, b *time.Time) bool {
	return a != nil && b != nil && a.Sub(*b).Abs() < time.Millisecond
}

// skip marks the given tasks of the run skipped, if they have not started.
func skip(ctx context.Context, q store.Queries, dagID, runID string, taskIDs []string, now time.Time) error {
	for _, id := range taskIDs {
		ti, err := q.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: dagID, TaskID: id, RunID: runID, MapIndex: -1})
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			continue
		}
		if err != nil {
			return err
		}
		ti.State = windsock.TaskStateSkipped
		ti.StartDate, ti.EndDate = &now, &now
		zero := 0.0
		ti.Duration = &zero
		if _, err := q.TaskInstanceUpdate(ctx, ti, windsock.TaskStateNone, windsock.TaskStateScheduled); err != nil {
			return err
		}
	}
	return nil
}
