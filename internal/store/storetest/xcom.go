package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func testXCom(t *testing.T, open OpenFunc) {
	t.Run("SetGetListClear", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("etl", 1)
		tis := createRun(t, ctx, st, r, "push", "other")
		mapped := newTIs(r, "mapped")[0]
		mapped.MapIndex = 0
		mustNo(t, st.TaskInstanceInsert(ctx, []*windsock.TaskInstance{mapped}))

		set := func(taskID string, mapIndex int, key, value string) {
			t.Helper()
			x := &windsock.XCom{DagRunID: r.ID, TaskID: taskID, MapIndex: mapIndex, Key: key, DagID: "etl",
				RunID: r.RunID, Value: []byte(value), Timestamp: zoned()}
			mustNo(t, st.XComSet(ctx, x))
		}
		set("push", -1, windsock.XComReturnKey, `{"rows":1}`)
		set("push", -1, "extra", `"a"`)
		set("other", -1, windsock.XComReturnKey, `2`)
		set("mapped", 0, windsock.XComReturnKey, `[0]`)
		// Without the run's id: looked up, and set.
		x := &windsock.XCom{TaskID: "push", MapIndex: -1, Key: "late", DagID: "etl", RunID: r.RunID, Value: []byte(`null`)}
		mustNo(t, st.XComSet(ctx, x))
		if x.DagRunID != r.ID || x.Timestamp.IsZero() {
			t.Fatalf("XComSet without a run id left DagRunID %d (want %d), timestamp %v", x.DagRunID, r.ID, x.Timestamp)
		}

		get := store.XComGetParams{DagID: "etl", RunID: r.RunID, TaskID: "push", MapIndex: -1, Key: windsock.XComReturnKey}
		got, err := st.XComGet(ctx, &get)
		mustNo(t, err)
		if string(got.Value) != `{"rows":1}` || got.DagRunID != r.ID || got.DagID != "etl" || got.RunID != r.RunID ||
			got.TaskID != "push" || got.MapIndex != -1 || got.Key != windsock.XComReturnKey {
			t.Fatalf("XComGet = %+v", got)
		}
		wantTime(t, "timestamp", &got.Timestamp, zoned())

		set("push", -1, windsock.XComReturnKey, `{"rows":2}`)
		got, err = st.XComGet(ctx, &get)
		mustNo(t, err)
		if string(got.Value) != `{"rows":2}` {
			t.Fatalf("XComGet after replace = %s", got.Value)
		}

		list, err := st.XComList(ctx, "etl", r.RunID, "")
		mustNo(t, err)
		var keys []string
		for _, x := range list {
			keys = append(keys, x.TaskID+"/"+x.Key)
		}
		if want := []string{"mapped/return_value", "other/return_value", "push/extra", "push/late", "push/return_value"}; !slices.Equal(keys, want) {
			t.Fatalf("XComList = %v, want %v", keys, want)
		}
		list, err = st.XComList(ctx, "etl", r.RunID, "other")
		mustNo(t, err)
		if len(list) != 1 || string(list[0].Value) != "2" {
			t.Fatalf("XComList(other) = %+v", list)
		}
		list, err = st.XComList(ctx, "etl", "no_such_run", "")
		mustNo(t, err)
		if len(list) != 0 {
			t.Fatalf("XComList of a missing run = %d values", len(list))
		}

		mustNo(t, st.XComClear(ctx, tis[0].TaskInstanceKey))
		_, err = st.XComGet(ctx, &get)
		wantCode(t, err, windsock.ENOTFOUND)
		list, err = st.XComList(ctx, "etl", r.RunID, "")
		mustNo(t, err)
		if len(list) != 2 {
			t.Fatalf("%d values left after clearing push, want 2", len(list))
		}

		missingTI := &windsock.XCom{DagRunID: r.ID, TaskID: "nope", MapIndex: -1, Key: "k", DagID: "etl", RunID: r.RunID, Value: []byte(`1`)}
		wantCode(t, st.XComSet(ctx, missingTI), windsock.ENOTFOUND)
		missingRun := &windsock.XCom{TaskID: "push", MapIndex: -1, Key: "k", DagID: "etl", RunID: "nope", Value: []byte(`1`)}
		wantCode(t, st.XComSet(ctx, missingRun), windsock.ENOTFOUND)
	})
}

func testTaskRecords(t *testing.T, open OpenFunc) {
	t.Run("TaskFail", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("etl", 1)
		tis := createRun(t, ctx, st, r, "a", "b")
		key := tis[0].TaskInstanceKey
		first := &windsock.TaskFail{DagID: "etl", TaskID: "a", RunID: r.RunID, MapIndex: -1,
			StartDate: ptr(zoned()), EndDate: ptr(zoned().Add(time.Minute)), Duration: ptr(60)}
		mustNo(t, st.TaskFailInsert(ctx, first))
		second := &windsock.TaskFail{DagID: "etl", TaskID: "a", RunID: r.RunID, MapIndex: -1}
		mustNo(t, st.TaskFailInsert(ctx, second))
		mustNo(t, st.TaskFailInsert(ctx, &windsock.TaskFail{DagID: "etl", TaskID: "b", RunID: r.RunID, MapIndex: -1}))
		if first.ID == 0 || second.ID <= first.ID {
			t.Fatalf("ids = %d, %d, want increasing", first.ID, second.ID)
		}
		fails, err := st.TaskFailList(ctx, key)
		mustNo(t, err)
		if len(fails) != 2 || fails[0].ID != first.ID || fails[1].ID != second.ID || *fails[0].Duration != 60 ||
			fails[1].StartDate != nil || fails[1].Duration != nil {
			t.Fatalf("TaskFailList = %+v", fails)
		}
		wantTime(t, "start_date", fails[0].StartDate, zoned())
		wantTime(t, "end_date", fails[0].EndDate, zoned().Add(time.Minute))
		wantCode(t, st.TaskFailInsert(ctx, &windsock.TaskFail{DagID: "etl", TaskID: "nope", RunID: r.RunID, MapIndex: -1}), windsock.ENOTFOUND)

		// The whole run in one read: by task, then as recorded; another
		// run's fails are not in it.
		r2 := newRun("etl", 2)
		createRun(t, ctx, st, r2, "a")
		mustNo(t, st.TaskFailInsert(ctx, &windsock.TaskFail{DagID: "etl", TaskID: "a", RunID: r2.RunID, MapIndex: -1}))
		all, err := st.TaskFailListRun(ctx, "etl", r.RunID)
		mustNo(t, err)
		var got []string
		for _, f := range all {
			got = append(got, fmt.Sprintf("%s#%d", f.TaskID, f.ID))
		}
		want := []string{fmt.Sprintf("a#%d", first.ID), fmt.Sprintf("a#%d", second.ID), fmt.Sprintf("b#%d", second.ID+1)}
		if !slices.Equal(got, want) || *all[0].Duration != 60 {
			t.Fatalf("TaskFailListRun = %v, want %v", got, want)
		}
	})

	t.Run("TaskReschedule", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("etl", 1)
		tis := createRun(t, ctx, st, r, "sensor", "other")
		key := tis[0].TaskInstanceKey
		insert := func(ti *windsock.TaskInstance, try int, at time.Time) *windsock.TaskReschedule {
			t.Helper()
			rs := &windsock.TaskReschedule{DagID: ti.DagID, TaskID: ti.TaskID, RunID: ti.RunID, MapIndex: ti.MapIndex,
				TryNumber: try, StartDate: at, EndDate: at.Add(time.Second), Duration: 1, RescheduleDate: at.Add(time.Minute)}
			mustNo(t, st.TaskRescheduleInsert(ctx, rs))
			if rs.ID == 0 {
				t.Fatal("TaskRescheduleInsert did not set ID")
			}
			return rs
		}
		a := insert(tis[0], 1, zoned())
		b := insert(tis[0], 1, zoned().Add(time.Minute))
		insert(tis[0], 2, zoned().Add(time.Hour))
		insert(tis[1], 1, zoned())

		got, err := st.TaskRescheduleList(ctx, key, 1)
		mustNo(t, err)
		if len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID || got[0].TryNumber != 1 || got[0].Duration != 1 {
			t.Fatalf("TaskRescheduleList(try 1) = %+v", got)
		}
		wantTime(t, "start_date", &got[0].StartDate, zoned())
		wantTime(t, "end_date", &got[0].EndDate, zoned().Add(time.Second))
		wantTime(t, "reschedule_date", &got[1].RescheduleDate, zoned().Add(2*time.Minute))
		got, err = st.TaskRescheduleList(ctx, key, 2)
		mustNo(t, err)
		if len(got) != 1 {
			t.Fatalf("TaskRescheduleList(try 2) = %d rows, want 1", len(got))
		}

		mustNo(t, st.TaskRescheduleClear(ctx, key))
		for try := 1; try <= 2; try++ {
			got, err = st.TaskRescheduleList(ctx, key, try)
			mustNo(t, err)
			if len(got) != 0 {
				t.Fatalf("try %d after clear: %d rows", try, len(got))
			}
		}
		got, err = st.TaskRescheduleList(ctx, tis[1].TaskInstanceKey, 1)
		mustNo(t, err)
		if len(got) != 1 {
			t.Fatalf("clearing one task removed another's reschedules: %d left", len(got))
		}
		bad := &windsock.TaskReschedule{DagID: "etl", TaskID: "nope", RunID: r.RunID, MapIndex: -1, TryNumber: 1,
			StartDate: zoned(), EndDate: zoned(), RescheduleDate: zoned()}
		wantCode(t, st.TaskRescheduleInsert(ctx, bad), windsock.ENOTFOUND)
	})

	t.Run("RenderedFields", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("etl", 1)
		tis := createRun(t, ctx, st, r, "a")
		key := tis[0].TaskInstanceKey
		_, err := st.RenderedFieldsGet(ctx, key)
		wantCode(t, err, windsock.ENOTFOUND)
		for _, fields := range []string{`{"bash_command":"echo 2024-01-01"}`, `{"bash_command":"echo again","env":{"A":"é"}}`} {
			mustNo(t, st.RenderedFieldsSet(ctx, key, []byte(fields)))
			got, err := st.RenderedFieldsGet(ctx, key)
			mustNo(t, err)
			if string(got) != fields {
				t.Fatalf("RenderedFieldsGet = %s, want %s", got, fields)
			}
		}
		missing := key
		missing.TaskID = "nope"
		wantCode(t, st.RenderedFieldsSet(ctx, missing, []byte(`{}`)), windsock.ENOTFOUND)
	})

	t.Run("SlaMiss", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		m := &windsock.SlaMiss{DagID: "etl", TaskID: "b", ExecutionDate: zoned(), Timestamp: zoned().Add(time.Hour),
			Description: "late", EmailSent: true}
		mustNo(t, st.SlaMissInsert(ctx, m))
		// The same miss again is ignored, not an error, and changes nothing.
		again := *m
		again.Description, again.EmailSent = "changed", false
		mustNo(t, st.SlaMissInsert(ctx, &again))
		mustNo(t, st.SlaMissInsert(ctx, &windsock.SlaMiss{DagID: "etl", TaskID: "a", ExecutionDate: zoned()}))
		mustNo(t, st.SlaMissInsert(ctx, &windsock.SlaMiss{DagID: "etl", TaskID: "b", ExecutionDate: zoned().Add(-time.Hour)}))
		mustNo(t, st.SlaMissInsert(ctx, &windsock.SlaMiss{DagID: "other", TaskID: "b", ExecutionDate: zoned()}))

		got, err := st.SlaMissList(ctx, "etl")
		mustNo(t, err)
		var names []string
		for _, m := range got {
			names = append(names, m.TaskID+"@"+m.ExecutionDate.Format(time.TimeOnly))
		}
		if want := []string{"b@04:30:15", "a@05:30:15", "b@05:30:15"}; !slices.Equal(names, want) {
			t.Fatalf("SlaMissList = %v, want %v", names, want)
		}
		if last := got[2]; last.Description != "late" || !last.EmailSent || last.NotificationSent {
			t.Fatalf("stored miss = %+v, want the first insert's", last)
		}
		wantTime(t, "execution_date", &got[2].ExecutionDate, zoned())
		wantTime(t, "timestamp", &got[2].Timestamp, zoned().Add(time.Hour))

		recent, err := st.SlaMissRecent(ctx, nil, 3)
		mustNo(t, err)
		names = names[:0]
		for _, m := range recent {
			names = append(names, m.DagID+"."+m.TaskID+"@"+m.ExecutionDate.Format(time.TimeOnly))
		}
		if want := []string{"etl.a@05:30:15", "etl.b@05:30:15", "other.b@05:30:15"}; !slices.Equal(names, want) {
			t.Fatalf("SlaMissRecent = %v, want %v (newest across DAGs; the 04:30 one is past the limit)", names, want)
		}
		only, err := st.SlaMissRecent(ctx, []string{"other"}, 10)
		mustNo(t, err)
		if len(only) != 1 || only[0].DagID != "other" {
			t.Fatalf("SlaMissRecent(other) = %v", only)
		}
		if none, err := st.SlaMissRecent(ctx, []string{}, 10); err != nil || len(none) != 0 {
			t.Fatalf("SlaMissRecent(no DAGs) = %v, %v; want none", none, err)
		}
	})
}
