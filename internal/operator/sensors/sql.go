package sensors

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	// The SQLite driver, registered as "sqlite", for SqlSensor.
	_ "modernc.org/sqlite"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/sensor"
	"github.com/windsock/windsock/internal/pyvalue"
)

// SqlSensor is SqlSensor over SQLite connections: it runs sql (with
// parameters: a list for "?" placeholders, a mapping for ":name" ones)
// until the first cell of the first row is not 0, "0", "", false or NULL.
// With fail_on_empty a query returning no rows fails the try. The
// connection (conn_id) must have conn_type sqlite and the database file's
// path as host. The success and failure arguments (Python callables) are
// not supported.
type SqlSensor struct{}

// NewSqlSensor returns the SQL sensor.
func NewSqlSensor() *SqlSensor { return &SqlSensor{} }

// Execute polls the query.
func (s *SqlSensor) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	poke, err := s.Poke(ctx, tc)
	if err != nil {
		return nil, err
	}
	return sensor.Run(ctx, tc, poke)
}

// Poke reads the arguments and returns the poke function.
func (s *SqlSensor) Poke(ctx context.Context, tc *operator.Context) (sensor.Poke, error) {
	for _, name := range []string{"success", "failure"} {
		if tc.Args[name] != nil {
			return nil, fmt.Errorf("argument %s: Python callables are not supported; make the query return a truthy first cell instead", name)
		}
	}
	connID, err := operator.StringArg(tc.Args, "conn_id", "")
	if err != nil {
		return nil, err
	}
	query, err := operator.StringArg(tc.Args, "sql", "")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(query) == "" {
		return nil, errors.New("argument sql: empty")
	}
	params, err := queryParams(tc.Args["parameters"])
	if err != nil {
		return nil, err
	}
	failOnEmpty, err := operator.BoolArg(tc.Args, "fail_on_empty", false)
	if err != nil {
		return nil, err
	}
	if tc.Connections == nil {
		return nil, fmt.Errorf("get connection %s: no connection source", connID)
	}
	conn, err := tc.Connections.Connection(ctx, connID)
	if err != nil {
		return nil, fmt.Errorf("get connection %s: %w", connID, err)
	}
	if !strings.EqualFold(conn.ConnType, "sqlite") {
		return nil, fmt.Errorf("connection %s has type %q: SqlSensor supports sqlite connections in this version", connID, conn.ConnType)
	}
	path := conn.Host
	if path == "" {
		return nil, fmt.Errorf("connection %s: set host to the SQLite database file", connID)
	}
	return func(ctx context.Context) (bool, any, error) {
		operator.Logf(tc.Log, "Poking: %s (with parameters %s)", query, pyvalue.Repr(tc.Args["parameters"]))
		cell, ok, err := firstCell(ctx, path, query, params)
		if err != nil {
			return false, nil, err
		}
		if !ok {
			if failOnEmpty {
				return false, nil, errors.New("no rows returned, raising as per fail_on_empty flag")
			}
			return false, nil, nil
		}
		return truthy(cell), nil, nil
	}, nil
}

// queryParams turns the parameters argument into database/sql arguments.
func queryParams(v any) ([]any, error) {
	switch p := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return p, nil
	case map[string]any:
		out := make([]any, 0, len(p))
		for k, val := range p {
			out = append(out, sql.Named(k, val))
		}
		return out, nil
	}
	return nil, fmt.Errorf("argument parameters: want a list or a mapping, got %T", v)
}

// firstCell runs query on the database at path and returns the first
// column of the first row; ok is false when there are no rows.
func firstCell(ctx context.Context, path, query string, params []any) (cell any, ok bool, err error) {
	// sql.Open would create a missing file; a sensor must not.
	if _, err := os.Stat(path); err != nil {
		return nil, false, fmt.Errorf("open sqlite database: %w", err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, false, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, query, params...)
	if err != nil {
		return nil, false, fmt.Errorf("run query: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, false, fmt.Errorf("run query: %w", err)
		}
		return nil, false, nil
	}
	cols, err := rows.Columns()
	if err != nil {
		return nil, false, fmt.Errorf("read row: %w", err)
	}
	if len(cols) == 0 {
		return nil, false, errors.New("read row: the query returns no columns")
	}
	dest := make([]any, len(cols))
	for i := range dest {
		dest[i] = new(any)
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, false, fmt.Errorf("read row: %w", err)
	}
	return *dest[0].(*any), true, nil
}

// truthy is SqlSensor's test of the first cell: anything but 0, "0", ""
// and NULL (and false, which Python counts as 0).
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case int64:
		return x != 0
	case float64:
		return x != 0
	case bool:
		return x
	case string:
		return x != "" && x != "0"
	case []byte:
		return len(x) != 0 && string(x) != "0"
	}
	return true
}
