package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// zoned returns a time with sub-second precision in a zone other than UTC,
// to check that times round-trip as the same instant, in UTC. Stores keep
// microseconds, as PostgreSQL does.
func zoned() time.Time {
	return time.Date(2024, 3, 10, 7, 30, 15, 123456000, time.FixedZone("UTC+2", 2*3600))
}

func dagParams(id string, tags ...string) *store.DAGUpsertParams {
	return &store.DAGUpsertParams{
		DagID:                id,
		Fileloc:              "/dags/" + id + ".yaml",
		Owners:               "airflow, data",
		Description:          "the " + id + " dag",
		ScheduleInterval:     `"@daily"`,
		TimetableDescription: "At 00:00",
		MaxActiveTasks:       16,
		MaxActiveRuns:        3,
		IsPausedUponCreation: true,
		Tags:                 tags,
		LastParsedTime:       zoned(),
	}
}

func wantTime(t *testing.T, name string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s = nil, want %v", name, want)
	}
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("%s = %v, want %v in UTC", name, *got, want.UTC())
	}
}

func dagIDs(dags []*windsock.DAGModel) []string {
	ids := make([]string, len(dags))
	for i, d := range dags {
		ids[i] = d.DagID
	}
	return ids
}

func testDAG(t *testing.T, open OpenFunc) {
	t.Run("UpsertInsertsAndGets", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		p := dagParams("etl", "b", "a", "b", "")
		p.HasTaskConcurrencyLimits = true
		next := zoned().Add(time.Hour)
		p.NextDagrun = &next
		p.NextDagrunCreateAfter = &next
		mustNo(t, st.DAGUpsert(ctx, p))

		got, err := st.DAGGet(ctx, "etl")
		mustNo(t, err)
		if !got.IsPaused || !got.IsActive || got.HasImportErrors || !got.HasTaskConcurrencyLimits {
			t.Fatalf("flags paused=%v active=%v importErrors=%v concurrency=%v, want true true false true",
				got.IsPaused, got.IsActive, got.HasImportErrors, got.HasTaskConcurrencyLimits)
		}
		if got.Fileloc != p.Fileloc || got.Owners != p.Owners || got.Description != p.Description ||
			got.ScheduleInterval != p.ScheduleInterval || got.TimetableDescription != p.TimetableDescription ||
			got.MaxActiveTasks != 16 || got.MaxActiveRuns != 3 {
			t.Fatalf("DAGGet = %+v, does not match %+v", got, p)
		}
		if !slices.Equal(got.Tags, []string{"a", "b"}) {
			t.Fatalf("tags = %q, want [a b] (sorted, distinct, no empty)", got.Tags)
		}
		wantTime(t, "last_parsed_time", got.LastParsedTime, zoned())
		wantTime(t, "next_dagrun", got.NextDagrun, next)
		wantTime(t, "next_dagrun_create_after", got.NextDagrunCreateAfter, next)
		if got.NextDagrunDataIntervalStart != nil {
			t.Fatalf("next_dagrun_data_interval_start = %v, want nil", got.NextDagrunDataIntervalStart)
		}
	})

	t.Run("UpsertUpdateKeepsPausedAndReplacesTags", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		mustNo(t, st.DAGUpsert(ctx, dagParams("etl", "a", "b")))
		mustNo(t, st.DAGSetPaused(ctx, "etl", false))
		mustNo(t, st.DAGDeactivate(ctx, []string{"etl"}))

		p := dagParams("etl", "c", "b")
		p.IsPausedUponCreation = true
		p.Description = "changed"
		p.MaxActiveRuns = 1
		mustNo(t, st.DAGUpsert(ctx, p))
		got, err := st.DAGGet(ctx, "etl")
		mustNo(t, err)
		if got.IsPaused {
			t.Fatal("an update changed is_paused")
		}
		if !got.IsActive {
			t.Fatal("an upsert left the dag inactive")
		}
		if got.Description != "changed" || got.MaxActiveRuns != 1 {
			t.Fatalf("update not applied: description %q, max_active_runs %d", got.Description, got.MaxActiveRuns)
		}
		if !slices.Equal(got.Tags, []string{"b", "c"}) {
			t.Fatalf("tags = %q, want [b c]", got.Tags)
		}

		mustNo(t, st.DAGUpsert(ctx, dagParams("etl")))
		got, err = st.DAGGet(ctx, "etl")
		mustNo(t, err)
		if len(got.Tags) != 0 {
			t.Fatalf("tags = %q after upsert without tags, want none", got.Tags)
		}
	})

	t.Run("UpsertKeepsNextDagrunWhenUnset", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		p := dagParams("etl")
		next := zoned()
		p.NextDagrun = &next
		mustNo(t, st.DAGUpsert(ctx, p))
		mustNo(t, st.DAGUpsert(ctx, dagParams("etl")))
		got, err := st.DAGGet(ctx, "etl")
		mustNo(t, err)
		wantTime(t, "next_dagrun", got.NextDagrun, next)
	})

	t.Run("FlagsAndNotFound", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		mustNo(t, st.DAGUpsert(ctx, dagParams("a")))
		mustNo(t, st.DAGUpsert(ctx, dagParams("b")))
		mustNo(t, st.DAGSetImportErrors(ctx, []string{"a", "missing"}, true))
		mustNo(t, st.DAGDeactivate(ctx, []string{"b", "missing"}))
		mustNo(t, st.DAGDeactivate(ctx, nil))
		a, err := st.DAGGet(ctx, "a")
		mustNo(t, err)
		b, err := st.DAGGet(ctx, "b")
		mustNo(t, err)
		if !a.HasImportErrors || !a.IsActive || b.HasImportErrors || b.IsActive {
			t.Fatalf("a: importErrors=%v active=%v; b: importErrors=%v active=%v; want true true false false",
				a.HasImportErrors, a.IsActive, b.HasImportErrors, b.IsActive)
		}
		mustNo(t, st.DAGSetImportErrors(ctx, []string{"a"}, false))
		a, err = st.DAGGet(ctx, "a")
		mustNo(t, err)
		if a.HasImportErrors {
			t.Fatal("has_import_errors not cleared")
		}

		_, err = st.DAGGet(ctx, "missing")
		wantCode(t, err, windsock.ENOTFOUND)
		wantCode(t, st.DAGSetPaused(ctx, "missing", true), windsock.ENOTFOUND)
	})

	t.Run("ManyIDs", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		// More ids than fit in one IN list chunk.
		ids := make([]string, 1200)
		mustNo(t, st.InTx(ctx, func(q store.Queries) error {
			for i := range ids {
				ids[i] = fmt.Sprintf("dag_%04d", i)
				if err := q.DAGUpsert(ctx, dagParams(ids[i])); err != nil {
					return err
				}
			}
			return nil
		}))
		mustNo(t, st.DAGDeactivate(ctx, ids[:1100]))
		active, err := st.DAGList(ctx, &store.DAGListParams{OnlyActive: true})
		mustNo(t, err)
		if !slices.Equal(dagIDs(active), ids[1100:]) {
			t.Fatalf("%d active dags after deactivating 1100 of 1200, want 100", len(active))
		}
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		for _, id := range []string{"d", "b", "a", "c", "e"} {
			p := dagParams(id, "t1", "t2")
			if id == "e" {
				p.Fileloc = "/dags/other.yaml"
			}
			mustNo(t, st.DAGUpsert(ctx, p))
		}
		mustNo(t, st.DAGSetPaused(ctx, "b", false))
		mustNo(t, st.DAGSetPaused(ctx, "c", false))
		mustNo(t, st.DAGDeactivate(ctx, []string{"c"}))
		f, tr := false, true

		tests := []struct {
			name   string
			params *store.DAGListParams
			want   []string
		}{
			{"all", nil, []string{"a", "b", "c", "d", "e"}},
			{"empty params", &store.DAGListParams{}, []string{"a", "b", "c", "d", "e"}},
			{"ids", &store.DAGListParams{DagIDs: []string{"e", "a", "zz"}}, []string{"a", "e"}},
			{"active", &store.DAGListParams{OnlyActive: true}, []string{"a", "b", "d", "e"}},
			{"unpaused", &store.DAGListParams{Paused: &f}, []string{"b", "c"}},
			{"paused", &store.DAGListParams{Paused: &tr}, []string{"a", "d", "e"}},
			{"active unpaused", &store.DAGListParams{OnlyActive: true, Paused: &f}, []string{"b"}},
			{"fileloc", &store.DAGListParams{Fileloc: "/dags/other.yaml"}, []string{"e"}},
			{"limit", &store.DAGListParams{Limit: 2}, []string{"a", "b"}},
			{"limit offset", &store.DAGListParams{Limit: 2, Offset: 2}, []string{"c", "d"}},
			{"offset only", &store.DAGListParams{Offset: 3}, []string{"d", "e"}},
			{"offset past end", &store.DAGListParams{Offset: 9}, nil},
			{"filter and page", &store.DAGListParams{OnlyActive: true, Limit: 2, Offset: 1}, []string{"b", "d"}},
		}
		for _, tt := range tests {
			got, err := st.DAGList(ctx, tt.params)
			mustNo(t, err)
			if !slices.Equal(dagIDs(got), tt.want) {
				t.Errorf("%s: DAGList = %q, want %q", tt.name, dagIDs(got), tt.want)
			}
			for _, d := range got {
				if !slices.Equal(d.Tags, []string{"t1", "t2"}) {
					t.Errorf("%s: tags of %s = %q, want [t1 t2]", tt.name, d.DagID, d.Tags)
				}
			}
		}
	})
}

func testSerializedDAG(t *testing.T, open OpenFunc) {
	t.Run("ChangeDetection", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		sd := &windsock.SerializedDAG{
			DagID: "etl", Fileloc: "/dags/etl.yaml", FilelocHash: 1234560000123,
			Data: []byte(`{"dag_id":"etl","tasks":[]}`), DagHash: "h1", LastUpdated: zoned(),
		}
		changed, err := st.SerializedDAGUpsert(ctx, sd)
		mustNo(t, err)
		if !changed {
			t.Fatal("first upsert reported no change")
		}
		got, err := st.SerializedDAGGet(ctx, "etl")
		mustNo(t, err)
		if string(got.Data) != string(sd.Data) || got.DagHash != "h1" || got.Fileloc != sd.Fileloc ||
			got.FilelocHash != sd.FilelocHash {
			t.Fatalf("SerializedDAGGet = %+v, want %+v", got, sd)
		}
		wantTime(t, "last_updated", &got.LastUpdated, zoned())

		same := *sd
		same.Data = []byte(`{"ignored":true}`)
		same.LastUpdated = zoned().Add(time.Minute)
		changed, err = st.SerializedDAGUpsert(ctx, &same)
		mustNo(t, err)
		if changed {
			t.Fatal("upsert with the same dag_hash reported a change")
		}
		got, err = st.SerializedDAGGet(ctx, "etl")
		mustNo(t, err)
		if string(got.Data) != string(sd.Data) {
			t.Fatal("upsert with the same dag_hash rewrote the data")
		}

		next := *sd
		next.Data = []byte(`{"dag_id":"etl","tasks":[{"task_id":"t"}]}`)
		next.DagHash = "h2"
		changed, err = st.SerializedDAGUpsert(ctx, &next)
		mustNo(t, err)
		if !changed {
			t.Fatal("upsert with a new dag_hash reported no change")
		}
		got, err = st.SerializedDAGGet(ctx, "etl")
		mustNo(t, err)
		if string(got.Data) != string(next.Data) || got.DagHash != "h2" {
			t.Fatalf("after change got data %s hash %s", got.Data, got.DagHash)
		}

		_, err = st.SerializedDAGUpsert(ctx, &windsock.SerializedDAG{
			DagID: "other", Fileloc: "/dags/o.yaml", Data: []byte(`{}`), DagHash: "h9", LastUpdated: zoned(),
		})
		mustNo(t, err)
		hashes, err := st.SerializedDAGHashes(ctx)
		mustNo(t, err)
		if len(hashes) != 2 || hashes["etl"] != "h2" || hashes["other"] != "h9" {
			t.Fatalf("SerializedDAGHashes = %v, want etl:h2 other:h9", hashes)
		}

		_, err = st.SerializedDAGGet(ctx, "missing")
		wantCode(t, err, windsock.ENOTFOUND)

		n, err := st.SerializedDAGClear(ctx)
		mustNo(t, err)
		if n != 2 {
			t.Fatalf("SerializedDAGClear = %d, want 2", n)
		}
		if hashes, err := st.SerializedDAGHashes(ctx); err != nil || len(hashes) != 0 {
			t.Fatalf("hashes after clear = %v (err %v), want none", hashes, err)
		}
	})
}

func testDAGCode(t *testing.T, open OpenFunc) {
	t.Run("UpsertGet", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		c := &windsock.DAGCode{FilelocHash: -42, Fileloc: "/dags/etl.yaml", LastUpdated: zoned(), SourceCode: "etl:\n  tasks: {}\n"}
		mustNo(t, st.DAGCodeUpsert(ctx, c))
		got, err := st.DAGCodeGet(ctx, -42)
		mustNo(t, err)
		if got.SourceCode != c.SourceCode || got.Fileloc != c.Fileloc || got.FilelocHash != -42 {
			t.Fatalf("DAGCodeGet = %+v, want %+v", got, c)
		}
		wantTime(t, "last_updated", &got.LastUpdated, zoned())

		later := zoned().Add(time.Hour)
		mustNo(t, st.DAGCodeUpsert(ctx, &windsock.DAGCode{FilelocHash: -42, Fileloc: c.Fileloc, LastUpdated: later, SourceCode: "changed"}))
		got, err = st.DAGCodeGet(ctx, -42)
		mustNo(t, err)
		if got.SourceCode != "changed" {
			t.Fatalf("source = %q after update, want %q", got.SourceCode, "changed")
		}
		wantTime(t, "last_updated", &got.LastUpdated, later)

		_, err = st.DAGCodeGet(ctx, 7)
		wantCode(t, err, windsock.ENOTFOUND)
	})
}

func importErrorFiles(t *testing.T, ctx context.Context, st store.Store) map[string]*windsock.ImportError {
	t.Helper()
	list, err := st.ImportErrorList(ctx)
	mustNo(t, err)
	byFile := make(map[string]*windsock.ImportError)
	for i, ie := range list {
		if i > 0 && list[i-1].Filename > ie.Filename {
			t.Fatalf("ImportErrorList not ordered by filename: %q before %q", list[i-1].Filename, ie.Filename)
		}
		if byFile[ie.Filename] != nil {
			t.Fatalf("two import errors for %s", ie.Filename)
		}
		byFile[ie.Filename] = ie
	}
	return byFile
}

func testImportError(t *testing.T, open OpenFunc) {
	t.Run("SetReplaceDelete", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		for _, f := range []string{"/dags/b.yaml", "/dags/a.yaml", "/dags/c.yaml"} {
			ie := &windsock.ImportError{Filename: f, Timestamp: zoned(), Stacktrace: f + ":1:1: bad"}
			mustNo(t, st.ImportErrorSet(ctx, ie))
			if ie.ID == 0 {
				t.Fatal("ImportErrorSet did not set ID")
			}
		}
		mustNo(t, st.ImportErrorSet(ctx, &windsock.ImportError{Filename: "/dags/b.yaml", Timestamp: zoned(), Stacktrace: "b:2:3: worse"}))

		byFile := importErrorFiles(t, ctx, st)
		if len(byFile) != 3 {
			t.Fatalf("%d import errors, want 3", len(byFile))
		}
		if got := byFile["/dags/b.yaml"].Stacktrace; got != "b:2:3: worse" {
			t.Fatalf("replaced stacktrace = %q", got)
		}
		wantTime(t, "timestamp", &byFile["/dags/a.yaml"].Timestamp, zoned())

		mustNo(t, st.ImportErrorDelete(ctx, []string{"/dags/a.yaml", "/dags/c.yaml", "/dags/none.yaml"}))
		mustNo(t, st.ImportErrorDelete(ctx, nil))
		byFile = importErrorFiles(t, ctx, st)
		if len(byFile) != 1 || byFile["/dags/b.yaml"] == nil {
			t.Fatalf("after delete: %v, want only /dags/b.yaml", byFile)
		}
	})
}
