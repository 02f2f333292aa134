package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
)

// migration is one NNN_name.up.sql file.
type migration struct {
	version int
	name    string
	sql     string
}

var migrationFile = regexp.MustCompile(`^(\d+)_([A-Za-z0-9_]+)\.up\.sql$`)

// loadMigrations reads the migrations at the root of fsys, ordered by
// version.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		m := migrationFile.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			continue
		}
		version, err := strconv.Atoi(m[1])
		if err != nil || version <= 0 {
			return nil, fmt.Errorf("read migrations: bad version in %s", e.Name())
		}
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: version, name: m[2], sql: string(body)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("read migrations: version %d appears twice", ms[i].version)
		}
	}
	return ms, nil
}

// Migrate applies every pending migration, each in its own transaction, and
// returns how many ran. Concurrent callers are safe: each transaction takes
// the dialect's migration lock and rereads the applied version before
// applying the next one, so a migration another process applied meanwhile
// is skipped.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	ms, err := loadMigrations(s.d.Migrations())
	if err != nil {
		return 0, err
	}
	applied := 0
	for {
		ran, err := s.migrateNext(ctx, ms)
		if err != nil {
			return applied, err
		}
		if !ran {
			return applied, nil
		}
		applied++
	}
}

// migrateNext applies the first migration newer than the database's
// version and reports whether there was one.
func (s *Store) migrateNext(ctx context.Context, ms []migration) (bool, error) {
	ran := false
	err := s.inTx(ctx, func(q *queries) error {
		if lock := s.d.MigrationLockSQL(); lock != "" {
			if _, err := q.db.ExecContext(ctx, lock); err != nil {
				return fmt.Errorf("lock migrations: %w", err)
			}
		}
		if _, err := q.db.ExecContext(ctx, s.d.MigrationTableDDL()); err != nil {
			return fmt.Errorf("create migration table: %w", err)
		}
		current, err := q.migrationVersion(ctx)
		if err != nil {
			return err
		}
		if latest := latestVersion(ms); current > latest {
			return fmt.Errorf("database schema version %d is newer than this binary's %d: upgrade windsock", current, latest)
		}
		i := slices.IndexFunc(ms, func(m migration) bool { return m.version > current })
		if i < 0 {
			return nil
		}
		m := ms[i]
		// Dialect SQL is run as written: Rebind must not touch it.
		if _, err := q.db.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("apply migration %03d_%s: %w", m.version, m.name, err)
		}
		if _, err := q.exec(ctx, `INSERT INTO windsock_migration (version, name, applied_at)
			VALUES (?, ?, CURRENT_TIMESTAMP)`, m.version, m.name); err != nil {
			return fmt.Errorf("record migration %03d_%s: %w", m.version, m.name, err)
		}
		ran = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("migrate %s: %w", s.d.Name(), err)
	}
	return ran, nil
}

// MigrationStatus returns the schema version applied (0 for an empty
// database) and the latest version this binary knows. It does not write.
func (s *Store) MigrationStatus(ctx context.Context) (current, latest int, err error) {
	ms, err := loadMigrations(s.d.Migrations())
	if err != nil {
		return 0, 0, err
	}
	latest = latestVersion(ms)
	var tables int
	if err := s.queryRow(ctx, s.d.TableExistsSQL(), "windsock_migration").Scan(&tables); err != nil {
		return 0, latest, fmt.Errorf("check migration table: %w", err)
	}
	if tables == 0 {
		return 0, latest, nil
	}
	current, err = s.migrationVersion(ctx)
	return current, latest, err
}

func (q *queries) migrationVersion(ctx context.Context) (int, error) {
	var v int
	if err := q.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM windsock_migration`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

func latestVersion(ms []migration) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}
