package metaport_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/metaport"
	"github.com/windsock/windsock/internal/metaport/airflowtest"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

const targetKey = "x3W1oQnFMyC2gW8vVQ5S3tq9RkLh0V8gE8iYb6cJ1oA="

func needPython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(airflowtest.Python); err != nil {
		t.Skip("no " + airflowtest.Python)
	}
}

// airflowDB builds a SQLite Airflow database of release v and returns its
// path and history.
func airflowDB(t *testing.T, v string) (string, *airflowtest.History) {
	t.Helper()
	needPython(t)
	path := filepath.Join(t.TempDir(), "airflow.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := airflowtest.Create(t, db, false, v)
	return path, airflowtest.Fill(t.Context(), d)
}

func openSource(t *testing.T, path string) *metaport.DBSource {
	t.Helper()
	// As the CLI opens it.
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=mmap_size(1073741824)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	src, err := metaport.OpenDBSource(t.Context(), db, false, path)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func newStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

func keys(t *testing.T, k string) *fernet.Keys {
	t.Helper()
	ks, err := fernet.Parse(k)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func tableReport(t *testing.T, rep *metaport.Report, table string) *metaport.TableReport {
	t.Helper()
	for _, tr := range rep.Tables {
		if tr.Table == table {
			return tr
		}
	}
	t.Fatalf("no report for %s", table)
	return nil
}

func TestImportAirflowVersions(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"1.10", "2.0", "2.2", "2.5", "2.9", "2.10"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			path, h := airflowDB(t, v)
			st := newStore(t)
			ctx := t.Context()
			opts := metaport.Options{SourceKeys: keys(t, airflowtest.SourceKey), TargetKeys: keys(t, targetKey)}
			rep, err := metaport.Import(ctx, st, openSource(t, path), opts)
			if err != nil {
				t.Fatal(err)
			}
			checkHistory(t, ctx, st, h)
			if got := tableReport(t, rep, "task_instance"); got.Imported != int64(len(h.TaskInstances)) ||
				got.Skipped["no dag run at its logical date (moved aside, as Airflow 2.2 does)"] != int64(h.Orphans) {
				t.Errorf("task_instance report = %+v", got)
			}
			if got := tableReport(t, rep, "dag_run"); got.Read != 3 || got.Imported != 3 || got.KeptAside != 1 {
				t.Errorf("dag_run report = %+v", got)
			}
			if got := tableReport(t, rep, "xcom"); got.Imported != 1 || got.KeptAside != 1 {
				t.Errorf("xcom report = %+v", got)
			}
			aside, err := st.ImportAsideList(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			var asideKeys []string
			for _, a := range aside {
				asideKeys = append(asideKeys, a.Table+":"+a.Column)
			}
			if !slices.Contains(asideKeys, "dag_run:conf") || !slices.Contains(asideKeys, "xcom:value") ||
				(h.Orphans > 0) != slices.Contains(asideKeys, "task_instance:*") {
				t.Errorf("kept aside: %v", asideKeys)
			}

			// The same source again: nothing changes.
			rep2, err := metaport.Import(ctx, st, openSource(t, path), opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range rep2.Tables {
				if tr.Imported != 0 {
					t.Errorf("second import wrote %d rows of %s", tr.Imported, tr.Table)
				}
			}
			checkHistory(t, ctx, st, h)
		})
	}
}

// checkHistory compares the store with the history airflowtest.Fill
// wrote.
func checkHistory(t *testing.T, ctx context.Context, st store.Store, h *airflowtest.History) {
	t.Helper()
	runs, err := st.DagRunList(ctx, &store.DagRunListParams{})
	if err != nil {
		t.Fatal(err)
	}
	var gotRuns []string
	for _, r := range runs {
		gotRuns = append(gotRuns, r.DagID+"/"+r.RunID)
		switch r.RunID {
		case "manual__2024-01-02T00:00:00+00:00":
			b, _ := json.Marshal(r.Conf)
			if string(b) != `{"name":"x","param":[1,2],"ratio":0.5}` || r.State != windsock.DagRunFailed || !r.ExternalTrigger ||
				r.RunType != windsock.RunTypeManual || !r.LogicalDate.Equal(airflowtest.Day(2)) || r.StartDate == nil {
				t.Errorf("manual run = %+v (conf %s)", r, b)
			}
		case "manual__2024-01-03T00:00:00+00:00":
			if r.Conf != nil {
				t.Errorf("conf of an object pickle = %v, want none (kept aside)", r.Conf)
			}
		}
	}
	slices.Sort(gotRuns)
	want := slices.Sorted(slices.Values(h.Runs))
	if !slices.Equal(gotRuns, want) {
		t.Errorf("runs = %v, want %v", gotRuns, want)
	}
	tis, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{})
	if err != nil {
		t.Fatal(err)
	}
	var gotTIs []string
	for _, ti := range tis {
		gotTIs = append(gotTIs, ti.DagID+"/"+ti.RunID+"/"+ti.TaskID)
		if ti.Hostname != "worker-1" || ti.Duration == nil || *ti.Duration != 60.5 || ti.Pool != "etl_pool" || ti.PriorityWeight != 2 ||
			ti.Operator != "BashOperator" || ti.MapIndex != -1 || ti.StartDate == nil || ti.JobID == nil {
			t.Errorf("task instance = %+v", ti)
		}
		if ti.TaskID == "load" && ti.RunID == "manual__2024-01-02T00:00:00+00:00" && (ti.State != windsock.TaskStateFailed || ti.TryNumber != 2) {
			t.Errorf("failed task instance = %+v", ti)
		}
	}
	slices.Sort(gotTIs)
	if want := slices.Sorted(slices.Values(h.TaskInstances)); !slices.Equal(gotTIs, want) {
		t.Errorf("task instances = %v, want %v", gotTIs, want)
	}
	if len(tis) > 0 && tis[0].JobID != nil {
		jobs, err := st.JobList(ctx, &store.JobListParams{JobType: "LocalTaskJob"})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 1 || jobs[0].ID != *tis[0].JobID || jobs[0].Hostname != "worker-1" {
			t.Errorf("task instance's job %d; LocalTaskJobs %+v", *tis[0].JobID, jobs)
		}
	}
	x, err := st.XComGet(ctx, &store.XComGetParams{DagID: "etl", RunID: "scheduled__2024-01-01T00:00:00+00:00", TaskID: "extract", MapIndex: -1, Key: "return_value"})
	if err != nil || strings.ReplaceAll(string(x.Value), " ", "") != `{"rows":3}` {
		t.Errorf("xcom = %+v, %v", x, err)
	}
	key := windsock.TaskInstanceKey{DagID: "etl", TaskID: "load", RunID: "manual__2024-01-02T00:00:00+00:00", MapIndex: -1}
	if fails, err := st.TaskFailList(ctx, key); err != nil || len(fails) != 1 || fails[0].Duration == nil || *fails[0].Duration != 60 {
		t.Errorf("task_fail = %v, %v", fails, err)
	}
	rkey := windsock.TaskInstanceKey{DagID: "etl", TaskID: "extract", RunID: "scheduled__2024-01-01T00:00:00+00:00", MapIndex: -1}
	if rs, err := st.TaskRescheduleList(ctx, rkey, 1); err != nil || len(rs) != 1 {
		t.Errorf("task_reschedule = %v, %v", rs, err)
	}
	if f, err := st.RenderedFieldsGet(ctx, rkey); err != nil || !strings.Contains(string(f), "echo 2024-01-01") {
		t.Errorf("rendered fields = %s, %v", f, err)
	}
	tk := keys(t, targetKey)
	v, err := st.VariableGet(ctx, "secret_var")
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := tk.Decrypt(v.Val); !v.IsEncrypted || err != nil || string(plain) != "s3cr3t" {
		t.Errorf("secret_var = %+v: %q, %v", v, plain, err)
	}
	if v, err := st.VariableGet(ctx, "plain_var"); err != nil || !v.IsEncrypted {
		t.Errorf("plain_var = %+v, %v (want encrypted with the environment's key)", v, err)
	} else if plain, _ := tk.Decrypt(v.Val); string(plain) != "hello" {
		t.Errorf("plain_var = %q", plain)
	}
	c, err := st.ConnectionGet(ctx, "my_pg")
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := tk.Decrypt(c.Password)
	extra, _ := tk.Decrypt(c.Extra)
	if string(pw) != "pg-pass" || string(extra) != `{"sslmode": "require"}` || c.Port != 5432 || c.Host != "db.example" || c.ConnType != "postgres" {
		t.Errorf("connection = %+v (password %q, extra %q)", c, pw, extra)
	}
	if p, err := st.PoolGet(ctx, "etl_pool"); err != nil || p.Slots != 4 {
		t.Errorf("etl_pool = %+v, %v", p, err)
	}
	if m, err := st.SlaMissList(ctx, "etl"); err != nil || len(m) != 1 || !m[0].ExecutionDate.Equal(airflowtest.Day(2)) {
		t.Errorf("sla_miss = %v, %v", m, err)
	}
	if logs, err := st.EventLogList(ctx, &store.EventLogListParams{DagID: "etl"}); err != nil || len(logs) != 2 {
		t.Errorf("log = %d rows, %v", len(logs), err)
	}
	if h.DatasetEvents > 0 {
		ds, err := st.DatasetGet(ctx, "s3://bucket/sales.csv")
		if err != nil || ds.Extra["team"] != "sales" {
			t.Errorf("dataset = %+v, %v", ds, err)
		}
		events, n, err := st.DatasetEventList(ctx, &store.DatasetEventListParams{})
		if err != nil || n != h.DatasetEvents || len(events) != h.DatasetEvents || events[0].SourceDagID != "etl" {
			t.Errorf("dataset events = %d/%d %+v, %v", len(events), n, events, err)
		}
	}
	checkLater(t, ctx, st, h)
	for id, paused := range map[string]bool{"etl": false, "old": true} {
		d, err := st.DAGGet(ctx, id)
		if err != nil || d.IsPaused != paused {
			t.Errorf("dag %s = %+v, %v (want paused %v)", id, d, err, paused)
		}
	}
}

func TestImportRefusesAirflow3AndUnknown(t *testing.T) {
	t.Parallel()
	for rev, want := range map[string]string{
		"29ce7909c52b": "Airflow 3.0.0 database (alembic revision 29ce7909c52b)",
		"deadbeef0000": "alembic revision deadbeef0000 is not one Windsock knows",
	} {
		path := filepath.Join(t.TempDir(), "airflow.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`CREATE TABLE alembic_version (version_num VARCHAR(32)); INSERT INTO alembic_version VALUES ('` + rev + `')`); err != nil {
			t.Fatal(err)
		}
		_, err = metaport.OpenDBSource(t.Context(), db, false, path)
		db.Close()
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "supported: Airflow 1.10.0 to 2.10") {
			t.Errorf("%s: %v, want it to say %q", rev, err, want)
		}
	}
}

func TestImportWithoutKey(t *testing.T) {
	t.Parallel()
	path, _ := airflowDB(t, "2.5")
	ctx := t.Context()
	for _, skip := range []bool{false, true} {
		st := newStore(t)
		rep, err := metaport.Import(ctx, st, openSource(t, path), metaport.Options{SkipEncrypted: skip})
		if err != nil {
			t.Fatal(err)
		}
		notes := strings.Join(rep.Notes, "\n")
		for _, w := range []string{"variable secret_var: val is encrypted", "connection my_pg: password is encrypted"} {
			if !strings.Contains(notes, w) {
				t.Errorf("skip=%v: notes lack %q:\n%s", skip, w, notes)
			}
		}
		v, err := st.VariableGet(ctx, "secret_var")
		switch {
		case skip && err == nil:
			t.Errorf("skip: secret_var imported: %+v", v)
		case !skip && (err != nil || !v.IsEncrypted || !strings.HasPrefix(v.Val, "gAAAAA")):
			t.Errorf("no key: secret_var = %+v, %v (want the token, unreadable)", v, err)
		}
		if v, err := st.VariableGet(ctx, "plain_var"); err != nil || v.Val != "hello" || v.IsEncrypted {
			t.Errorf("plain_var without an environment key = %+v, %v", v, err)
		}
	}
}

func TestImportOnConflictAndDryRun(t *testing.T) {
	t.Parallel()
	path, _ := airflowDB(t, "2.9")
	ctx := t.Context()
	st := newStore(t)
	// The environment already has a pool and a run of its own.
	if err := st.PoolUpsert(ctx, &windsock.Pool{Pool: "etl_pool", Slots: 99}); err != nil {
		t.Fatal(err)
	}
	if err := st.VariableSet(ctx, &windsock.Variable{Key: "plain_var", Val: "mine"}); err != nil {
		t.Fatal(err)
	}
	if err := st.DAGUpsert(ctx, &store.DAGUpsertParams{DagID: "etl", Fileloc: "/x/etl.yaml", MaxActiveTasks: 16, IsPausedUponCreation: true}); err != nil {
		t.Fatal(err)
	}

	dry, err := metaport.Import(ctx, st, openSource(t, path), metaport.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if tr := tableReport(t, dry, "dag_run"); !dry.DryRun || tr.Imported != 3 {
		t.Errorf("dry run report: %+v", tr)
	}
	if runs, _ := st.DagRunList(ctx, &store.DagRunListParams{}); len(runs) != 0 {
		t.Fatalf("dry run wrote %d runs", len(runs))
	}
	if cp, _ := st.ImportCheckpointGet(ctx, path, "dag_run"); cp != nil {
		t.Fatalf("dry run wrote a checkpoint")
	}

	rep, err := metaport.Import(ctx, st, openSource(t, path), metaport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tr := tableReport(t, rep, "slot_pool"); tr.Skipped["already in the environment"] != 1 {
		t.Errorf("slot_pool report = %+v", tr)
	}
	if p, _ := st.PoolGet(ctx, "etl_pool"); p.Slots != 99 {
		t.Errorf("skip kept pool slots %d, want 99", p.Slots)
	}
	// The environment's DAG keeps its own paused state (paused), the new
	// one gets the source's.
	if d, _ := st.DAGGet(ctx, "etl"); !d.IsPaused || d.Fileloc != "/x/etl.yaml" {
		t.Errorf("etl after import = %+v", d)
	}

	// Overwrite: a new source name, since the first import is done.
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(copyPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err = metaport.Import(ctx, st, openSource(t, copyPath), metaport.Options{Overwrite: true})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := st.PoolGet(ctx, "etl_pool"); p.Slots != 4 {
		t.Errorf("overwrite left pool slots %d, want 4", p.Slots)
	}
	if v, _ := st.VariableGet(ctx, "plain_var"); v.Val != "hello" {
		t.Errorf("overwrite left plain_var %q", v.Val)
	}
	if d, _ := st.DAGGet(ctx, "etl"); d.IsPaused {
		t.Errorf("overwrite: etl paused, want the source's state (unpaused)")
	}
	if tr := tableReport(t, rep, "log"); tr.Imported != 0 || tr.Skipped["already in the environment"] != 2 {
		t.Errorf("log rows of the copy: %+v (want recognised as the same rows)", tr)
	}
	if runs, _ := st.DagRunList(ctx, &store.DagRunListParams{}); len(runs) != 3 {
		t.Errorf("runs after overlapping import = %d", len(runs))
	}
}

// countingProgress records what an import tells its progress bar.
type countingProgress struct {
	total, added int64
	finished     bool
}

func (p *countingProgress) Start(total int64) { p.total = total }
func (p *countingProgress) Add(n int)         { p.added += int64(n) }
func (p *countingProgress) Finish()           { p.finished = true }

// TestImportProgress: the progress (the CLI's bar on a terminal) is told
// the rows to read, then each batch read, and ends at the rows the report
// says were read.
func TestImportProgress(t *testing.T) {
	t.Parallel()
	path, _ := airflowDB(t, "2.5")
	p := &countingProgress{}
	rep, err := metaport.Import(t.Context(), newStore(t), openSource(t, path), metaport.Options{SkipEncrypted: true, Progress: p})
	if err != nil {
		t.Fatal(err)
	}
	var read int64
	for _, tr := range rep.Tables {
		read += tr.Read
	}
	if read == 0 || p.total != read || p.added != read || !p.finished {
		t.Fatalf("progress started at %d, added %d, finished %v; the report read %d rows", p.total, p.added, p.finished, read)
	}
}
