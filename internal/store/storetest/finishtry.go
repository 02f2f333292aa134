package storetest

import (
	"testing"

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

	done := *ti
	done.State = windsock.TaskStateSuccess
	updated, err = st.TaskInstanceFinishTry(ctx, &done)
	mustNo(t, err)
	if !updated {
		t.Fatal("the outcome of the running try was not written")
	}
	// Not running any more: a second outcome for it is refused too.
	done.State = windsock.TaskStateFailed
	if updated, err = st.TaskInstanceFinishTry(ctx, &done); err != nil || updated {
		t.Fatalf("second outcome: updated=%v err=%v, want refused", updated, err)
	}
	_, err = st.TaskInstanceFinishTry(ctx, &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "etl", TaskID: "nope", RunID: r.RunID, MapIndex: -1}})
	wantCode(t, err, windsock.ENOTFOUND)
}
