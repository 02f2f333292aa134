package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func testJob(t *testing.T, open OpenFunc) {
	t.Run("HeartbeatEndLatest", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		_, err := st.JobLatest(ctx, windsock.JobTypeScheduler)
		wantCode(t, err, windsock.ENOTFOUND)

		start := zoned()
		newJob := func(jobType string) *windsock.Job {
			j := &windsock.Job{State: windsock.JobRunning, JobType: jobType, StartDate: start,
				LatestHeartbeat: start, ExecutorClass: "LocalExecutor", Hostname: "host-a", Unixname: "windsock"}
			mustNo(t, st.JobCreate(ctx, j))
			if j.ID == 0 {
				t.Fatal("JobCreate did not set ID")
			}
			return j
		}
		a := newJob(windsock.JobTypeScheduler)
		b := newJob(windsock.JobTypeScheduler)
		c := newJob(windsock.JobTypeScheduler)
		other := newJob(windsock.JobTypeDagProcessor)

		mustNo(t, st.JobHeartbeat(ctx, a.ID, start.Add(3*time.Second)))
		mustNo(t, st.JobHeartbeat(ctx, b.ID, start.Add(2*time.Second)))
		mustNo(t, st.JobHeartbeat(ctx, other.ID, start.Add(time.Hour)))
		// c has the newest heartbeat but has ended.
		mustNo(t, st.JobHeartbeat(ctx, c.ID, start.Add(5*time.Second)))
		mustNo(t, st.JobEnd(ctx, c.ID, windsock.JobSuccess, start.Add(6*time.Second)))

		got, err := st.JobLatest(ctx, windsock.JobTypeScheduler)
		mustNo(t, err)
		if got.ID != a.ID || got.State != windsock.JobRunning || got.JobType != windsock.JobTypeScheduler ||
			got.Hostname != "host-a" || got.Unixname != "windsock" || got.ExecutorClass != "LocalExecutor" ||
			got.EndDate != nil {
			t.Fatalf("JobLatest = %+v, want running job %d", got, a.ID)
		}
		wantTime(t, "latest_heartbeat", &got.LatestHeartbeat, start.Add(3*time.Second))
		wantTime(t, "start_date", &got.StartDate, start)

		mustNo(t, st.JobEnd(ctx, a.ID, windsock.JobFailed, start.Add(7*time.Second)))
		mustNo(t, st.JobEnd(ctx, b.ID, windsock.JobSuccess, start.Add(7*time.Second)))
		_, err = st.JobLatest(ctx, windsock.JobTypeScheduler)
		wantCode(t, err, windsock.ENOTFOUND)

		wantCode(t, st.JobHeartbeat(ctx, 999999, start), windsock.ENOTFOUND)
		wantCode(t, st.JobEnd(ctx, 999999, windsock.JobSuccess, start), windsock.ENOTFOUND)
	})
	t.Run("WorkerIdentity", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		start := zoned()
		w := &windsock.Job{State: windsock.JobRunning, JobType: windsock.JobTypeWorker, StartDate: start, LatestHeartbeat: start,
			ExecutorClass: "CeleryExecutor", Hostname: "host-a", PID: 4242, ProcessStart: "boot/123", LogServer: "host-a:40123",
			MetricsAddr: "127.0.0.1:8794"}
		mustNo(t, st.JobCreate(ctx, w))
		got, err := st.JobGet(ctx, w.ID)
		mustNo(t, err)
		if got.PID != 4242 || got.ProcessStart != "boot/123" || got.LogServer != "host-a:40123" || got.JobType != windsock.JobTypeWorker ||
			got.MetricsAddr != "127.0.0.1:8794" {
			t.Fatalf("JobGet = %+v, want the process, log server and metrics address recorded", got)
		}
		// A job without a process reads back with none.
		s := &windsock.Job{State: windsock.JobRunning, JobType: windsock.JobTypeScheduler, StartDate: start, LatestHeartbeat: start}
		mustNo(t, st.JobCreate(ctx, s))
		if got, err = st.JobGet(ctx, s.ID); err != nil || got.PID != 0 || got.LogServer != "" || got.MetricsAddr != "" {
			t.Fatalf("JobGet = %+v, %v, want no process", got, err)
		}
		_, err = st.JobGet(ctx, 999999)
		wantCode(t, err, windsock.ENOTFOUND)

		// A worker presumed dead (ended failed by a scheduler) that
		// heartbeats again is running again; a scheduler's ended job is not.
		mustNo(t, st.JobEnd(ctx, w.ID, windsock.JobFailed, start.Add(time.Minute)))
		mustNo(t, st.JobEnd(ctx, s.ID, windsock.JobFailed, start.Add(time.Minute)))
		mustNo(t, st.JobHeartbeat(ctx, w.ID, start.Add(2*time.Minute)))
		mustNo(t, st.JobHeartbeat(ctx, s.ID, start.Add(2*time.Minute)))
		alive, err := st.JobListAlive(ctx, windsock.JobTypeWorker, start.Add(time.Minute))
		mustNo(t, err)
		if len(alive) != 1 || alive[0].ID != w.ID || alive[0].EndDate != nil || alive[0].LogServer != "host-a:40123" || alive[0].MetricsAddr != "127.0.0.1:8794" {
			t.Fatalf("JobListAlive = %+v, want the worker running again", alive)
		}
		if got, _ = st.JobGet(ctx, s.ID); got.State != windsock.JobFailed {
			t.Fatalf("scheduler job is %s after a heartbeat, want it left failed", got.State)
		}
	})
}

func testUser(t *testing.T, open OpenFunc) {
	t.Run("CreateGetPassword", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		login := zoned().Add(time.Minute)
		u := &windsock.User{Username: "admin", FirstName: "Ada", LastName: "Admin", Email: "admin@example.com",
			Password: "$2a$10$hash", Active: true, Roles: []string{"Viewer", "Admin", "Admin"},
			CreatedOn: zoned(), ChangedOn: zoned(), LastLogin: &login, LoginCount: 2}
		mustNo(t, st.UserCreate(ctx, u))
		if u.ID == 0 {
			t.Fatal("UserCreate did not set ID")
		}
		got, err := st.UserGet(ctx, "admin")
		mustNo(t, err)
		if got.ID != u.ID || got.FirstName != "Ada" || got.LastName != "Admin" || got.Email != u.Email ||
			got.Password != u.Password || !got.Active || got.LoginCount != 2 || got.FailLoginCount != 0 {
			t.Fatalf("UserGet = %+v, want %+v", got, u)
		}
		if !slices.Equal(got.Roles, []string{"Admin", "Viewer"}) {
			t.Fatalf("roles = %q, want [Admin Viewer]", got.Roles)
		}
		wantTime(t, "created_on", &got.CreatedOn, zoned())
		wantTime(t, "last_login", got.LastLogin, login)

		// Users without email, sharing an existing role.
		for _, name := range []string{"viewer1", "viewer2"} {
			mustNo(t, st.UserCreate(ctx, &windsock.User{Username: name, FirstName: "V", LastName: "W",
				Active: true, Roles: []string{"Viewer"}}))
		}
		v, err := st.UserGet(ctx, "viewer2")
		mustNo(t, err)
		if !slices.Equal(v.Roles, []string{"Viewer"}) || v.LastLogin != nil || v.Email != "" {
			t.Fatalf("viewer2 = %+v, want role Viewer, no last login, no email", v)
		}

		wantCode(t, st.UserCreate(ctx, &windsock.User{Username: "admin", FirstName: "x", LastName: "y"}), windsock.ECONFLICT)
		wantCode(t, st.UserCreate(ctx, &windsock.User{Username: "other", FirstName: "x", LastName: "y",
			Email: "admin@example.com"}), windsock.ECONFLICT)
		_, err = st.UserGet(ctx, "other")
		wantCode(t, err, windsock.ENOTFOUND)

		mustNo(t, st.UserSetPassword(ctx, "admin", "$2a$10$new"))
		got, err = st.UserGet(ctx, "admin")
		mustNo(t, err)
		if got.Password != "$2a$10$new" {
			t.Fatalf("password = %q after UserSetPassword", got.Password)
		}
		wantCode(t, st.UserSetPassword(ctx, "missing", "x"), windsock.ENOTFOUND)
	})
}

func testEventLog(t *testing.T, open OpenFunc) {
	t.Run("InsertList", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		one, three := 1, 3
		exec := zoned().Add(-time.Hour)
		events := []*windsock.EventLog{
			{Dttm: zoned(), DagID: "etl", Event: "trigger", Owner: "admin", Extra: `{"a":1}`},
			{Dttm: zoned().Add(2 * time.Second), DagID: "etl", TaskID: "load", MapIndex: &one,
				Event: "clear", ExecutionDate: &exec, RunID: "manual__1", TryNumber: &three},
			{Dttm: zoned().Add(time.Second), DagID: "other", Event: "trigger"},
			{Dttm: zoned().Add(3 * time.Second), Event: "cli_users_create"},
		}
		for _, e := range events {
			mustNo(t, st.EventLogInsert(ctx, e))
			if e.ID == 0 {
				t.Fatal("EventLogInsert did not set ID")
			}
		}
		ids := func(list []*windsock.EventLog) []int64 {
			out := make([]int64, len(list))
			for i, e := range list {
				out[i] = e.ID
			}
			return out
		}
		e := events
		tests := []struct {
			name   string
			params *store.EventLogListParams
			want   []int64
		}{
			{"all newest first", nil, []int64{e[3].ID, e[1].ID, e[2].ID, e[0].ID}},
			{"dag", &store.EventLogListParams{DagID: "etl"}, []int64{e[1].ID, e[0].ID}},
			{"event", &store.EventLogListParams{Event: "trigger"}, []int64{e[2].ID, e[0].ID}},
			{"dag and event", &store.EventLogListParams{DagID: "etl", Event: "trigger"}, []int64{e[0].ID}},
			{"limit", &store.EventLogListParams{Limit: 2}, []int64{e[3].ID, e[1].ID}},
		}
		for _, tt := range tests {
			got, err := st.EventLogList(ctx, tt.params)
			mustNo(t, err)
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("%s: EventLogList ids = %v, want %v", tt.name, ids(got), tt.want)
			}
		}

		got, err := st.EventLogList(ctx, &store.EventLogListParams{Event: "clear"})
		mustNo(t, err)
		if len(got) != 1 {
			t.Fatalf("%d clear events, want 1", len(got))
		}
		g := got[0]
		if g.TaskID != "load" || g.MapIndex == nil || *g.MapIndex != 1 || g.TryNumber == nil || *g.TryNumber != 3 ||
			g.RunID != "manual__1" || g.DagID != "etl" {
			t.Fatalf("clear event = %+v, want %+v", g, events[1])
		}
		wantTime(t, "dttm", &g.Dttm, events[1].Dttm)
		wantTime(t, "execution_date", g.ExecutionDate, exec)
		got, err = st.EventLogList(ctx, &store.EventLogListParams{DagID: "other"})
		mustNo(t, err)
		if len(got) != 1 || got[0].MapIndex != nil || got[0].TryNumber != nil || got[0].ExecutionDate != nil {
			t.Fatalf("other event = %+v, want nil map index, try number and execution date", got)
		}
	})
}

func testInTx(t *testing.T, open OpenFunc) {
	t.Run("CommitAndRollback", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		mustNo(t, st.InTx(ctx, func(q store.Queries) error {
			if err := q.VariableSet(ctx, &windsock.Variable{Key: "committed", Val: "1"}); err != nil {
				return err
			}
			// A transaction sees its own writes.
			_, err := q.VariableGet(ctx, "committed")
			return err
		}))
		if _, err := st.VariableGet(ctx, "committed"); err != nil {
			t.Fatalf("committed write not visible: %v", err)
		}

		boom := errors.New("boom")
		err := st.InTx(ctx, func(q store.Queries) error {
			if err := q.VariableSet(ctx, &windsock.Variable{Key: "rolled_back", Val: "1"}); err != nil {
				return err
			}
			if err := q.DAGUpsert(ctx, dagParams("rolled_back", "t")); err != nil {
				return err
			}
			if err := q.VariableDelete(ctx, "committed"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want the callback's error", err)
		}
		_, err = st.VariableGet(ctx, "rolled_back")
		wantCode(t, err, windsock.ENOTFOUND)
		_, err = st.DAGGet(ctx, "rolled_back")
		wantCode(t, err, windsock.ENOTFOUND)
		if _, err := st.VariableGet(ctx, "committed"); err != nil {
			t.Fatalf("rolled-back delete took effect: %v", err)
		}
	})

	t.Run("ConflictInsideTx", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		err := st.InTx(ctx, func(q store.Queries) error {
			if err := q.ConnectionInsert(ctx, &windsock.Connection{ConnID: "c", ConnType: "http"}); err != nil {
				return err
			}
			return q.ConnectionInsert(ctx, &windsock.Connection{ConnID: "c", ConnType: "http"})
		})
		wantCode(t, err, windsock.ECONFLICT)
		_, err = st.ConnectionGet(ctx, "c")
		wantCode(t, err, windsock.ENOTFOUND)
	})
}
