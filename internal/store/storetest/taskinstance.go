package storetest

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func tiNames(tis []*windsock.TaskInstance) []string {
	out := make([]string, len(tis))
	for i, ti := range tis {
		out[i] = ti.TaskID
		if ti.MapIndex >= 0 {
			out[i] += fmt.Sprintf("[%d]", ti.MapIndex)
		}
	}
	return out
}

func testTaskInstance(t *testing.T, open OpenFunc) {
	t.Run("InsertGet", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("etl", 1)
		createRun(t, ctx, st, r, "a")

		added := newTIs(r, "b", "c")
		added[0].Pool, added[0].PoolSlots = "", 0 // defaults
		mustNo(t, st.TaskInstanceInsert(ctx, added))
		got, err := st.TaskInstanceGet(ctx, added[0].TaskInstanceKey)
		mustNo(t, err)
		if got.Pool != windsock.DefaultPoolName || got.PoolSlots != 1 || got.State != windsock.TaskStateNone {
			t.Fatalf("inserted task instance = %+v, want default pool with 1 slot", got)
		}
		wantCode(t, st.TaskInstanceInsert(ctx, newTIs(r, "d", "a")), windsock.ECONFLICT)
		_, err = st.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: "etl", TaskID: "d", RunID: r.RunID, MapIndex: -1})
		wantCode(t, err, windsock.ENOTFOUND)
		orphan := newTIs(&windsock.DagRun{DagID: "etl", RunID: "no_such_run"}, "a")
		wantCode(t, st.TaskInstanceInsert(ctx, orphan), windsock.ENOTFOUND)
		mustNo(t, st.TaskInstanceInsert(ctx, nil))
	})

	t.Run("Replace", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("etl", 1)
		tis := createRun(t, ctx, st, r, "m", "z")
		unexpanded := tis[0].TaskInstanceKey
		expanded := make([]*windsock.TaskInstance, 20) // more than one statement chunk
		for i := range expanded {
			expanded[i] = newTIs(r, "m")[0]
			expanded[i].MapIndex = i
		}
		// A guard that does not hold changes nothing.
		ok, err := st.TaskInstanceReplace(ctx, []windsock.TaskInstanceKey{unexpanded}, []windsock.TaskInstanceState{windsock.TaskStateRunning}, expanded)
		mustNo(t, err)
		if ok {
			t.Fatal("replaced an instance in another state")
		}
		ok, err = st.TaskInstanceReplace(ctx, []windsock.TaskInstanceKey{unexpanded}, []windsock.TaskInstanceState{windsock.TaskStateNone}, expanded)
		mustNo(t, err)
		got, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: "etl", RunID: r.RunID, TaskIDs: []string{"m"}})
		mustNo(t, err)
		if !ok || len(got) != 20 || got[0].MapIndex != 0 || got[19].MapIndex != 19 {
			t.Fatalf("replaced = %v, instances %v", ok, tiNames(got))
		}
		// A second replacement of the same -1 instance finds it gone.
		ok, err = st.TaskInstanceReplace(ctx, []windsock.TaskInstanceKey{unexpanded}, nil, newTIs(r, "x"))
		mustNo(t, err)
		if ok {
			t.Fatal("replaced a missing instance")
		}
		// And back: the 20 instances (with their XCom) become one.
		mustNo(t, st.XComSet(ctx, &windsock.XCom{DagRunID: r.ID, TaskID: "m", MapIndex: 3, Key: "return_value", DagID: "etl", RunID: r.RunID, Value: []byte("1"), Timestamp: zoned()}))
		keys := make([]windsock.TaskInstanceKey, len(expanded))
		for i, ti := range expanded {
			keys[i] = ti.TaskInstanceKey
		}
		ok, err = st.TaskInstanceReplace(ctx, keys, nil, newTIs(r, "m"))
		mustNo(t, err)
		got, err = st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: "etl", RunID: r.RunID})
		mustNo(t, err)
		if !ok || !slices.Equal(tiNames(got), []string{"m", "z"}) {
			t.Fatalf("collapsed = %v, instances %v", ok, tiNames(got))
		}
		xs, err := st.XComList(ctx, "etl", r.RunID, "m")
		mustNo(t, err)
		if len(xs) != 0 {
			t.Errorf("XCom of replaced instances kept: %d", len(xs))
		}
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("etl", 1)
		tis := createRun(t, ctx, st, r, "a", "b")
		ti := tis[0]
		before := ti.UpdatedAt

		ti.State = windsock.TaskStateRunning
		ti.TryNumber, ti.MaxTries = 2, 3
		ti.StartDate, ti.EndDate = ptr(zoned()), ptr(zoned().Add(90*time.Second))
		ti.Duration = ptr(90.5)
		ti.Hostname, ti.Unixname, ti.JobID = "worker-1", "airflow", ptr(int64(7))
		ti.Pool, ti.PoolSlots, ti.Queue, ti.PriorityWeight, ti.Operator = "etl_pool", 2, "gpu", 10, "PythonOperator"
		ti.QueuedDttm, ti.QueuedByJobID, ti.PID, ti.Executor = ptr(zoned().Add(-time.Minute)), ptr(int64(3)), ptr(4242), "LocalExecutor"
		ti.LastHeartbeatAt, ti.NextRetryAt = ptr(zoned().Add(time.Second)), ptr(zoned().Add(time.Hour))
		ti.Note = "a note"
		ti.RenderedMapIndex = "file=a.csv" // map_index_template's result
		updated, err := st.TaskInstanceUpdate(ctx, ti)
		mustNo(t, err)
		if !updated {
			t.Fatal("unguarded TaskInstanceUpdate reported no update")
		}
		got, err := st.TaskInstanceGet(ctx, ti.TaskInstanceKey)
		mustNo(t, err)
		if got.UpdatedAt.Before(before) || !got.UpdatedAt.Equal(ti.UpdatedAt) {
			t.Fatalf("updated_at = %v, want %v (set by the update, not before %v)", got.UpdatedAt, ti.UpdatedAt, before)
		}
		wantTime(t, "start_date", got.StartDate, zoned())
		wantTime(t, "end_date", got.EndDate, zoned().Add(90*time.Second))
		wantTime(t, "queued_dttm", got.QueuedDttm, zoned().Add(-time.Minute))
		wantTime(t, "last_heartbeat_at", got.LastHeartbeatAt, zoned().Add(time.Second))
		wantTime(t, "next_retry_at", got.NextRetryAt, zoned().Add(time.Hour))
		// The times matched; compare the rest field by field.
		for _, p := range []**time.Time{&got.StartDate, &got.EndDate, &got.QueuedDttm, &got.LastHeartbeatAt, &got.NextRetryAt} {
			*p = nil
		}
		want := *ti
		want.StartDate, want.EndDate, want.QueuedDttm, want.LastHeartbeatAt, want.NextRetryAt = nil, nil, nil, nil, nil
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("TaskInstanceGet after update =\n%+v\nwant\n%+v", *got, want)
		}

		// A losing guard changes nothing, the note included.
		stale := *ti
		stale.State, stale.Hostname, stale.Note = windsock.TaskStateFailed, "other", ""
		updated, err = st.TaskInstanceUpdate(ctx, &stale, windsock.TaskStateQueued, windsock.TaskStateNone)
		mustNo(t, err)
		if updated {
			t.Fatal("TaskInstanceUpdate from queued/none updated a running instance")
		}
		got, err = st.TaskInstanceGet(ctx, ti.TaskInstanceKey)
		mustNo(t, err)
		if got.State != windsock.TaskStateRunning || got.Hostname != "worker-1" || got.Note != "a note" || !got.UpdatedAt.Equal(ti.UpdatedAt) {
			t.Fatalf("after a losing guard: %+v", got)
		}

		// A winning guard writes, and clears the note.
		ti.State, ti.Note = windsock.TaskStateSuccess, ""
		updated, err = st.TaskInstanceUpdate(ctx, ti, windsock.TaskStateRunning)
		mustNo(t, err)
		got, err = st.TaskInstanceGet(ctx, ti.TaskInstanceKey)
		mustNo(t, err)
		if !updated || got.State != windsock.TaskStateSuccess || got.Note != "" {
			t.Fatalf("guarded update from running: updated %v, got %+v", updated, got)
		}

		// None is the NULL state.
		next := tis[1]
		next.State = windsock.TaskStateScheduled
		updated, err = st.TaskInstanceUpdate(ctx, next, windsock.TaskStateNone)
		mustNo(t, err)
		if !updated {
			t.Fatal("guarded update from none did not update an unscheduled instance")
		}
		updated, err = st.TaskInstanceUpdate(ctx, next, windsock.TaskStateNone)
		mustNo(t, err)
		if updated {
			t.Fatal("second guarded update from none updated a scheduled instance")
		}

		missing := newTIs(r, "missing")[0]
		_, err = st.TaskInstanceUpdate(ctx, missing)
		wantCode(t, err, windsock.ENOTFOUND)
		_, err = st.TaskInstanceUpdate(ctx, missing, windsock.TaskStateQueued)
		wantCode(t, err, windsock.ENOTFOUND)
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r1, r2 := newRun("etl", 1), newRun("etl", 2)
		a := createRun(t, ctx, st, r1, "a", "b", "c", "d", "e")
		createRun(t, ctx, st, r2, "a")
		createRun(t, ctx, st, newRun("other", 1), "a")
		now := zoned()
		set := func(ti *windsock.TaskInstance, state windsock.TaskInstanceState, prio int, edit func(ti *windsock.TaskInstance)) {
			ti.State, ti.PriorityWeight = state, prio
			if edit != nil {
				edit(ti)
			}
			_, err := st.TaskInstanceUpdate(ctx, ti)
			mustNo(t, err)
		}
		set(a[0], windsock.TaskStateUpForRetry, 5, func(ti *windsock.TaskInstance) { ti.NextRetryAt = ptr(now.Add(-time.Minute)) })
		set(a[1], windsock.TaskStateUpForRetry, 4, func(ti *windsock.TaskInstance) { ti.NextRetryAt = ptr(now.Add(time.Minute)) })
		set(a[2], windsock.TaskStateRunning, 3, func(ti *windsock.TaskInstance) { ti.LastHeartbeatAt = ptr(now.Add(-time.Hour)) })
		set(a[3], windsock.TaskStateRunning, 2, func(ti *windsock.TaskInstance) { ti.LastHeartbeatAt = ptr(now) })
		// a[4] ("e") keeps no state and priority 1.

		tests := []struct {
			name   string
			params store.TaskInstanceListParams
			want   []string
		}{
			{"run", store.TaskInstanceListParams{DagID: "etl", RunID: r1.RunID}, []string{"a", "b", "c", "d", "e"}},
			{"run ids and task ids", store.TaskInstanceListParams{DagID: "etl", RunIDs: []string{r1.RunID, r2.RunID}, TaskIDs: []string{"a"}}, []string{"a", "a"}},
			{"no dag filter", store.TaskInstanceListParams{TaskIDs: []string{"a"}}, []string{"a", "a", "a"}},
			{"states", store.TaskInstanceListParams{DagID: "etl", RunID: r1.RunID, States: []windsock.TaskInstanceState{windsock.TaskStateRunning}}, []string{"c", "d"}},
			{"states and null", store.TaskInstanceListParams{DagID: "etl", RunID: r1.RunID, States: []windsock.TaskInstanceState{windsock.TaskStateRunning}, IncludeNullState: true}, []string{"c", "d", "e"}},
			{"none among states", store.TaskInstanceListParams{DagID: "etl", RunID: r1.RunID, States: []windsock.TaskInstanceState{windsock.TaskStateNone, windsock.TaskStateUpForRetry}}, []string{"a", "b", "e"}},
			{"null only", store.TaskInstanceListParams{DagID: "etl", RunID: r1.RunID, IncludeNullState: true}, []string{"e"}},
			{"due retries", store.TaskInstanceListParams{States: []windsock.TaskInstanceState{windsock.TaskStateUpForRetry}, DueBefore: &now}, []string{"a"}},
			{"stale heartbeats", store.TaskInstanceListParams{States: []windsock.TaskInstanceState{windsock.TaskStateRunning}, HeartbeatBefore: ptr(now.Add(-time.Second))}, []string{"c"}},
			{"missing heartbeat counts as stale", store.TaskInstanceListParams{DagID: "etl", RunID: r1.RunID, HeartbeatBefore: ptr(now.Add(-time.Second))}, []string{"a", "b", "c", "e"}},
			{"priority descending, paged", store.TaskInstanceListParams{DagID: "etl", RunID: r1.RunID, OrderBy: "-priority_weight", Limit: 2, Offset: 1}, []string{"b", "c"}},
			{"state, nulls last", store.TaskInstanceListParams{DagID: "etl", RunID: r1.RunID, OrderBy: "state"}, []string{"c", "d", "a", "b", "e"}},
			{"state descending, nulls last", store.TaskInstanceListParams{DagID: "etl", RunID: r1.RunID, OrderBy: "-state"}, []string{"a", "b", "c", "d", "e"}},
		}
		for _, tt := range tests {
			got, err := st.TaskInstanceList(ctx, &tt.params)
			mustNo(t, err)
			if names := tiNames(got); !slices.Equal(names, tt.want) {
				t.Errorf("%s: TaskInstanceList = %v, want %v", tt.name, names, tt.want)
			}
		}
		for _, bad := range []string{"note", "hostname", "-", "task_id DESC", "1"} {
			_, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{OrderBy: bad})
			wantCode(t, err, windsock.EINVALID)
		}
	})

	t.Run("ListTimings", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("etl", 1)
		tis := createRun(t, ctx, st, r, "a", "b")
		start := zoned()
		queued, end, dur := start.Add(-time.Second), start.Add(90*time.Second), 90.0
		ti := tis[0]
		ti.State, ti.TryNumber, ti.StartDate, ti.EndDate, ti.Duration, ti.QueuedDttm = windsock.TaskStateSuccess, 2, &start, &end, &dur, &queued
		ti.Hostname, ti.Operator, ti.PriorityWeight = "worker-1", "BashOperator", 7
		_, err := st.TaskInstanceUpdate(ctx, ti)
		mustNo(t, err)
		got, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: "etl", RunIDs: []string{r.RunID}, Timings: true})
		mustNo(t, err)
		if names := tiNames(got); !slices.Equal(names, []string{"a", "b"}) {
			t.Fatalf("timings of %v, want a and b", names)
		}
		a := got[0]
		if a.TaskInstanceKey != ti.TaskInstanceKey || a.State != windsock.TaskStateSuccess || a.TryNumber != 2 ||
			a.Duration == nil || *a.Duration != dur {
			t.Errorf("timings = %+v", a)
		}
		wantTime(t, "start_date", a.StartDate, start)
		wantTime(t, "end_date", a.EndDate, end)
		wantTime(t, "queued_dttm", a.QueuedDttm, queued)
		// Only the timings are read.
		if a.Hostname != "" || a.Operator != "" || a.PriorityWeight != 0 || a.Pool != "" {
			t.Errorf("timings read more than timings: %+v", a)
		}
		if b := got[1]; b.State != windsock.TaskStateNone || b.StartDate != nil || b.Duration != nil || b.QueuedDttm != nil {
			t.Errorf("an instance never run = %+v", b)
		}
	})

	t.Run("Claim", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("etl", 1)
		tis := createRun(t, ctx, st, r, "low", "high", "mid_late", "mid_early", "other_queue", "running", "none")
		queue := func(ti *windsock.TaskInstance, prio int, queued time.Time, q string) {
			ti.State, ti.PriorityWeight, ti.QueuedDttm, ti.Queue, ti.QueuedByJobID = windsock.TaskStateQueued, prio, &queued, q, ptr(int64(1))
			ti.EndDate, ti.Duration, ti.PID = ptr(zoned()), ptr(1.0), ptr(99) // left over from a previous try
			_, err := st.TaskInstanceUpdate(ctx, ti)
			mustNo(t, err)
		}
		queue(tis[0], 1, zoned(), "default")
		queue(tis[1], 10, zoned().Add(time.Second), "default")
		queue(tis[2], 5, zoned().Add(2*time.Second), "default")
		queue(tis[3], 5, zoned().Add(time.Second), "default")
		queue(tis[4], 100, zoned(), "gpu")
		tis[5].State = windsock.TaskStateRunning
		_, err := st.TaskInstanceUpdate(ctx, tis[5])
		mustNo(t, err)

		now := zoned().Add(time.Hour)
		params := store.TaskInstanceClaimParams{Queues: []string{"default"}, Limit: 3, Hostname: "worker-1",
			Unixname: "airflow", JobID: ptr(int64(77)), PID: 4321, Now: now}
		claimed, err := st.TaskInstanceClaim(ctx, &params)
		mustNo(t, err)
		if names := tiNames(claimed); !slices.Equal(names, []string{"high", "mid_early", "mid_late"}) {
			t.Fatalf("first claim = %v, want high, mid_early, mid_late", names)
		}
		for _, ti := range claimed {
			if ti.State != windsock.TaskStateRunning || ti.Hostname != "worker-1" || ti.Unixname != "airflow" ||
				ti.JobID == nil || *ti.JobID != 77 || ti.QueuedByJobID == nil || *ti.QueuedByJobID != 1 ||
				ti.EndDate != nil || ti.Duration != nil || ti.PID == nil || *ti.PID != 4321 || ti.NextRetryAt != nil {
				t.Fatalf("claimed task instance = %+v", ti)
			}
			wantTime(t, "start_date", ti.StartDate, now)
			wantTime(t, "last_heartbeat_at", ti.LastHeartbeatAt, now)
			stored, err := st.TaskInstanceGet(ctx, ti.TaskInstanceKey)
			mustNo(t, err)
			if !reflect.DeepEqual(stored, ti) {
				t.Fatalf("claim returned\n%+v\nbut stored\n%+v", ti, stored)
			}
		}

		claimed, err = st.TaskInstanceClaim(ctx, &params)
		mustNo(t, err)
		if names := tiNames(claimed); !slices.Equal(names, []string{"low"}) {
			t.Fatalf("second claim = %v, want low", names)
		}
		claimed, err = st.TaskInstanceClaim(ctx, &params)
		mustNo(t, err)
		if len(claimed) != 0 {
			t.Fatalf("third claim = %v, want nothing", tiNames(claimed))
		}

		// Only the named keys.
		params.Queues, params.Keys = nil, []windsock.TaskInstanceKey{tis[4].TaskInstanceKey, tis[5].TaskInstanceKey, tis[6].TaskInstanceKey}
		claimed, err = st.TaskInstanceClaim(ctx, &params)
		mustNo(t, err)
		if names := tiNames(claimed); !slices.Equal(names, []string{"other_queue"}) {
			t.Fatalf("claim by keys = %v, want other_queue (the only queued one)", names)
		}
		claimed, err = st.TaskInstanceClaim(ctx, &store.TaskInstanceClaimParams{Limit: 0, Now: now})
		mustNo(t, err)
		if len(claimed) != 0 {
			t.Fatalf("claim with limit 0 = %v", tiNames(claimed))
		}
	})

	t.Run("ClaimRace", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		const total, claimers = 200, 8
		ids := make([]string, total)
		for i := range ids {
			ids[i] = fmt.Sprintf("t%03d", i)
		}
		r := newRun("race", 1)
		tis := newTIs(r, ids...)
		for i, ti := range tis {
			ti.State, ti.PriorityWeight, ti.QueuedDttm = windsock.TaskStateQueued, i%7, ptr(zoned())
		}
		mustNo(t, st.DagRunCreate(ctx, &store.DagRunCreateParams{Run: r, TaskInstances: tis}))

		got := make([][]*windsock.TaskInstance, claimers)
		errs := make([]error, claimers)
		var wg sync.WaitGroup
		for c := range claimers {
			wg.Go(func() {
				for {
					claimed, err := st.TaskInstanceClaim(ctx, &store.TaskInstanceClaimParams{
						Limit: 1 + c%3, Hostname: fmt.Sprintf("worker-%d", c), Now: zoned()})
					if err != nil {
						errs[c] = err
						return
					}
					if len(claimed) == 0 {
						return
					}
					got[c] = append(got[c], claimed...)
				}
			})
		}
		wg.Wait()
		seen := make(map[string]string)
		for c := range claimers {
			mustNo(t, errs[c])
			for _, ti := range got[c] {
				if prev, dup := seen[ti.TaskID]; dup {
					t.Fatalf("%s claimed by %s and worker-%d", ti.TaskID, prev, c)
				}
				seen[ti.TaskID] = ti.Hostname
				if want := fmt.Sprintf("worker-%d", c); ti.Hostname != want {
					t.Fatalf("%s claimed by worker-%d has hostname %s", ti.TaskID, c, ti.Hostname)
				}
			}
		}
		if len(seen) != total {
			t.Fatalf("%d task instances claimed, want %d", len(seen), total)
		}
		left, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{States: []windsock.TaskInstanceState{windsock.TaskStateQueued}})
		mustNo(t, err)
		if len(left) != 0 {
			t.Fatalf("%d task instances still queued", len(left))
		}
	})

	t.Run("HeartbeatSlotUsage", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := newRun("etl", 1)
		tis := createRun(t, ctx, st, r, "a", "b", "c", "d", "e")
		other := createRun(t, ctx, st, newRun("other", 1), "a")
		states := []windsock.TaskInstanceState{windsock.TaskStateRunning, windsock.TaskStateQueued,
			windsock.TaskStateRunning, windsock.TaskStateSuccess, windsock.TaskStateNone}
		for i, s := range states {
			tis[i].State = s
			if i == 2 {
				tis[i].Pool, tis[i].PoolSlots = "big", 3
			}
			_, err := st.TaskInstanceUpdate(ctx, tis[i])
			mustNo(t, err)
		}
		other[0].State, other[0].Pool, other[0].PoolSlots = windsock.TaskStateQueued, "big", 2
		_, err := st.TaskInstanceUpdate(ctx, other[0])
		mustNo(t, err)

		u, err := st.TaskInstanceSlotUsage(ctx)
		mustNo(t, err)
		if want := map[string]int{windsock.DefaultPoolName: 2, "big": 5}; !maps.Equal(u.PoolSlots, want) {
			t.Errorf("PoolSlots = %v, want %v", u.PoolSlots, want)
		}
		if want := map[string]int{"etl": 3, "other": 1}; !maps.Equal(u.DagTasks, want) {
			t.Errorf("DagTasks = %v, want %v", u.DagTasks, want)
		}
		if u.Total != 4 {
			t.Errorf("Total = %d, want 4", u.Total)
		}

		at := zoned().Add(time.Minute)
		tries := make([]store.Try, len(tis))
		for i, ti := range tis {
			tries[i] = store.Try{Key: ti.TaskInstanceKey, TryNumber: ti.TryNumber}
		}
		tries[2].TryNumber++ // c's row holds another try: not this one's to heartbeat
		mustNo(t, st.TaskInstanceHeartbeat(ctx, tries, at))
		for i, ti := range tis {
			got, err := st.TaskInstanceGet(ctx, ti.TaskInstanceKey)
			mustNo(t, err)
			if states[i] == windsock.TaskStateRunning && i != 2 {
				wantTime(t, "heartbeat of "+ti.TaskID, got.LastHeartbeatAt, at)
			} else if got.LastHeartbeatAt != nil {
				t.Fatalf("heartbeat of %s (%q, try %d) = %v, want none", ti.TaskID, states[i], got.TryNumber, got.LastHeartbeatAt)
			}
		}
		mustNo(t, st.TaskInstanceHeartbeat(ctx, nil, at))
	})
}
