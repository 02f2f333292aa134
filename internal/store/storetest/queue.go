package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// testTaskInstanceQueue: queueing moves only what is still scheduled,
// records when and by whom, reports what it moved in the order asked, and
// leaves every other column alone.
func testTaskInstanceQueue(t *testing.T, open OpenFunc) {
	t.Parallel()
	ctx, st := setup(t, open)
	r := newRun("etl", 1)
	tis := createRun(t, ctx, st, r, "a", "b", "c", "d")
	for i, ti := range tis {
		ti.State, ti.Hostname, ti.Note = windsock.TaskStateScheduled, "keep-me", "a note"
		if i == 2 {
			ti.State = windsock.TaskStateRunning // taken meanwhile: not queued
		}
		_, err := st.TaskInstanceUpdate(ctx, ti)
		mustNo(t, err)
	}
	gone := windsock.TaskInstanceKey{DagID: "etl", TaskID: "gone", RunID: r.RunID, MapIndex: -1}
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	ask := []windsock.TaskInstanceKey{tis[3].TaskInstanceKey, tis[2].TaskInstanceKey, gone, tis[0].TaskInstanceKey}
	moved, err := st.TaskInstanceQueue(ctx, ask, at, 42)
	mustNo(t, err)
	if want := []windsock.TaskInstanceKey{tis[3].TaskInstanceKey, tis[0].TaskInstanceKey}; !slices.Equal(moved, want) {
		t.Fatalf("moved %v, want %v", moved, want)
	}
	for i, want := range []windsock.TaskInstanceState{windsock.TaskStateQueued, windsock.TaskStateScheduled, windsock.TaskStateRunning, windsock.TaskStateQueued} {
		got, err := st.TaskInstanceGet(ctx, tis[i].TaskInstanceKey)
		mustNo(t, err)
		if got.State != want {
			t.Errorf("%s: state %s, want %s", got.TaskID, got.State, want)
		}
		if got.Hostname != "keep-me" || got.Note != "a note" {
			t.Errorf("%s: hostname %q note %q: queueing wrote columns it does not own", got.TaskID, got.Hostname, got.Note)
		}
		if want != windsock.TaskStateQueued {
			continue
		}
		if got.QueuedDttm == nil || !got.QueuedDttm.Equal(at) || got.QueuedByJobID == nil || *got.QueuedByJobID != 42 {
			t.Errorf("%s: queued_dttm %v by job %v, want %v by 42", got.TaskID, got.QueuedDttm, got.QueuedByJobID, at)
		}
	}
	// Queueing again moves nothing: they are no longer scheduled.
	moved, err = st.TaskInstanceQueue(ctx, ask, at, 43)
	mustNo(t, err)
	if len(moved) != 0 {
		t.Errorf("second queueing moved %v", moved)
	}
}
