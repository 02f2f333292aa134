package storetest

import (
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func testDAGSchedule(t *testing.T, open OpenFunc) {
	ctx, st := setup(t, open)
	now := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"due", "later", "paused", "never"} {
		if err := st.DAGUpsert(ctx, &store.DAGUpsertParams{DagID: id, Fileloc: "/d/" + id + ".yaml", MaxActiveTasks: 16, MaxActiveRuns: 16, IsPausedUponCreation: id == "paused", LastParsedTime: now}); err != nil {
			t.Fatal(err)
		}
	}
	set := func(id string, createAfter *time.Time) {
		t.Helper()
		var start, end *time.Time
		if createAfter != nil {
			s := createAfter.Add(-24 * time.Hour)
			start, end = &s, createAfter
		}
		if err := st.DAGSetNextDagrun(ctx, &store.DAGSetNextDagrunParams{
			DagID: id, NextDagrun: start, NextDagrunDataIntervalStart: start, NextDagrunDataIntervalEnd: end, NextDagrunCreateAfter: createAfter,
		}); err != nil {
			t.Fatal(err)
		}
	}
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	set("due", &past)
	set("later", &future)
	set("paused", &past)
	set("never", nil)

	due, err := st.DAGListDue(ctx, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].DagID != "due" {
		t.Fatalf("due = %v, want only the unpaused DAG whose time has come", dagIDs(due))
	}
	if got := due[0].NextDagrunCreateAfter; got == nil || !got.Equal(past) {
		t.Errorf("next_dagrun_create_after = %v, want %v", got, past)
	}
	if got := due[0].NextDagrunDataIntervalStart; got == nil || !got.Equal(past.Add(-24*time.Hour)) {
		t.Errorf("next_dagrun_data_interval_start = %v", got)
	}

	// Clearing the next run takes the DAG off the due list; a re-parse
	// (upsert) does not bring back what the scheduler cleared.
	set("due", nil)
	if err := st.DAGUpsert(ctx, &store.DAGUpsertParams{DagID: "due", Fileloc: "/d/due.yaml", MaxActiveTasks: 16, MaxActiveRuns: 16, LastParsedTime: now}); err != nil {
		t.Fatal(err)
	}
	if due, _ := st.DAGListDue(ctx, now.Add(48*time.Hour), 0); len(due) != 1 || due[0].DagID != "later" {
		t.Errorf("due later = %v, want [later]", dagIDs(due))
	}
	wantCode(t, st.DAGSetNextDagrun(ctx, &store.DAGSetNextDagrunParams{DagID: "missing"}), windsock.ENOTFOUND)
}
