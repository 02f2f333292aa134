package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// dagColumns are the dag columns DAGModel holds, in scanDAG's order.
const dagColumns = `d.dag_id, d.is_paused, d.is_active, d.last_parsed_time, d.fileloc,
	d.processor_subdir, d.owners, d.description, d.default_view, d.schedule_interval,
	d.timetable_description, d.max_active_tasks, d.max_active_runs,
	d.has_task_concurrency_limits, d.has_import_errors, d.next_dagrun,
	d.next_dagrun_data_interval_start, d.next_dagrun_data_interval_end,
	d.next_dagrun_create_after`

// DAGGet returns the dag row with its tags.
func (q *queries) DAGGet(ctx context.Context, dagID string) (*windsock.DAGModel, error) {
	dags, err := q.dagSelect(ctx, "dag_id = ?", []any{dagID}, "")
	if err != nil {
		return nil, fmt.Errorf("get dag: %w", err)
	}
	if len(dags) == 0 {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "dag %q not found", dagID)
	}
	return dags[0], nil
}

// DAGList returns dag rows with their tags, ordered by dag_id.
func (q *queries) DAGList(ctx context.Context, params *store.DAGListParams) ([]*windsock.DAGModel, error) {
	if params == nil {
		params = &store.DAGListParams{}
	}
	var where []string
	var args []any
	if len(params.DagIDs) > 0 {
		where = append(where, "dag_id IN ("+placeholders(len(params.DagIDs))+")")
		for _, id := range params.DagIDs {
			args = append(args, id)
		}
	}
	if params.OnlyActive {
		where = append(where, "is_active = ?")
		args = append(args, true)
	}
	if params.Paused != nil {
		// Rows imported from Airflow may hold NULL, which Airflow reads
		// as "not paused".
		where = append(where, "COALESCE(is_paused, FALSE) = ?")
		args = append(args, *params.Paused)
	}
	if params.Fileloc != "" {
		where = append(where, "fileloc = ?")
		args = append(args, params.Fileloc)
	}
	clause, pageArgs := limitOffset(params.Limit, params.Offset)
	dags, err := q.dagSelect(ctx, strings.Join(where, " AND "), append(args, pageArgs...), clause)
	if err != nil {
		return nil, fmt.Errorf("list dags: %w", err)
	}
	return dags, nil
}

// dagSelect reads the dags matching where (all when empty), ordered by
// dag_id and paged by page, with their tags, in one query: the page of dags
// is joined to its tags so that paging counts dags, not tags.
func (q *queries) dagSelect(ctx context.Context, where string, args []any, page string) ([]*windsock.DAGModel, error) {
	return q.dagSelectOrdered(ctx, where, args, "ASC", page)
}

// dagSelectOrdered is dagSelect with the direction of the dag_id order
// ("ASC" or "DESC").
func (q *queries) dagSelectOrdered(ctx context.Context, where string, args []any, dir, page string) ([]*windsock.DAGModel, error) {
	if where != "" {
		where = " WHERE " + where
	}
	rows, err := q.query(ctx, `SELECT `+dagColumns+`, t.name
		FROM (SELECT * FROM dag`+where+` ORDER BY dag_id `+dir+page+`) d
		LEFT JOIN dag_tag t ON t.dag_id = d.dag_id
		ORDER BY d.dag_id `+dir+`, t.name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var dags []*windsock.DAGModel
	for rows.Next() {
		var m windsock.DAGModel
		var tag sql.NullString
		if err := rows.Scan(&m.DagID, nullBool{&m.IsPaused}, nullBool{&m.IsActive},
			nullTimePtr{&m.LastParsedTime}, nullString{&m.Fileloc}, nullString{&m.ProcessorSubdir},
			nullString{&m.Owners}, nullString{&m.Description}, nullString{&m.DefaultView},
			nullString{&m.ScheduleInterval}, nullString{&m.TimetableDescription},
			nullInt{&m.MaxActiveTasks}, nullInt{&m.MaxActiveRuns},
			nullBool{&m.HasTaskConcurrencyLimits}, nullBool{&m.HasImportErrors},
			nullTimePtr{&m.NextDagrun}, nullTimePtr{&m.NextDagrunDataIntervalStart},
			nullTimePtr{&m.NextDagrunDataIntervalEnd}, nullTimePtr{&m.NextDagrunCreateAfter},
			&tag); err != nil {
			return nil, err
		}
		if n := len(dags); n > 0 && dags[n-1].DagID == m.DagID {
			dags[n-1].Tags = append(dags[n-1].Tags, tag.String)
			continue
		}
		if tag.Valid {
			m.Tags = []string{tag.String}
		}
		dags = append(dags, &m)
	}
	return dags, rows.Err()
}

// DAGUpsert inserts or updates a dag row from a parsed definition and
// replaces its tags. is_paused is only written on insert. Nil next_dagrun*
// fields leave the stored values alone, because the scheduler, not the
// parser, keeps them current.
func (q *queries) DAGUpsert(ctx context.Context, p *store.DAGUpsertParams) error {
	err := q.inTx(ctx, func(q *queries) error {
		if _, err := q.exec(ctx, `INSERT INTO dag (dag_id, is_paused, is_subdag, is_active,
				last_parsed_time, fileloc, processor_subdir, owners, description, default_view,
				schedule_interval, timetable_description, max_active_tasks, max_active_runs,
				max_consecutive_failed_dag_runs, has_task_concurrency_limits, has_import_errors,
				next_dagrun, next_dagrun_data_interval_start, next_dagrun_data_interval_end,
				next_dagrun_create_after)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (dag_id) DO UPDATE SET
				is_active = excluded.is_active,
				last_parsed_time = excluded.last_parsed_time,
				fileloc = excluded.fileloc,
				processor_subdir = excluded.processor_subdir,
				owners = excluded.owners,
				description = excluded.description,
				schedule_interval = excluded.schedule_interval,
				timetable_description = excluded.timetable_description,
				max_active_tasks = excluded.max_active_tasks,
				max_active_runs = excluded.max_active_runs,
				has_task_concurrency_limits = excluded.has_task_concurrency_limits,
				has_import_errors = excluded.has_import_errors,
				next_dagrun = COALESCE(excluded.next_dagrun, dag.next_dagrun),
				next_dagrun_data_interval_start = COALESCE(excluded.next_dagrun_data_interval_start, dag.next_dagrun_data_interval_start),
				next_dagrun_data_interval_end = COALESCE(excluded.next_dagrun_data_interval_end, dag.next_dagrun_data_interval_end),
				next_dagrun_create_after = COALESCE(excluded.next_dagrun_create_after, dag.next_dagrun_create_after)`,
			p.DagID, p.IsPausedUponCreation, false, true,
			ts(p.LastParsedTime), str(p.Fileloc), str(p.ProcessorSubdir), str(p.Owners), str(p.Description), "grid",
			str(p.ScheduleInterval), str(p.TimetableDescription), p.MaxActiveTasks, p.MaxActiveRuns,
			0, p.HasTaskConcurrencyLimits, p.HasImportErrors,
			tsPtr(p.NextDagrun), tsPtr(p.NextDagrunDataIntervalStart), tsPtr(p.NextDagrunDataIntervalEnd),
			tsPtr(p.NextDagrunCreateAfter)); err != nil {
			return err
		}
		return q.dagTagsReplace(ctx, p.DagID, p.Tags)
	})
	if err != nil {
		return fmt.Errorf("upsert dag %q: %w", p.DagID, err)
	}
	return nil
}

// dagTagsReplace makes tags the tags of dagID: one delete and one
// multi-row insert.
func (q *queries) dagTagsReplace(ctx context.Context, dagID string, tags []string) error {
	if _, err := q.exec(ctx, `DELETE FROM dag_tag WHERE dag_id = ?`, dagID); err != nil {
		return err
	}
	tags = uniqueNonEmpty(tags)
	if len(tags) == 0 {
		return nil
	}
	var sb strings.Builder
	sb.WriteString(`INSERT INTO dag_tag (name, dag_id) VALUES `)
	args := make([]any, 0, 2*len(tags))
	for i, tag := range tags {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(?, ?)")
		args = append(args, tag, dagID)
	}
	_, err := q.exec(ctx, sb.String(), args...)
	return err
}

// uniqueNonEmpty returns the distinct non-empty strings of s, sorted; the
// tag table's key would reject duplicates.
func uniqueNonEmpty(s []string) []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// DAGSetPaused sets is_paused.
func (q *queries) DAGSetPaused(ctx context.Context, dagID string, paused bool) error {
	if err := q.execOne(ctx, windsock.Errorf(windsock.ENOTFOUND, "dag %q not found", dagID),
		`UPDATE dag SET is_paused = ? WHERE dag_id = ?`, paused, dagID); err != nil {
		return fmt.Errorf("set dag paused: %w", err)
	}
	return nil
}

// DAGSetImportErrors sets has_import_errors on the given DAGs; unknown ids
// are ignored.
func (q *queries) DAGSetImportErrors(ctx context.Context, dagIDs []string, has bool) error {
	err := q.execIn(ctx, `UPDATE dag SET has_import_errors = ? WHERE dag_id IN (%s)`, dagIDs, has)
	if err != nil {
		return fmt.Errorf("set dag import errors: %w", err)
	}
	return nil
}

// DAGDeactivate marks the given DAGs inactive; unknown ids are ignored.
func (q *queries) DAGDeactivate(ctx context.Context, dagIDs []string) error {
	err := q.execIn(ctx, `UPDATE dag SET is_active = ? WHERE dag_id IN (%s)`, dagIDs, false)
	if err != nil {
		return fmt.Errorf("deactivate dags: %w", err)
	}
	return nil
}

// SerializedDAGUpsert stores a definition unless the stored dag_hash is the
// same; one statement decides and writes.
func (q *queries) SerializedDAGUpsert(ctx context.Context, sd *windsock.SerializedDAG) (bool, error) {
	var id string
	err := q.queryRow(ctx, `INSERT INTO serialized_dag (dag_id, fileloc, fileloc_hash, data,
			last_updated, dag_hash, processor_subdir)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dag_id) DO UPDATE SET
			fileloc = excluded.fileloc,
			fileloc_hash = excluded.fileloc_hash,
			data = excluded.data,
			data_compressed = NULL,
			last_updated = excluded.last_updated,
			dag_hash = excluded.dag_hash,
			processor_subdir = excluded.processor_subdir
		WHERE serialized_dag.dag_hash <> excluded.dag_hash
		RETURNING dag_id`,
		sd.DagID, sd.Fileloc, sd.FilelocHash, string(sd.Data),
		utc(sd.LastUpdated), sd.DagHash, str(sd.ProcessorSubdir)).Scan(&id)
	switch {
	case isNoRows(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("upsert serialized dag %q: %w", sd.DagID, err)
	}
	return true, nil
}

// SerializedDAGGet returns the stored definition of a DAG.
func (q *queries) SerializedDAGGet(ctx context.Context, dagID string) (*windsock.SerializedDAG, error) {
	var sd windsock.SerializedDAG
	var text []byte
	err := q.queryRow(ctx, `SELECT dag_id, fileloc, fileloc_hash, data, last_updated, dag_hash,
			processor_subdir
		FROM serialized_dag WHERE dag_id = ?`, dagID).Scan(&sd.DagID, &sd.Fileloc,
		&sd.FilelocHash, &text, nullTime{&sd.LastUpdated}, &sd.DagHash, nullString{&sd.ProcessorSubdir})
	switch {
	case isNoRows(err):
		return nil, windsock.Errorf(windsock.ENOTFOUND, "serialized dag %q not found", dagID)
	case err != nil:
		return nil, fmt.Errorf("get serialized dag: %w", err)
	}
	sd.Data = text
	return &sd, nil
}

// SerializedDAGHashes returns dag_id -> dag_hash for every stored DAG.
func (q *queries) SerializedDAGHashes(ctx context.Context) (map[string]string, error) {
	rows, err := q.query(ctx, `SELECT dag_id, dag_hash FROM serialized_dag`)
	if err != nil {
		return nil, fmt.Errorf("list serialized dag hashes: %w", err)
	}
	defer rows.Close()
	hashes := make(map[string]string)
	for rows.Next() {
		var id, hash string
		if err := rows.Scan(&id, &hash); err != nil {
			return nil, fmt.Errorf("list serialized dag hashes: %w", err)
		}
		hashes[id] = hash
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list serialized dag hashes: %w", err)
	}
	return hashes, nil
}

// DAGCodeUpsert stores a DAG file's source. An unchanged source is not
// rewritten, so last_updated keeps saying when the code last changed.
func (q *queries) DAGCodeUpsert(ctx context.Context, c *windsock.DAGCode) error {
	if _, err := q.exec(ctx, `INSERT INTO dag_code (fileloc_hash, fileloc, last_updated, source_code)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (fileloc_hash) DO UPDATE SET
			fileloc = excluded.fileloc,
			last_updated = excluded.last_updated,
			source_code = excluded.source_code
		WHERE dag_code.source_code <> excluded.source_code OR dag_code.fileloc <> excluded.fileloc`,
		c.FilelocHash, c.Fileloc, utc(c.LastUpdated), c.SourceCode); err != nil {
		return fmt.Errorf("upsert dag code %q: %w", c.Fileloc, err)
	}
	return nil
}

// DAGCodeGet returns the source stored for a fileloc hash.
func (q *queries) DAGCodeGet(ctx context.Context, filelocHash int64) (*windsock.DAGCode, error) {
	var c windsock.DAGCode
	err := q.queryRow(ctx, `SELECT fileloc_hash, fileloc, last_updated, source_code
		FROM dag_code WHERE fileloc_hash = ?`, filelocHash).Scan(&c.FilelocHash, &c.Fileloc,
		nullTime{&c.LastUpdated}, &c.SourceCode)
	switch {
	case isNoRows(err):
		return nil, windsock.Errorf(windsock.ENOTFOUND, "dag code for fileloc hash %d not found", filelocHash)
	case err != nil:
		return nil, fmt.Errorf("get dag code: %w", err)
	}
	return &c, nil
}

// ImportErrorSet replaces the import error of ie.Filename and sets ie.ID.
func (q *queries) ImportErrorSet(ctx context.Context, ie *windsock.ImportError) error {
	err := q.inTx(ctx, func(q *queries) error {
		if _, err := q.exec(ctx, `DELETE FROM import_error WHERE filename = ?`, ie.Filename); err != nil {
			return err
		}
		return q.queryRow(ctx, `INSERT INTO import_error (timestamp, filename, stacktrace, processor_subdir)
			VALUES (?, ?, ?, ?) RETURNING id`,
			ts(ie.Timestamp), ie.Filename, ie.Stacktrace, str(ie.ProcessorSubdir)).Scan(&ie.ID)
	})
	if err != nil {
		return fmt.Errorf("set import error of %q: %w", ie.Filename, err)
	}
	return nil
}

// ImportErrorDelete removes the import errors of the given files.
func (q *queries) ImportErrorDelete(ctx context.Context, filenames []string) error {
	err := q.execIn(ctx, `DELETE FROM import_error WHERE filename IN (%s)`, filenames)
	if err != nil {
		return fmt.Errorf("delete import errors: %w", err)
	}
	return nil
}

// ImportErrorList returns every import error, ordered by filename.
func (q *queries) ImportErrorList(ctx context.Context) ([]*windsock.ImportError, error) {
	rows, err := q.query(ctx, `SELECT id, timestamp, filename, stacktrace, processor_subdir
		FROM import_error ORDER BY filename, id`)
	if err != nil {
		return nil, fmt.Errorf("list import errors: %w", err)
	}
	defer rows.Close()
	var out []*windsock.ImportError
	for rows.Next() {
		var ie windsock.ImportError
		if err := rows.Scan(&ie.ID, nullTime{&ie.Timestamp}, nullString{&ie.Filename},
			nullString{&ie.Stacktrace}, nullString{&ie.ProcessorSubdir}); err != nil {
			return nil, fmt.Errorf("list import errors: %w", err)
		}
		out = append(out, &ie)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list import errors: %w", err)
	}
	return out, nil
}

// SerializedDAGClear deletes every stored definition.
func (q *queries) SerializedDAGClear(ctx context.Context) (int, error) {
	res, err := q.exec(ctx, `DELETE FROM serialized_dag`)
	if err != nil {
		return 0, fmt.Errorf("clear serialized dags: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("clear serialized dags: %w", err)
	}
	return int(n), nil
}
