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

// testTaskInstanceSchedule: scheduling moves only instances still in the
// given state, starts a new try except after a reschedule, clears the
// retry time, and leaves every other column alone.
func testTaskInstanceSchedule(t *testing.T, open OpenFunc) {
	t.Parallel()
	ctx, st := setup(t, open)
	r := newRun("etl", 1)
	tis := createRun(t, ctx, st, r, "fresh", "retry", "resched", "taken")
	later := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	set := func(ti *windsock.TaskInstance, state windsock.TaskInstanceState, try int) {
		ti.State, ti.TryNumber, ti.Hostname, ti.Note, ti.NextRetryAt = state, try, "keep-me", "a note", &later
		_, err := st.TaskInstanceUpdate(ctx, ti)
		mustNo(t, err)
	}
	set(tis[1], windsock.TaskStateUpForRetry, 1)
	set(tis[2], windsock.TaskStateUpForReschedule, 1)
	set(tis[3], windsock.TaskStateRunning, 1)
	tis[0].Hostname, tis[0].Note = "keep-me", "a note"
	_, err := st.TaskInstanceUpdate(ctx, tis[0])
	mustNo(t, err)

	for _, c := range []struct {
		from windsock.TaskInstanceState
		keys []*windsock.TaskInstance
		want []*windsock.TaskInstance
	}{
		{windsock.TaskStateNone, []*windsock.TaskInstance{tis[3], tis[0]}, []*windsock.TaskInstance{tis[0]}},
		{windsock.TaskStateUpForRetry, []*windsock.TaskInstance{tis[1], tis[2]}, []*windsock.TaskInstance{tis[1]}},
		{windsock.TaskStateUpForReschedule, []*windsock.TaskInstance{tis[2]}, []*windsock.TaskInstance{tis[2]}},
	} {
		var keys, want []windsock.TaskInstanceKey
		for _, ti := range c.keys {
			keys = append(keys, ti.TaskInstanceKey)
		}
		for _, ti := range c.want {
			want = append(want, ti.TaskInstanceKey)
		}
		moved, err := st.TaskInstanceSchedule(ctx, keys, c.from)
		mustNo(t, err)
		if !slices.Equal(moved, want) {
			t.Errorf("from %q: moved %v, want %v", c.from, moved, want)
		}
	}
	for _, c := range []struct {
		ti    *windsock.TaskInstance
		state windsock.TaskInstanceState
		try   int
	}{
		{tis[0], windsock.TaskStateScheduled, 1},
		{tis[1], windsock.TaskStateScheduled, 2},
		{tis[2], windsock.TaskStateScheduled, 1}, // a reschedule goes on with its try
		{tis[3], windsock.TaskStateRunning, 1},
	} {
		got, err := st.TaskInstanceGet(ctx, c.ti.TaskInstanceKey)
		mustNo(t, err)
		if got.State != c.state || got.TryNumber != c.try {
			t.Errorf("%s: %s try %d, want %s try %d", got.TaskID, got.State, got.TryNumber, c.state, c.try)
		}
		if c.state == windsock.TaskStateScheduled && got.NextRetryAt != nil {
			t.Errorf("%s: next_retry_at %v kept once scheduled", got.TaskID, got.NextRetryAt)
		}
		if got.Hostname != "keep-me" || got.Note != "a note" {
			t.Errorf("%s: hostname %q note %q: scheduling wrote columns it does not own", got.TaskID, got.Hostname, got.Note)
		}
	}
	// Consecutive map indexes of a mapped task go in one range; one taken
	// meanwhile is not moved, and the order given is kept.
	mapped := newTIs(r, "m", "m", "m", "m", "m")
	for i, ti := range mapped {
		ti.MapIndex = i
	}
	mustNo(t, st.TaskInstanceInsert(ctx, mapped))
	set(mapped[2], windsock.TaskStateRunning, 1)
	keys := []windsock.TaskInstanceKey{mapped[0].TaskInstanceKey, mapped[1].TaskInstanceKey, mapped[2].TaskInstanceKey,
		mapped[3].TaskInstanceKey, tis[3].TaskInstanceKey, mapped[4].TaskInstanceKey}
	moved, err := st.TaskInstanceSchedule(ctx, keys, windsock.TaskStateNone)
	mustNo(t, err)
	want := []windsock.TaskInstanceKey{mapped[0].TaskInstanceKey, mapped[1].TaskInstanceKey, mapped[3].TaskInstanceKey, mapped[4].TaskInstanceKey}
	if !slices.Equal(moved, want) {
		t.Errorf("mapped: moved %v, want %v", moved, want)
	}
	for _, ti := range mapped {
		got, err := st.TaskInstanceGet(ctx, ti.TaskInstanceKey)
		mustNo(t, err)
		if wantState := windsock.TaskStateScheduled; ti.MapIndex != 2 && (got.State != wantState || got.TryNumber != 1) {
			t.Errorf("m[%d]: %s try %d", ti.MapIndex, got.State, got.TryNumber)
		}
	}
}
