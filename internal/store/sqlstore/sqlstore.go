// Package sqlstore implements the metadata-store contract (store.Store) once,
// over database/sql, for every SQL database Windsock supports. The queries are
// written in SQL that SQLite and PostgreSQL both accept (ON CONFLICT upserts,
// RETURNING, boolean and time.Time parameters); what differs between the
// databases is behind the Dialect a driver package supplies, so query code
// never branches on the database.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sync/atomic"

	"github.com/windsock/windsock/internal/store"
)

// Dialect is what a driver package tells sqlstore about its database.
type Dialect interface {
	// Name is the database's name, for messages ("sqlite", "postgres").
	Name() string
	// Rebind rewrites a query written with ? placeholders into the
	// database's placeholder syntax.
	Rebind(query string) string
	// IsUniqueViolation reports whether err is a unique or primary key
	// constraint violation.
	IsUniqueViolation(err error) bool
	// IsUnavailable reports whether err means the database cannot work
	// right now (full, read-only, I/O error, connection lost or refused)
	// rather than that the statement was wrong.
	IsUnavailable(err error) bool
	// IsForeignKeyViolation reports whether err is a foreign key
	// constraint violation (a row naming a parent that does not exist).
	IsForeignKeyViolation(err error) bool
	// LockForUpdateSkipLocked is appended to the SELECT that picks rows a
	// claimer is about to update, so that concurrent claimers skip each
	// other's rows instead of waiting ("FOR UPDATE SKIP LOCKED" on
	// PostgreSQL). It is "" where a write already excludes every other
	// writer, as in SQLite.
	LockForUpdateSkipLocked() string
	// Migrations holds the schema migrations as NNN_name.up.sql files at
	// its root; versions are the same in every dialect.
	Migrations() fs.FS
	// MigrationTableDDL creates the migration bookkeeping table
	// windsock_migration(version, name, applied_at) if it does not exist.
	MigrationTableDDL() string
	// MigrationLockSQL is run first in every migration transaction to
	// serialise concurrent migrators ("" when beginning a write
	// transaction already does, as in SQLite with BEGIN IMMEDIATE).
	MigrationLockSQL() string
	// TableExistsSQL is a query taking one table name parameter and
	// returning the number of such tables in the current schema.
	TableExistsSQL() string
	// TablesSQL lists the names of the tables in the current schema,
	// newest first, so that dropping them in that order drops children
	// before the parents their foreign keys name.
	TablesSQL() string
	// SecondaryIndexesSQL is a query taking one table name parameter and
	// returning (name, definition) of the table's indexes that enforce
	// nothing (not unique, not a key), the definition being the CREATE
	// INDEX statement that makes the index again.
	SecondaryIndexesSQL() string
}

// dbtx is what queries need from a database handle; *sql.DB and *sql.Tx
// both satisfy it, so one implementation serves the store and InTx.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store is a metadata store over a database/sql handle. It implements
// store.Store.
type Store struct {
	queries
	db *sql.DB
	// envID caches EnvironmentID, which never changes once made.
	envID atomic.Pointer[string]
	// onClose run first in Close (a driver's own bookkeeping).
	onClose []func()
}

// OnClose has fn run when the store is closed; call it before the store
// is used.
func (s *Store) OnClose(fn func()) { s.onClose = append(s.onClose, fn) }

var _ store.Store = (*Store)(nil)

// New returns a store over db speaking dialect d. The store owns db: Close
// closes it.
func New(db *sql.DB, d Dialect) *Store {
	return &Store{queries: queries{db: db, d: d, begin: db, stmts: newStmtCache(db, d), co: &coordination{},
		health: &writeHealth{}, marks: &bookmarkCache{}}, db: db}
}

// NewSplit returns a store that writes through write and reads, outside
// transactions, through read: both handles on the same database. SQLite
// uses it with a single write connection, so that concurrent writers queue
// in Go instead of sleeping in SQLite's busy handler. The store owns both.
func NewSplit(write, read *sql.DB, d Dialect) *Store {
	s := New(write, d)
	s.read = read
	s.rstmts = newStmtCache(read, d)
	s.group = &groupCommit{}
	return s
}

// DB returns the underlying handle, for tools and tests that need raw SQL.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.d }

// InTx runs fn in one transaction: committed when fn returns nil, rolled
// back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(q store.Queries) error) error {
	return s.inTx(ctx, func(q *queries) error { return fn(q) })
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	db := s.db
	if s.read != nil {
		db = s.read // the write connection may be busy with a transaction
	}
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.d.Name(), err)
	}
	return nil
}

// WriteFailure returns the latest write's ErrUnavailable error, nil when
// it succeeded.
func (s *Store) WriteFailure() error { return s.health.failure() }

// Close releases the connections.
func (s *Store) Close() error {
	for _, fn := range s.onClose {
		fn()
	}
	s.stmts.close()
	if s.read != nil {
		s.rstmts.close()
		if err := s.read.Close(); err != nil {
			s.db.Close()
			return err
		}
	}
	return s.db.Close()
}
