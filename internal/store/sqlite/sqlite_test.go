package sqlite_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/store/sqlstore"
	"github.com/windsock/windsock/internal/store/storetest"
	"github.com/windsock/windsock/internal/windsock"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "windsock.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return st
	})
}

// setup opens a migrated store in a fresh temporary file.
func setup(t *testing.T) (*sqlstore.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nested", "dir", "windsock.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return st, path
}

func TestOpenSetsPragmas(t *testing.T) {
	t.Parallel()
	st, _ := setup(t)
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"synchronous", "1"}, // NORMAL
		{"busy_timeout", "10000"},
	}
	for _, tt := range tests {
		var got string
		if err := st.DB().QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
		}
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", ":memory:"} {
		if _, err := sqlite.Open(t.Context(), path); windsock.ErrorCode(err) != windsock.EINVALID {
			t.Errorf("Open(%q) error = %v, want code %s", path, err, windsock.EINVALID)
		}
	}
}

func TestSchemaHasAirflowTables(t *testing.T) {
	t.Parallel()
	st, _ := setup(t)
	for _, table := range []string{"dag", "dag_tag", "dag_code", "serialized_dag", "dag_run",
		"task_instance", "task_instance_history", "task_fail", "task_reschedule", "xcom",
		"rendered_task_instance_fields", "trigger", "variable", "connection", "slot_pool",
		"sla_miss", "job", "log", "import_error", "dag_run_note", "task_instance_note", "ab_user",
		"ab_role", "ab_user_role", "ab_permission", "ab_view_menu", "ab_permission_view",
		"ab_permission_view_role", "windsock_migration"} {
		var n int
		if err := st.DB().QueryRowContext(t.Context(), st.Dialect().TableExistsSQL(), table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("table %s missing", table)
		}
	}
	var fkProblems int
	if err := st.DB().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM pragma_foreign_key_check").Scan(&fkProblems); err != nil {
		t.Fatalf("foreign key check: %v", err)
	}
	if fkProblems != 0 {
		t.Fatalf("foreign key check found %d problems", fkProblems)
	}
}

func TestDeleteCascades(t *testing.T) {
	t.Parallel()
	st, _ := setup(t)
	ctx := t.Context()
	db := st.DB()
	if err := st.DAGUpsert(ctx, &store.DAGUpsertParams{DagID: "etl", Tags: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO dag_run (dag_id, run_id, execution_date, run_type, state) VALUES ('etl', 'r1', ?, 'manual', 'running')`, []any{now}},
		{`INSERT INTO task_instance (dag_id, task_id, run_id, pool, pool_slots) VALUES ('etl', 't1', 'r1', 'default_pool', 1)`, nil},
		{`INSERT INTO xcom (dag_run_id, task_id, "key", dag_id, run_id, value, timestamp) VALUES (1, 't1', 'return_value', 'etl', 'r1', X'00', ?)`, []any{now}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	for _, q := range []string{`DELETE FROM dag_run WHERE run_id = 'r1'`, `DELETE FROM dag WHERE dag_id = 'etl'`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, table := range []string{"task_instance", "xcom", "dag_tag"} {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows left in %s after deleting their parent", n, table)
		}
	}
	// And a child without its parent is refused.
	if _, err := db.ExecContext(ctx, `INSERT INTO dag_tag (name, dag_id) VALUES ('x', 'missing')`); err == nil {
		t.Error("dag_tag row for a missing dag was accepted: foreign keys are off")
	}
}

// TestTimesSortAsText checks that stored times are UTC text that sorts like
// the instants, sub-second digits included, because SQL ORDER BY and range
// conditions compare them as text.
func TestTimesSortAsText(t *testing.T) {
	t.Parallel()
	st, _ := setup(t)
	ctx := t.Context()
	base := time.Date(2024, 1, 1, 12, 0, 0, 0, time.FixedZone("EST", -5*3600))
	offsets := []time.Duration{500 * time.Millisecond, 0, 450 * time.Millisecond, time.Second, 5 * time.Microsecond, -time.Hour}
	for _, d := range offsets {
		if err := st.EventLogInsert(ctx, &windsock.EventLog{Dttm: base.Add(d), Event: "e"}); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT dttm, typeof(dttm) FROM log ORDER BY dttm`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []time.Time
	for rows.Next() {
		var ts time.Time
		var typ string
		if err := rows.Scan(&ts, &typ); err != nil {
			t.Fatal(err)
		}
		if typ != "text" {
			t.Fatalf("dttm stored as %s, want text", typ)
		}
		got = append(got, ts)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(offsets) {
		t.Fatalf("%d rows, want %d", len(got), len(offsets))
	}
	for i := 1; i < len(got); i++ {
		if !got[i-1].Before(got[i]) {
			t.Fatalf("ORDER BY dttm gave %v before %v", got[i-1], got[i])
		}
	}
	var raw string
	if err := st.DB().QueryRowContext(ctx, `SELECT CAST(dttm AS TEXT) FROM log ORDER BY dttm LIMIT 1`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if want := "2024-01-01 16:00:00+00:00"; raw != want {
		t.Fatalf("stored text = %q, want %q (UTC)", raw, want)
	}
}

func TestMigrateConcurrentOpens(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "windsock.db")
	const processes = 3
	stores := make([]*sqlstore.Store, processes)
	for i := range stores {
		st, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		stores[i] = st
	}
	ran := make([]int, processes)
	errs := make([]error, processes)
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() { ran[i], errs[i] = st.Migrate(t.Context()) })
	}
	wg.Wait()
	total := 0
	for i := range stores {
		if errs[i] != nil {
			t.Fatalf("Migrate %d: %v", i, errs[i])
		}
		total += ran[i]
	}
	// As many as one Migrate runs alone on a new database (versions may
	// have gaps).
	alone, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "alone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer alone.Close()
	want, err := alone.Migrate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if total != want {
		t.Fatalf("migrations run in all = %d, want %d", total, want)
	}
}

func TestPathFromURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url     string
		want    string
		wantErr bool
	}{
		{"sqlite:////usr/local/airflow/airflow.db", "/usr/local/airflow/airflow.db", false},
		{"sqlite:///airflow.db", "airflow.db", false},
		{"sqlite:///data/my%20db.db?check_same_thread=False", "data/my db.db", false},
		{"sqlite://", "", true},
		{"sqlite:///", "", true},
		{"postgresql://u:p@h/db", "", true},
		{"/plain/path.db", "", true},
	}
	for _, tt := range tests {
		got, err := sqlite.PathFromURL(tt.url)
		if tt.wantErr {
			if windsock.ErrorCode(err) != windsock.EINVALID {
				t.Errorf("PathFromURL(%q) error = %v, want code %s", tt.url, err, windsock.EINVALID)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("PathFromURL(%q) = %q, %v; want %q", tt.url, got, err, tt.want)
		}
	}
}

func TestOpenURL(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "airflow.db")
	st, err := sqlite.OpenURL(t.Context(), "sqlite:///"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not created at %s: %v", path, err)
	}
}
