package storetest

import (
	"slices"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// testDAGQueries covers DAGQueries: the filtered, ordered, paged and
// counted DAG list, pausing many DAGs, and deleting a DAG's metadata.
func testDAGQueries(t *testing.T, open OpenFunc) {
	t.Run("DAGQuery", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		for _, p := range []*store.DAGUpsertParams{
			dagParams("etl_daily", "finance", "etl"),
			dagParams("ETL_hourly", "etl"),
			dagParams("report", "finance"),
			dagParams("x_y", "misc"),
			dagParams("xay"),
			dagParams("gone"),
			dagParams("pct_100%"),
		} {
			mustNo(t, st.DAGUpsert(ctx, p))
		}
		mustNo(t, st.DAGDeactivate(ctx, []string{"gone"}))
		mustNo(t, st.DAGSetPaused(ctx, "report", false))
		no, yes := false, true
		tests := []struct {
			name   string
			params *store.DAGQueryParams
			want   []string
			total  int
		}{
			{"all", nil, []string{"ETL_hourly", "etl_daily", "gone", "pct_100%", "report", "x_y", "xay"}, 7},
			{"active", &store.DAGQueryParams{OnlyActive: true}, []string{"ETL_hourly", "etl_daily", "pct_100%", "report", "x_y", "xay"}, 6},
			{"descending page", &store.DAGQueryParams{OnlyActive: true, OrderBy: "-dag_id", Limit: 2, Offset: 1},
				[]string{"x_y", "report"}, 6},
			{"offset past the end", &store.DAGQueryParams{Offset: 10}, nil, 7},
			{"unpaused", &store.DAGQueryParams{Paused: &no}, []string{"report"}, 1},
			{"paused", &store.DAGQueryParams{Paused: &yes, OnlyActive: true, Limit: 1}, []string{"ETL_hourly"}, 5},
			{"any tag", &store.DAGQueryParams{Tags: []string{"finance", "misc"}}, []string{"etl_daily", "report", "x_y"}, 3},
			{"pattern ignores case", &store.DAGQueryParams{DagIDPattern: "etl"}, []string{"ETL_hourly", "etl_daily"}, 2},
			{"underscore is a wildcard", &store.DAGQueryParams{DagIDPattern: "x_y"}, []string{"x_y", "xay"}, 2},
			{"escaped underscore", &store.DAGQueryParams{DagIDPattern: `x\_y`}, []string{"x_y"}, 1},
			{"escaped percent", &store.DAGQueryParams{DagIDPattern: `100\%`}, []string{"pct_100%"}, 1},
			{"quotes are data", &store.DAGQueryParams{DagIDPattern: `' OR '1'='1`}, nil, 0},
			{"restricted", &store.DAGQueryParams{RestrictDAGs: true, DagIDs: []string{"report", "xay", "nope"}}, []string{"report", "xay"}, 2},
			{"restricted to none", &store.DAGQueryParams{RestrictDAGs: true}, nil, 0},
			{"everything", &store.DAGQueryParams{RestrictDAGs: true, DagIDs: []string{"etl_daily", "report"},
				OnlyActive: true, Tags: []string{"finance"}, DagIDPattern: "E", Paused: &yes}, []string{"etl_daily"}, 1},
		}
		for _, tc := range tests {
			got, total, err := st.DAGQuery(ctx, tc.params)
			mustNo(t, err)
			if !slices.Equal(dagIDs(got), tc.want) || total != tc.total {
				t.Errorf("%s: got %v (total %d), want %v (total %d)", tc.name, dagIDs(got), total, tc.want, tc.total)
			}
		}
		got, _, err := st.DAGQuery(ctx, &store.DAGQueryParams{DagIDPattern: "etl_daily"})
		mustNo(t, err)
		if len(got) != 1 || !slices.Equal(got[0].Tags, []string{"etl", "finance"}) || got[0].Fileloc != "/dags/etl_daily.yaml" {
			t.Errorf("etl_daily row = %+v", got)
		}
		_, _, err = st.DAGQuery(ctx, &store.DAGQueryParams{OrderBy: "fileloc"})
		wantCode(t, err, windsock.EINVALID)
	})

	t.Run("DAGSetPausedMany", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		for _, id := range []string{"a", "b", "c"} {
			mustNo(t, st.DAGUpsert(ctx, dagParams(id)))
		}
		mustNo(t, st.DAGSetPausedMany(ctx, []string{"a", "c", "missing"}, false))
		mustNo(t, st.DAGSetPausedMany(ctx, nil, false))
		no := false
		got, total, err := st.DAGQuery(ctx, &store.DAGQueryParams{Paused: &no})
		mustNo(t, err)
		if !slices.Equal(dagIDs(got), []string{"a", "c"}) || total != 2 {
			t.Errorf("unpaused = %v (total %d), want [a c]", dagIDs(got), total)
		}
	})

	t.Run("DAGDelete", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		for _, id := range []string{"doomed", "kept"} {
			mustNo(t, st.DAGUpsert(ctx, dagParams(id, "t")))
			_, err := st.SerializedDAGUpsert(ctx, &windsock.SerializedDAG{DagID: id, Fileloc: "/dags/" + id + ".yaml",
				FilelocHash: windsock.FilelocHash("/dags/" + id + ".yaml"), Data: []byte(`{}`), DagHash: "h", LastUpdated: zoned()})
			mustNo(t, err)
			mustNo(t, st.ImportErrorSet(ctx, &windsock.ImportError{Timestamp: zoned(), Filename: "/dags/" + id + ".yaml", Stacktrace: "x"}))
		}
		run := newRun("doomed", 1)
		tis := createRun(t, ctx, st, run, "extract", "load")
		keptRun := newRun("kept", 1)
		createRun(t, ctx, st, keptRun, "extract")
		mustNo(t, st.XComSet(ctx, &windsock.XCom{DagRunID: run.ID, DagID: "doomed", RunID: run.RunID, TaskID: "extract",
			MapIndex: -1, Key: "return_value", Value: []byte(`1`), Timestamp: zoned()}))
		mustNo(t, st.EventLogInsert(ctx, &windsock.EventLog{Dttm: zoned(), DagID: "doomed", Event: "trigger"}))

		tis[0].State = windsock.TaskStateRunning
		_, err := st.TaskInstanceUpdate(ctx, tis[0])
		mustNo(t, err)
		wantCode(t, st.DAGDelete(ctx, "doomed"), windsock.ECONFLICT)
		if _, err := st.DAGGet(ctx, "doomed"); err != nil {
			t.Fatalf("a refused delete removed the dag: %v", err)
		}
		tis[0].State = windsock.TaskStateSuccess
		_, err = st.TaskInstanceUpdate(ctx, tis[0])
		mustNo(t, err)

		mustNo(t, st.DAGDelete(ctx, "doomed"))
		wantCode(t, st.DAGDelete(ctx, "doomed"), windsock.ENOTFOUND)
		_, err = st.DAGGet(ctx, "doomed")
		wantCode(t, err, windsock.ENOTFOUND)
		_, err = st.SerializedDAGGet(ctx, "doomed")
		wantCode(t, err, windsock.ENOTFOUND)
		_, err = st.DagRunGet(ctx, "doomed", run.RunID)
		wantCode(t, err, windsock.ENOTFOUND)
		left, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: "doomed"})
		mustNo(t, err)
		xcoms, err := st.XComList(ctx, "doomed", run.RunID, "")
		mustNo(t, err)
		if len(left) != 0 || len(xcoms) != 0 {
			t.Errorf("after delete: %d task instances, %d xcoms left", len(left), len(xcoms))
		}
		errs, err := st.ImportErrorList(ctx)
		mustNo(t, err)
		if len(errs) != 1 || errs[0].Filename != "/dags/kept.yaml" {
			t.Errorf("import errors after delete = %+v, want only kept's", errs)
		}
		events, err := st.EventLogList(ctx, &store.EventLogListParams{DagID: "doomed"})
		mustNo(t, err)
		if len(events) != 1 {
			t.Errorf("event log rows of the deleted dag = %d, want 1 (kept)", len(events))
		}
		// The other DAG is untouched.
		if _, err := st.DagRunGet(ctx, "kept", keptRun.RunID); err != nil {
			t.Errorf("kept run: %v", err)
		}
		kept, err := st.DAGGet(ctx, "kept")
		mustNo(t, err)
		if !slices.Equal(kept.Tags, []string{"t"}) {
			t.Errorf("kept tags = %v", kept.Tags)
		}
	})
}
