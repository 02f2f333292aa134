package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// importTable is what ImportRows knows of a table it writes: the columns
// a batch may name (so no identifier in the SQL comes from the caller),
// the key a clash is judged on, and the parent a row needs.
type importTable struct {
	columns []string
	// key is the conflict target; nil for tables without a natural key,
	// whose rows are compared on content instead.
	key []string
	// dedupe, for tables without a key, are indexed columns compared with
	// = before the rest is compared null-safely: a lookup, not a scan.
	dedupe []string
	// jsonColumns are compared as text (PostgreSQL's json has no =).
	jsonColumns []string
	// uncompared columns, of tables without a key, are left out of the
	// comparison: their value differs between two imports of one row
	// (a Fernet token is encrypted anew each time).
	uncompared []string
	// parent is "run" (the dag_run named by dag_id, run_id) or "ti" (the
	// task instance named by dag_id, task_id, run_id, map_index).
	parent string
	// returnsID: rows get new ids, which the id map records.
	returnsID bool
	// insertOnly: an existing row is never replaced (dag rows belong to
	// the DAG processor; an import only adds the missing ones).
	insertOnly bool
	// batched: rows are written by multi-row inserts that return the
	// keys they wrote (keys without times, which come back in the
	// database's own form).
	batched bool
	// runRef: the table names its run by dag_run.id, not by dag_id and
	// run_id; a batch gives dag_id and run_id, written as dag_run_id.
	runRef bool
}

var importTIColumns = []string{"task_id", "dag_id", "run_id", "map_index", "start_date", "end_date", "duration",
	"state", "try_number", "max_tries", "hostname", "unixname", "job_id", "pool", "pool_slots", "queue",
	"priority_weight", "operator", "custom_operator_name", "queued_dttm", "queued_by_job_id", "pid", "executor",
	"executor_config", "updated_at", "rendered_map_index", "external_executor_id", "trigger_timeout",
	"next_method", "next_kwargs", "task_display_name"}

var importTables = map[string]importTable{
	"dag": {batched: true, columns: []string{"dag_id", "is_paused", "is_active", "is_subdag", "root_dag_id", "fileloc", "owners",
		"description", "default_view", "schedule_interval", "max_active_tasks", "max_active_runs",
		"has_task_concurrency_limits", "has_import_errors", "last_parsed_time"},
		key: []string{"dag_id"}, insertOnly: true},
	"slot_pool":  {batched: true, columns: []string{"pool", "slots", "description", "include_deferred"}, key: []string{"pool"}},
	"variable":   {batched: true, columns: []string{"key", "val", "description", "is_encrypted"}, key: []string{"key"}},
	"connection": {batched: true, columns: []string{"conn_id", "conn_type", "description", "host", "schema", "login", "password", "port", "is_encrypted", "is_extra_encrypted", "extra"}, key: []string{"conn_id"}},
	"job": {columns: []string{"dag_id", "state", "job_type", "start_date", "end_date", "latest_heartbeat", "executor_class", "hostname", "unixname"},
		dedupe: []string{"job_type", "latest_heartbeat"}, returnsID: true},
	"log": {columns: []string{"dttm", "dag_id", "task_id", "map_index", "event", "execution_date", "run_id", "owner", "owner_display_name", "extra", "try_number"},
		dedupe: []string{"dttm"}},
	"dag_run": {batched: true, columns: []string{"dag_id", "queued_at", "execution_date", "start_date", "end_date", "state", "run_id", "creating_job_id",
		"external_trigger", "run_type", "conf", "data_interval_start", "data_interval_end", "last_scheduling_decision", "dag_hash",
		"log_template_id", "updated_at", "clear_number"}, key: []string{"dag_id", "run_id"}},
	"task_instance": {batched: true, columns: importTIColumns, key: []string{"dag_id", "task_id", "run_id", "map_index"}, parent: "run"},
	"task_fail": {columns: []string{"task_id", "dag_id", "run_id", "map_index", "start_date", "end_date", "duration"},
		dedupe: []string{"dag_id", "task_id", "run_id", "map_index"}, parent: "ti"},
	"task_reschedule": {columns: []string{"task_id", "dag_id", "run_id", "map_index", "try_number", "start_date", "end_date", "duration", "reschedule_date"},
		dedupe: []string{"dag_id", "task_id", "run_id", "map_index"}, parent: "ti"},
	"xcom": {batched: true, columns: []string{"task_id", "map_index", "key", "dag_id", "run_id", "value", "timestamp"},
		key: []string{"dag_run_id", "task_id", "map_index", "key"}, parent: "ti"},
	"rendered_task_instance_fields": {batched: true, columns: []string{"dag_id", "task_id", "run_id", "map_index", "rendered_fields", "k8s_pod_yaml"},
		key: []string{"dag_id", "task_id", "run_id", "map_index"}, parent: "ti"},
	"dataset": {batched: true, columns: []string{"uri", "extra", "created_at", "updated_at", "is_orphaned"}, key: []string{"uri"}},
	// dataset_uri names the event's dataset in the source's terms; it is
	// written as the id of the dataset with that uri here.
	"dataset_event": {columns: []string{"dataset_uri", "extra", "source_task_id", "source_dag_id", "source_run_id", "source_map_index", "timestamp"},
		dedupe: []string{"dataset_uri", "timestamp"}, jsonColumns: []string{"extra"}, parent: "dataset"},
	"sla_miss": {columns: []string{"task_id", "dag_id", "execution_date", "email_sent", "timestamp", "description", "notification_sent"},
		key: []string{"task_id", "dag_id", "execution_date"}},
	// Triggers are written as they were; their ids are never exported by
	// AWS's tools, so a row is the same row when its content is.
	"trigger": {columns: []string{"classpath", "kwargs", "created_date", "triggerer_id"},
		dedupe: []string{"classpath", "created_date"}, uncompared: []string{"kwargs", "triggerer_id"}},
	// A run's note hangs off dag_run.id: dag_id and run_id name the run
	// and are written as its id (runRef).
	"dag_run_note": {columns: []string{"dag_id", "run_id", "content", "created_at", "updated_at"},
		key: []string{"dag_run_id"}, parent: "run", runRef: true},
	"task_instance_note": {columns: []string{"dag_id", "task_id", "run_id", "map_index", "content", "created_at", "updated_at"},
		key: []string{"task_id", "dag_id", "run_id", "map_index"}, parent: "ti"},
	"task_instance_history": {batched: true, columns: importTIColumns,
		key: []string{"dag_id", "task_id", "run_id", "map_index", "try_number"}, parent: "ti"},
	"task_map": {batched: true, columns: []string{"dag_id", "task_id", "run_id", "map_index", "length", "keys"},
		key: []string{"dag_id", "task_id", "run_id", "map_index"}, parent: "ti"},
}

// importStatement is the INSERT of one row of a batch.
type importStatement struct {
	insert string
	// head, values, conflict and returning build a multi-row insert that
	// returns the keys of the rows it wrote.
	head, values, conflict, returning string
	keyCols                           []string
	// find is the SELECT that tells whether a row with the same key (or
	// content) is there, with its id for tables that return ids.
	find     string
	findCols []int
}

func buildImport(table string, spec importTable, cols []string, overwrite bool) (*importStatement, error) {
	idx := map[string]int{}
	for i, c := range cols {
		if !slices.Contains(spec.columns, c) {
			return nil, windsock.Errorf(windsock.EINVALID, "import %s: unknown column %q", table, c)
		}
		if _, dup := idx[c]; dup {
			return nil, windsock.Errorf(windsock.EINVALID, "import %s: column %q given twice", table, c)
		}
		idx[c] = i
	}
	need := slices.Clone(spec.key)
	need = append(need, spec.dedupe...)
	switch spec.parent {
	case "run":
		need = append(need, "dag_id", "run_id")
	case "ti":
		need = append(need, "dag_id", "task_id", "run_id", "map_index")
	case "dataset":
		need = append(need, "dataset_uri")
	}
	for _, c := range need {
		if _, ok := idx[c]; !ok && c != "dag_run_id" {
			return nil, windsock.Errorf(windsock.EINVALID, "import %s: column %q is required", table, c)
		}
	}
	insertCols := slices.Clone(cols)
	if table == "xcom" {
		insertCols = append(insertCols, "dag_run_id")
	}
	if spec.runRef {
		insertCols = append(slices.DeleteFunc(insertCols, isRunName), "dag_run_id")
	}
	quoted := make([]string, len(insertCols))
	for i, c := range insertCols {
		quoted[i] = quoteIdent(storedColumn(c))
	}
	st := &importStatement{}
	var sb strings.Builder
	// Table names come from importTables and are plain words: unquoted,
	// so that the bookmarks of deep list pages see the insert; but
	// trigger is a keyword.
	name := table
	if table == "trigger" {
		name = quoteIdent(table)
	}
	st.head = fmt.Sprintf(`INSERT INTO %s (%s) VALUES `, name, strings.Join(quoted, ", "))
	st.values = "(" + strings.TrimSuffix(strings.Repeat("?, ", len(insertCols)), ", ") + ")"
	sb.WriteString(st.head + st.values)
	var where []string
	if spec.key != nil {
		st.keyCols = spec.key
		keyQ := make([]string, len(spec.key))
		for i, c := range spec.key {
			keyQ[i] = quoteIdent(c)
			where = append(where, quoteIdent(c)+" = ?")
			if c == "dag_run_id" {
				st.findCols = append(st.findCols, len(cols)) // the looked-up run id, appended last
			} else {
				st.findCols = append(st.findCols, idx[c])
			}
		}
		var sets []string
		for _, c := range insertCols {
			if !slices.Contains(spec.key, c) {
				sets = append(sets, quoteIdent(c)+" = excluded."+quoteIdent(c))
			}
		}
		if overwrite && !spec.insertOnly && len(sets) > 0 {
			st.conflict = fmt.Sprintf(` ON CONFLICT (%s) DO UPDATE SET %s`, strings.Join(keyQ, ", "), strings.Join(sets, ", "))
		} else {
			// No target: a clash on any unique key (dag_run's logical
			// date too) keeps the existing row.
			st.conflict = ` ON CONFLICT DO NOTHING`
		}
		sb.WriteString(st.conflict)
		st.returning = ` RETURNING ` + strings.Join(keyQ, ", ")
	} else {
		for _, c := range spec.dedupe {
			where = append(where, quoteIdent(storedColumn(c))+" = ?")
			st.findCols = append(st.findCols, idx[c])
		}
		for i, c := range cols {
			switch {
			case slices.Contains(spec.dedupe, c), slices.Contains(spec.uncompared, c):
				continue
			case slices.Contains(spec.jsonColumns, c):
				where = append(where, "CAST("+quoteIdent(c)+" AS TEXT) IS NOT DISTINCT FROM CAST(? AS TEXT)")
			default:
				where = append(where, quoteIdent(storedColumn(c))+" IS NOT DISTINCT FROM ?")
			}
			st.findCols = append(st.findCols, i)
		}
	}
	if spec.returnsID {
		sb.WriteString(` RETURNING id`)
	}
	sel := "1"
	if spec.returnsID {
		sel = "id"
	}
	st.insert = sb.String()
	st.find = fmt.Sprintf(`SELECT %s FROM %s WHERE %s LIMIT 1`, sel, quoteIdent(table), strings.Join(where, " AND "))
	return st, nil
}

// storedColumn is the column a batch column is written to.
func storedColumn(c string) string {
	if c == "dataset_uri" {
		return "dataset_id"
	}
	return c
}

// isRunName reports whether a batch column is one of the two that name a
// run, which a runRef table stores as the run's id.
func isRunName(c string) bool { return c == "dag_id" || c == "run_id" }

// runRefArgs are a runRef row's values as its insert takes them: without
// dag_id and run_id, with the run's id last.
func runRefArgs(cols []string, args []any, runID int64) []any {
	out := make([]any, 0, len(args))
	for i, c := range cols {
		if !isRunName(c) {
			out = append(out, args[i])
		}
	}
	return append(out, runID)
}

// importValue turns a batch value into a parameter the store writes the
// way its own queries do (times in UTC to the microsecond).
func importValue(v any) any {
	switch t := v.(type) {
	case time.Time:
		return ts(t)
	case *time.Time:
		return tsPtr(t)
	}
	return v
}

// ImportRows writes one batch of rows; see store.MetadataImportQueries.
func (q *queries) ImportRows(ctx context.Context, p *store.ImportRowsParams) ([]store.ImportOutcome, error) {
	if p.Table == "dagrun_dataset_event" {
		return q.importRunEvents(ctx, p)
	}
	spec, ok := importTables[p.Table]
	if !ok {
		return nil, windsock.Errorf(windsock.EINVALID, "import: table %q cannot be imported", p.Table)
	}
	st, err := buildImport(p.Table, spec, p.Columns, p.Overwrite)
	if err != nil {
		return nil, err
	}
	if spec.returnsID && len(p.SourceIDs) != len(p.Rows) {
		return nil, windsock.Errorf(windsock.EINVALID, "import %s: %d source ids for %d rows", p.Table, len(p.SourceIDs), len(p.Rows))
	}
	idx := columnIndex(p.Columns)
	rows, err := importArgs(p)
	if err != nil {
		return nil, err
	}
	out := make([]store.ImportOutcome, len(p.Rows))
	if spec.batched {
		err = q.inTx(ctx, func(q *queries) error { return q.importBatched(ctx, p, spec, st, idx, rows, out) })
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	err = q.inTx(ctx, func(q *queries) error {
		parents := map[string]int64{} // parent key -> run id (0: absent)
		for i, args := range rows {
			if spec.parent != "" {
				runID, err := q.importParent(ctx, spec.parent, args, idx, parents)
				if err != nil {
					return err
				}
				if runID == 0 {
					out[i] = store.ImportNoParent
					continue
				}
				switch {
				case p.Table == "xcom":
					args = append(args, runID)
				case p.Table == "dataset_event":
					args[idx["dataset_uri"]] = runID
				case spec.runRef:
					args = runRefArgs(p.Columns, args, runID)
				}
			}
			o, id, err := q.importRow(ctx, p, spec, st, args, idx)
			if err != nil {
				return fmt.Errorf("import %s row %d: %w", p.Table, i, err)
			}
			out[i] = o
			if spec.returnsID && id != 0 {
				if _, err := q.exec(ctx, `INSERT INTO import_id_map (source, table_name, source_id, target_id)
					VALUES (?, ?, ?, ?) ON CONFLICT (source, table_name, source_id) DO UPDATE SET target_id = excluded.target_id`,
					p.Source, p.Table, p.SourceIDs[i], id); err != nil {
					return fmt.Errorf("import %s: record id: %w", p.Table, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// importParent returns the id of the parent a row names: the run (for
// "run", and for "ti" the task instance's run) or the dataset (for
// "dataset", by uri); 0 when it is not there. seen caches the answers of
// one batch.
func (q *queries) importParent(ctx context.Context, parent string, args []any, idx map[string]int, seen map[string]int64) (int64, error) {
	var query string
	var qargs []any
	switch parent {
	case "dataset":
		query, qargs = `SELECT id FROM dataset WHERE uri = ?`, []any{args[idx["dataset_uri"]]}
	case "run":
		query = `SELECT id FROM dag_run WHERE dag_id = ? AND run_id = ?`
		qargs = []any{args[idx["dag_id"]], args[idx["run_id"]]}
	default:
		query = `SELECT dag_run.id FROM task_instance JOIN dag_run
			ON dag_run.dag_id = task_instance.dag_id AND dag_run.run_id = task_instance.run_id
			WHERE task_instance.dag_id = ? AND task_instance.run_id = ? AND task_instance.task_id = ? AND task_instance.map_index = ?`
		qargs = []any{args[idx["dag_id"]], args[idx["run_id"]], args[idx["task_id"]], args[idx["map_index"]]}
	}
	var kb strings.Builder
	kb.WriteString(parent)
	for _, a := range qargs {
		fmt.Fprint(&kb, "\x00", a)
	}
	key := kb.String()
	if id, ok := seen[key]; ok {
		return id, nil
	}
	var id int64
	err := q.queryRow(ctx, query, qargs...).Scan(&id)
	if err != nil && err != sql.ErrNoRows {
		return 0, fmt.Errorf("import: look up parent: %w", err)
	}
	seen[key] = id
	return id, nil
}

// importRow writes one row and says what happened; id is the row's id
// (written or found) for tables that return ids.
func (q *queries) importRow(ctx context.Context, p *store.ImportRowsParams, spec importTable, st *importStatement, args []any, idx map[string]int) (store.ImportOutcome, int64, error) {
	find := func() (bool, int64, error) {
		fargs := make([]any, len(st.findCols))
		for i, c := range st.findCols {
			fargs[i] = args[c]
		}
		var id int64
		var one int
		dest := any(&one)
		if spec.returnsID {
			dest = &id
		}
		err := q.queryRow(ctx, st.find, fargs...).Scan(dest)
		if err == sql.ErrNoRows {
			return false, 0, nil
		}
		return err == nil, id, err
	}
	if spec.key == nil {
		// No key to clash on: the same content is the same row.
		found, id, err := find()
		if err != nil || found {
			return store.ImportExists, id, err
		}
		var newID int64
		if spec.returnsID {
			err = q.queryRow(ctx, st.insert, args...).Scan(&newID)
		} else {
			_, err = q.exec(ctx, st.insert, args...)
		}
		return store.ImportWritten, newID, err
	}
	res, err := q.exec(ctx, st.insert, args...)
	if err != nil {
		return 0, 0, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ImportExists, 0, nil
	}
	return store.ImportWritten, 0, nil
}

// ImportIDMap returns the ids the given source ids became.
func (q *queries) ImportIDMap(ctx context.Context, source, table string, sourceIDs []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	for chunk := range slices.Chunk(sourceIDs, 500) {
		args := []any{source, table}
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := q.query(ctx, `SELECT source_id, target_id FROM import_id_map WHERE source = ? AND table_name = ?
			AND source_id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("import id map: %w", err)
		}
		for rows.Next() {
			var s, t int64
			if err := rows.Scan(&s, &t); err != nil {
				rows.Close()
				return nil, fmt.Errorf("import id map: %w", err)
			}
			out[s] = t
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("import id map: %w", err)
		}
	}
	return out, nil
}

// ImportCheckpointGet returns a checkpoint, nil when there is none.
func (q *queries) ImportCheckpointGet(ctx context.Context, source, table string) (*store.ImportCheckpoint, error) {
	cp := &store.ImportCheckpoint{Source: source, Table: table}
	err := q.queryRow(ctx, `SELECT position, done, updated_at FROM import_checkpoint WHERE source = ? AND table_name = ?`,
		source, table).Scan(&cp.Position, &cp.Done, &cp.UpdatedAt)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get import checkpoint: %w", err)
	}
	return cp, nil
}

// ImportCheckpointSet inserts or replaces a checkpoint.
func (q *queries) ImportCheckpointSet(ctx context.Context, cp *store.ImportCheckpoint) error {
	cp.UpdatedAt = utc(time.Now())
	if _, err := q.exec(ctx, `INSERT INTO import_checkpoint (source, table_name, position, done, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, table_name) DO UPDATE SET
			position = excluded.position, done = excluded.done, updated_at = excluded.updated_at`,
		cp.Source, cp.Table, cp.Position, cp.Done, cp.UpdatedAt); err != nil {
		return fmt.Errorf("set import checkpoint: %w", err)
	}
	return nil
}

// ImportCheckpointDelete removes a checkpoint.
func (q *queries) ImportCheckpointDelete(ctx context.Context, source, table string) error {
	if _, err := q.exec(ctx, `DELETE FROM import_checkpoint WHERE source = ? AND table_name = ?`, source, table); err != nil {
		return fmt.Errorf("delete import checkpoint: %w", err)
	}
	return nil
}

// ImportAsideSet keeps what could not be imported.
func (q *queries) ImportAsideSet(ctx context.Context, a *store.ImportAside) error {
	a.CreatedAt = utc(time.Now())
	if _, err := q.exec(ctx, `INSERT INTO import_aside (source, table_name, row_key, column_name, reason, value, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, table_name, row_key, column_name) DO UPDATE SET
			reason = excluded.reason, value = excluded.value, created_at = excluded.created_at`,
		a.Source, a.Table, a.RowKey, a.Column, a.Reason, a.Value, a.CreatedAt); err != nil {
		return fmt.Errorf("keep import value aside: %w", err)
	}
	return nil
}

// ImportAsideList returns what was kept aside from a source.
func (q *queries) ImportAsideList(ctx context.Context, source string) ([]*store.ImportAside, error) {
	rows, err := q.query(ctx, `SELECT source, table_name, row_key, column_name, reason, value, created_at
		FROM import_aside WHERE source = ? ORDER BY id`, source)
	if err != nil {
		return nil, fmt.Errorf("list import aside: %w", err)
	}
	defer rows.Close()
	var out []*store.ImportAside
	for rows.Next() {
		a := &store.ImportAside{}
		if err := rows.Scan(&a.Source, &a.Table, &a.RowKey, &a.Column, &a.Reason, &a.Value, &a.CreatedAt); err != nil {
			return nil, fmt.Errorf("list import aside: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// importRowsPerStatement bounds a multi-row insert below both databases'
// limits on parameters (SQLite 32766, PostgreSQL 65535).
const importRowsPerStatement = 400

// columnIndex maps each of cols to its position.
func columnIndex(cols []string) map[string]int {
	idx := make(map[string]int, len(cols))
	for i, c := range cols {
		idx[c] = i
	}
	return idx
}

// importArgs returns p's rows as the parameters the store writes (see
// importValue), each with room for a looked-up run id; a row with more or
// fewer values than p.Columns is EINVALID.
func importArgs(p *store.ImportRowsParams) ([][]any, error) {
	rows := make([][]any, len(p.Rows))
	for i, row := range p.Rows {
		if len(row) != len(p.Columns) {
			return nil, windsock.Errorf(windsock.EINVALID, "import %s: row %d has %d values for %d columns", p.Table, i, len(row), len(p.Columns))
		}
		a := make([]any, len(row), len(row)+1)
		for j, v := range row {
			a[j] = importValue(v)
		}
		rows[i] = a
	}
	return rows, nil
}

// importStatements is the loop of the imports by multi-row inserts:
// ImportRows' keyed tables and ImportRowsBulk without a copy protocol.
// It looks up each row's parent run (ImportNoParent when it is not
// there; xcom rows get the run's id appended), sets aside a dag_run row
// whose logical date another run holds when overwriting (ImportKeyTaken),
// and hands the others to write importRowsPerStatement at a time (their
// indexes in rows and their values in order), never a key twice in one
// statement: PostgreSQL refuses to update a row twice in one statement,
// so the second goes in the next. note records the rows set aside; write
// records the outcome of the rows it is given.
func (q *queries) importStatements(ctx context.Context, p *store.ImportRowsParams, spec importTable, st *importStatement, idx map[string]int, rows [][]any,
	note func(i int, o store.ImportOutcome), write func(pending []int, args []any) error) error {
	parents := map[string]int64{}
	pending := make([]int, 0, importRowsPerStatement)
	args := make([]any, 0, importRowsPerStatement*(len(p.Columns)+1))
	keys := map[string]bool{} // in the statement being built
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := write(pending, args); err != nil {
			return err
		}
		pending, args = pending[:0], args[:0]
		clear(keys)
		return nil
	}
	for i, a := range rows {
		if spec.parent != "" {
			runID, err := q.importParent(ctx, spec.parent, a, idx, parents)
			if err != nil {
				return err
			}
			if runID == 0 {
				note(i, store.ImportNoParent)
				continue
			}
			if p.Table == "xcom" {
				a = append(a, runID)
				rows[i] = a
			}
		}
		if p.Table == "dag_run" && p.Overwrite {
			taken, err := q.importDateTaken(ctx, a, idx)
			if err != nil {
				return err
			}
			if taken {
				note(i, store.ImportKeyTaken)
				continue
			}
		}
		k := importKey(a, st.findCols)
		if keys[k] {
			if err := flush(); err != nil {
				return err
			}
		}
		keys[k] = true
		pending = append(pending, i)
		args = append(args, a...)
		if len(pending) == importRowsPerStatement {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// importKept is the outcome of a row a statement did not write: it was
// there already, or (a dag_run row not overwriting, whose run_id is not
// there) another run holds its logical date.
func (q *queries) importKept(ctx context.Context, p *store.ImportRowsParams, a []any, idx map[string]int) (store.ImportOutcome, error) {
	if p.Table != "dag_run" || p.Overwrite {
		return store.ImportExists, nil
	}
	held, err := q.importRunHeld(ctx, a, idx)
	if err != nil || held {
		return store.ImportExists, err
	}
	return store.ImportKeyTaken, nil
}

// importBatched writes keyed rows with multi-row inserts. The keys a
// statement returns are the rows it wrote; the others were kept.
func (q *queries) importBatched(ctx context.Context, p *store.ImportRowsParams, spec importTable, st *importStatement, idx map[string]int, rows [][]any, out []store.ImportOutcome) error {
	note := func(i int, o store.ImportOutcome) { out[i] = o }
	return q.importStatements(ctx, p, spec, st, idx, rows, note, func(pending []int, args []any) error {
		query := st.head + strings.TrimSuffix(strings.Repeat(st.values+", ", len(pending)), ", ") + st.conflict + st.returning
		written, err := q.importReturned(ctx, query, args, len(st.keyCols))
		if err != nil {
			return fmt.Errorf("import %s: %w", p.Table, err)
		}
		for _, i := range pending {
			if written[importKey(rows[i], st.findCols)] {
				out[i] = store.ImportWritten
				continue
			}
			if out[i], err = q.importKept(ctx, p, rows[i], idx); err != nil {
				return err
			}
		}
		return nil
	})
}

// importReturned runs a multi-row insert returning the keys (of n
// columns) of the rows it wrote, each as importKey makes it.
func (q *queries) importReturned(ctx context.Context, query string, args []any, n int) (map[string]bool, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	written := map[string]bool{}
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var sb strings.Builder
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			fmt.Fprint(&sb, v, "\x00")
		}
		written[sb.String()] = true
	}
	return written, rows.Close()
}

// importKey is a row's key (the values at cols) as one string.
func importKey(a []any, cols []int) string {
	var sb strings.Builder
	for _, c := range cols {
		fmt.Fprint(&sb, a[c], "\x00")
	}
	return sb.String()
}

// importRunHeld reports whether the run a dag_run row names by run_id is
// there.
func (q *queries) importRunHeld(ctx context.Context, a []any, idx map[string]int) (bool, error) {
	var one int
	err := q.queryRow(ctx, `SELECT 1 FROM dag_run WHERE dag_id = ? AND run_id = ?`, a[idx["dag_id"]], a[idx["run_id"]]).Scan(&one)
	if err != nil && err != sql.ErrNoRows {
		return false, fmt.Errorf("import dag_run: %w", err)
	}
	return err == nil, nil
}

// importDateTaken reports whether another run of the DAG holds the
// logical date of a dag_run row: replacing the row by run_id would then
// clash with it and fail the whole statement.
func (q *queries) importDateTaken(ctx context.Context, a []any, idx map[string]int) (bool, error) {
	var other string
	err := q.queryRow(ctx, `SELECT run_id FROM dag_run WHERE dag_id = ? AND execution_date = ?`,
		a[idx["dag_id"]], a[idx["execution_date"]]).Scan(&other)
	if err != nil && err != sql.ErrNoRows {
		return false, fmt.Errorf("import dag_run: %w", err)
	}
	return err == nil && other != a[idx["run_id"]], nil
}

// exportKeys are the columns a table's export pages are ordered by: its
// primary key.
var exportKeys = map[string][]string{
	"dag":                           {"dag_id"},
	"dag_run":                       {"id"},
	"task_instance":                 {"dag_id", "task_id", "run_id", "map_index"},
	"xcom":                          {"dag_run_id", "task_id", "map_index", "key"},
	"rendered_task_instance_fields": {"dag_id", "task_id", "run_id", "map_index"},
	"sla_miss":                      {"task_id", "dag_id", "execution_date"},
	"dag_run_note":                  {"dag_run_id"},
	"task_instance_note":            {"dag_id", "task_id", "run_id", "map_index"},
	"task_map":                      {"dag_id", "task_id", "run_id", "map_index"},
}

// ExportRows reads one page of a table in key order.
func (q *queries) ExportRows(ctx context.Context, p *store.ExportRowsParams) (*store.ExportPage, error) {
	if p.Table == "dagrun_dataset_event" {
		return q.exportRunEvents(ctx, p)
	}
	spec, ok := importTables[p.Table]
	if !ok {
		return nil, windsock.Errorf(windsock.EINVALID, "export: table %q cannot be exported", p.Table)
	}
	keys, ok := exportKeys[p.Table]
	if !ok {
		keys = []string{"id"}
	}
	// Columns are read from the table as t; a runRef table's dag_id and
	// run_id from its run, r.
	from := quoteIdent(p.Table) + " t"
	if spec.runRef {
		from += " JOIN dag_run r ON r.id = t.dag_run_id"
	}
	column := func(c string) string {
		if spec.runRef && isRunName(c) {
			return "r." + quoteIdent(c)
		}
		return "t." + quoteIdent(c)
	}
	sel := make([]string, 0, len(p.Columns)+len(keys))
	for _, c := range p.Columns {
		if !slices.Contains(spec.columns, c) && c != "id" && c != "dag_run_id" {
			return nil, windsock.Errorf(windsock.EINVALID, "export %s: unknown column %q", p.Table, c)
		}
		sel = append(sel, column(storedColumn(c)))
	}
	keyQ := make([]string, len(keys))
	for i, k := range keys {
		keyQ[i] = column(k)
		sel = append(sel, column(k))
	}
	query := `SELECT ` + strings.Join(sel, ", ") + ` FROM ` + from
	var args []any
	if p.After != nil {
		if len(p.After) != len(keys) {
			return nil, windsock.Errorf(windsock.EINVALID, "export %s: a key of %d values, want %d", p.Table, len(p.After), len(keys))
		}
		query += ` WHERE (` + strings.Join(keyQ, ", ") + `) > (` + strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ") + `)`
		for _, v := range p.After {
			args = append(args, importValue(v))
		}
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 1000
	}
	query += ` ORDER BY ` + strings.Join(keyQ, ", ") + fmt.Sprintf(` LIMIT %d`, limit)
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", p.Table, err)
	}
	defer rows.Close()
	page := &store.ExportPage{}
	for rows.Next() {
		vals := make([]any, len(sel))
		ptrs := make([]any, len(sel))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("export %s: %w", p.Table, err)
		}
		page.Rows = append(page.Rows, vals[:len(p.Columns)])
		page.Last = vals[len(p.Columns):]
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("export %s: %w", p.Table, err)
	}
	return page, nil
}

// runEventColumns are the columns of an imported dagrun_dataset_event row:
// the run by dag_id and run_id, the event by its dataset's uri and its
// timestamp, since both tables' ids are numbered anew by an import.
var runEventColumns = []string{"dag_id", "run_id", "dataset_uri", "timestamp"}

// importRunEvents links imported runs to the imported dataset events that
// triggered them. A link whose run or event is not here is ImportNoParent;
// an existing link is kept (a link has nothing to overwrite).
func (q *queries) importRunEvents(ctx context.Context, p *store.ImportRowsParams) ([]store.ImportOutcome, error) {
	if !slices.Equal(p.Columns, runEventColumns) {
		return nil, windsock.Errorf(windsock.EINVALID, "import dagrun_dataset_event: columns %v, want %v", p.Columns, runEventColumns)
	}
	out := make([]store.ImportOutcome, len(p.Rows))
	err := q.inTx(ctx, func(q *queries) error {
		for i, row := range p.Rows {
			if len(row) != len(runEventColumns) {
				return windsock.Errorf(windsock.EINVALID, "import dagrun_dataset_event: row %d has %d values", i, len(row))
			}
			var runID, eventID int64
			err := q.queryRow(ctx, `SELECT id FROM dag_run WHERE dag_id = ? AND run_id = ?`, row[0], row[1]).Scan(&runID)
			if err == nil {
				err = q.queryRow(ctx, `SELECT e.id FROM dataset_event e JOIN dataset d ON d.id = e.dataset_id
					WHERE d.uri = ? AND e.timestamp = ? ORDER BY e.id LIMIT 1`, row[2], importValue(row[3])).Scan(&eventID)
			}
			if err == sql.ErrNoRows {
				out[i] = store.ImportNoParent
				continue
			}
			if err != nil {
				return fmt.Errorf("import dagrun_dataset_event: %w", err)
			}
			res, err := q.exec(ctx, `INSERT INTO dagrun_dataset_event (dag_run_id, event_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, runID, eventID)
			if err != nil {
				return fmt.Errorf("import dagrun_dataset_event: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				out[i] = store.ImportExists
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// exportRunEvents reads links of runs to dataset events in the form
// importRunEvents takes (runEventColumns), in the order of their ids.
func (q *queries) exportRunEvents(ctx context.Context, p *store.ExportRowsParams) (*store.ExportPage, error) {
	if !slices.Equal(p.Columns, runEventColumns) {
		return nil, windsock.Errorf(windsock.EINVALID, "export dagrun_dataset_event: columns %v, want %v", p.Columns, runEventColumns)
	}
	query := `SELECT r.dag_id, r.run_id, d.uri, e.timestamp, t.dag_run_id, t.event_id FROM dagrun_dataset_event t
		JOIN dag_run r ON r.id = t.dag_run_id JOIN dataset_event e ON e.id = t.event_id JOIN dataset d ON d.id = e.dataset_id`
	var args []any
	if p.After != nil {
		if len(p.After) != 2 {
			return nil, windsock.Errorf(windsock.EINVALID, "export dagrun_dataset_event: a key of %d values, want 2", len(p.After))
		}
		query += ` WHERE (t.dag_run_id, t.event_id) > (?, ?)`
		args = p.After
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 1000
	}
	query += fmt.Sprintf(` ORDER BY t.dag_run_id, t.event_id LIMIT %d`, limit)
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("export dagrun_dataset_event: %w", err)
	}
	defer rows.Close()
	page := &store.ExportPage{}
	for rows.Next() {
		var dagID, runID, uri string
		var at time.Time
		var runKey, eventKey int64
		if err := rows.Scan(&dagID, &runID, &uri, &at, &runKey, &eventKey); err != nil {
			return nil, fmt.Errorf("export dagrun_dataset_event: %w", err)
		}
		page.Rows = append(page.Rows, []any{dagID, runID, uri, at})
		page.Last = []any{runKey, eventKey}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("export dagrun_dataset_event: %w", err)
	}
	return page, nil
}
