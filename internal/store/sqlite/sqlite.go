// Package sqlite is the SQLite driver of the metadata store: it opens a
// database file with modernc.org/sqlite (pure Go, no cgo) and supplies the
// SQLite Dialect and migrations to sqlstore, which holds the queries.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/windsock/windsock/internal/store/sqlstore"
	"github.com/windsock/windsock/internal/windsock"
)

// busyTimeoutMillis is how long a connection waits for another writer
// before failing with SQLITE_BUSY.
const busyTimeoutMillis = 10000

// connParams returns the DSN query that configures every connection:
//   - WAL lets readers work while one writer writes; synchronous NORMAL is
//     durable across application crashes and fast in WAL mode.
//   - foreign keys are off by default in SQLite; the schema relies on them
//     for ON DELETE CASCADE.
//   - _txlock=immediate takes the write lock at BEGIN, so two transactions
//     never deadlock upgrading read locks to write locks (which busy_timeout
//     cannot resolve), and it serialises concurrent migrators.
//   - _time_format=sqlite writes times as "2006-01-02 15:04:05.999999999-07:00";
//     sqlstore writes every time in UTC, so the text sorts like the time,
//     and columns declared TIMESTAMP are parsed back into time.Time.
//     _timezone=UTC makes the times read back carry time.UTC.
func connParams() string {
	return url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis),
			"journal_mode(WAL)",
			"synchronous(NORMAL)",
			"foreign_keys(1)",
			// A multi-row write in a transaction keeps a statement journal
			// (the pages it changed, to undo it alone): in memory, not a
			// temporary file written and read back for every statement.
			"temp_store(MEMORY)",
		},
		"_txlock":      {"immediate"},
		"_time_format": {"sqlite"},
		"_timezone":    {"UTC"},
	}.Encode()
}

// Open opens (creating it and its directory when missing) the SQLite
// database at path. The schema is not migrated: call Migrate.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	if path == "" || path == ":memory:" {
		// Every pooled connection would get its own empty database.
		return nil, windsock.Errorf(windsock.EINVALID, "sqlite database path must name a file, got %q", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite %s: create directory: %w", path, err)
	}
	if err := privateFiles(abs); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + connParams()
	// One connection writes, so that this process's writers queue in Go
	// instead of sleeping in SQLite's busy handler (its first waits are
	// milliseconds, an eternity next to a task hop); readers get a pool of
	// their own, which WAL lets run beside the writer. Idle connections stay
	// open: reopening one runs the pragmas and prepares statements again.
	// The writer's page cache is larger than SQLite's 2 MB default: every
	// insert of a task instance touches a page of each of its nine
	// indexes, and a large history (an import of an Airflow database)
	// otherwise rereads them from the file for each row.
	write, err := sql.Open("sqlite", dsn+"&"+url.Values{"_pragma": {"cache_size(-65536)"}}.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	read, err := sql.Open("sqlite", dsn)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	for _, db := range []*sql.DB{write, read} {
		if err := db.PingContext(ctx); err != nil {
			write.Close()
			read.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
	}
	return sqlstore.NewSplit(write, read, Dialect{}), nil
}

// privateFiles creates the database file readable by its owner only, and
// takes group and other access away from the database, its WAL and its
// shared-memory index where an older version (or SQLite itself, which
// creates files 0644 less the umask) left them open. The metadata holds
// connection passwords and variables. SQLite gives the WAL and -shm files
// it creates later the database file's mode, whatever the umask.
func privateFiles(db string) error {
	f, err := os.OpenFile(db, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	f.Close()
	for _, name := range []string{db, db + "-wal", db + "-shm", db + "-journal"} {
		if err := chmodPrivate(name); err != nil {
			return err
		}
	}
	return nil
}

// chmodPrivate makes name 0600 if it exists with other bits.
func chmodPrivate(name string) error {
	info, err := os.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(name, info.Mode().Perm()&0o600); err != nil {
		return fmt.Errorf("make %s private: %w", filepath.Base(name), err)
	}
	return nil
}

// OpenURL opens the database named by an Airflow sql_alchemy_conn SQLite
// URL: sqlite:////absolute/path.db or sqlite:///relative/path.db. A query
// string (SQLAlchemy options) is ignored.
func OpenURL(ctx context.Context, rawURL string) (*sqlstore.Store, error) {
	path, err := PathFromURL(rawURL)
	if err != nil {
		return nil, err
	}
	return Open(ctx, path)
}

// PathFromURL returns the file path of an Airflow/SQLAlchemy SQLite URL:
// sqlite:////abs.db -> /abs.db, sqlite:///rel.db -> rel.db.
func PathFromURL(rawURL string) (string, error) {
	rest, ok := strings.CutPrefix(rawURL, "sqlite:///")
	if !ok || rest == "" {
		return "", windsock.Errorf(windsock.EINVALID, "sqlite URL must look like sqlite:////absolute/path.db or sqlite:///relative.db, got %q", rawURL)
	}
	rest, _, _ = strings.Cut(rest, "?")
	path, err := url.PathUnescape(rest)
	if err != nil {
		return "", windsock.Errorf(windsock.EINVALID, "sqlite URL %q: %v", rawURL, err)
	}
	return path, nil
}

//go:embed migrations/*.up.sql
var migrations embed.FS

// Dialect is SQLite's sqlstore.Dialect.
type Dialect struct{}

var _ sqlstore.Dialect = Dialect{}

// Name returns "sqlite".
func (Dialect) Name() string { return "sqlite" }

// Rebind returns query unchanged: SQLite takes ? placeholders.
func (Dialect) Rebind(query string) string { return query }

// IsUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
// constraint failure.
func (Dialect) IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// IsUnavailable reports whether err is SQLite saying it cannot write or
// read the file: the disk or the database is full (SQLITE_FULL, also past
// PRAGMA max_page_count), an I/O error, a read-only file or folder, or a
// file it cannot open.
func (Dialect) IsUnavailable(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary code; extended codes add detail above it
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN:
		return true
	}
	return false
}

// IsForeignKeyViolation reports whether err is a FOREIGN KEY constraint
// failure.
func (Dialect) IsForeignKeyViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// LockForUpdateSkipLocked returns "": a SQLite write statement or
// transaction holds the database's only write lock, so no other claimer
// can pick the same rows meanwhile.
func (Dialect) LockForUpdateSkipLocked() string { return "" }

// Migrations returns the embedded SQLite migrations.
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
		applied_at TIMESTAMP NOT NULL
	)`
}

// MigrationLockSQL returns "": Open begins every transaction with BEGIN
// IMMEDIATE, which already admits one migrator at a time.
func (Dialect) MigrationLockSQL() string { return "" }

// TableExistsSQL counts the tables with a given name.
func (Dialect) TableExistsSQL() string {
	return `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
}

// SecondaryIndexesSQL lists a table's non-unique indexes with their DDL
// (indexes SQLite made for UNIQUE and PRIMARY KEY constraints have none).
func (Dialect) SecondaryIndexesSQL() string {
	return `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL
		AND upper(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY name`
}

// TablesSQL lists the tables, newest first (sqlite_master keeps creation
// order in its rowid).
func (Dialect) TablesSQL() string {
	return `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid DESC`
}
