package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func testRunQueries(t *testing.T, open OpenFunc) {
	t.Run("DagRunQuery", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		for i, d := range []string{"a", "b", "a", "c"} {
			r := newRun(d, i+1)
			if i == 1 {
				r.State = windsock.DagRunSuccess
				r.StartDate, r.EndDate = ptr(day(10)), ptr(day(11))
			}
			createRun(t, ctx, st, r, "t")
		}
		query := func(p store.DagRunQueryParams) ([]string, int) {
			t.Helper()
			runs, total, err := st.DagRunQuery(ctx, &p)
			mustNo(t, err)
			return runIDs(runs), total
		}
		got, total := query(store.DagRunQueryParams{Limit: 2, Offset: 1})
		if total != 4 || !slices.Equal(got, []string{"b/" + newRun("b", 2).RunID, "a/" + newRun("a", 3).RunID}) {
			t.Fatalf("page = %v (total %d)", got, total)
		}
		got, total = query(store.DagRunQueryParams{DagIDs: []string{"a"}, OrderBy: "-execution_date"})
		if total != 2 || len(got) != 2 || got[0] != "a/"+newRun("a", 3).RunID {
			t.Fatalf("dag a, newest first = %v (total %d)", got, total)
		}
		got, total = query(store.DagRunQueryParams{OnlyDagIDs: true})
		if total != 0 || len(got) != 0 {
			t.Fatalf("no readable DAGs gave %v (total %d)", got, total)
		}
		got, total = query(store.DagRunQueryParams{States: []windsock.DagRunState{windsock.DagRunSuccess}})
		if total != 1 || got[0] != "b/"+newRun("b", 2).RunID {
			t.Fatalf("state success = %v", got)
		}
		got, total = query(store.DagRunQueryParams{LogicalDate: store.TimeRange{GTE: ptr(day(2)), LTE: ptr(day(3))}})
		if total != 2 {
			t.Fatalf("logical date 2..3 = %v", got)
		}
		got, total = query(store.DagRunQueryParams{EndDate: store.TimeRange{GTE: ptr(day(11))}, StartDate: store.TimeRange{LTE: ptr(day(10))}})
		if total != 1 || len(got) != 1 {
			t.Fatalf("start/end range = %v", got)
		}
		got, total = query(store.DagRunQueryParams{UpdatedAt: store.TimeRange{LTE: ptr(time.Now().Add(-time.Hour))}})
		if total != 0 {
			t.Fatalf("updated an hour ago = %v", got)
		}
		got, total = query(store.DagRunQueryParams{Limit: 10, Offset: 10})
		if total != 4 || len(got) != 0 {
			t.Fatalf("past the end = %v (total %d)", got, total)
		}
		_, _, err := st.DagRunQuery(ctx, &store.DagRunQueryParams{OrderBy: "colour"})
		wantCode(t, err, windsock.EINVALID)
	})

	t.Run("TaskInstanceQuery", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r1, r2 := newRun("etl", 1), newRun("etl", 2)
		tis := createRun(t, ctx, st, r1, "extract", "load")
		createRun(t, ctx, st, r2, "extract", "load")
		createRun(t, ctx, st, newRun("other", 1), "x")
		mapped := newTIs(r2, "m", "m")
		mapped[0].MapIndex, mapped[1].MapIndex = 0, 1
		mustNo(t, st.TaskInstanceInsert(ctx, mapped))
		ex := tis[0]
		ex.State, ex.Pool, ex.Queue, ex.Executor = windsock.TaskStateSuccess, "big", "q2", "LocalExecutor"
		ex.StartDate, ex.EndDate, ex.Duration = ptr(day(1)), ptr(day(1).Add(90*time.Second)), ptr(90.0)
		_, err := st.TaskInstanceUpdate(ctx, ex)
		mustNo(t, err)
		mustNo(t, st.RenderedFieldsSet(ctx, ex.TaskInstanceKey, []byte(`{"bash_command":"echo 1"}`)))
		mustNo(t, st.SlaMissInsert(ctx, &windsock.SlaMiss{DagID: "etl", TaskID: "extract", ExecutionDate: day(1),
			Timestamp: day(2), Description: "late"}))

		query := func(p store.TaskInstanceQueryParams) ([]*store.TaskInstanceDetail, int) {
			t.Helper()
			out, total, err := st.TaskInstanceQuery(ctx, &p)
			mustNo(t, err)
			return out, total
		}
		all, total := query(store.TaskInstanceQueryParams{})
		if total != 7 || len(all) != 7 {
			t.Fatalf("all = %d (total %d)", len(all), total)
		}
		got, total := query(store.TaskInstanceQueryParams{DagIDs: []string{"etl"}, RunIDs: []string{r1.RunID}, TaskIDs: []string{"extract"}})
		if total != 1 {
			t.Fatalf("one instance: total %d", total)
		}
		d := got[0]
		if d.State != windsock.TaskStateSuccess || d.Pool != "big" || string(d.RenderedFields) != `{"bash_command":"echo 1"}` ||
			d.SlaMiss == nil || d.SlaMiss.Description != "late" {
			t.Fatalf("detail = %+v, rendered %s, sla %+v", d.TaskInstance, d.RenderedFields, d.SlaMiss)
		}
		wantTime(t, "logical date", &d.LogicalDate, day(1))
		got, _ = query(store.TaskInstanceQueryParams{RunIDs: []string{r2.RunID}, TaskIDs: []string{"extract"}})
		if got[0].SlaMiss != nil || got[0].RenderedFields != nil {
			t.Fatalf("run 2 extract has sla %+v, rendered %s", got[0].SlaMiss, got[0].RenderedFields)
		}
		for name, c := range map[string]struct {
			p    store.TaskInstanceQueryParams
			want int
		}{
			"state none":      {store.TaskInstanceQueryParams{States: []windsock.TaskInstanceState{windsock.TaskStateNone}}, 6},
			"state success":   {store.TaskInstanceQueryParams{States: []windsock.TaskInstanceState{windsock.TaskStateSuccess}}, 1},
			"pool":            {store.TaskInstanceQueryParams{Pools: []string{"big"}}, 1},
			"queue":           {store.TaskInstanceQueryParams{Queues: []string{"default"}}, 6},
			"executor":        {store.TaskInstanceQueryParams{Executors: []string{"LocalExecutor"}}, 1},
			"logical date":    {store.TaskInstanceQueryParams{LogicalDate: store.TimeRange{GTE: ptr(day(2))}}, 4},
			"start date":      {store.TaskInstanceQueryParams{StartDate: store.TimeRange{GTE: ptr(day(1)), LTE: ptr(day(1))}}, 1},
			"end date":        {store.TaskInstanceQueryParams{EndDate: store.TimeRange{LTE: ptr(day(2))}}, 1},
			"duration":        {store.TaskInstanceQueryParams{DurationGTE: ptr(60.0), DurationLTE: ptr(100.0)}, 1},
			"duration high":   {store.TaskInstanceQueryParams{DurationGTE: ptr(100.0)}, 0},
			"map index":       {store.TaskInstanceQueryParams{MapIndex: ptr(-1)}, 5},
			"only mapped":     {store.TaskInstanceQueryParams{OnlyMapped: true}, 2},
			"only none":       {store.TaskInstanceQueryParams{OnlyDagIDs: true}, 0},
			"updated in past": {store.TaskInstanceQueryParams{UpdatedAt: store.TimeRange{LTE: ptr(time.Now().Add(-time.Hour))}}, 0},
		} {
			if _, total := query(c.p); total != c.want {
				t.Errorf("%s: total %d, want %d", name, total, c.want)
			}
		}
		got, total = query(store.TaskInstanceQueryParams{OrderBy: "-execution_date", Limit: 2, Offset: 1})
		if total != 7 || len(got) != 2 || !got[0].LogicalDate.Equal(day(2)) || !got[1].LogicalDate.Equal(day(2)) {
			t.Fatalf("ordered page: total %d, %d rows", total, len(got))
		}
		_, _, err = st.TaskInstanceQuery(ctx, &store.TaskInstanceQueryParams{OrderBy: "colour"})
		wantCode(t, err, windsock.EINVALID)
	})

	t.Run("XComQuery", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("etl", 1)
		createRun(t, ctx, st, r, "a", "b")
		o := newRun("other", 2)
		createRun(t, ctx, st, o, "a")
		for _, x := range []*windsock.XCom{
			{TaskID: "a", MapIndex: -1, Key: "return_value", DagID: "etl", RunID: r.RunID, Value: []byte(`1`)},
			{TaskID: "a", MapIndex: -1, Key: "k", DagID: "etl", RunID: r.RunID, Value: []byte(`2`)},
			{TaskID: "b", MapIndex: -1, Key: "return_value", DagID: "etl", RunID: r.RunID, Value: []byte(`3`)},
			{TaskID: "a", MapIndex: -1, Key: "return_value", DagID: "other", RunID: o.RunID, Value: []byte(`4`)},
		} {
			mustNo(t, st.XComSet(ctx, x))
		}
		query := func(p store.XComQueryParams) ([]string, int) {
			t.Helper()
			out, total, err := st.XComQuery(ctx, &p)
			mustNo(t, err)
			var keys []string
			for _, e := range out {
				keys = append(keys, e.DagID+"/"+e.TaskID+"/"+e.Key+"="+string(e.Value))
			}
			return keys, total
		}
		got, total := query(store.XComQueryParams{})
		want := []string{"etl/a/k=2", "etl/a/return_value=1", "etl/b/return_value=3", "other/a/return_value=4"}
		if total != 4 || !slices.Equal(got, want) {
			t.Fatalf("all = %v (total %d)", got, total)
		}
		got, total = query(store.XComQueryParams{DagIDs: []string{"etl"}, RunID: r.RunID, TaskID: "a", Limit: 1, Offset: 1})
		if total != 2 || !slices.Equal(got, []string{"etl/a/return_value=1"}) {
			t.Fatalf("page = %v (total %d)", got, total)
		}
		got, total = query(store.XComQueryParams{Key: "return_value", MapIndex: ptr(-1)})
		if total != 3 {
			t.Fatalf("return values = %v", got)
		}
		if _, total = query(store.XComQueryParams{MapIndex: ptr(0)}); total != 0 {
			t.Fatalf("map index 0: total %d", total)
		}
		if _, total = query(store.XComQueryParams{OnlyDagIDs: true}); total != 0 {
			t.Fatalf("no DAGs: total %d", total)
		}
		entries, _, err := st.XComQuery(ctx, &store.XComQueryParams{DagIDs: []string{"other"}})
		mustNo(t, err)
		wantTime(t, "logical date", &entries[0].LogicalDate, day(2))
	})
}
