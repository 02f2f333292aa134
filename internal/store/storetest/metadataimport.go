package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func testMetadataImport(t *testing.T, open OpenFunc) {
	t.Run("RunsTaskInstancesAndChildren", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		t0 := time.Date(2024, 3, 1, 12, 0, 0, 123456000, time.UTC)
		runCols := []string{"dag_id", "run_id", "execution_date", "state", "run_type", "external_trigger", "conf", "start_date"}
		runs := [][]any{
			{"etl", "scheduled__1", t0, "success", "scheduled", false, []byte(`{"a":1}`), t0},
			{"etl", "manual__2", t0.Add(time.Hour), "failed", "manual", true, nil, nil},
		}
		imp := func(table string, cols []string, rows [][]any, overwrite bool) []store.ImportOutcome {
			t.Helper()
			out, err := st.ImportRows(ctx, &store.ImportRowsParams{Source: "src", Table: table, Columns: cols, Rows: rows, Overwrite: overwrite})
			mustNo(t, err)
			return out
		}
		want := func(got []store.ImportOutcome, want ...store.ImportOutcome) {
			t.Helper()
			if !slices.Equal(got, want) {
				t.Fatalf("outcomes = %v, want %v", got, want)
			}
		}
		W, E, P, K := store.ImportWritten, store.ImportExists, store.ImportNoParent, store.ImportKeyTaken
		want(imp("dag_run", runCols, runs, false), W, W)
		want(imp("dag_run", runCols, runs, false), E, E)
		// Another run id at a logical date already held.
		want(imp("dag_run", runCols, [][]any{{"etl", "other", t0, "queued", "manual", true, nil, nil}}, true), K)
		// Overwrite replaces the non-key columns.
		want(imp("dag_run", runCols, [][]any{{"etl", "manual__2", t0.Add(time.Hour), "success", "manual", true, nil, nil}}, true), W)
		r, err := st.DagRunGet(ctx, "etl", "manual__2")
		mustNo(t, err)
		if r.State != windsock.DagRunSuccess || !r.ExternalTrigger {
			t.Fatalf("overwritten run = %+v", r)
		}
		r1, err := st.DagRunGet(ctx, "etl", "scheduled__1")
		mustNo(t, err)
		if !r1.LogicalDate.Equal(t0) || fmt.Sprint(r1.Conf["a"]) != "1" || r1.StartDate == nil || !r1.StartDate.Equal(t0) {
			t.Fatalf("imported run = %+v", r1)
		}

		tiCols := []string{"dag_id", "task_id", "run_id", "map_index", "state", "try_number", "pool", "pool_slots", "duration", "hostname", "priority_weight"}
		want(imp("task_instance", tiCols, [][]any{
			{"etl", "extract", "scheduled__1", -1, "success", 2, "default_pool", 1, 1.5, "host-a", 3},
			{"etl", "extract", "no_such_run", -1, "success", 1, "default_pool", 1, nil, nil, 1},
		}, false), W, P)
		ti, err := st.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: "etl", TaskID: "extract", RunID: "scheduled__1", MapIndex: -1})
		mustNo(t, err)
		if ti.TryNumber != 2 || ti.Hostname != "host-a" || ti.Duration == nil || *ti.Duration != 1.5 || ti.PriorityWeight != 3 {
			t.Fatalf("imported task instance = %+v", ti)
		}

		xcols := []string{"dag_id", "task_id", "run_id", "map_index", "key", "value", "timestamp"}
		want(imp("xcom", xcols, [][]any{
			{"etl", "extract", "scheduled__1", -1, "return_value", []byte(`[1,2]`), t0},
			{"etl", "missing", "scheduled__1", -1, "return_value", []byte(`1`), t0},
		}, false), W, P)
		x, err := st.XComGet(ctx, &store.XComGetParams{DagID: "etl", RunID: "scheduled__1", TaskID: "extract", MapIndex: -1, Key: "return_value"})
		mustNo(t, err)
		if x.DagRunID != r1.ID || string(x.Value) != `[1,2]` {
			t.Fatalf("imported xcom = %+v (run id %d)", x, r1.ID)
		}

		// Tables without a key: the same content is the same row.
		fcols := []string{"dag_id", "task_id", "run_id", "map_index", "start_date", "end_date", "duration"}
		fail := []any{"etl", "extract", "scheduled__1", -1, t0, t0.Add(time.Second), 1}
		want(imp("task_fail", fcols, [][]any{fail, fail}, false), W, E)
		fails, err := st.TaskFailList(ctx, ti.TaskInstanceKey)
		mustNo(t, err)
		if len(fails) != 1 {
			t.Fatalf("task_fail rows = %d, want 1", len(fails))
		}
	})

	t.Run("JobsIDMapAndLog", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
		cols := []string{"job_type", "state", "start_date", "latest_heartbeat", "hostname"}
		rows := [][]any{{"LocalTaskJob", "success", t0, t0, "h1"}, {"SchedulerJob", "running", t0, t0.Add(time.Minute), "h2"}}
		out, err := st.ImportRows(ctx, &store.ImportRowsParams{Source: "src", Table: "job", Columns: cols, Rows: rows, SourceIDs: []int64{7, 9}})
		mustNo(t, err)
		if !slices.Equal(out, []store.ImportOutcome{store.ImportWritten, store.ImportWritten}) {
			t.Fatalf("outcomes = %v", out)
		}
		m, err := st.ImportIDMap(ctx, "src", "job", []int64{7, 9, 11})
		mustNo(t, err)
		if len(m) != 2 || m[7] == 0 || m[9] == 0 || m[7] == m[9] {
			t.Fatalf("id map = %v", m)
		}
		// Again, from another source: the same jobs, mapped to the same rows.
		out, err = st.ImportRows(ctx, &store.ImportRowsParams{Source: "copy", Table: "job", Columns: cols, Rows: rows, SourceIDs: []int64{1, 2}})
		mustNo(t, err)
		m2, err := st.ImportIDMap(ctx, "copy", "job", []int64{1, 2})
		mustNo(t, err)
		if out[0] != store.ImportExists || m2[1] != m[7] || m2[2] != m[9] {
			t.Fatalf("second import: outcomes %v, map %v (first %v)", out, m2, m)
		}
		jobs, err := st.JobList(ctx, &store.JobListParams{})
		mustNo(t, err)
		if len(jobs) != 2 {
			t.Fatalf("jobs = %d, want 2", len(jobs))
		}

		lcols := []string{"dttm", "dag_id", "event", "owner", "extra"}
		lrow := []any{t0, "etl", "trigger", "admin", nil}
		out, err = st.ImportRows(ctx, &store.ImportRowsParams{Table: "log", Columns: lcols, Rows: [][]any{lrow, lrow}})
		mustNo(t, err)
		if !slices.Equal(out, []store.ImportOutcome{store.ImportWritten, store.ImportExists}) {
			t.Fatalf("log outcomes = %v", out)
		}
	})

	t.Run("ExportRowsPages", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		t0 := time.Date(2024, 3, 1, 12, 0, 0, 5000, time.UTC)
		runCols := []string{"dag_id", "run_id", "execution_date", "state", "run_type", "conf"}
		var rows [][]any
		for i := range 5 {
			rows = append(rows, []any{"etl", fmt.Sprintf("r%d", i), t0.Add(time.Duration(i) * time.Hour), "success", "manual", []byte(`{}`)})
		}
		_, err := st.ImportRows(ctx, &store.ImportRowsParams{Table: "dag_run", Columns: runCols, Rows: rows})
		mustNo(t, err)
		tiRows := [][]any{}
		for i := range 5 {
			tiRows = append(tiRows, []any{"etl", "a", fmt.Sprintf("r%d", i), -1, "default_pool", 1}, []any{"etl", "b", fmt.Sprintf("r%d", i), -1, "default_pool", 1})
		}
		_, err = st.ImportRows(ctx, &store.ImportRowsParams{Table: "task_instance", Columns: []string{"dag_id", "task_id", "run_id", "map_index", "pool", "pool_slots"}, Rows: tiRows})
		mustNo(t, err)
		for table, c := range map[string]struct {
			cols []string
			want int
		}{"dag_run": {runCols, 5}, "task_instance": {[]string{"task_id", "run_id"}, 10}} {
			var after []any
			var seen []string
			for {
				page, err := st.ExportRows(ctx, &store.ExportRowsParams{Table: table, Columns: c.cols, After: after, Limit: 3})
				mustNo(t, err)
				if len(page.Rows) == 0 {
					break
				}
				for _, r := range page.Rows {
					seen = append(seen, fmt.Sprint(r[0], r[1]))
					if table == "dag_run" {
						if tm, ok := r[2].(time.Time); !ok || !tm.Equal(t0.Add(time.Duration(len(seen)-1)*time.Hour).Truncate(time.Microsecond)) {
							t.Fatalf("execution_date = %#v", r[2])
						}
						if b, ok := r[5].([]byte); !ok || string(b) != "{}" {
							t.Fatalf("conf = %#v", r[5])
						}
					}
				}
				after = page.Last
			}
			if len(seen) != c.want || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != c.want {
				t.Fatalf("%s pages gave %v", table, seen)
			}
		}
	})

	t.Run("DatasetsAndEvents", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
		imp := func(table string, cols []string, rows ...[]any) []store.ImportOutcome {
			t.Helper()
			out, err := st.ImportRows(ctx, &store.ImportRowsParams{Table: table, Columns: cols, Rows: rows})
			mustNo(t, err)
			return out
		}
		dcols := []string{"uri", "extra", "created_at", "updated_at", "is_orphaned"}
		if out := imp("dataset", dcols, []any{"s3://b/k", `{"a":1}`, t0, t0, false}); out[0] != store.ImportWritten {
			t.Fatalf("dataset outcome %v", out)
		}
		ecols := []string{"dataset_uri", "extra", "source_dag_id", "source_run_id", "source_map_index", "timestamp"}
		ev := []any{"s3://b/k", "{}", "etl", "r1", -1, t0}
		out := imp("dataset_event", ecols, ev, ev, []any{"s3://other", "{}", "etl", "r1", -1, t0})
		if !slices.Equal(out, []store.ImportOutcome{store.ImportWritten, store.ImportExists, store.ImportNoParent}) {
			t.Fatalf("event outcomes %v", out)
		}
		ds, err := st.DatasetGet(ctx, "s3://b/k")
		mustNo(t, err)
		events, n, err := st.DatasetEventList(ctx, &store.DatasetEventListParams{})
		mustNo(t, err)
		if n != 1 || events[0].DatasetID != ds.ID || events[0].SourceRunID != "r1" {
			t.Fatalf("events = %d %+v (dataset %d)", n, events, ds.ID)
		}

		// The run the event triggered, linked by names, not ids.
		out = imp("dag_run", []string{"dag_id", "run_id", "execution_date", "state", "run_type"}, []any{"consumer", "dt1", t0, "success", "dataset_triggered"})
		if out[0] != store.ImportWritten {
			t.Fatalf("run outcome %v", out)
		}
		lcols := []string{"dag_id", "run_id", "dataset_uri", "timestamp"}
		link := []any{"consumer", "dt1", "s3://b/k", t0}
		out = imp("dagrun_dataset_event", lcols, link, link, []any{"consumer", "nope", "s3://b/k", t0}, []any{"consumer", "dt1", "s3://b/k", t0.Add(time.Second)})
		if !slices.Equal(out, []store.ImportOutcome{store.ImportWritten, store.ImportExists, store.ImportNoParent, store.ImportNoParent}) {
			t.Fatalf("link outcomes %v", out)
		}
		run, err := st.DagRunGet(ctx, "consumer", "dt1")
		mustNo(t, err)
		linked, n, err := st.DatasetEventList(ctx, &store.DatasetEventListParams{DagRunID: run.ID})
		mustNo(t, err)
		if n != 1 || linked[0].ID != events[0].ID {
			t.Fatalf("events of the run = %d %+v", n, linked)
		}
		page, err := st.ExportRows(ctx, &store.ExportRowsParams{Table: "dagrun_dataset_event", Columns: lcols, Limit: 10})
		mustNo(t, err)
		if len(page.Rows) != 1 || fmt.Sprint(page.Rows[0][:3]) != "[consumer dt1 s3://b/k]" || !page.Rows[0][3].(time.Time).Equal(t0) {
			t.Fatalf("exported links %v", page.Rows)
		}
		page, err = st.ExportRows(ctx, &store.ExportRowsParams{Table: "dagrun_dataset_event", Columns: lcols, After: page.Last, Limit: 10})
		mustNo(t, err)
		if len(page.Rows) != 0 {
			t.Fatalf("links after the last: %v", page.Rows)
		}
	})

	t.Run("NotesTryHistoryTaskMapAndTriggers", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
		imp := func(table string, cols []string, rows ...[]any) []store.ImportOutcome {
			t.Helper()
			out, err := st.ImportRows(ctx, &store.ImportRowsParams{Source: "src", Table: table, Columns: cols, Rows: rows})
			mustNo(t, err)
			return out
		}
		want := func(got []store.ImportOutcome, want ...store.ImportOutcome) {
			t.Helper()
			if !slices.Equal(got, want) {
				t.Fatalf("outcomes = %v, want %v", got, want)
			}
		}
		export := func(table string, cols ...string) []string {
			t.Helper()
			page, err := st.ExportRows(ctx, &store.ExportRowsParams{Table: table, Columns: cols, Limit: 100})
			mustNo(t, err)
			var out []string
			for _, r := range page.Rows {
				for i, v := range r {
					if b, ok := v.([]byte); ok {
						r[i] = string(b)
					}
				}
				out = append(out, strings.TrimSuffix(fmt.Sprintln(r...), "\n"))
			}
			return out
		}
		W, E, P := store.ImportWritten, store.ImportExists, store.ImportNoParent
		want(imp("dag_run", []string{"dag_id", "run_id", "execution_date", "state", "run_type"},
			[]any{"etl", "r1", t0, "failed", "manual"}), W)
		want(imp("task_instance", []string{"dag_id", "task_id", "run_id", "map_index", "state", "try_number", "pool", "pool_slots"},
			[]any{"etl", "load", "r1", -1, "failed", 2, "default_pool", 1}), W)

		ncols := []string{"dag_id", "run_id", "content", "created_at", "updated_at"}
		note := []any{"etl", "r1", "rerun after the fix", t0, t0}
		want(imp("dag_run_note", ncols, note, []any{"etl", "gone", "x", t0, t0}), W, P)
		want(imp("dag_run_note", ncols, note), E)
		run, err := st.DagRunGet(ctx, "etl", "r1")
		mustNo(t, err)
		if run.Note != "rerun after the fix" {
			t.Fatalf("run note = %q", run.Note)
		}
		if got := export("dag_run_note", ncols[:3]...); !slices.Equal(got, []string{"etl r1 rerun after the fix"}) {
			t.Fatalf("exported run notes %q", got)
		}

		tncols := []string{"dag_id", "task_id", "run_id", "map_index", "content", "created_at", "updated_at"}
		want(imp("task_instance_note", tncols, []any{"etl", "load", "r1", -1, "flaky source", t0, t0},
			[]any{"etl", "nope", "r1", -1, "x", t0, t0}), W, P)
		ti, err := st.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: "etl", TaskID: "load", RunID: "r1", MapIndex: -1})
		mustNo(t, err)
		if ti.Note != "flaky source" {
			t.Fatalf("task note = %q", ti.Note)
		}

		hcols := []string{"dag_id", "task_id", "run_id", "map_index", "try_number", "state", "start_date", "hostname", "pool", "pool_slots"}
		tries := [][]any{{"etl", "load", "r1", -1, 1, "failed", t0, "host-a", "default_pool", 1},
			{"etl", "load", "r1", -1, 2, "failed", t0.Add(time.Minute), "host-b", "default_pool", 1}}
		want(imp("task_instance_history", hcols, tries...), W, W)
		want(imp("task_instance_history", hcols, tries...), E, E)
		if got := export("task_instance_history", "try_number", "hostname"); !slices.Equal(got, []string{"1 host-a", "2 host-b"}) {
			t.Fatalf("exported tries %q", got)
		}
		hist, err := st.TaskInstanceHistoryList(ctx, ti.TaskInstanceKey)
		mustNo(t, err)
		if len(hist) != 2 || hist[0].TryNumber != 1 || hist[0].Hostname != "host-a" || hist[1].State != windsock.TaskStateFailed ||
			hist[1].StartDate == nil || !hist[1].StartDate.Equal(t0.Add(time.Minute)) || hist[1].Pool != "default_pool" {
			t.Fatalf("history = %+v", hist)
		}
		if none, err := st.TaskInstanceHistoryList(ctx, windsock.TaskInstanceKey{DagID: "etl", TaskID: "extract", RunID: "r1", MapIndex: -1}); err != nil || len(none) != 0 {
			t.Fatalf("history of another task = %v, %v", none, err)
		}

		mcols := []string{"dag_id", "task_id", "run_id", "map_index", "length", "keys"}
		want(imp("task_map", mcols, []any{"etl", "load", "r1", -1, 3, nil}, []any{"etl", "load", "other", -1, 1, nil}), W, P)
		want(imp("task_map", mcols, []any{"etl", "load", "r1", -1, 3, nil}), E)
		if got := export("task_map", "task_id", "length"); !slices.Equal(got, []string{"load 3"}) {
			t.Fatalf("exported task maps %q", got)
		}

		tcols := []string{"classpath", "kwargs", "created_date", "triggerer_id"}
		trig := []any{"airflow.triggers.temporal.DateTimeTrigger", `{"moment": "2024-03-02"}`, t0, nil}
		want(imp("trigger", tcols, trig, trig), W, E)
		// Its kwargs encrypted anew, its triggerer numbered anew: the
		// same trigger.
		want(imp("trigger", tcols, []any{trig[0], "gAAAAAnother-token", t0, 12}), E)
		if got := export("trigger", "classpath", "kwargs"); !slices.Equal(got, []string{`airflow.triggers.temporal.DateTimeTrigger {"moment": "2024-03-02"}`}) {
			t.Fatalf("exported triggers %q", got)
		}
	})

	t.Run("RefusesUnknownTablesAndColumns", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		_, err := st.ImportRows(ctx, &store.ImportRowsParams{Table: "ab_user", Columns: []string{"id"}, Rows: [][]any{{1}}})
		wantCode(t, err, windsock.EINVALID)
		_, err = st.ImportRows(ctx, &store.ImportRowsParams{Table: "variable", Columns: []string{"key", "val; DROP TABLE dag"}, Rows: [][]any{{"a", "b"}}})
		wantCode(t, err, windsock.EINVALID)
	})

	t.Run("CheckpointAsideAndRollback", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		cp, err := st.ImportCheckpointGet(ctx, "src", "dag_run")
		mustNo(t, err)
		if cp != nil {
			t.Fatalf("checkpoint of a new source = %+v", cp)
		}
		mustNo(t, st.ImportCheckpointSet(ctx, &store.ImportCheckpoint{Source: "src", Table: "dag_run", Position: `["a"]`}))
		mustNo(t, st.ImportCheckpointSet(ctx, &store.ImportCheckpoint{Source: "src", Table: "dag_run", Position: `["b"]`, Done: true}))
		cp, err = st.ImportCheckpointGet(ctx, "src", "dag_run")
		mustNo(t, err)
		if cp == nil || cp.Position != `["b"]` || !cp.Done {
			t.Fatalf("checkpoint = %+v", cp)
		}
		mustNo(t, st.ImportCheckpointDelete(ctx, "src", "dag_run"))
		if cp, _ = st.ImportCheckpointGet(ctx, "src", "dag_run"); cp != nil {
			t.Fatalf("deleted checkpoint = %+v", cp)
		}

		mustNo(t, st.ImportAsideSet(ctx, &store.ImportAside{Source: "src", Table: "xcom", RowKey: "k", Column: "value", Reason: "first", Value: []byte{0x80, 4}}))
		mustNo(t, st.ImportAsideSet(ctx, &store.ImportAside{Source: "src", Table: "xcom", RowKey: "k", Column: "value", Reason: "pickle of objects", Value: []byte{0x80, 4, '.'}}))
		aside, err := st.ImportAsideList(ctx, "src")
		mustNo(t, err)
		if len(aside) != 1 || aside[0].Reason != "pickle of objects" || string(aside[0].Value) != "\x80\x04." {
			t.Fatalf("aside = %+v", aside)
		}

		// A batch and its checkpoint commit together, or not at all.
		boom := errors.New("interrupted")
		err = st.InTx(ctx, func(q store.Queries) error {
			if _, err := q.ImportRows(ctx, &store.ImportRowsParams{Table: "variable", Columns: []string{"key", "val", "is_encrypted"},
				Rows: [][]any{{"v", "x", false}}}); err != nil {
				return err
			}
			if err := q.ImportCheckpointSet(ctx, &store.ImportCheckpoint{Source: "src", Table: "variable", Position: "1"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		if _, err := st.VariableGet(ctx, "v"); err == nil {
			t.Fatal("variable of a rolled-back batch is there")
		}
		if cp, _ = st.ImportCheckpointGet(ctx, "src", "variable"); cp != nil {
			t.Fatalf("checkpoint of a rolled-back batch = %+v", cp)
		}
	})
	t.Run("IndexesSuspendAndRestore", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
		runCols := []string{"dag_id", "run_id", "execution_date", "state", "run_type", "external_trigger"}
		tiCols := []string{"dag_id", "task_id", "run_id", "map_index", "state", "try_number", "pool", "pool_slots", "priority_weight"}
		imp := func(table string, cols []string, rows ...[]any) []store.ImportOutcome {
			t.Helper()
			out, err := st.ImportRows(ctx, &store.ImportRowsParams{Source: "src", Table: table, Columns: cols, Rows: rows})
			mustNo(t, err)
			return out
		}
		suspend := func(table string, incoming int64) bool {
			t.Helper()
			ok, err := st.ImportIndexesSuspend(ctx, table, incoming)
			mustNo(t, err)
			return ok
		}
		imp("dag_run", runCols, []any{"etl", "r1", t0, "success", "scheduled", false}, []any{"etl", "r2", t0.Add(time.Hour), "failed", "manual", true})
		imp("task_instance", tiCols, []any{"etl", "a", "r1", -1, "success", 1, "default_pool", 1, 1}, []any{"etl", "b", "r1", -1, "failed", 1, "default_pool", 1, 1})

		names := func(table string) []string {
			t.Helper()
			n, err := st.ImportIndexNames(ctx, table)
			mustNo(t, err)
			return n
		}
		tiIndexes, runIndexes := names("task_instance"), names("dag_run")
		if len(tiIndexes) < 5 || len(runIndexes) < 2 || slices.Contains(tiIndexes, "task_instance_pkey") {
			t.Fatalf("secondary indexes: task_instance %v, dag_run %v", tiIndexes, runIndexes)
		}

		// Fewer rows coming than there are: rebuilding would cost more.
		if suspend("task_instance", 2) {
			t.Fatal("suspended for 2 rows into a table of 2")
		}
		// Dropped in a transaction that rolls back: nothing happened.
		boom := errors.New("interrupted")
		err := st.InTx(ctx, func(q store.Queries) error {
			if ok, err := q.ImportIndexesSuspend(ctx, "task_instance", 1000); err != nil || !ok {
				t.Errorf("suspend in a transaction = %v, %v", ok, err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		if suspend("task_instance", 0) {
			t.Fatal("suspension of a rolled-back transaction is recorded")
		}
		if got := names("task_instance"); !slices.Equal(got, tiIndexes) {
			t.Fatalf("indexes after a rolled-back suspension = %v, want %v", got, tiIndexes)
		}

		if !suspend("task_instance", 1000) || !suspend("dag_run", 1000) {
			t.Fatal("not suspended for 1000 rows into a table of 2")
		}
		if got, gotRuns := names("task_instance"), names("dag_run"); len(got) != 0 || len(gotRuns) != 0 {
			t.Fatalf("indexes while suspended: task_instance %v, dag_run %v", got, gotRuns)
		}
		// Once suspended, asking again says so whatever the counts (an
		// import resumed after a crash).
		if !suspend("task_instance", 0) {
			t.Fatal("a second call does not see the suspension")
		}
		// Keys still hold while the other indexes are away; reads that
		// would use them still answer right.
		W, E, K := store.ImportWritten, store.ImportExists, store.ImportKeyTaken
		if got := imp("task_instance", tiCols, []any{"etl", "a", "r1", -1, "failed", 2, "default_pool", 1, 1}, []any{"etl", "a", "r2", -1, "failed", 1, "default_pool", 1, 1}); !slices.Equal(got, []store.ImportOutcome{E, W}) {
			t.Fatalf("task instances while suspended: %v", got)
		}
		if got := imp("dag_run", runCols, []any{"etl", "r3", t0, "queued", "manual", true}); !slices.Equal(got, []store.ImportOutcome{K}) {
			t.Fatalf("a run at a held logical date while suspended: %v", got)
		}
		failed, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: "etl", States: []windsock.TaskInstanceState{windsock.TaskStateFailed}})
		mustNo(t, err)
		if len(failed) != 2 {
			t.Fatalf("failed task instances while suspended = %d, want 2", len(failed))
		}

		mustNo(t, st.ImportIndexesRestore(ctx, "task_instance"))
		mustNo(t, st.ImportIndexesRestore(ctx, "task_instance")) // nothing left: no-op
		mustNo(t, st.ImportIndexesRestore(ctx, "dag_run"))
		if suspend("task_instance", 0) || suspend("dag_run", 0) {
			t.Fatal("still suspended after restore")
		}
		if got, gotRuns := names("task_instance"), names("dag_run"); !slices.Equal(got, tiIndexes) || !slices.Equal(gotRuns, runIndexes) {
			t.Fatalf("indexes after restore: task_instance %v, dag_run %v; want %v, %v", got, gotRuns, tiIndexes, runIndexes)
		}
		failed, err = st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: "etl", States: []windsock.TaskInstanceState{windsock.TaskStateFailed}})
		mustNo(t, err)
		if len(failed) != 2 {
			t.Fatalf("failed task instances after restore = %d, want 2", len(failed))
		}
		// Suspended again and restored again: the definitions survive a
		// round trip.
		if !suspend("task_instance", 1000) {
			t.Fatal("not suspended the second time")
		}
		mustNo(t, st.ImportIndexesRestore(ctx, "task_instance"))
		if got := names("task_instance"); !slices.Equal(got, tiIndexes) {
			t.Fatalf("indexes after the second restore = %v, want %v", got, tiIndexes)
		}

		_, err = st.ImportIndexesSuspend(ctx, "ab_user", 1000)
		wantCode(t, err, windsock.EINVALID)
		_, err = st.ImportIndexNames(ctx, "ab_user")
		wantCode(t, err, windsock.EINVALID)
	})

	t.Run("BulkRows", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		t0 := time.Date(2024, 3, 1, 12, 0, 0, 123456000, time.UTC)
		W, E, P, K := store.ImportWritten, store.ImportExists, store.ImportNoParent, store.ImportKeyTaken
		bulk := func(q store.Queries, table string, cols []string, rows [][]any, overwrite bool) store.ImportCounts {
			t.Helper()
			c, err := q.ImportRowsBulk(ctx, &store.ImportRowsParams{Source: "src", Table: table, Columns: cols, Rows: rows, Overwrite: overwrite})
			mustNo(t, err)
			return c
		}
		want := func(got store.ImportCounts, want store.ImportCounts) {
			t.Helper()
			for o, n := range got {
				if n != want[o] {
					t.Fatalf("counts = %v, want %v", got, want)
				}
			}
			for o, n := range want {
				if got[o] != n {
					t.Fatalf("counts = %v, want %v", got, want)
				}
			}
		}
		runCols := []string{"dag_id", "run_id", "execution_date", "state", "run_type", "external_trigger", "conf", "start_date", "clear_number"}
		var runs [][]any
		// More rows than one multi-row statement holds.
		for i := range 450 {
			runs = append(runs, []any{"etl", fmt.Sprintf("scheduled__%d", i), t0.Add(time.Duration(i) * time.Hour), "success", "scheduled",
				false, []byte(`{"a":1}`), t0, int64(0)})
		}
		want(bulk(st, "dag_run", runCols, runs, false), store.ImportCounts{W: 450})
		want(bulk(st, "dag_run", runCols, runs, false), store.ImportCounts{E: 450})
		// Another run id at a held logical date, without and with
		// overwrite; a new run beside it.
		taken := []any{"etl", "other", t0, "queued", "manual", true, nil, nil, int64(0)}
		fresh := []any{"etl", "late", t0.Add(-time.Hour), "queued", "manual", true, nil, nil, int64(0)}
		want(bulk(st, "dag_run", runCols, [][]any{taken, fresh}, false), store.ImportCounts{K: 1, W: 1})
		want(bulk(st, "dag_run", runCols, [][]any{taken}, true), store.ImportCounts{K: 1})
		// Overwrite replaces the non-key columns; the last of a key's rows
		// in one batch wins.
		first := []any{"etl", "scheduled__1", t0.Add(time.Hour), "failed", "scheduled", false, nil, nil, int64(0)}
		last := []any{"etl", "scheduled__1", t0.Add(time.Hour), "running", "scheduled", true, nil, nil, int64(3)}
		want(bulk(st, "dag_run", runCols, [][]any{first, last}, true), store.ImportCounts{W: 2})
		r, err := st.DagRunGet(ctx, "etl", "scheduled__1")
		mustNo(t, err)
		if r.State != windsock.DagRunRunning || !r.ExternalTrigger {
			t.Fatalf("overwritten run = %+v", r)
		}
		r0, err := st.DagRunGet(ctx, "etl", "scheduled__0")
		mustNo(t, err)
		if !r0.LogicalDate.Equal(t0) || fmt.Sprint(r0.Conf["a"]) != "1" || r0.StartDate == nil || !r0.StartDate.Equal(t0) {
			t.Fatalf("bulk imported run = %+v", r0)
		}

		tiCols := []string{"dag_id", "task_id", "run_id", "map_index", "state", "try_number", "start_date", "duration", "hostname",
			"pool", "pool_slots", "priority_weight", "executor_config", "next_kwargs", "queued_dttm"}
		ti := func(task, run string, state any, try int64) []any {
			return []any{"etl", task, run, -1, state, try, t0, 1.5, "host-a", "default_pool", 1, int64(3), []byte{0x80, 5, '}', 0x94, '.'}, `{"k": 1}`, nil}
		}
		var tis [][]any
		for i := range 450 {
			tis = append(tis, ti("extract", fmt.Sprintf("scheduled__%d", i), "success", 1))
		}
		tis = append(tis, ti("extract", "no_such_run", "success", 1))
		want(bulk(st, "task_instance", tiCols, tis, false), store.ImportCounts{W: 450, P: 1})
		want(bulk(st, "task_instance", tiCols, tis, false), store.ImportCounts{E: 450, P: 1})
		// The same key twice in a batch: kept once without overwrite, the
		// last one wins with it.
		twice := [][]any{ti("load", "late", "failed", 1), ti("load", "late", "success", 2)}
		want(bulk(st, "task_instance", tiCols, twice, false), store.ImportCounts{W: 1, E: 1})
		want(bulk(st, "task_instance", tiCols, twice, true), store.ImportCounts{W: 2})
		got, err := st.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: "etl", TaskID: "load", RunID: "late", MapIndex: -1})
		mustNo(t, err)
		if got.State != windsock.TaskStateSuccess || got.TryNumber != 2 {
			t.Fatalf("overwritten task instance = %+v", got)
		}
		got, err = st.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: "etl", TaskID: "extract", RunID: "scheduled__7", MapIndex: -1})
		mustNo(t, err)
		if got.TryNumber != 1 || got.Hostname != "host-a" || got.Duration == nil || *got.Duration != 1.5 || got.PriorityWeight != 3 ||
			got.StartDate == nil || !got.StartDate.Equal(t0) || got.QueuedDttm != nil {
			t.Fatalf("bulk imported task instance = %+v", got)
		}
		page, err := st.ExportRows(ctx, &store.ExportRowsParams{Table: "task_instance", Columns: []string{"executor_config", "next_kwargs"}, Limit: 1})
		mustNo(t, err)
		if len(page.Rows) != 1 || fmt.Sprintf("%s", page.Rows[0][0]) != "\x80\x05}\x94." || !strings.Contains(fmt.Sprintf("%s", page.Rows[0][1]), `"k"`) {
			t.Fatalf("bulk imported executor_config and next_kwargs = %q", page.Rows)
		}

		// Batches in a transaction that rolls back (a dry run) leave
		// nothing, however many there were.
		boom := errors.New("dry run")
		err = st.InTx(ctx, func(q store.Queries) error {
			want(bulk(q, "dag_run", runCols, [][]any{{"dry", "r1", t0, "success", "manual", true, nil, nil, int64(0)}}, false), store.ImportCounts{W: 1})
			want(bulk(q, "task_instance", tiCols, [][]any{ti("a", "r1", "success", 1)}, false), store.ImportCounts{P: 1})
			want(bulk(q, "dag_run", runCols, [][]any{{"dry", "r2", t0.Add(time.Hour), "success", "manual", true, nil, nil, int64(0)}}, false), store.ImportCounts{W: 1})
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		if _, err := st.DagRunGet(ctx, "dry", "r1"); err == nil {
			t.Fatal("run of a rolled-back bulk import is there")
		}

		_, err = st.ImportRowsBulk(ctx, &store.ImportRowsParams{Table: "xcom", Columns: []string{"dag_id"}, Rows: [][]any{{"a"}}})
		wantCode(t, err, windsock.EINVALID)
		_, err = st.ImportRowsBulk(ctx, &store.ImportRowsParams{Table: "dag_run", Columns: []string{"dag_id", "run_id; DROP TABLE dag"}, Rows: [][]any{{"a", "b"}}})
		wantCode(t, err, windsock.EINVALID)
	})
}
