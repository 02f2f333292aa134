package sqlop_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/sqlop"
	"github.com/windsock/windsock/internal/windsock"
)

type connections map[string]*operator.Connection

func (c connections) Connection(_ context.Context, id string) (*operator.Connection, error) {
	if conn, ok := c[id]; ok {
		return conn, nil
	}
	return nil, windsock.Errorf(windsock.ENOTFOUND, "connection %s does not exist", id)
}

func run(t *testing.T, conns connections, args map[string]any) (*operator.Result, error) {
	t.Helper()
	return sqlop.New().Execute(context.Background(), &operator.Context{Args: args, Log: &bytes.Buffer{}, Connections: conns})
}

func TestSQLiteStatementsParametersAndRows(t *testing.T) {
	t.Parallel()
	conns := connections{"lite": {ConnID: "lite", ConnType: "sqlite", Host: filepath.Join(t.TempDir(), "db.sqlite")}}
	if _, err := run(t, conns, map[string]any{"conn_id": "lite",
		"sql": "CREATE TABLE t (d text, n int); INSERT INTO t VALUES ('a?', 1);"}); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, conns, map[string]any{"sqlite_conn_id": "lite", "sql": "INSERT INTO t VALUES (?, ?)", "parameters": []any{"b", 2}}); err != nil {
		t.Fatal(err)
	}
	res, err := run(t, conns, map[string]any{"conn_id": "lite", "sql": "SELECT d, n FROM t ORDER BY n"})
	if err != nil {
		t.Fatal(err)
	}
	rows := res.ReturnValue.([]any)
	if len(rows) != 2 || !slices.Equal(rows[1].([]any), []any{"b", int64(2)}) {
		t.Errorf("rows %v", rows)
	}
	_, err = run(t, connections{"m": {ConnID: "m", ConnType: "mysql"}}, map[string]any{"conn_id": "m", "sql": "select 1"})
	if err == nil || !strings.Contains(err.Error(), "postgres and sqlite") {
		t.Errorf("a mysql connection: %v", err)
	}
	if _, err := run(t, conns, map[string]any{"conn_id": "lite", "sql": "INSERT INTO nope VALUES (1)"}); err == nil {
		t.Errorf("a failing statement succeeded")
	}
}
