package storetest

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// day returns the logical date of day n of 2024, 00:00 UTC.
func day(n int) time.Time {
	return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n-1)
}

func ptr[T any](v T) *T { return &v }

// newRun returns a scheduled run of dagID on day n.
func newRun(dagID string, n int) *windsock.DagRun {
	logical := day(n)
	return &windsock.DagRun{
		DagID: dagID, RunID: windsock.RunID(windsock.RunTypeScheduled, logical), LogicalDate: logical,
		State: windsock.DagRunQueued, RunType: windsock.RunTypeScheduled,
		DataIntervalStart: ptr(logical.AddDate(0, 0, -1)), DataIntervalEnd: ptr(logical),
	}
}

// newTIs returns unscheduled task instances of run, one per task id.
func newTIs(run *windsock.DagRun, taskIDs ...string) []*windsock.TaskInstance {
	tis := make([]*windsock.TaskInstance, len(taskIDs))
	for i, id := range taskIDs {
		tis[i] = &windsock.TaskInstance{
			TaskInstanceKey: windsock.TaskInstanceKey{DagID: run.DagID, TaskID: id, RunID: run.RunID, MapIndex: -1},
			MaxTries:        1, Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: "default",
			PriorityWeight: 1, Operator: "BashOperator",
		}
	}
	return tis
}

// createRun stores run with task instances for taskIDs and returns them.
func createRun(t *testing.T, ctx context.Context, st store.Store, run *windsock.DagRun, taskIDs ...string) []*windsock.TaskInstance {
	t.Helper()
	tis := newTIs(run, taskIDs...)
	mustNo(t, st.DagRunCreate(ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}))
	return tis
}

func runIDs(runs []*windsock.DagRun) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.DagID + "/" + r.RunID
	}
	return out
}

func testDagRun(t *testing.T, open OpenFunc) {
	t.Run("CreateGet", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		queued := zoned()
		run := &windsock.DagRun{
			DagID: "etl", RunID: "manual__custom", LogicalDate: zoned().Add(time.Hour),
			QueuedAt: &queued, StartDate: ptr(zoned().Add(time.Minute)), State: windsock.DagRunRunning,
			RunType: windsock.RunTypeManual, ExternalTrigger: true,
			// Numbers come back with the types Python's json gives them:
			// ints (exact past 2^53) and floats.
			Conf: map[string]any{"table": "orders", "limit": 10, "id": 12345678901234567, "ratio": 0.5, "whole": 5.0,
				"nested": map[string]any{"a": []any{"x", -3}}},
			DataIntervalStart: ptr(zoned()), DataIntervalEnd: ptr(zoned().Add(time.Hour)),
			LastSchedulingDecision: ptr(zoned().Add(2 * time.Minute)), DagHash: "abc123",
			CreatingJobID: ptr(int64(42)), ClearNumber: 2, Note: "started by hand",
		}
		tis := newTIs(run, "extract", "transform")
		mapped := newTIs(run, "load", "load")
		mapped[0].MapIndex, mapped[1].MapIndex = 0, 1
		tis = append(tis, mapped...)
		tis[1].Note = "watch this one"
		mustNo(t, st.DagRunCreate(ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}))
		if run.ID == 0 {
			t.Fatal("DagRunCreate did not set ID")
		}

		got, err := st.DagRunGet(ctx, "etl", "manual__custom")
		mustNo(t, err)
		if got.ID != run.ID || got.DagID != "etl" || got.RunID != run.RunID || got.State != windsock.DagRunRunning ||
			got.RunType != windsock.RunTypeManual || !got.ExternalTrigger || got.DagHash != "abc123" ||
			got.CreatingJobID == nil || *got.CreatingJobID != 42 || got.ClearNumber != 2 ||
			got.Note != "started by hand" || got.EndDate != nil || got.UpdatedAt.IsZero() {
			t.Fatalf("DagRunGet = %+v, want %+v", got, run)
		}
		if !reflect.DeepEqual(got.Conf, run.Conf) {
			t.Fatalf("conf = %#v, want %#v", got.Conf, run.Conf)
		}
		wantTime(t, "logical_date", &got.LogicalDate, run.LogicalDate)
		wantTime(t, "queued_at", got.QueuedAt, queued)
		wantTime(t, "start_date", got.StartDate, *run.StartDate)
		wantTime(t, "data_interval_start", got.DataIntervalStart, *run.DataIntervalStart)
		wantTime(t, "data_interval_end", got.DataIntervalEnd, *run.DataIntervalEnd)
		wantTime(t, "last_scheduling_decision", got.LastSchedulingDecision, *run.LastSchedulingDecision)

		list, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: "etl", RunID: run.RunID})
		mustNo(t, err)
		var keys []string
		for _, ti := range list {
			keys = append(keys, fmt.Sprintf("%s[%d]", ti.TaskID, ti.MapIndex))
			if ti.State != windsock.TaskStateNone || ti.Pool != windsock.DefaultPoolName || ti.PoolSlots != 1 ||
				ti.Queue != "default" || ti.Operator != "BashOperator" || ti.MaxTries != 1 || ti.UpdatedAt.IsZero() {
				t.Fatalf("created task instance = %+v", ti)
			}
			if want := map[string]string{"transform": "watch this one"}[ti.TaskID]; ti.Note != want {
				t.Fatalf("note of %s = %q, want %q", ti.TaskID, ti.Note, want)
			}
		}
		if want := []string{"extract[-1]", "load[0]", "load[1]", "transform[-1]"}; !slices.Equal(keys, want) {
			t.Fatalf("task instances = %v, want %v", keys, want)
		}

		// A run without conf keeps none.
		plain := newRun("etl", 5)
		createRun(t, ctx, st, plain)
		got, err = st.DagRunGet(ctx, "etl", plain.RunID)
		mustNo(t, err)
		if got.Conf != nil || got.Note != "" || got.ExternalTrigger || got.CreatingJobID != nil {
			t.Fatalf("plain run = %+v, want no conf, note, trigger or job", got)
		}

		_, err = st.DagRunGet(ctx, "etl", "missing")
		wantCode(t, err, windsock.ENOTFOUND)
		_, err = st.DagRunGet(ctx, "other", "manual__custom")
		wantCode(t, err, windsock.ENOTFOUND)
	})

	t.Run("CreateConflict", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		first := newRun("etl", 1)
		createRun(t, ctx, st, first, "a")

		sameRunID := newRun("etl", 2)
		sameRunID.RunID = first.RunID
		sameDate := newRun("etl", 1)
		sameDate.RunID = "manual__other"
		for name, r := range map[string]*windsock.DagRun{"run_id": sameRunID, "logical date": sameDate} {
			err := st.DagRunCreate(ctx, &store.DagRunCreateParams{Run: r, TaskInstances: newTIs(r, "a", "b")})
			wantCode(t, err, windsock.ECONFLICT)
			// The failed create left nothing behind.
			if r.RunID != first.RunID {
				tis, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: "etl", RunID: r.RunID})
				mustNo(t, err)
				if len(tis) != 0 {
					t.Fatalf("duplicate %s: %d task instances left behind", name, len(tis))
				}
			}
		}
		runs, err := st.DagRunList(ctx, &store.DagRunListParams{DagID: "etl"})
		mustNo(t, err)
		if len(runs) != 1 {
			t.Fatalf("runs after conflicts = %v, want only the first", runIDs(runs))
		}
		// Another DAG may use the same run id and date.
		createRun(t, ctx, st, newRun("other", 1), "a")

		// A failing task instance undoes the run.
		r := newRun("etl", 3)
		tis := newTIs(r, "a", "a")
		wantCode(t, st.DagRunCreate(ctx, &store.DagRunCreateParams{Run: r, TaskInstances: tis}), windsock.ECONFLICT)
		_, err = st.DagRunGet(ctx, "etl", r.RunID)
		wantCode(t, err, windsock.ENOTFOUND)

		// Task instances of another run are refused.
		r = newRun("etl", 4)
		stray := newTIs(newRun("etl", 5), "a")
		wantCode(t, st.DagRunCreate(ctx, &store.DagRunCreateParams{Run: r, TaskInstances: stray}), windsock.EINVALID)
		_, err = st.DagRunGet(ctx, "etl", r.RunID)
		wantCode(t, err, windsock.ENOTFOUND)
	})

	t.Run("ManyTaskInstances", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("big", 1)
		ids := make([]string, 1234) // more than one INSERT chunk
		for i := range ids {
			ids[i] = fmt.Sprintf("task_%04d", i)
		}
		createRun(t, ctx, st, r, ids...)
		tis, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: "big"})
		mustNo(t, err)
		if len(tis) != len(ids) || tis[0].TaskID != ids[0] || tis[len(tis)-1].TaskID != ids[len(ids)-1] {
			t.Fatalf("got %d task instances, want %d", len(tis), len(ids))
		}
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		// etl: days 1-5, day 3 manual and running, day 5 failed;
		// report: days 2 and 4.
		for n := 1; n <= 5; n++ {
			r := newRun("etl", n)
			r.StartDate = ptr(day(n).Add(time.Hour))
			switch n {
			case 3:
				r.RunType, r.RunID, r.State = windsock.RunTypeManual, windsock.RunID(windsock.RunTypeManual, day(n)), windsock.DagRunRunning
				r.StartDate = nil
			case 5:
				r.State = windsock.DagRunFailed
			}
			createRun(t, ctx, st, r)
		}
		createRun(t, ctx, st, newRun("report", 4))
		createRun(t, ctx, st, newRun("report", 2))

		tests := []struct {
			name   string
			params store.DagRunListParams
			want   []string
		}{
			{"all by logical date", store.DagRunListParams{}, []string{
				"etl/scheduled__2024-01-01T00:00:00+00:00", "etl/scheduled__2024-01-02T00:00:00+00:00",
				"report/scheduled__2024-01-02T00:00:00+00:00", "etl/manual__2024-01-03T00:00:00+00:00",
				"etl/scheduled__2024-01-04T00:00:00+00:00", "report/scheduled__2024-01-04T00:00:00+00:00",
				"etl/scheduled__2024-01-05T00:00:00+00:00"}},
			{"dag", store.DagRunListParams{DagID: "report"}, []string{
				"report/scheduled__2024-01-02T00:00:00+00:00", "report/scheduled__2024-01-04T00:00:00+00:00"}},
			{"dags and run id", store.DagRunListParams{DagIDs: []string{"etl", "report"}, RunID: "scheduled__2024-01-04T00:00:00+00:00"}, []string{
				"etl/scheduled__2024-01-04T00:00:00+00:00", "report/scheduled__2024-01-04T00:00:00+00:00"}},
			{"states", store.DagRunListParams{States: []windsock.DagRunState{windsock.DagRunRunning, windsock.DagRunFailed}}, []string{
				"etl/manual__2024-01-03T00:00:00+00:00", "etl/scheduled__2024-01-05T00:00:00+00:00"}},
			{"run types", store.DagRunListParams{RunTypes: []windsock.RunType{windsock.RunTypeManual}}, []string{
				"etl/manual__2024-01-03T00:00:00+00:00"}},
			{"logical date bounds inclusive", store.DagRunListParams{DagID: "etl", LogicalDateGTE: ptr(day(2)), LogicalDateLTE: ptr(day(4).In(time.FixedZone("X", 3600)))}, []string{
				"etl/scheduled__2024-01-02T00:00:00+00:00", "etl/manual__2024-01-03T00:00:00+00:00",
				"etl/scheduled__2024-01-04T00:00:00+00:00"}},
			{"descending logical date, paged", store.DagRunListParams{DagID: "etl", OrderBy: "-logical_date", Limit: 2, Offset: 1}, []string{
				"etl/scheduled__2024-01-04T00:00:00+00:00", "etl/manual__2024-01-03T00:00:00+00:00"}},
			{"offset without limit", store.DagRunListParams{DagID: "etl", OrderBy: "execution_date", Offset: 3}, []string{
				"etl/scheduled__2024-01-04T00:00:00+00:00", "etl/scheduled__2024-01-05T00:00:00+00:00"}},
			{"start date, nulls last", store.DagRunListParams{DagID: "etl", OrderBy: "-start_date"}, []string{
				"etl/scheduled__2024-01-05T00:00:00+00:00", "etl/scheduled__2024-01-04T00:00:00+00:00",
				"etl/scheduled__2024-01-02T00:00:00+00:00", "etl/scheduled__2024-01-01T00:00:00+00:00",
				"etl/manual__2024-01-03T00:00:00+00:00"}},
			{"run id", store.DagRunListParams{DagID: "etl", OrderBy: "run_id", Limit: 1}, []string{
				"etl/manual__2024-01-03T00:00:00+00:00"}},
		}
		for _, tt := range tests {
			got, err := st.DagRunList(ctx, &tt.params)
			mustNo(t, err)
			if ids := runIDs(got); !slices.Equal(ids, tt.want) {
				t.Errorf("%s: DagRunList = %v, want %v", tt.name, ids, tt.want)
			}
		}
		for _, bad := range []string{"conf", "-", "execution_date; DROP TABLE dag_run", "dag_run.id", "--id"} {
			_, err := st.DagRunList(ctx, &store.DagRunListParams{OrderBy: bad})
			wantCode(t, err, windsock.EINVALID)
		}

		// DatesAndStates: the same runs, the same filters and order, with
		// only the id, ids, logical date and state read.
		full, err := st.DagRunList(ctx, &store.DagRunListParams{DagID: "etl", OrderBy: "-logical_date"})
		mustNo(t, err)
		lean, err := st.DagRunList(ctx, &store.DagRunListParams{DagID: "etl", OrderBy: "-logical_date", DatesAndStates: true})
		mustNo(t, err)
		if !slices.Equal(runIDs(lean), runIDs(full)) {
			t.Fatalf("DatesAndStates runs = %v, want %v", runIDs(lean), runIDs(full))
		}
		for i, r := range lean {
			if r.ID != full[i].ID || r.State != full[i].State || !r.LogicalDate.Equal(full[i].LogicalDate) {
				t.Errorf("DatesAndStates run %d = %+v, want id, state and date of %+v", i, r, full[i])
			}
			if r.StartDate != nil || r.RunType != "" || r.UpdatedAt != (time.Time{}) {
				t.Errorf("DatesAndStates read more than dates and states: %+v", r)
			}
		}
	})

	t.Run("UpdateDeleteCounts", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("etl", 1)
		r.Conf = map[string]any{"a": "b"}
		r.Note = "first"
		createRun(t, ctx, st, r, "a")
		created := r.UpdatedAt

		r.State = windsock.DagRunSuccess
		r.StartDate, r.EndDate, r.QueuedAt = ptr(zoned()), ptr(zoned().Add(time.Hour)), ptr(zoned().Add(-time.Hour))
		r.LastSchedulingDecision = ptr(zoned().Add(time.Minute))
		r.ClearNumber = 1
		r.Conf = nil
		r.Note = "second"
		// Columns DagRunUpdate does not write.
		r.DagHash, r.RunType = "changed", windsock.RunTypeBackfill
		mustNo(t, st.DagRunUpdate(ctx, r))
		got, err := st.DagRunGet(ctx, "etl", r.RunID)
		mustNo(t, err)
		if got.State != windsock.DagRunSuccess || got.ClearNumber != 1 || got.Conf != nil || got.Note != "second" ||
			got.DagHash != "" || got.RunType != windsock.RunTypeScheduled || got.UpdatedAt.Before(created) {
			t.Fatalf("after DagRunUpdate = %+v", got)
		}
		wantTime(t, "start_date", got.StartDate, zoned())
		wantTime(t, "end_date", got.EndDate, zoned().Add(time.Hour))
		wantTime(t, "queued_at", got.QueuedAt, zoned().Add(-time.Hour))
		wantTime(t, "last_scheduling_decision", got.LastSchedulingDecision, zoned().Add(time.Minute))

		r.Note = ""
		mustNo(t, st.DagRunUpdate(ctx, r))
		got, err = st.DagRunGet(ctx, "etl", r.RunID)
		mustNo(t, err)
		if got.Note != "" {
			t.Fatalf("note after clearing = %q", got.Note)
		}
		wantCode(t, st.DagRunUpdate(ctx, &windsock.DagRun{ID: 99999, State: windsock.DagRunFailed}), windsock.ENOTFOUND)

		for n := 2; n <= 4; n++ {
			r := newRun("etl", n)
			r.State = windsock.DagRunRunning
			createRun(t, ctx, st, r)
		}
		createRun(t, ctx, st, newRun("report", 1))
		counts, err := st.DagRunCounts(ctx, []windsock.DagRunState{windsock.DagRunRunning, windsock.DagRunQueued})
		mustNo(t, err)
		if want := map[string]int{"etl": 3, "report": 1}; !maps.Equal(counts, want) {
			t.Fatalf("DagRunCounts(running, queued) = %v, want %v", counts, want)
		}
		counts, err = st.DagRunCounts(ctx, []windsock.DagRunState{windsock.DagRunFailed})
		mustNo(t, err)
		if len(counts) != 0 {
			t.Fatalf("DagRunCounts(failed) = %v, want none", counts)
		}

		mustNo(t, st.DagRunDelete(ctx, "etl", r.RunID))
		_, err = st.DagRunGet(ctx, "etl", r.RunID)
		wantCode(t, err, windsock.ENOTFOUND)
		wantCode(t, st.DagRunDelete(ctx, "etl", r.RunID), windsock.ENOTFOUND)
	})

	t.Run("DeleteCascades", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("etl", 1)
		r.Note = "note"
		tis := createRun(t, ctx, st, r, "a", "b")
		keep := newRun("etl", 2)
		keepTIs := createRun(t, ctx, st, keep, "a")
		for _, ti := range append(tis, keepTIs...) {
			ti.Note = "ti note"
			_, err := st.TaskInstanceUpdate(ctx, ti)
			mustNo(t, err)
			mustNo(t, st.XComSet(ctx, &windsock.XCom{TaskID: ti.TaskID, MapIndex: -1, Key: windsock.XComReturnKey,
				DagID: ti.DagID, RunID: ti.RunID, Value: []byte(`1`)}))
			mustNo(t, st.TaskFailInsert(ctx, &windsock.TaskFail{DagID: ti.DagID, TaskID: ti.TaskID, RunID: ti.RunID, MapIndex: -1}))
			mustNo(t, st.TaskRescheduleInsert(ctx, &windsock.TaskReschedule{DagID: ti.DagID, TaskID: ti.TaskID,
				RunID: ti.RunID, MapIndex: -1, TryNumber: 1, StartDate: zoned(), EndDate: zoned(), RescheduleDate: zoned()}))
			mustNo(t, st.RenderedFieldsSet(ctx, ti.TaskInstanceKey, []byte(`{}`)))
		}

		mustNo(t, st.DagRunDelete(ctx, "etl", r.RunID))
		left, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: "etl"})
		mustNo(t, err)
		if len(left) != 1 || left[0].RunID != keep.RunID || left[0].Note != "ti note" {
			t.Fatalf("task instances after delete = %+v, want only the other run's", left)
		}
		xs, err := st.XComList(ctx, "etl", r.RunID, "")
		mustNo(t, err)
		if len(xs) != 0 {
			t.Fatalf("xcoms of a deleted run = %d", len(xs))
		}
		for _, ti := range tis {
			fails, err := st.TaskFailList(ctx, ti.TaskInstanceKey)
			mustNo(t, err)
			rs, err := st.TaskRescheduleList(ctx, ti.TaskInstanceKey, 1)
			mustNo(t, err)
			_, rerr := st.RenderedFieldsGet(ctx, ti.TaskInstanceKey)
			if len(fails) != 0 || len(rs) != 0 || windsock.ErrorCode(rerr) != windsock.ENOTFOUND {
				t.Fatalf("%s after delete: %d fails, %d reschedules, rendered fields err %v", ti.TaskID, len(fails), len(rs), rerr)
			}
		}
		// A new run with the same id starts clean.
		again := newRun("etl", 1)
		createRun(t, ctx, st, again, "a")
		got, err := st.DagRunGet(ctx, "etl", again.RunID)
		mustNo(t, err)
		ti, err := st.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: "etl", TaskID: "a", RunID: again.RunID, MapIndex: -1})
		mustNo(t, err)
		if got.Note != "" || ti.Note != "" {
			t.Fatalf("recreated run kept notes: run %q, task %q", got.Note, ti.Note)
		}
		keptXComs, err := st.XComList(ctx, "etl", keep.RunID, "")
		mustNo(t, err)
		if len(keptXComs) != 1 {
			t.Fatalf("xcoms of the other run = %d, want 1", len(keptXComs))
		}
	})
}
