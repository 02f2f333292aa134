package metaport

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Source is where an import reads Airflow's tables from.
type Source interface {
	// Name identifies the source across runs (checkpoints are kept per
	// name); it holds no secret.
	Name() string
	// Version is the Airflow release the source was written by.
	Version() string
	// Has reports whether the source holds the table.
	Has(table string) bool
	// Count returns the number of rows of a table (for progress).
	Count(ctx context.Context, table string) (int64, error)
	// Scan calls fn with the table's rows in batches of at most n, in a
	// stable order, starting after position ("" for the start); each call
	// gets the position of its last row.
	Scan(ctx context.Context, table, position string, n int, fn func(rows []Row, last string) error) error
}

// DBSource reads an Airflow metadata database through database/sql.
type DBSource struct {
	db *sql.DB
	// postgres: row-value keyset on primary keys; SQLite: rowid, or
	// the primary key for keyOrdered tables.
	postgres bool
	location string
	version  string
	columns  map[string][]string
}

// OpenDBSource reads the schema of an Airflow database: its alembic
// revision (refusing Airflow 3 and unknown ones) and the columns of the
// tables an import reads. location names it in checkpoints and reports
// (a path, or a URL without its password). db stays the caller's.
func OpenDBSource(ctx context.Context, db *sql.DB, postgres bool, location string) (*DBSource, error) {
	s := &DBSource{db: db, postgres: postgres, location: location, columns: map[string][]string{}}
	tables := append([]string{"alembic_version"}, sourceTables...)
	for _, t := range tables {
		cols, err := s.readColumns(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("read the source's schema: %w", err)
		}
		if len(cols) > 0 {
			s.columns[t] = cols
		}
	}
	var revs []string
	if s.Has("alembic_version") {
		rows, err := db.QueryContext(ctx, `SELECT version_num FROM alembic_version`)
		if err != nil {
			return nil, fmt.Errorf("read alembic_version: %w", err)
		}
		for rows.Next() {
			var r string
			if err := rows.Scan(&r); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read alembic_version: %w", err)
			}
			revs = append(revs, r)
		}
		rows.Close()
	}
	v, err := airflowVersion(revs)
	if err != nil {
		return nil, err
	}
	s.version = v
	return s, nil
}

func (s *DBSource) readColumns(ctx context.Context, table string) ([]string, error) {
	q := `SELECT name FROM pragma_table_info(?)`
	if s.postgres {
		q = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`
	}
	rows, err := s.db.QueryContext(ctx, q, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// Name returns the source's location.
func (s *DBSource) Name() string { return s.location }

// Version returns the Airflow release of the source's schema.
func (s *DBSource) Version() string { return s.version }

// Has reports whether the source has the table.
func (s *DBSource) Has(table string) bool { return len(s.columns[table]) > 0 }

func (s *DBSource) has(table, col string) bool { return slices.Contains(s.columns[table], col) }

func ident(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// Count returns the number of rows of a table.
func (s *DBSource) Count(ctx context.Context, table string) (int64, error) {
	if !s.Has(table) {
		return 0, nil
	}
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+ident(table)).Scan(&n)
	return n, err
}

// runKeyed are tables keyed by execution_date before Airflow 2.2 (xcom
// until 2.3): their run_id comes from the run at that logical date.
var runKeyed = []string{"task_instance", "task_fail", "task_reschedule", "xcom", "rendered_task_instance_fields"}

// keyColumns are a table's primary key on PostgreSQL sources, the order
// of the scan; the columns present decide the version's key.
func (s *DBSource) keyColumns(table string) []string {
	switch {
	case s.has(table, "id"):
		return []string{"id"}
	case table == "dag":
		return []string{"dag_id"}
	case table == "dag_run_note":
		return []string{"dag_run_id"}
	case table == "dagrun_dataset_event":
		return []string{"dag_run_id", "event_id"}
	case table == "dag_schedule_dataset_reference":
		return []string{"dataset_id", "dag_id"}
	case table == "dataset_dag_run_queue":
		return []string{"dataset_id", "target_dag_id"}
	case table == "sla_miss":
		return []string{"task_id", "dag_id", "execution_date"}
	case table == "xcom" && s.has(table, "dag_run_id"):
		return []string{"dag_run_id", "task_id", "map_index", "key"}
	case table == "xcom":
		return []string{"dag_id", "task_id", "execution_date", "key"}
	case s.has(table, "map_index"):
		return []string{"dag_id", "task_id", "run_id", "map_index"}
	case s.has(table, "run_id"):
		return []string{"dag_id", "task_id", "run_id"}
	}
	return []string{"dag_id", "task_id", "execution_date"}
}

// keyOrdered reports whether a SQLite source's table is read in the
// order of its primary key rather than of its rowid: task instances keyed
// by run_id, whose key is Windsock's too. Rows in key order land next to
// each other in the target's key index, so that a batch dirties a few of
// its pages instead of one per row, and each commit writes that much less.
// (Keys holding times are left in rowid order: the driver gives them back
// as times, not as the text they are compared with.)
func (s *DBSource) keyOrdered(table string) bool {
	return table == "task_instance" && s.has(table, "run_id")
}

// Scan reads a table in batches after position.
func (s *DBSource) Scan(ctx context.Context, table, position string, n int, fn func([]Row, string) error) error {
	if !s.Has(table) {
		return nil
	}
	cols := s.columns[table]
	sel := make([]string, 0, len(cols)+2)
	for _, c := range cols {
		sel = append(sel, "t."+ident(c))
	}
	from := ident(table) + " t"
	if slices.Contains(runKeyed, table) && !s.has(table, "run_id") && s.has(table, "execution_date") && s.Has("dag_run") {
		// Airflow 2.2's migration gives each such row the run_id of the
		// run at its logical date; rows without one are moved aside.
		sel = append(sel, "r.run_id AS "+ident(joinedRunID))
		from += " LEFT JOIN dag_run r ON r.dag_id = t.dag_id AND r.execution_date = t.execution_date"
	}
	if table == "dag_run_note" && s.Has("dag_run") {
		// A note names its run by id, which an import does not keep.
		sel = append(sel, "r.dag_id AS "+ident(joinedDagID), "r.run_id AS "+ident(joinedRunID))
		from += " LEFT JOIN dag_run r ON r.id = t.dag_run_id"
	}
	if table == "dagrun_dataset_event" && s.Has("dag_run") && s.Has("dataset_event") && s.Has("dataset") {
		// Runs and events are named by ids an import numbers anew.
		sel = append(sel, "r.dag_id AS "+ident(joinedDagID), "r.run_id AS "+ident(joinedRunID),
			"d.uri AS "+ident(joinedURI), "e.timestamp AS "+ident(joinedTimestamp))
		from += " LEFT JOIN dag_run r ON r.id = t.dag_run_id LEFT JOIN dataset_event e ON e.id = t.event_id" +
			" LEFT JOIN dataset d ON d.id = e.dataset_id"
	}
	var keys []string
	if s.postgres || s.keyOrdered(table) {
		keys = s.keyColumns(table)
	} else {
		sel = append(sel, "t.rowid AS "+ident(rowidColumn))
		keys = []string{rowidColumn}
	}
	keyExpr := make([]string, len(keys))
	for i, k := range keys {
		if k == rowidColumn {
			keyExpr[i] = "t.rowid"
		} else {
			keyExpr[i] = "t." + ident(k)
		}
	}
	var after []any
	if position != "" {
		var err error
		if after, err = decodePosition(position); err != nil || len(after) != len(keys) {
			return fmt.Errorf("scan %s: checkpoint %q does not fit the source (was it another database?)", table, position)
		}
	}
	for {
		q := `SELECT ` + strings.Join(sel, ", ") + ` FROM ` + from
		var args []any
		if after != nil {
			ph := make([]string, len(after))
			for i := range after {
				ph[i] = s.placeholder(i + 1)
			}
			q += ` WHERE (` + strings.Join(keyExpr, ", ") + `) > (` + strings.Join(ph, ", ") + `)`
			args = append(args, after...)
		}
		q += ` ORDER BY ` + strings.Join(keyExpr, ", ") + ` LIMIT ` + fmt.Sprint(n)
		batch, err := s.query(ctx, q, args)
		if err != nil {
			return fmt.Errorf("scan %s: %w", table, err)
		}
		if len(batch) == 0 {
			return nil
		}
		lastRow := batch[len(batch)-1]
		after = make([]any, len(keys))
		for i, k := range keys {
			after[i] = lastRow[k]
		}
		pos, err := json.Marshal(after)
		if err != nil {
			return fmt.Errorf("scan %s: %w", table, err)
		}
		if err := fn(batch, string(pos)); err != nil {
			return err
		}
		if len(batch) < n {
			return nil
		}
	}
}

func (s *DBSource) placeholder(i int) string {
	if s.postgres {
		return fmt.Sprintf("$%d", i)
	}
	return "?"
}

func (s *DBSource) query(ctx context.Context, q string, args []any) ([]Row, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []Row
	for rows.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := make(Row, len(names))
		for i, nm := range names {
			r[nm] = vals[i]
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Column names the scan adds to a row.
const (
	joinedRunID     = "_run_id"
	joinedDagID     = "_dag_id"
	joinedURI       = "_uri"
	joinedTimestamp = "_timestamp"
	rowidColumn     = "_rowid"
)

// decodePosition reads a checkpoint back, integers as int64 (so that a
// driver binds them to integer columns).
func decodePosition(position string) ([]any, error) {
	dec := json.NewDecoder(strings.NewReader(position))
	dec.UseNumber()
	var vals []any
	if err := dec.Decode(&vals); err != nil {
		return nil, err
	}
	for i, v := range vals {
		if n, ok := v.(json.Number); ok {
			if i64, err := n.Int64(); err == nil {
				vals[i] = i64
			} else if f, err := n.Float64(); err == nil {
				vals[i] = f
			}
		}
	}
	return vals, nil
}
