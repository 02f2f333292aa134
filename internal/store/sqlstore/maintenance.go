package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// cleanKeys are the primary key columns of the tables db clean purges: the
// archive copy is matched back to the source on them.
var cleanKeys = map[string][]string{
	"dag":                   {"dag_id"},
	"dag_run":               {"id"},
	"import_error":          {"id"},
	"job":                   {"id"},
	"log":                   {"id"},
	"sla_miss":              {"task_id", "dag_id", "execution_date"},
	"task_fail":             {"id"},
	"task_instance":         {"dag_id", "task_id", "run_id", "map_index"},
	"task_instance_history": {"id"},
	"task_reschedule":       {"id"},
	"trigger":               {"id"},
	"xcom":                  {"dag_run_id", "task_id", "map_index", "key"},
}

// quoteIdent quotes an identifier for both dialects. Callers pass only
// names from CleanTables or names matching the archive pattern.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// cleanSelect is the FROM and WHERE of the rows a clean removes, with its
// arguments: older than before and, for keep-last tables, not the latest
// scheduled row of its DAG (Airflow's outer join on a max() per dag_id).
func cleanSelect(t store.CleanTable, before time.Time) (string, []any) {
	tbl, col := quoteIdent(t.Name), quoteIdent(t.RecencyColumn)
	if !t.KeepLast {
		return fmt.Sprintf(`FROM %s AS base WHERE base.%s < ?`, tbl, col), []any{utc(before)}
	}
	return fmt.Sprintf(`FROM %[1]s AS base
		LEFT JOIN (SELECT dag_id, MAX(%[2]s) AS max_date_per_group FROM %[1]s
			WHERE external_trigger = ? GROUP BY dag_id) AS latest
		ON base.dag_id = latest.dag_id AND base.%[2]s = latest.max_date_per_group
		WHERE base.%[2]s < ? AND latest.max_date_per_group IS NULL`, tbl, col), []any{false, utc(before)}
}

// DBClean counts and, unless a dry run, archives and deletes a table's old
// rows in one transaction.
func (s *Store) DBClean(ctx context.Context, p *store.DBCleanParams) (int, error) {
	t, ok := store.CleanTableNamed(p.Table)
	keys := cleanKeys[p.Table]
	if !ok || keys == nil {
		return 0, windsock.Errorf(windsock.EINVALID, "db clean: unknown table %q", p.Table)
	}
	from, args := cleanSelect(t, p.Before)
	var n int
	err := s.inTx(ctx, func(q *queries) error {
		if err := q.db.QueryRowContext(ctx, s.d.Rebind(`SELECT COUNT(*) `+from), args...).Scan(&n); err != nil {
			return err
		}
		if n == 0 || p.DryRun {
			return nil
		}
		archive := quoteIdent(store.ArchiveTableName(t.Name, p.At))
		// The shape first, then the rows: PostgreSQL takes no parameters
		// in CREATE TABLE AS.
		if _, err := q.db.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE %s AS SELECT * FROM %s WHERE 1 = 0`, archive, quoteIdent(t.Name))); err != nil {
			return err
		}
		if _, err := q.db.ExecContext(ctx, s.d.Rebind(fmt.Sprintf(`INSERT INTO %s SELECT base.* %s`, archive, from)), args...); err != nil {
			return err
		}
		cols := make([]string, len(keys))
		for i, k := range keys {
			cols[i] = quoteIdent(k)
		}
		key := strings.Join(cols, ", ")
		if len(cols) > 1 {
			key = "(" + key + ")"
		}
		if _, err := q.db.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s IN (SELECT %s FROM %s)`,
			quoteIdent(t.Name), key, strings.Join(cols, ", "), archive)); err != nil {
			return err
		}
		if p.SkipArchive {
			_, err := q.db.ExecContext(ctx, `DROP TABLE `+archive)
			return err
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("clean %s: %w", p.Table, err)
	}
	return n, nil
}

// tables lists the tables of the current schema, newest first.
func (s *Store) tables(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.d.TablesSQL())
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// ArchiveTableList returns the archive tables, sorted.
func (s *Store) ArchiveTableList(ctx context.Context) ([]string, error) {
	all, err := s.tables(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range all {
		if _, ok := store.ArchivedTable(n); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

func checkArchiveName(name string) error {
	if _, ok := store.ArchivedTable(name); !ok {
		return windsock.Errorf(windsock.EINVALID, "%q is not an archive table", name)
	}
	return nil
}

// ArchiveTableExport streams an archive table's header and rows to emit.
func (s *Store) ArchiveTableExport(ctx context.Context, name string, emit func([]string) error) error {
	if err := checkArchiveName(name); err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT * FROM `+quoteIdent(name))
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if err := emit(cols); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		rec := make([]string, len(cols))
		for i, v := range vals {
			rec[i] = textValue(v)
		}
		if err := emit(rec); err != nil {
			return err
		}
	}
	return rows.Err()
}

// textValue renders a scanned column value as CSV text.
func textValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.999999-07:00")
	}
	return fmt.Sprint(v)
}

// ArchiveTableDrop drops an archive table.
func (s *Store) ArchiveTableDrop(ctx context.Context, name string) error {
	if err := checkArchiveName(name); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `DROP TABLE `+quoteIdent(name)); err != nil {
		return fmt.Errorf("drop %s: %w", name, err)
	}
	return nil
}

// DBReset drops every table, children before parents, in one transaction.
func (s *Store) DBReset(ctx context.Context) error {
	names, err := s.tables(ctx)
	if err != nil {
		return err
	}
	s.stmts.close()
	if s.read != nil {
		s.rstmts.close()
	}
	err = s.inTx(ctx, func(q *queries) error {
		for _, n := range names {
			if _, err := q.db.ExecContext(ctx, `DROP TABLE IF EXISTS `+quoteIdent(n)); err != nil {
				return fmt.Errorf("drop %s: %w", n, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reset metadata database: %w", err)
	}
	return nil
}
