package taskrun

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/callback"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// unreachable is a store whose database is gone: every call fails as a
// stopped server's would (an internal error).
func unreachable(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gone.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	return st
}

// endDuringOutage runs try n of the task with command while the database
// is unreachable for the recording, with a journal in dir: the outcome
// must be journaled, not recorded.
func (tr *testRun) endDuringOutage(t *testing.T, dir string, n int, command string) *Finish {
	t.Helper()
	ctx := t.Context()
	j, err := OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ti, err := tr.st.TaskInstanceGet(ctx, tr.key)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	ti.State, ti.TryNumber, ti.StartDate, ti.EndDate = windsock.TaskStateRunning, n, &now, nil
	if _, err := tr.st.TaskInstanceUpdate(ctx, ti); err != nil {
		t.Fatal(err)
	}
	if tr.task.Args == nil {
		tr.task.Args = map[string]any{}
	}
	tr.task.Args["bash_command"] = command
	saved := tr.r.Store
	tr.r.Store, tr.r.Journal = unreachable(t), j
	out, err := tr.r.Run(ctx, &Try{TI: ti, DAG: tr.dag, Run: tr.run})
	tr.r.Store, tr.r.Journal = saved, nil
	if err != nil {
		t.Fatalf("run during the outage: %v", err)
	}
	if out.Recorded || out.Pending == nil {
		t.Fatalf("outcome during the outage: recorded %v, pending %v; want it journaled", out.Recorded, out.Pending != nil)
	}
	if got, _ := tr.st.TaskInstanceGet(ctx, tr.key); got.State != windsock.TaskStateRunning {
		t.Fatalf("task instance is %s during the outage, want still running", got.State)
	}
	return out.Pending
}

// replay opens the journal in dir as a worker starting again would, and
// records what it holds.
func (tr *testRun) replay(t *testing.T, dir string) []*Outcome {
	t.Helper()
	j, err := OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := j.Entries()
	if err != nil {
		t.Fatal(err)
	}
	tr.r.Journal = j
	defer func() { tr.r.Journal = nil }()
	var outs []*Outcome
	for _, f := range entries {
		out, err := tr.r.RecordLate(t.Context(), nil, f)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	if left, _ := j.Entries(); len(left) != 0 {
		t.Fatalf("%d entries left in the journal after the replay", len(left))
	}
	return outs
}

// TestJournalKeepsOutcomeThroughCrash: a try that succeeds while the
// database is away is journaled with everything its record writes (state,
// end, duration, return value); a worker starting again from the journal
// records it, and recording it a second time changes nothing.
func TestJournalKeepsOutcomeThroughCrash(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	dir := filepath.Join(t.TempDir(), "journal")
	f := tr.endDuringOutage(t, dir, 1, "echo kept")

	// The worker "crashes": only the directory survives.
	outs := tr.replay(t, dir)
	if len(outs) != 1 || !outs[0].Recorded || outs[0].State != windsock.TaskStateSuccess {
		t.Fatalf("replayed outcomes %+v, want one recorded success", outs)
	}
	ti, err := tr.st.TaskInstanceGet(t.Context(), tr.key)
	if err != nil {
		t.Fatal(err)
	}
	if ti.State != windsock.TaskStateSuccess || ti.TryNumber != 1 || !sameInstant(ti.EndDate, f.TI.EndDate) || ti.Duration == nil {
		t.Fatalf("recorded %s try %d end %v duration %v, want the journaled success", ti.State, ti.TryNumber, ti.EndDate, ti.Duration)
	}
	if got := tr.returnValue(t); got != `"kept"` {
		t.Fatalf("return_value %s, want the journaled one", got)
	}

	// The same entry again (the first commit's answer lost, say): already
	// recorded, nothing changes.
	j, _ := OpenJournal(dir)
	if err := j.Write(f); err != nil {
		t.Fatal(err)
	}
	again := tr.replay(t, dir)
	if len(again) != 1 || !again[0].Recorded {
		t.Fatalf("second record %+v, want it seen as already recorded", again)
	}
	if after, _ := tr.st.TaskInstanceGet(t.Context(), tr.key); !after.UpdatedAt.Equal(ti.UpdatedAt) {
		t.Errorf("the second record wrote the task instance again (updated_at %v, then %v)", ti.UpdatedAt, after.UpdatedAt)
	}
}

// TestJournalFailedTryRecordedOnce: a failed try's journaled outcome adds
// one task_fail row however often it is recorded.
func TestJournalFailedTryRecordedOnce(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	dir := filepath.Join(t.TempDir(), "journal")
	f := tr.endDuringOutage(t, dir, 1, "exit 3")
	tr.replay(t, dir)
	j, _ := OpenJournal(dir)
	if err := j.Write(f); err != nil {
		t.Fatal(err)
	}
	tr.replay(t, dir)
	ti, _ := tr.st.TaskInstanceGet(t.Context(), tr.key)
	if ti.State != windsock.TaskStateUpForRetry {
		t.Fatalf("state %s, want up_for_retry (the task has retries)", ti.State)
	}
	fails, err := tr.st.TaskFailList(t.Context(), tr.key)
	if err != nil {
		t.Fatal(err)
	}
	if len(fails) != 1 {
		t.Fatalf("%d task_fail rows, want 1", len(fails))
	}
}

// TestJournalNeverOverwritesNewerState: an outcome recorded late does not
// land on a task instance that moved on: a later try (this one presumed
// dead and retried), a user's mark, or a clear of a later try.
func TestJournalNeverOverwritesNewerState(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		moved func(ti *windsock.TaskInstance)
		want  windsock.TaskInstanceState
	}{
		{"retried as try 2", func(ti *windsock.TaskInstance) { ti.TryNumber = 2 }, windsock.TaskStateRunning},
		{"marked failed", func(ti *windsock.TaskInstance) { ti.State = windsock.TaskStateFailed }, windsock.TaskStateFailed},
		{"try 2 cleared", func(ti *windsock.TaskInstance) { ti.TryNumber, ti.State = 2, windsock.TaskStateRestarting }, windsock.TaskStateRestarting},
		// Cleared while this very try ran: a fresh start, as without an
		// outage.
		{"this try cleared", func(ti *windsock.TaskInstance) { ti.State = windsock.TaskStateRestarting }, windsock.TaskStateNone},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tr := setup(t)
			dir := filepath.Join(t.TempDir(), "journal")
			tr.endDuringOutage(t, dir, 1, "echo late")
			ti, _ := tr.st.TaskInstanceGet(t.Context(), tr.key)
			c.moved(ti)
			if _, err := tr.st.TaskInstanceUpdate(t.Context(), ti); err != nil {
				t.Fatal(err)
			}
			outs := tr.replay(t, dir)
			if len(outs) != 1 || outs[0].Recorded {
				t.Fatalf("replayed %+v, want one outcome not recorded", outs)
			}
			got, _ := tr.st.TaskInstanceGet(t.Context(), tr.key)
			if got.State != c.want || got.TryNumber != ti.TryNumber {
				t.Fatalf("task instance %s try %d, want %s try %d", got.State, got.TryNumber, c.want, ti.TryNumber)
			}
			if rv := tr.returnValue(t); rv != "" {
				t.Fatalf("the late try's return value %s was recorded", rv)
			}
		})
	}
}

// TestJournalLateRecordRunsCallback: the task's callback for an outcome
// recorded late runs once it is recorded, not while the database is away,
// and the try's log says what happened.
func TestJournalLateRecordRunsCallback(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	tr.r.Callbacks = &callback.Runner{Environ: tr.r.Environ, Dir: tr.r.DagsFolder}
	dir := filepath.Join(t.TempDir(), "journal")
	tr.task.Args = map[string]any{"on_success_callback": "echo callback-ran"}
	f := tr.endDuringOutage(t, dir, 1, "echo done")
	if strings.Contains(tr.log(t, 1), "callback-ran") {
		t.Fatal("the callback ran while the outcome was not recorded")
	}
	j, err := OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	tr.r.Journal = j
	ti := f.TI
	out, err := tr.r.RecordLate(t.Context(), &Try{TI: &ti, DAG: tr.dag, Run: tr.run}, f)
	if err != nil || !out.Recorded {
		t.Fatalf("late record: %+v, %v", out, err)
	}
	log := tr.log(t, 1)
	if strings.Count(log, "callback-ran") != 1 || !strings.Contains(log, "recorded once it was back") {
		t.Fatalf("try log after the late record:\n%s", log)
	}
}

// TestJournalEntries: entries come back oldest first; a file half written
// by a crash is removed, and a file that is not an entry is set aside and
// reported without hiding the others.
func TestJournalEntries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j, err := OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"late", "early"} {
		f := &Finish{TI: windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "d", TaskID: id, RunID: "r/../x", MapIndex: -1}, TryNumber: 1, State: windsock.TaskStateSuccess},
			Now: base.Add(time.Duration(1-i) * time.Minute)}
		if err := j.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, ".entry-123"), []byte(`{"Form`), 0o600)
	os.WriteFile(filepath.Join(dir, "junk.json"), []byte(`not json`), 0o600)
	entries, err := j.Entries()
	if err == nil || !strings.Contains(err.Error(), "junk.json") {
		t.Fatalf("error %v, want junk.json reported", err)
	}
	if len(entries) != 2 || entries[0].TI.TaskID != "early" || entries[1].TI.TaskID != "late" {
		t.Fatalf("entries %+v, want early then late", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, ".entry-123")); !os.IsNotExist(err) {
		t.Errorf("half-written entry still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "junk.json.unreadable")); err != nil {
		t.Errorf("junk not set aside: %v", err)
	}
	for _, f := range entries {
		if err := j.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if left, err := j.Entries(); err != nil || len(left) != 0 {
		t.Fatalf("after removing: %d entries, %v", len(left), err)
	}
}

// BenchmarkJournalWriteRemove is what the journal adds to every try a
// worker records: a synced write, then a removal.
func BenchmarkJournalWriteRemove(b *testing.B) {
	j, err := OpenJournal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	f := &Finish{TI: windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "d", TaskID: "t", RunID: "r", MapIndex: -1}, TryNumber: 1, State: windsock.TaskStateSuccess},
		XComs: []*windsock.XCom{{Key: windsock.XComReturnKey, Value: []byte(`"some value"`)}}}
	for i := 0; b.Loop(); i++ {
		f.Now = time.Unix(int64(i), 0)
		if err := j.Write(f); err != nil {
			b.Fatal(err)
		}
		if err := j.Remove(f); err != nil {
			b.Fatal(err)
		}
	}
}

// TestJournalDropsHandBacks: a hand-back keeps its try number, so the
// guard of a late write could not tell it from the next run of the same
// try, which may already be running elsewhere. A journaled hand-back (an
// older version wrote them) is dropped, never recorded.
func TestJournalDropsHandBacks(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	dir := filepath.Join(t.TempDir(), "journal")
	f := tr.endDuringOutage(t, dir, 1, "echo handed back")
	j, err := OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Remove(f); err != nil {
		t.Fatal(err)
	}
	hb := *f
	hb.TI.State, hb.TI.EndDate, hb.TI.Duration = windsock.TaskStateScheduled, nil, nil
	if err := j.Write(&hb); err != nil {
		t.Fatal(err)
	}
	// Meanwhile the try was handed back, queued and claimed by another
	// worker: running try 1 there.
	ti, err := tr.st.TaskInstanceGet(t.Context(), tr.key)
	if err != nil {
		t.Fatal(err)
	}
	ti.Hostname = "other-worker"
	if _, err := tr.st.TaskInstanceUpdate(t.Context(), ti); err != nil {
		t.Fatal(err)
	}
	if outs := tr.replay(t, dir); len(outs) != 1 || outs[0].Recorded {
		t.Fatalf("replayed %+v, want the hand-back dropped", outs)
	}
	after, err := tr.st.TaskInstanceGet(t.Context(), tr.key)
	if err != nil {
		t.Fatal(err)
	}
	if after.State != windsock.TaskStateRunning || after.Hostname != "other-worker" {
		t.Fatalf("the other worker's try is now %s on %q, want still running there", after.State, after.Hostname)
	}
}
