// Package sqlop is SQLExecuteQueryOperator (and the PostgresOperator and
// SqliteOperator spellings) over PostgreSQL and SQLite connections.
package sqlop

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	// database/sql drivers: "pgx" for PostgreSQL, "sqlite" for SQLite.
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/windsock/windsock/internal/operator"
)

// Operator runs sql on the connection conn_id (or postgres_conn_id,
// sqlite_conn_id). With parameters (a list) "?" placeholders outside
// quotes are bound in order. A script without parameters may hold several
// statements. Rows of a query are the task's return value.
type Operator struct{}

// New returns the SQL operator.
func New() *Operator { return &Operator{} }

// Execute runs the statement.
func (o *Operator) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	connID := ""
	for _, k := range []string{"conn_id", "postgres_conn_id", "sqlite_conn_id"} {
		if s, err := operator.StringArg(tc.Args, k, ""); err == nil && s != "" {
			connID = s
			break
		}
	}
	if connID == "" {
		return nil, errors.New("argument conn_id: missing")
	}
	query, err := operator.StringArg(tc.Args, "sql", "")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(query) == "" {
		return nil, errors.New("argument sql: empty")
	}
	var params []any
	if v, ok := tc.Args["parameters"].([]any); ok {
		params = v
	} else if tc.Args["parameters"] != nil {
		return nil, errors.New("argument parameters: want a list of values for the ? placeholders")
	}
	db, driver, err := Open(ctx, tc, connID)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if driver == "pgx" && len(params) > 0 {
		query = DollarPlaceholders(query)
	}
	fmt.Fprintf(tc.Log, "Running statement: %s, parameters: %v\n", query, params)
	if !returnsRows(query) {
		res, err := db.ExecContext(ctx, query, params...)
		if err != nil {
			return nil, fmt.Errorf("run sql on %s: %w", connID, err)
		}
		if n, err := res.RowsAffected(); err == nil {
			fmt.Fprintf(tc.Log, "Rows affected: %d\n", n)
		}
		return &operator.Result{ReturnValue: nil, HasReturn: true}, nil
	}
	rows, err := db.QueryContext(ctx, query, params...)
	if err != nil {
		return nil, fmt.Errorf("run sql on %s: %w", connID, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := []any{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run sql on %s: %w", connID, err)
	}
	return &operator.Result{ReturnValue: out, HasReturn: true}, nil
}

// Open opens the database of connection connID (postgres or sqlite) and
// returns its database/sql driver name ("pgx" or "sqlite").
func Open(ctx context.Context, tc *operator.Context, connID string) (*sql.DB, string, error) {
	if tc.Connections == nil {
		return nil, "", fmt.Errorf("get connection %s: no connection source", connID)
	}
	conn, err := tc.Connections.Connection(ctx, connID)
	if err != nil {
		return nil, "", fmt.Errorf("get connection %s: %w", connID, err)
	}
	driver, dsn, err := dataSource(conn)
	if err != nil {
		return nil, "", err
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, "", fmt.Errorf("open connection %s: %w", connID, err)
	}
	return db, driver, nil
}

// dataSource is the database/sql driver and DSN of a connection.
func dataSource(c *operator.Connection) (driver, dsn string, err error) {
	switch strings.ToLower(c.ConnType) {
	case "postgres", "postgresql":
		u := url.URL{Scheme: "postgres", Host: c.Host, Path: "/" + c.Schema}
		if c.Port != 0 {
			u.Host += ":" + strconv.Itoa(c.Port)
		}
		if c.Login != "" {
			u.User = url.UserPassword(c.Login, c.Password)
		}
		q := url.Values{}
		if mode, ok := c.Extra["sslmode"].(string); ok {
			q.Set("sslmode", mode)
		}
		u.RawQuery = q.Encode()
		return "pgx", u.String(), nil
	case "sqlite":
		if c.Host == "" {
			return "", "", fmt.Errorf("connection %s: set host to the SQLite database file", c.ConnID)
		}
		return "sqlite", c.Host, nil
	}
	return "", "", fmt.Errorf("connection %s has type %q: the SQL operator runs postgres and sqlite connections", c.ConnID, c.ConnType)
}

// returnsRows says the statement is a query.
func returnsRows(q string) bool {
	f := strings.Fields(strings.ToLower(q))
	return len(f) > 0 && (f[0] == "select" || f[0] == "with" || f[0] == "values" || f[0] == "show")
}

// DollarPlaceholders rewrites JDBC's ? placeholders as PostgreSQL's $n,
// leaving quoted text alone.
func DollarPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
