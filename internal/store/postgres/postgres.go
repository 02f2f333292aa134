// Package postgres is the PostgreSQL driver of the metadata store: it opens
// a connection pool with pgx (through database/sql) and supplies the
// PostgreSQL Dialect and migrations to sqlstore, which holds the queries.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/windsock/windsock/internal/store/sqlstore"
	"github.com/windsock/windsock/internal/windsock"
)

// Pool settings. A scheduler, its workers' heartbeats, the DAG processor
// and the API share one pool; 16 connections cover them with room for the
// transactions that hold one while waiting on a row lock. Idle connections
// are kept (reconnecting costs a TLS handshake and re-preparing every
// statement) but renewed now and then, so that a server that failed over
// or a proxy that dropped them is noticed without an error reaching a
// caller: database/sql discards a connection pgx reports bad and dials
// again, and pgx pings a connection idle for over a second before reuse.
const (
	maxOpenConns    = 16
	maxIdleConns    = 16
	connMaxLifetime = 30 * time.Minute
	connMaxIdleTime = 5 * time.Minute
)

// Open connects to the PostgreSQL database named by rawURL, an Airflow
// sql_alchemy_conn URL (see ConnString for the accepted forms). The schema
// is not migrated: call Migrate.
func Open(ctx context.Context, rawURL string) (*sqlstore.Store, error) {
	connString, err := ConnString(rawURL)
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		// pgx's message can quote the URL, password included.
		return nil, windsock.Errorf(windsock.EINVALID, "postgres URL %s is not valid", Redact(rawURL))
	}
	budget := sharedBudget(cfg)
	db := sql.OpenDB(budgetedConnector{Connector: stdlib.GetConnector(*cfg), budget: budget})
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxLifetime(connMaxLifetime)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open postgres %s: %w", Redact(rawURL), err)
	}
	var scope string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&scope); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open postgres %s: read current schema: %w", Redact(rawURL), err)
	}
	budget.add(db)
	st := sqlstore.New(db, Dialect{})
	st.SetCoordinator(&coordinator{scope: scope, l: sharedListener(cfg)})
	st.OnClose(func() { budget.remove(db) })
	return st, nil
}

// IsURL reports whether rawURL names a PostgreSQL database in one of the
// forms ConnString accepts.
func IsURL(rawURL string) bool {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return false
	}
	base, _, _ := strings.Cut(strings.ToLower(scheme), "+")
	return base == "postgresql" || base == "postgres"
}

// ConnString turns an Airflow sql_alchemy_conn URL into a libpq URL pgx
// accepts: postgresql:// and postgres:// are used as they are, and the
// driver SQLAlchemy names after a + (postgresql+psycopg2://,
// postgresql+psycopg://) is dropped, since pgx speaks the same protocol.
func ConnString(rawURL string) (string, error) {
	if !IsURL(rawURL) {
		return "", windsock.Errorf(windsock.EINVALID, "postgres URL must start with postgresql://, postgres:// or postgresql+<driver>://, got %s", Redact(rawURL))
	}
	scheme, rest, _ := strings.Cut(rawURL, "://")
	base, _, _ := strings.Cut(strings.ToLower(scheme), "+")
	return base + "://" + rest, nil
}

// Redact returns rawURL with its password replaced by ***, for messages
// and logs.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Unparseable: show the scheme only, the rest may hold a secret.
		scheme, _, _ := strings.Cut(rawURL, "://")
		return scheme + "://***"
	}
	if _, has := u.User.Password(); !has {
		return rawURL
	}
	u.User = url.UserPassword(u.User.Username(), "xxx")
	// String escapes the stars; a plain marker reads better in messages.
	return strings.Replace(u.String(), ":xxx@", ":***@", 1)
}

//go:embed migrations/*.up.sql
var migrations embed.FS

// Dialect is PostgreSQL's sqlstore.Dialect.
type Dialect struct{}

var (
	_ sqlstore.Dialect = Dialect{}
	_ sqlstore.Copier  = Dialect{}
)

// SQLSTATE codes of the constraint violations sqlstore tells apart.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// Name returns "postgres".
func (Dialect) Name() string { return "postgres" }

// Rebind turns ? placeholders into $1, $2, ...
func (Dialect) Rebind(query string) string { return sqlstore.RebindDollar(query) }

// IsUniqueViolation reports whether err is a unique or primary key
// violation.
func (Dialect) IsUniqueViolation(err error) bool { return hasCode(err, uniqueViolation) }

// IsUnavailable reports whether err means the server cannot work right
// now: SQLSTATE classes 08 (connection exception), 53 (insufficient
// resources: disk full, out of memory, too many connections) and 58
// (system error: I/O), a read-only transaction (25006, a standby or
// default_transaction_read_only), a shutting-down or starting server
// (57P01-57P03), or no connection at all (refused, reset, timed out).
func (Dialect) IsUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "58"):
			return true
		}
		switch pe.Code {
		case "25006", "57P01", "57P02", "57P03":
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.Is(err, driver.ErrBadConn) || errors.As(err, &ne) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// IsForeignKeyViolation reports whether err is a foreign key violation.
func (Dialect) IsForeignKeyViolation(err error) bool { return hasCode(err, foreignKeyViolation) }

func hasCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

// LockForUpdateSkipLocked locks the rows a claimer picks and makes the
// other claimers pass over them rather than wait.
func (Dialect) LockForUpdateSkipLocked() string { return "FOR UPDATE SKIP LOCKED" }

// Migrations returns the embedded PostgreSQL migrations.
func (Dialect) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		// fs.Sub fails only for an invalid literal directory name.
		panic(err)
	}
	return sub
}

// MigrationTableDDL creates windsock_migration.
func (Dialect) MigrationTableDDL() string {
	return `CREATE TABLE IF NOT EXISTS windsock_migration (
		version INTEGER NOT NULL PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL
	)`
}

// MigrationLockSQL takes a transaction-scoped advisory lock that admits
// one migrator at a time. The key is derived from the current schema:
// migrators of the same schema wait for each other, while environments
// kept in different schemas of one database migrate independently.
func (Dialect) MigrationLockSQL() string {
	return `SELECT pg_advisory_xact_lock(hashtextextended('windsock_migration.' || current_schema(), 0))`
}

// TableExistsSQL counts the tables with a given name in the current
// schema.
func (Dialect) TableExistsSQL() string {
	return `SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?`
}

// SecondaryIndexesSQL lists the non-unique indexes of a table of the
// current schema with their DDL (schema-qualified by pg_get_indexdef).
func (Dialect) SecondaryIndexesSQL() string {
	return `SELECT i.relname, pg_catalog.pg_get_indexdef(i.oid) FROM pg_catalog.pg_index x
		JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
		JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = current_schema() AND t.relname = ? AND NOT x.indisunique AND NOT x.indisprimary
		ORDER BY i.relname`
}

// CopyRows copies rows into table with COPY FROM STDIN, in the
// transaction open on driverConn.
func (Dialect) CopyRows(ctx context.Context, driverConn any, table string, columns []string, rows [][]any) (int64, error) {
	c, ok := driverConn.(*budgetedConn)
	if !ok {
		return 0, fmt.Errorf("copy into %s: not a connection of this driver (%T)", table, driverConn)
	}
	return c.Conn.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
}

// TablesSQL lists the tables of the current schema, newest first (by oid,
// which grows with creation).
func (Dialect) TablesSQL() string {
	return `SELECT c.relname FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r'
		ORDER BY c.oid DESC`
}
