package amazon_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/amazon"
	"github.com/windsock/windsock/internal/operator/sqlop"
)

// rowsOf returns a query's rows as "a|b" lines.
func rowsOf(t *testing.T, f *fixture, connID, query string) string {
	t.Helper()
	res, err := sqlop.New().Execute(context.Background(), f.context(map[string]any{"conn_id": connID, "sql": query}))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, row := range res.ReturnValue.([]any) {
		var cells []string
		for _, c := range row.([]any) {
			cells = append(cells, fmt.Sprint(c))
		}
		lines = append(lines, strings.Join(cells, "|"))
	}
	return strings.Join(lines, "\n")
}

// S3ToSqlOperator loads CSV objects into a table: one key, every key
// under a prefix, columns inferred from a header, transactions of
// commit_every rows (a bad row keeps what was committed before it), and
// names that are not plain identifiers refused before any SQL runs.
func TestS3ToSqlSQLite(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.conns["lite"] = &operator.Connection{ConnID: "lite", ConnType: "sqlite", Host: filepath.Join(t.TempDir(), "shop.db")}
	if _, err := sqlop.New().Execute(ctx, f.context(map[string]any{"conn_id": "lite",
		"sql": `CREATE TABLE orders (id int PRIMARY KEY, note text)`})); err != nil {
		t.Fatal(err)
	}
	f.put(t, "in/a.csv", "1,first\n2,\"with, comma\"\n")
	f.put(t, "in/b.csv", "3,third\n")
	f.put(t, "head.csv", "note,id\nhello,4\n")
	run := func(args map[string]any) error {
		args["sql_conn_id"] = "lite"
		_, err := amazon.NewS3ToSql(f.opts).Execute(ctx, f.context(args))
		return err
	}
	if err := run(map[string]any{"s3_key": "s3://bkt/in/", "table": "orders", "column_list": []any{"id", "note"}}); err != nil {
		t.Fatal(err)
	}
	if err := run(map[string]any{"s3_key": "head.csv", "s3_bucket": "bkt", "table": "orders", "column_list": "infer"}); err != nil {
		t.Fatal(err)
	}
	if got, want := rowsOf(t, f, "lite", "SELECT id, note FROM orders ORDER BY id"), "1|first\n2|with, comma\n3|third\n4|hello"; got != want {
		t.Errorf("rows:\n%s\nwant:\n%s", got, want)
	}

	// Row 3 repeats a key: the first two rows were committed (commit_every 2).
	f.put(t, "dup.csv", "10,a\n11,b\n1,dup\n")
	err := run(map[string]any{"s3_key": "s3://bkt/dup.csv", "table": "orders", "commit_every": 2})
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("a failing row: %v, want an error naming line 3", err)
	}
	if got := rowsOf(t, f, "lite", "SELECT count(*) FROM orders WHERE id IN (10, 11)"); got != "2" {
		t.Errorf("rows committed before the failing one: %s, want 2", got)
	}

	for _, bad := range []map[string]any{
		{"s3_key": "s3://bkt/head.csv", "table": "orders; DROP TABLE orders"},
		{"s3_key": "s3://bkt/head.csv", "table": "orders", "column_list": []any{"id", "note) VALUES (1,1); --"}},
		{"s3_key": "s3://bkt/head.csv", "table": "orders", "parser": "mymodule.parse"},
	} {
		if err := run(bad); err == nil {
			t.Errorf("%v was accepted", bad)
		}
	}
	if got := rowsOf(t, f, "lite", "SELECT count(*) FROM orders"); got != "6" {
		t.Errorf("the table holds %s rows after the refused calls, want 6", got)
	}
}

// On PostgreSQL, with Data Pipeline's insertQuery and a tab delimiter.
func TestS3ToSqlPostgres(t *testing.T) {
	t.Parallel()
	pgURL := os.Getenv("WINDSOCK_TEST_POSTGRES_URL")
	if pgURL == "" {
		t.Skip("WINDSOCK_TEST_POSTGRES_URL is not set")
	}
	f := setup(t)
	ctx := context.Background()
	db, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	table := fmt.Sprintf("s3load_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE TABLE " + table + " (day text, n int)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP TABLE " + table) })
	f.conns["pg"] = pgConnection(t, pgURL)
	f.put(t, "daily.tsv", "2024-03-01\t5\n2024-03-02\t7\n")
	args := map[string]any{"s3_key": "s3://bkt/daily.tsv", "sql_conn_id": "pg", "delimiter": "\t",
		"insert_query": "INSERT INTO " + table + " (day, n) VALUES (?, ?::int * 10)"}
	if _, err := amazon.NewS3ToSql(f.opts).Execute(ctx, f.context(args)); err != nil {
		t.Fatal(err)
	}
	if got := rowsOf(t, f, "pg", "SELECT day, n FROM "+table+" ORDER BY day"); got != "2024-03-01|50\n2024-03-02|70" {
		t.Errorf("rows:\n%s", got)
	}
}

// pgConnection is a postgres connection for a postgres:// URL.
func pgConnection(t *testing.T, raw string) *operator.Connection {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	pass, _ := u.User.Password()
	return &operator.Connection{ConnID: "pg", ConnType: "postgres", Host: u.Hostname(), Port: port,
		Schema: strings.TrimPrefix(u.Path, "/"), Login: u.User.Username(), Password: pass,
		Extra: map[string]any{"sslmode": u.Query().Get("sslmode")}}
}
