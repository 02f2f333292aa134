package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func testJobList(t *testing.T, open OpenFunc) {
	t.Parallel()
	ctx, st := setup(t, open)
	start := zoned()
	add := func(jobType, host string, beat time.Duration, ended bool) int64 {
		j := &windsock.Job{State: windsock.JobRunning, JobType: jobType, StartDate: start,
			LatestHeartbeat: start.Add(beat), Hostname: host}
		mustNo(t, st.JobCreate(ctx, j))
		if ended {
			mustNo(t, st.JobEnd(ctx, j.ID, windsock.JobSuccess, start.Add(time.Hour)))
		}
		return j.ID
	}
	old := add(windsock.JobTypeScheduler, "a", time.Second, false)
	fresh := add(windsock.JobTypeScheduler, "b", time.Minute, false)
	add(windsock.JobTypeScheduler, "a", time.Hour, true)
	proc := add(windsock.JobTypeDagProcessor, "a", 2*time.Minute, false)

	ids := func(p *store.JobListParams) []int64 {
		t.Helper()
		jobs, err := st.JobList(ctx, p)
		mustNo(t, err)
		out := make([]int64, len(jobs))
		for i, j := range jobs {
			out[i] = j.ID
		}
		return out
	}
	running := windsock.JobRunning
	if got := ids(&store.JobListParams{State: running}); !slices.Equal(got, []int64{proc, fresh, old}) {
		t.Errorf("running jobs = %v, want newest heartbeat first %v", got, []int64{proc, fresh, old})
	}
	if got := ids(&store.JobListParams{State: running, JobType: windsock.JobTypeScheduler, Hostname: "a"}); !slices.Equal(got, []int64{old}) {
		t.Errorf("running schedulers on a = %v, want [%d]", got, old)
	}
	if got := ids(&store.JobListParams{State: running, Limit: 1}); !slices.Equal(got, []int64{proc}) {
		t.Errorf("limit 1 = %v, want [%d]", got, proc)
	}
	if got := ids(&store.JobListParams{}); len(got) != 4 {
		t.Errorf("every job = %v, want 4", got)
	}
}

func testDBClean(t *testing.T, open OpenFunc) {
	t.Run("KeepsLatestScheduledRunAndArchives", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		// Three scheduled runs and one manual run of "a", one old run of
		// "b": everything starts before the cut-off.
		var runs []*windsock.DagRun
		for i, spec := range []struct {
			dag    string
			n      int
			manual bool
		}{{"a", 1, false}, {"a", 2, false}, {"a", 3, false}, {"a", 4, true}, {"b", 1, false}} {
			r := newRun(spec.dag, spec.n)
			if spec.manual {
				r.RunType, r.RunID, r.ExternalTrigger = windsock.RunTypeManual, windsock.RunID(windsock.RunTypeManual, r.LogicalDate), true
			}
			r.StartDate = ptr(day(spec.n).Add(time.Duration(i) * time.Minute))
			createRun(t, ctx, st, r, "t1")
			runs = append(runs, r)
		}
		cut := day(30)
		at := time.Date(2024, 2, 1, 12, 0, 0, 0, time.UTC)
		// The latest scheduled run of each DAG (a day 3, b day 1) stays.
		n, err := st.DBClean(ctx, &store.DBCleanParams{Table: "dag_run", Before: cut, DryRun: true, At: at})
		mustNo(t, err)
		if n != 3 {
			t.Fatalf("dry run found %d dag_run rows, want 3 (a/1, a/2 and the manual a/4)", n)
		}
		if archives, err := st.ArchiveTableList(ctx); err != nil || len(archives) != 0 {
			t.Fatalf("a dry run made archive tables %v (err %v)", archives, err)
		}
		left, err := st.DagRunList(ctx, &store.DagRunListParams{})
		mustNo(t, err)
		if len(left) != 5 {
			t.Fatalf("a dry run deleted runs: %d left", len(left))
		}

		n, err = st.DBClean(ctx, &store.DBCleanParams{Table: "dag_run", Before: cut, At: at})
		mustNo(t, err)
		if n != 3 {
			t.Fatalf("clean found %d rows, want 3", n)
		}
		left, err = st.DagRunList(ctx, &store.DagRunListParams{})
		mustNo(t, err)
		if got, want := runIDs(left), []string{runs[4].DagID + "/" + runs[4].RunID, runs[2].DagID + "/" + runs[2].RunID}; !sameSet(got, want) {
			t.Fatalf("runs left = %v, want %v", got, want)
		}
		// Their task instances went with them (foreign keys cascade).
		tis, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: "a"})
		mustNo(t, err)
		if len(tis) != 1 || tis[0].RunID != runs[2].RunID {
			t.Fatalf("task instances of a left = %d, want only the kept run's", len(tis))
		}

		archives, err := st.ArchiveTableList(ctx)
		mustNo(t, err)
		want := store.ArchiveTableName("dag_run", at)
		if !slices.Equal(archives, []string{want}) || want != "_airflow_deleted__dag_run__20240201120000" {
			t.Fatalf("archive tables = %v, want [%s]", archives, want)
		}
		var records [][]string
		mustNo(t, st.ArchiveTableExport(ctx, want, func(rec []string) error {
			records = append(records, rec)
			return nil
		}))
		if len(records) != 4 || !slices.Contains(records[0], "run_id") || !slices.Contains(records[0], "dag_id") {
			t.Fatalf("export = header %v and %d rows, want a header with run_id and 3 rows", records[0], len(records)-1)
		}
		col := slices.Index(records[0], "run_id")
		var exported []string
		for _, rec := range records[1:] {
			exported = append(exported, rec[col])
		}
		if !sameSet(exported, []string{runs[0].RunID, runs[1].RunID, runs[3].RunID}) {
			t.Fatalf("exported run ids = %v", exported)
		}

		mustNo(t, st.ArchiveTableDrop(ctx, want))
		if archives, _ := st.ArchiveTableList(ctx); len(archives) != 0 {
			t.Fatalf("archives after drop = %v", archives)
		}
		wantCode(t, st.ArchiveTableDrop(ctx, "dag_run"), windsock.EINVALID)
		wantCode(t, st.ArchiveTableExport(ctx, "log; DROP TABLE dag", func([]string) error { return nil }), windsock.EINVALID)
		_, err = st.DBClean(ctx, &store.DBCleanParams{Table: "variable", Before: cut, At: at})
		wantCode(t, err, windsock.EINVALID)
	})
	t.Run("SkipArchive", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		for i, d := range []time.Time{day(1), day(2), day(40)} {
			mustNo(t, st.EventLogInsert(ctx, &windsock.EventLog{Dttm: d, Event: "e" + string(rune('0'+i))}))
		}
		n, err := st.DBClean(ctx, &store.DBCleanParams{Table: "log", Before: day(30), SkipArchive: true, At: zoned()})
		mustNo(t, err)
		if n != 2 {
			t.Fatalf("clean log found %d, want 2", n)
		}
		left, err := st.EventLogList(ctx, &store.EventLogListParams{})
		mustNo(t, err)
		if len(left) != 1 || left[0].Event != "e2" {
			t.Fatalf("log rows left = %d, want the newest only", len(left))
		}
		if archives, _ := st.ArchiveTableList(ctx); len(archives) != 0 {
			t.Fatalf("--skip-archive left archives %v", archives)
		}
	})
}

func testDBReset(t *testing.T, open OpenFunc) {
	t.Parallel()
	ctx, st := setup(t, open)
	mustNo(t, st.VariableSet(ctx, &windsock.Variable{Key: "k", Val: "v"}))
	createRun(t, ctx, st, newRun("a", 1), "t1")
	mustNo(t, st.DBReset(ctx))
	cur, _, err := st.MigrationStatus(ctx)
	mustNo(t, err)
	if cur != 0 {
		t.Fatalf("schema version after reset = %d, want 0", cur)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate after reset: %v", err)
	}
	_, err = st.VariableGet(ctx, "k")
	wantCode(t, err, windsock.ENOTFOUND)
	runs, err := st.DagRunList(ctx, &store.DagRunListParams{})
	mustNo(t, err)
	if len(runs) != 0 {
		t.Fatalf("runs after reset = %d", len(runs))
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}
