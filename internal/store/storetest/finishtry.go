package storetest

import (
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

func testTaskInstanceFinishTry(t *testing.T, open OpenFunc) {
	t.Parallel()
	ctx, st := setup(t, open)
	r := newRun("etl", 1)
	ti := createRun(t, ctx, st, r, "a")[0]
	ti.State, ti.TryNumber = windsock.TaskStateRunning, 1
	_, err := st.TaskInstanceUpdate(ctx, ti)
	mustNo(t, err)

	// Try 1 was presumed dead and try 2 now runs elsewhere: try 1's late
	// outcome must not land on it.
	ti.TryNumber = 2
	_, err = st.TaskInstanceUpdate(ctx, ti)
	mustNo(t, err)
	late := *ti
	late.TryNumber, late.State = 1, windsock.TaskStateSuccess
	updated, err := st.TaskInstanceFinishTry(ctx, &late)
	mustNo(t, err)
	if updated {
		t.Fatal("the outcome of try 1 was written over running try 2")
	}
	got, err := st.TaskInstanceGet(ctx, ti.TaskInstanceKey)
	mustNo(t, err)
	if got.State != windsock.TaskStateRunning || got.TryNumber != 2 {
		t.Fatalf("stored = %s try %d, want running try 2", got.State, got.TryNumber)
	}

	// While try 2 runs, its row gets a note and its worker's hostname; the
	// outcome, recorded from a copy read before, writes its own columns
	// and leaves those alone.
	done := *ti
	ti.Hostname, ti.Note = "worker-2", "looked at it"
	_, err = st.TaskInstanceUpdate(ctx, ti)
	mustNo(t, err)
	end := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	dur, pid := 12.5, 4321
	done.State, done.EndDate, done.Duration, done.MaxTries, done.NextRetryAt, done.PID =
		windsock.TaskStateUpForRetry, &end, &dur, 7, &end, &pid
	done.RenderedMapIndex = "file=a.csv"
	updated, err = st.TaskInstanceFinishTry(ctx, &done)
	mustNo(t, err)
	if !updated {
		t.Fatal("the outcome of the running try was not written")
	}
	got, err = st.TaskInstanceGet(ctx, ti.TaskInstanceKey)
	mustNo(t, err)
	if got.State != windsock.TaskStateUpForRetry || got.EndDate == nil || !got.EndDate.Equal(end) ||
		got.Duration == nil || *got.Duration != dur || got.MaxTries != 7 ||
		got.NextRetryAt == nil || !got.NextRetryAt.Equal(end) || got.PID == nil || *got.PID != pid {
		t.Fatalf("stored outcome = %+v, want up_for_retry ending %v after %vs, max_tries 7, retry at %v, pid %d", got, end, dur, end, pid)
	}
	if got.RenderedMapIndex != "file=a.csv" {
		t.Fatalf("stored rendered_map_index %q, want the try's", got.RenderedMapIndex)
	}
	if got.Hostname != "worker-2" || got.Note != "looked at it" || got.TryNumber != 2 {
		t.Fatalf("stored hostname %q, note %q, try %d: the outcome overwrote columns it does not own", got.Hostname, got.Note, got.TryNumber)
	}
	// The caller's copy now holds the stored note, so writing it back later
	// (as the scheduler does for a retry due at once) keeps it.
	if done.Note != "looked at it" || done.UpdatedAt.IsZero() {
		t.Fatalf("after recording, the caller holds note %q, updated_at %v, want the stored note", done.Note, done.UpdatedAt)
	}
	// Back to running, to see a finished try refuse a second outcome.
	ti.State, ti.RenderedMapIndex = windsock.TaskStateRunning, got.RenderedMapIndex
	_, err = st.TaskInstanceUpdate(ctx, ti)
	mustNo(t, err)
	done.State, done.RenderedMapIndex = windsock.TaskStateSuccess, ""
	updated, err = st.TaskInstanceFinishTry(ctx, &done)
	mustNo(t, err)
	if !updated {
		t.Fatal("the outcome of the running try was not written")
	}
	// A try that rendered no name keeps the one an earlier try stored.
	if got, err = st.TaskInstanceGet(ctx, ti.TaskInstanceKey); err != nil || got.RenderedMapIndex != "file=a.csv" {
		t.Fatalf("rendered_map_index after a try without one = %q, %v", got.RenderedMapIndex, err)
	}
	// Not running any more: a second outcome for it is refused too.
	done.State = windsock.TaskStateFailed
	if updated, err = st.TaskInstanceFinishTry(ctx, &done); err != nil || updated {
		t.Fatalf("second outcome: updated=%v err=%v, want refused", updated, err)
	}
	_, err = st.TaskInstanceFinishTry(ctx, &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "etl", TaskID: "nope", RunID: r.RunID, MapIndex: -1}})
	wantCode(t, err, windsock.ENOTFOUND)
}
