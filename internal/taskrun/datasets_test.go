package taskrun

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// TestOutletEventsRecordedWithTheSuccess: a successful try with outlets
// records one dataset event per outlet, queued for the consumer, with the
// success; a success journaled during an outage records its events when
// replayed, once however often it is replayed.
func TestOutletEventsRecordedWithTheSuccess(t *testing.T) {
	t.Parallel()
	tr := setupOutlets(t)
	if out := tr.runTry(t, 1, "false"); out.State == windsock.TaskStateSuccess {
		t.Fatal("try 1 should fail")
	}
	if evs := tr.events(t); len(evs) != 0 {
		t.Fatalf("a failed try recorded %d events", len(evs))
	}
	tr.runTry(t, 2, "true")
	evs := tr.events(t)
	if len(evs) != 1 || evs[0].SourceTaskID != "work" || evs[0].SourceRunID != tr.run.RunID || evs[0].SourceMapIndex != -1 || evs[0].DatasetURI != "s3://x" {
		t.Fatalf("events after the success = %+v, want one of s3://x from etl.work (the unknown dataset skipped)", evs)
	}
	if q, err := tr.st.DatasetQueueList(t.Context(), &store.DatasetQueueParams{DagID: "report"}); err != nil || len(q) != 1 {
		t.Fatalf("queued for report: %d (%v), want 1", len(q), err)
	}
}

// TestJournaledSuccessRecordsOutletEvents: a success journaled during an
// outage records its dataset events when replayed, once however often it
// is replayed.
func TestJournaledSuccessRecordsOutletEvents(t *testing.T) {
	t.Parallel()
	tr := setupOutlets(t)
	dir := filepath.Join(t.TempDir(), "journal")
	f := tr.endDuringOutage(t, dir, 1, "echo done")
	if n := len(tr.events(t)); n != 0 {
		t.Fatalf("%d events during the outage, want none", n)
	}
	tr.replay(t, dir)
	if n := len(tr.events(t)); n != 1 {
		t.Fatalf("%d events after the replay, want 1", n)
	}
	j, _ := OpenJournal(dir)
	if err := j.Write(f); err != nil {
		t.Fatal(err)
	}
	tr.replay(t, dir)
	if n := len(tr.events(t)); n != 1 {
		t.Fatalf("%d events after replaying the same entry again, want still 1", n)
	}
}

// setupOutlets is setup with the task updating s3://x (and a dataset no
// DAG names) and a DAG report scheduled on s3://x.
func setupOutlets(t *testing.T) *testRun {
	t.Helper()
	tr := setup(t)
	ctx := t.Context()
	for _, id := range []string{"etl", "report"} {
		if err := tr.st.DAGUpsert(ctx, &store.DAGUpsertParams{DagID: id, Fileloc: "/dags/d.yaml", MaxActiveTasks: 16, MaxActiveRuns: 16, LastParsedTime: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.st.DatasetReferencesSet(ctx, &store.DatasetReferencesSetParams{DagID: "etl", Outlets: map[string][]string{"work": {"s3://x"}}}); err != nil {
		t.Fatal(err)
	}
	if err := tr.st.DatasetReferencesSet(ctx, &store.DatasetReferencesSetParams{DagID: "report", Schedule: windsock.DatasetURI("s3://x")}); err != nil {
		t.Fatal(err)
	}
	tr.task.Outlets = []string{"s3://x", "s3://unknown"}
	return tr
}

func (tr *testRun) events(t *testing.T) []*windsock.DatasetEvent {
	t.Helper()
	evs, _, err := tr.st.DatasetEventList(t.Context(), &store.DatasetEventListParams{})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
