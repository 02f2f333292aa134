package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/metaport"
	"github.com/windsock/windsock/internal/metaport/airflowtest"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/postgres/pgtest"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/store/storetest"
	"github.com/windsock/windsock/internal/windsock"
)

const importTargetKey = "x3W1oQnFMyC2gW8vVQ5S3tq9RkLh0V8gE8iYb6cJ1oA="

// importHome is a home whose store is a SQLite file the test can open,
// with a Fernet key of its own.
func importHome(t *testing.T) (*home, string) {
	t.Helper()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "windsock.db")
	return newHome(t, "WINDSOCK__DATABASE__SQL_ALCHEMY_CONN=sqlite:///"+dbPath, "WINDSOCK__CORE__FERNET_KEY="+importTargetKey), dbPath
}

// sqliteAirflowDB builds an Airflow database of release v; extraLogs
// audit log rows are added to make the import long.
func sqliteAirflowDB(t *testing.T, v string, extraLogs int) string {
	t.Helper()
	if _, err := exec.LookPath(airflowtest.Python); err != nil {
		t.Skip("no " + airflowtest.Python)
	}
	path := filepath.Join(t.TempDir(), "airflow.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	airflowtest.Fill(t.Context(), airflowtest.Create(t, db, false, v))
	if extraLogs > 0 {
		if _, err := db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO log (dttm, dag_id, event, owner) SELECT datetime('2024-02-01', '+' || i || ' seconds'), 'etl', 'cli_check', 'admin' FROM n`, extraLogs); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func decodeReport(t *testing.T, out string) *metaport.Report {
	t.Helper()
	var rep metaport.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	return &rep
}

func reportOf(rep *metaport.Report, table string) metaport.TableReport {
	for _, tr := range rep.Tables {
		if tr.Table == table {
			return *tr
		}
	}
	return metaport.TableReport{}
}

func openSQLiteStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestDBImportSQLite(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"1.10", "2.10"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			src := sqliteAirflowDB(t, v, 0)
			h, dbPath := importHome(t)
			rep := decodeReport(t, h.ok(t, "db", "import", src, "--fernet-key", "bm90IHRoZSBrZXkgYnV0IDMyIGJ5dGVzIGxvbmchISE=,"+airflowtest.SourceKey, "-o", "json"))
			if rep.Source != src || !strings.HasPrefix(rep.Version, v) {
				t.Errorf("report names %s %s", rep.Source, rep.Version)
			}
			for table, want := range map[string]int64{"dag_run": 3, "task_instance": 5, "variable": 2, "connection": 1, "job": 2, "log": 2, "xcom": 1} {
				if got := reportOf(rep, table).Imported; got != want {
					t.Errorf("%s: imported %d, want %d", table, got, want)
				}
			}
			// Through the CLI: the secret was re-encrypted with this
			// environment's key.
			if out := h.ok(t, "variables", "get", "secret_var"); strings.TrimSpace(out) != "s3cr3t" {
				t.Errorf("variables get secret_var = %q", out)
			}
			if out := h.ok(t, "dags", "list-runs", "-d", "etl", "-o", "json"); !strings.Contains(out, "manual__2024-01-02T00:00:00+00:00") {
				t.Errorf("list-runs: %s", out)
			}

			// Again: nothing changes, and the table report says why.
			again := h.ok(t, "db", "import", src, "--fernet-key", airflowtest.SourceKey)
			if !strings.Contains(again, "task_instance") || !strings.Contains(again, "Imported from "+src) {
				t.Errorf("second report:\n%s", again)
			}
			rep2 := decodeReport(t, h.ok(t, "db", "import", src, "--fernet-key", airflowtest.SourceKey, "-o", "json"))
			for _, tr := range rep2.Tables {
				if tr.Imported != 0 {
					t.Errorf("third import wrote %d rows of %s", tr.Imported, tr.Table)
				}
			}
			st := openSQLiteStore(t, dbPath)
			tis, err := st.TaskInstanceList(t.Context(), &store.TaskInstanceListParams{})
			if err != nil || len(tis) != 5 {
				t.Errorf("task instances = %d, %v", len(tis), err)
			}
		})
	}
}

func TestDBImportRefusals(t *testing.T) {
	t.Parallel()
	h, _ := importHome(t)
	path := filepath.Join(t.TempDir(), "airflow3.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE alembic_version (version_num VARCHAR(32)); INSERT INTO alembic_version VALUES ('fe199e1abd77')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	h.fails(t, "is an Airflow 3.0.3 database (alembic revision fe199e1abd77); supported: Airflow 1.10.0 to 2.10", "db", "import", path)
	h.fails(t, "want an airflow.db file or a postgresql:// URL", "db", "import", filepath.Join(t.TempDir(), "missing.db"))
	h.fails(t, "has no dag_run.csv: not an export of AWS's tools", "db", "import", t.TempDir())
	h.fails(t, "--format must be one of", "db", "export", t.TempDir(), "--format", "csv")
	h.fails(t, "--on-conflict must be skip or overwrite", "db", "import", path, "--on-conflict", "merge")
}

// TestDBImportInterrupted kills an import with SIGKILL in the middle and
// runs the same command again: it resumes from the last batch committed,
// writes every row once, and gives the DAGs back their paused states.
func TestDBImportInterrupted(t *testing.T) {
	t.Parallel()
	const logs = 20000
	src := sqliteAirflowDB(t, "2.10", logs)
	h, dbPath := importHome(t)
	args := []string{"db", "import", src, "--fernet-key", airflowtest.SourceKey, "--batch-size", "1"}
	// Killed once some log batches are committed.
	ro := killImportWhen(t, h, dbPath, args, `SELECT count(*) FROM log`, 100)
	var partial int
	if err := ro.QueryRow(`SELECT count(*) FROM log`).Scan(&partial); err != nil {
		t.Fatal(err)
	}
	if partial >= logs {
		t.Fatalf("the import had finished (%d log rows) when killed", partial)
	}
	var etlPaused bool
	if err := ro.QueryRow(`SELECT is_paused FROM dag WHERE dag_id = 'etl'`).Scan(&etlPaused); err != nil || !etlPaused {
		t.Fatalf("during the import etl is paused=%v (%v), want paused", etlPaused, err)
	}

	rep := decodeReport(t, h.ok(t, append(args, "--batch-size", "500", "-o", "json")...))
	if tr := reportOf(rep, "log"); !tr.Resumed || tr.Imported != int64(logs+2-partial) {
		t.Errorf("resumed log report = %+v, want %d imported after %d", tr, logs+2-partial, partial)
	}
	st := openSQLiteStore(t, dbPath)
	var total int
	if err := ro.QueryRow(`SELECT count(*) FROM log`).Scan(&total); err != nil || total != logs+2 {
		t.Errorf("log rows = %d, want %d (each once)", total, logs+2)
	}
	runs, _ := st.DagRunList(t.Context(), &store.DagRunListParams{})
	tis, _ := st.TaskInstanceList(t.Context(), &store.TaskInstanceListParams{})
	if len(runs) != 3 || len(tis) != 5 {
		t.Errorf("runs %d, task instances %d; want 3 and 5", len(runs), len(tis))
	}
	for id, want := range map[string]bool{"etl": false, "old": true} {
		if d, err := st.DAGGet(t.Context(), id); err != nil || d.IsPaused != want {
			t.Errorf("dag %s paused = %v (%v), want %v", id, d.IsPaused, err, want)
		}
	}
	if cp, _ := st.ImportCheckpointGet(t.Context(), src, "_paused"); cp != nil {
		t.Errorf("saved paused states left behind: %+v", cp)
	}
}

// TestDBImportPostgres imports from an Airflow database on PostgreSQL
// into an environment on PostgreSQL.
func TestDBImportPostgres(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath(airflowtest.Python); err != nil {
		t.Skip("no " + airflowtest.Python)
	}
	base := storetest.PostgresURL(t)
	srcURL := pgtest.SchemaURL(t, base)
	srcStore, err := postgres.Open(t.Context(), srcURL)
	if err != nil {
		t.Fatal(err)
	}
	defer srcStore.Close()
	srcDB := srcStore.DB()
	srcDB.SetMaxOpenConns(1) // one session, so the search_path holds for every statement
	airflowtest.Fill(t.Context(), airflowtest.Create(t, srcDB, true, "2.9"))

	targetURL := pgtest.SchemaURL(t, base)
	h := newHome(t, "WINDSOCK__DATABASE__SQL_ALCHEMY_CONN="+targetURL, "WINDSOCK__CORE__FERNET_KEY="+importTargetKey)
	pgURL := strings.Replace(srcURL, "postgres://", "postgresql+psycopg2://", 1)
	rep := decodeReport(t, h.ok(t, "db", "import", pgURL, "--fernet-key", airflowtest.SourceKey, "-o", "json"))
	if strings.Contains(rep.Source, "windsock:windsock@") || rep.Version != "2.9.2" {
		t.Errorf("report source %q (password shown?), version %q", rep.Source, rep.Version)
	}
	for table, want := range map[string]int64{"dag_run": 3, "task_instance": 5, "task_fail": 1, "task_reschedule": 1, "xcom": 1,
		"rendered_task_instance_fields": 1, "variable": 2, "connection": 1, "slot_pool": 1, "sla_miss": 1, "log": 2, "job": 2} {
		if got := reportOf(rep, table).Imported; got != want {
			t.Errorf("%s: imported %d, want %d", table, got, want)
		}
	}
	if out := h.ok(t, "connections", "get", "my_pg", "-o", "json"); !strings.Contains(out, `"extra_dejson": {"sslmode": "require"}`) {
		t.Errorf("connections get my_pg: %s", out)
	}
	rep2 := decodeReport(t, h.ok(t, "db", "import", pgURL, "-o", "json"))
	for _, tr := range rep2.Tables {
		if tr.Imported != 0 {
			t.Errorf("second import wrote %d rows of %s", tr.Imported, tr.Table)
		}
	}
}

// TestDBExportImportFolder exports an environment with `db export` in
// both of AWS's current layouts and imports each folder into a new
// environment with `db import`.
func TestDBExportImportFolder(t *testing.T) {
	t.Parallel()
	src := sqliteAirflowDB(t, "2.9", 0)
	a, _ := importHome(t)
	a.ok(t, "db", "import", src, "--fernet-key", airflowtest.SourceKey)
	for _, format := range []string{"mwaa-dr", "export_data-2.x"} {
		dir := filepath.Join(t.TempDir(), format)
		out := a.ok(t, "db", "export", dir, "--format", format)
		if !strings.Contains(out, "dag_run.csv") || !strings.Contains(out, "3 rows") {
			t.Errorf("export report:\n%s", out)
		}
		b, _ := importHome(t)
		rep := decodeReport(t, b.ok(t, "db", "import", dir, "-o", "json"))
		for table, want := range map[string]int64{"dag_run": 3, "task_instance": 5, "variable": 2, "log": 2, "job": 2, "task_fail": 1} {
			if got := reportOf(rep, table).Imported; got != want {
				t.Errorf("%s %s: imported %d, want %d", format, table, got, want)
			}
		}
		if out := b.ok(t, "variables", "get", "secret_var"); strings.TrimSpace(out) != "s3cr3t" {
			t.Errorf("%s: variables get secret_var = %q", format, out)
		}
		// Named instead of detected.
		name := map[string]string{"mwaa-dr": "mwaa-dr-2.10", "export_data-2.x": "export_data-2.4.3"}[format]
		c, _ := importHome(t)
		rep = decodeReport(t, c.ok(t, "db", "import", dir, "--format", name, "-o", "json"))
		if got := reportOf(rep, "task_instance").Imported; got != 5 {
			t.Errorf("--format %s: imported %d task instances", name, got)
		}
	}
}

// TestDBImportLogs copies the logs of the failed task instance's two tries
// (2.x layout, one with MWAA's '_' for ':') and, with --all-states, a
// successful one in 1.10's layout; the REST API then serves them.
func TestDBImportLogs(t *testing.T) {
	t.Parallel()
	src := sqliteAirflowDB(t, "2.10", 0)
	h, _ := importHome(t)
	h.env = append(h.env, "WINDSOCK__LOGGING__WORKER_LOG_SERVER_PORT="+freePort(t))
	h.ok(t, "db", "import", src, "--fernet-key", airflowtest.SourceKey)

	logs := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(logs, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("dag_id=etl/run_id=manual__2024-01-02T00:00:00+00:00/task_id=load/attempt=1.log", "first try failed\n")
	write("dag_id=etl/run_id=manual__2024-01-02T00_00_00+00_00/task_id=load/attempt=2.log", "second try failed too\n")
	write("etl/extract/2024-01-01T00:00:00+00:00/1.log", "extracted (1.10 layout)\n")

	// 2024-01 is long ago: 10000 days reach it.
	out := h.ok(t, "db", "import-logs", logs, "--days", "10000", "-o", "json")
	var rep metaport.LogImportReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Copied != 2 || rep.Missing != 0 {
		t.Fatalf("import-logs report %s (%v)", out, err)
	}
	if out := h.ok(t, "db", "import-logs", logs, "--days", "1"); !strings.Contains(out, "Copied 0 task logs") {
		t.Errorf("--days 1: %s", out)
	}
	out = h.ok(t, "db", "import-logs", logs, "--days", "10000", "--all-states", "-o", "json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Copied != 1 || rep.Existing != 2 || rep.Missing != 3 {
		t.Fatalf("--all-states report %s (%v)", out, err)
	}

	h.ok(t, "users", "create", "-u", "root", "-p", "root-pw-1", "-r", "Admin", "-f", "R", "-l", "R", "-e", "root@example.com")
	port := freePort(t)
	startWebserver(t, h, port)
	for path, want := range map[string]string{
		"/dags/etl/dagRuns/manual__2024-01-02T00:00:00+00:00/taskInstances/load/logs/2":       "second try failed too",
		"/dags/etl/dagRuns/scheduled__2024-01-01T00:00:00+00:00/taskInstances/extract/logs/1": "extracted (1.10 layout)",
	} {
		req, _ := http.NewRequest("GET", "http://127.0.0.1:"+port+"/api/v1"+strings.ReplaceAll(path, "+", "%2B")+"?full_content=true", nil)
		req.SetBasicAuth("root", "root-pw-1")
		req.Header.Set("Accept", "text/plain")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
}

// TestDBImportInterruptedBulk kills an import while task_instance's
// secondary indexes are suspended for a bulk load (12,000 task instances,
// above the 10,000 from which they are) and runs it again: the store
// holds the suspension's record and no secondary index at the kill, the
// rerun resumes, writes every row once and builds every index again.
func TestDBImportInterruptedBulk(t *testing.T) {
	t.Parallel()
	src := sqliteAirflowDB(t, "2.10", 0)
	db, err := sql.Open("sqlite", src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
		INSERT INTO dag_run (dag_id, execution_date, run_id, state, run_type, external_trigger, clear_number)
		SELECT 'bulk', datetime('2023-01-01', '+' || i || ' hours'), 'scheduled__' || i, 'success', 'scheduled', 0, 0 FROM n`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 10)
		INSERT INTO task_instance (task_id, dag_id, run_id, map_index, state, try_number, max_tries, pool, pool_slots, queue, priority_weight)
		SELECT 't' || j, r.dag_id, r.run_id, -1, 'success', 1, 0, 'default_pool', 1, 'default', 1 FROM dag_run r, k WHERE r.dag_id = 'bulk'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	const tis = 12005
	h, dbPath := importHome(t)
	// The environment's own indexes, to find again at the end.
	h.ok(t, "db", "migrate")
	ro, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	indexes := func() []string {
		t.Helper()
		rows, err := ro.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'task_instance' AND sql IS NOT NULL ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		return names
	}
	before := indexes()
	if len(before) < 5 {
		t.Fatalf("secondary indexes before the import: %v", before)
	}

	args := []string{"db", "import", src, "--fernet-key", airflowtest.SourceKey, "--batch-size", "50"}
	killImportWhen(t, h, dbPath, args, `SELECT count(*) FROM task_instance`, 500)
	var partial, recorded int
	if err := ro.QueryRow(`SELECT count(*) FROM task_instance`).Scan(&partial); err != nil || partial >= tis {
		t.Fatalf("task instances at the kill: %d (%v)", partial, err)
	}
	if err := ro.QueryRow(`SELECT count(*) FROM import_checkpoint WHERE source = 'windsock:suspended-indexes'`).Scan(&recorded); err != nil || recorded != 1 {
		t.Fatalf("suspension records at the kill: %d (%v), want 1 (task_instance; dag_run has too few rows)", recorded, err)
	}
	if left := indexes(); len(left) != 0 {
		t.Fatalf("secondary indexes during the bulk import: %v", left)
	}

	rep := decodeReport(t, h.ok(t, append(args, "--batch-size", "2000", "-o", "json")...))
	if tr := reportOf(rep, "task_instance"); !tr.Resumed || !tr.IndexesRebuilt || tr.Imported != int64(tis-partial) {
		t.Errorf("resumed task_instance report = %+v, want %d imported after %d", tr, tis-partial, partial)
	}
	if after := indexes(); !slices.Equal(after, before) {
		t.Errorf("indexes after the import = %v, want %v", after, before)
	}
	var total int
	if err := ro.QueryRow(`SELECT count(*) FROM task_instance`).Scan(&total); err != nil || total != tis {
		t.Errorf("task instances = %d, want %d (each once)", total, tis)
	}
	if err := ro.QueryRow(`SELECT count(*) FROM import_checkpoint WHERE source = 'windsock:suspended-indexes'`).Scan(&recorded); err != nil || recorded != 0 {
		t.Errorf("suspension records left: %d (%v)", recorded, err)
	}
	// The store answers through the rebuilt indexes.
	st := openSQLiteStore(t, dbPath)
	done, err := st.TaskInstanceList(t.Context(), &store.TaskInstanceListParams{DagID: "bulk", RunID: "scheduled__7",
		States: []windsock.TaskInstanceState{windsock.TaskStateSuccess}})
	if err != nil || len(done) != 10 {
		t.Errorf("successful task instances of bulk/scheduled__7 = %d (%v), want 10", len(done), err)
	}
}

// killImportWhen runs windsock with args and kills it with SIGKILL once
// count, a query on the environment's SQLite store, exceeds atLeast (a
// condition polled on the store, not a time). It returns a read-only
// handle on the store.
func killImportWhen(t *testing.T, h *home, dbPath string, args []string, count string, atLeast int) *sql.DB {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = h.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var ro *sql.DB
	for {
		select {
		case err := <-exited:
			t.Fatalf("import ended (%v) before it could be interrupted; output:\n%s", err, out.String())
		case <-ctx.Done():
			cmd.Process.Kill()
			t.Fatal("no batch committed in time")
		case <-time.After(5 * time.Millisecond):
		}
		if ro == nil {
			// The store may not be there yet.
			if db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro"); err == nil {
				ro = db
				t.Cleanup(func() { ro.Close() })
			}
			continue
		}
		var n int
		if err := ro.QueryRow(count).Scan(&n); err == nil && n > atLeast {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	return ro
}
