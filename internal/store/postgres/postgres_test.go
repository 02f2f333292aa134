package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/store/sqlstore"
	"github.com/windsock/windsock/internal/store/storetest"
	"github.com/windsock/windsock/internal/windsock"
)

// server hands out stores on the server in WINDSOCK_TEST_POSTGRES_URL, each
// in a fresh schema of its own, so that parallel tests never share tables
// and no test has to clean up after itself but by dropping its schema.
type server struct {
	url   string
	admin *sqlstore.Store // creates and drops the schemas
}

// newServer skips the test unless WINDSOCK_TEST_POSTGRES_URL is set.
func newServer(tb testing.TB) *server {
	tb.Helper()
	rawURL := storetest.PostgresURL(tb)
	admin, err := postgres.Open(tb.Context(), rawURL)
	if err != nil {
		tb.Fatalf("open %s: %v", storetest.PostgresURLEnv, err)
	}
	tb.Cleanup(func() { _ = admin.Close() })
	return &server{url: rawURL, admin: admin}
}

// open returns an unmigrated store whose search_path is a new schema,
// dropped with everything in it when the test ends. The caller closes the
// store (cleanups run last-registered first, so before the drop).
func (s *server) open(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if _, err := s.admin.DB().ExecContext(tb.Context(), "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		// The test's context is already cancelled when cleanups run.
		if _, err := s.admin.DB().ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(s.url)
	if err != nil {
		tb.Fatalf("parse %s: %v", storetest.PostgresURLEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := postgres.Open(tb.Context(), u.String())
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return st
}

// setup returns a migrated store in a fresh schema, closed when the test
// ends.
func (s *server) setup(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	st := s.open(tb)
	tb.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(tb.Context()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return st
}

func TestConformance(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	storetest.Run(t, func(t *testing.T) store.Store { return srv.open(t) })
}

func TestConnString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, want string
		invalid   bool
	}{
		{"postgresql://u:p@db:5432/airflow", "postgresql://u:p@db:5432/airflow", false},
		{"postgres://u@db/airflow?sslmode=disable", "postgres://u@db/airflow?sslmode=disable", false},
		{"postgresql+psycopg2://u:p@db/airflow", "postgresql://u:p@db/airflow", false},
		{"postgresql+psycopg://u:p@db/airflow?sslmode=require", "postgresql://u:p@db/airflow?sslmode=require", false},
		{"PostgreSQL+Psycopg2://u:p@db/airflow", "postgresql://u:p@db/airflow", false},
		{"sqlite:////usr/local/airflow/airflow.db", "", true},
		{"mysql+mysqldb://u:p@db/airflow", "", true},
		{"postgresqlx://db/airflow", "", true},
		{"host=db dbname=airflow", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := postgres.ConnString(tt.url)
		if postgres.IsURL(tt.url) == tt.invalid {
			t.Errorf("IsURL(%q) = %v, want %v", tt.url, !tt.invalid, !tt.invalid)
		}
		if tt.invalid {
			if windsock.ErrorCode(err) != windsock.EINVALID {
				t.Errorf("ConnString(%q) error = %v, want code %s", tt.url, err, windsock.EINVALID)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ConnString(%q) = %q, %v; want %q", tt.url, got, err, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"postgresql://airflow:s3cret@db:5432/airflow", "postgresql://airflow:***@db:5432/airflow"},
		{"postgresql+psycopg2://airflow:p%40ss@db/airflow", "postgresql+psycopg2://airflow:***@db/airflow"},
		{"postgres://airflow@db/airflow", "postgres://airflow@db/airflow"},
		{"postgres://db/airflow", "postgres://db/airflow"},
		{"postgres://u:p@[::1/x", "postgres://***"},
	}
	for _, tt := range tests {
		got := postgres.Redact(tt.url)
		if got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.url, got, tt.want)
		}
		if strings.Contains(got, "s3cret") || strings.Contains(got, "p%40ss") {
			t.Errorf("Redact(%q) = %q leaks the password", tt.url, got)
		}
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	// Port 1 on loopback refuses at once; the error must not show the
	// password.
	_, err := postgres.Open(t.Context(), "postgresql://airflow:s3cret@127.0.0.1:1/airflow?connect_timeout=5")
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Open error %q shows the password", err)
	}
}

// TestSchemaMatchesSQLite checks that both dialects' migrations build the
// same schema: the same migration versions and names, tables, columns in
// order, and indexes, so that queries and metadata export see no
// difference.
func TestSchemaMatchesSQLite(t *testing.T) {
	t.Parallel()
	pg := newServer(t).setup(t)
	lite, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if _, err := lite.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tests := []struct {
		what             string
		sqliteQ, pgQuery string
	}{
		{"migrations", `SELECT version || ' ' || name FROM windsock_migration`,
			`SELECT version || ' ' || name FROM windsock_migration`},
		{"columns",
			`SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p
				WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`,
			`SELECT table_name || '.' || column_name FROM information_schema.columns
				WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`},
		// Indexes created by CREATE INDEX; those behind keys are named
		// after their constraint on PostgreSQL and not at all on SQLite.
		{"indexes",
			`SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`,
			`SELECT indexname FROM pg_indexes i WHERE schemaname = current_schema()
				AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`},
		{"unique keys",
			`SELECT m.name || ':' || (SELECT group_concat(name, ',') FROM pragma_index_info(l.name))
				FROM sqlite_master m, pragma_index_list(m.name) l
				WHERE m.type = 'table' AND l.origin IN ('u', 'pk')
			UNION ALL
			-- An INTEGER PRIMARY KEY is the rowid: a key without an index.
			SELECT m.name || ':' || p.name FROM sqlite_master m, pragma_table_info(m.name) p
				WHERE m.type = 'table' AND p.pk = 1 AND p.type = 'INTEGER'
					AND (SELECT COUNT(*) FROM pragma_table_info(m.name) WHERE pk > 0) = 1`,
			`SELECT c.conrelid::regclass::text || ':' || string_agg(a.attname, ',' ORDER BY k.n)
				FROM pg_constraint c
				CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
				JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
				WHERE c.contype IN ('u', 'p') AND c.connamespace = current_schema()::regnamespace
				GROUP BY c.oid, c.conrelid`},
	}
	for _, tt := range tests {
		want := column(t, ctx, lite, tt.sqliteQ)
		got := column(t, ctx, pg, tt.pgQuery)
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s differ:\n postgres only: %v\n sqlite only: %v", tt.what, minus(got, want), minus(want, got))
		}
	}
}

func column(t *testing.T, ctx context.Context, st *sqlstore.Store, query string) []string {
	t.Helper()
	rows, err := st.DB().QueryContext(ctx, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Trim(s, `"`))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestTimesRoundTripUTC checks what the conformance suite takes for
// granted on PostgreSQL: times are stored as instants (TIMESTAMPTZ), so a
// session in another time zone reads the same instant, and sqlstore hands
// them back in UTC.
func TestTimesRoundTripUTC(t *testing.T) {
	t.Parallel()
	st := newServer(t).setup(t)
	ctx := t.Context()
	at := time.Date(2024, 3, 10, 1, 30, 0, 123456000, time.FixedZone("EST", -5*3600))
	if err := st.EventLogInsert(ctx, &windsock.EventLog{Dttm: at, Event: "e"}); err != nil {
		t.Fatal(err)
	}
	var text string
	if err := st.DB().QueryRowContext(ctx, `SELECT to_char(dttm AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM log`).Scan(&text); err != nil {
		t.Fatal(err)
	}
	if want := "2024-03-10 06:30:00.123456"; text != want {
		t.Fatalf("stored instant in UTC = %q, want %q", text, want)
	}
	logs, err := st.EventLogList(ctx, nil)
	if err != nil || len(logs) != 1 {
		t.Fatalf("EventLogList = %v, %v", logs, err)
	}
	if got := logs[0].Dttm; !got.Equal(at) || got.Location() != time.UTC {
		t.Fatalf("read back %v, want %v in UTC", got, at)
	}
}

func BenchmarkTaskInstanceLifecycle(b *testing.B) {
	st := newServer(b).setup(b)
	storetest.BenchTaskInstanceLifecycle(b, st)
}

// BenchmarkQueueCandidates100 and ...10000: the queueing read with 100 and
// 10,000 scheduled task instances waiting; the two should be close.
func BenchmarkQueueCandidates100(b *testing.B) {
	storetest.BenchQueueCandidates(b, newServer(b).setup(b), 100)
}

func BenchmarkQueueCandidates10000(b *testing.B) {
	storetest.BenchQueueCandidates(b, newServer(b).setup(b), 10000)
}

// TestUnavailable: a server refusing writes (a read-only session, as a
// standby or default_transaction_read_only gives) is store.ErrUnavailable.
// The pool is cut to one connection so that the setting holds for every
// statement.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	readOnly := func(on string) func(t *testing.T, st store.Store) {
		return func(t *testing.T, st store.Store) {
			db := st.(*sqlstore.Store).DB()
			db.SetMaxOpenConns(1)
			if _, err := db.ExecContext(t.Context(), "SET default_transaction_read_only = "+on); err != nil {
				t.Fatal(err)
			}
		}
	}
	storetest.RunUnavailable(t, func(t *testing.T) store.Store { return srv.open(t) },
		storetest.WriteFault{Break: readOnly("on"), Mend: readOnly("off")})
}
