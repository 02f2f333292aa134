package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// keyArgs returns a task instance key as the arguments of
// "dag_id = ? AND task_id = ? AND run_id = ? AND map_index = ?".
func keyArgs(k windsock.TaskInstanceKey) []any {
	return []any{k.DagID, k.TaskID, k.RunID, k.MapIndex}
}

const keyWhere = `dag_id = ? AND task_id = ? AND run_id = ? AND map_index = ?`

// TaskFailInsert records a failed try and sets f.ID; ENOTFOUND when the
// task instance does not exist.
func (q *queries) TaskFailInsert(ctx context.Context, f *windsock.TaskFail) error {
	key := windsock.TaskInstanceKey{DagID: f.DagID, TaskID: f.TaskID, RunID: f.RunID, MapIndex: f.MapIndex}
	err := q.queryRow(ctx, `INSERT INTO task_fail (task_id, dag_id, run_id, map_index, start_date,
			end_date, duration)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		f.TaskID, f.DagID, f.RunID, f.MapIndex, tsPtr(f.StartDate), tsPtr(f.EndDate), intPtr(f.Duration)).Scan(&f.ID)
	switch {
	case err != nil && q.d.IsForeignKeyViolation(err):
		return windsock.Errorf(windsock.ENOTFOUND, "task instance %s not found", keyString(key))
	case err != nil:
		return fmt.Errorf("insert task fail of %s: %w", keyString(key), err)
	}
	return nil
}

// TaskFailList returns a task instance's failed tries, oldest first.
func (q *queries) TaskFailList(ctx context.Context, key windsock.TaskInstanceKey) ([]*windsock.TaskFail, error) {
	return q.taskFails(ctx, keyWhere+` ORDER BY id`, keyArgs(key)...)
}

// measureColumns are the column of each measure and the condition that
// an instance has it: duration is written when a try ends, a try number
// of 0 was never tried.
var measureColumns = map[store.Measure][2]string{
	store.MeasureDuration: {"duration", "duration IS NOT NULL"},
	store.MeasureTries:    {"try_number", "try_number > 0"},
	store.MeasureEndDate:  {"end_date", "end_date IS NOT NULL"},
}

// TaskInstanceMeasures reads one column of the runs' task instances, so
// that only the end date is a time to parse (one per row, where a timings
// row has three). An instance that ended without a recorded duration
// (written by an older version, or imported) gets its end minus its
// start, read by a second query that only such rows match.
func (q *queries) TaskInstanceMeasures(ctx context.Context, params *store.TaskInstanceMeasureParams) ([]store.TaskInstanceMeasure, error) {
	col, ok := measureColumns[params.Measure]
	if !ok {
		return nil, windsock.Errorf(windsock.EINVALID, "read task instance measures: unknown measure %d", params.Measure)
	}
	if len(params.RunIDs) == 0 {
		return nil, nil
	}
	var out []store.TaskInstanceMeasure
	err := q.measureRows(ctx, params, col[0], col[1], func(row rowScanner, m *store.TaskInstanceMeasure) error {
		if params.Measure != store.MeasureEndDate {
			return row.Scan(&m.TaskID, &m.RunID, &m.MapIndex, &m.Value)
		}
		var at *time.Time
		if err := row.Scan(&m.TaskID, &m.RunID, &m.MapIndex, nullTimePtr{&at}); err != nil {
			return err
		}
		m.Value = unixSeconds(*at)
		return nil
	}, &out)
	if err == nil && params.Measure == store.MeasureDuration {
		err = q.measureRows(ctx, params, "start_date, end_date", "duration IS NULL AND start_date IS NOT NULL AND end_date IS NOT NULL",
			func(row rowScanner, m *store.TaskInstanceMeasure) error {
				var start, end *time.Time
				if err := row.Scan(&m.TaskID, &m.RunID, &m.MapIndex, nullTimePtr{&start}, nullTimePtr{&end}); err != nil {
					return err
				}
				m.Value = end.Sub(*start).Seconds()
				return nil
			}, &out)
	}
	if err != nil {
		return nil, fmt.Errorf("read task instance measures: %w", err)
	}
	return out, nil
}

// measureRows appends to out the runs' instances matching cond, each
// read by scan from task_id, run_id, map_index and columns.
func (q *queries) measureRows(ctx context.Context, params *store.TaskInstanceMeasureParams, columns, cond string,
	scan func(rowScanner, *store.TaskInstanceMeasure) error, out *[]store.TaskInstanceMeasure) error {
	where, args := inList([]string{"dag_id = ?", cond}, []any{params.DagID}, "run_id", params.RunIDs)
	rows, err := q.query(ctx, `SELECT task_id, run_id, map_index, `+columns+` FROM task_instance WHERE `+strings.Join(where, " AND "), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var m store.TaskInstanceMeasure
		if err := scan(rows, &m); err != nil {
			return err
		}
		*out = append(*out, m)
	}
	return rows.Err()
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// TaskFailListRun returns the failed tries of a run's task instances.
func (q *queries) TaskFailListRun(ctx context.Context, dagID, runID string) ([]*windsock.TaskFail, error) {
	return q.taskFails(ctx, `dag_id = ? AND run_id = ? ORDER BY task_id, map_index, id`, dagID, runID)
}

// taskFails reads the task_fail rows matching where (with its ORDER BY).
func (q *queries) taskFails(ctx context.Context, where string, args ...any) ([]*windsock.TaskFail, error) {
	rows, err := q.query(ctx, `SELECT id, task_id, dag_id, run_id, map_index, start_date, end_date, duration
		FROM task_fail WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list task fails: %w", err)
	}
	defer rows.Close()
	var out []*windsock.TaskFail
	for rows.Next() {
		var f windsock.TaskFail
		if err := rows.Scan(&f.ID, &f.TaskID, &f.DagID, &f.RunID, &f.MapIndex, nullTimePtr{&f.StartDate},
			nullTimePtr{&f.EndDate}, nullIntPtr{&f.Duration}); err != nil {
			return nil, fmt.Errorf("list task fails: %w", err)
		}
		out = append(out, &f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list task fails: %w", err)
	}
	return out, nil
}

// TaskInstanceHistoryList returns the tries task_instance_history holds
// for a task instance, oldest first, as TaskInstance values (without the
// engine's own columns, which the table does not have).
func (q *queries) TaskInstanceHistoryList(ctx context.Context, key windsock.TaskInstanceKey) ([]*windsock.TaskInstance, error) {
	tis, err := q.tiSelect(ctx, `SELECT dag_id, task_id, run_id, map_index, state, try_number, max_tries,
			start_date, end_date, duration, hostname, unixname, job_id, pool, pool_slots, queue, priority_weight,
			operator, queued_dttm, queued_by_job_id, pid, executor, rendered_map_index, updated_at, NULL, NULL, NULL
		FROM task_instance_history WHERE `+keyWhere+` ORDER BY try_number`, keyArgs(key)...)
	if err != nil {
		return nil, fmt.Errorf("list task instance history: %w", err)
	}
	return tis, nil
}

// TaskRescheduleInsert records a sensor's reschedule and sets r.ID;
// ENOTFOUND when the task instance does not exist.
func (q *queries) TaskRescheduleInsert(ctx context.Context, r *windsock.TaskReschedule) error {
	key := windsock.TaskInstanceKey{DagID: r.DagID, TaskID: r.TaskID, RunID: r.RunID, MapIndex: r.MapIndex}
	err := q.queryRow(ctx, `INSERT INTO task_reschedule (task_id, dag_id, run_id, map_index, try_number,
			start_date, end_date, duration, reschedule_date)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.TaskID, r.DagID, r.RunID, r.MapIndex, r.TryNumber, utc(r.StartDate), utc(r.EndDate), r.Duration,
		utc(r.RescheduleDate)).Scan(&r.ID)
	switch {
	case err != nil && q.d.IsForeignKeyViolation(err):
		return windsock.Errorf(windsock.ENOTFOUND, "task instance %s not found", keyString(key))
	case err != nil:
		return fmt.Errorf("insert task reschedule of %s: %w", keyString(key), err)
	}
	return nil
}

// TaskRescheduleList returns a task instance's reschedules for one try,
// oldest first.
func (q *queries) TaskRescheduleList(ctx context.Context, key windsock.TaskInstanceKey, tryNumber int) ([]*windsock.TaskReschedule, error) {
	rows, err := q.query(ctx, `SELECT id, task_id, dag_id, run_id, map_index, try_number, start_date,
			end_date, duration, reschedule_date
		FROM task_reschedule WHERE `+keyWhere+` AND try_number = ? ORDER BY id`,
		append(keyArgs(key), tryNumber)...)
	if err != nil {
		return nil, fmt.Errorf("list task reschedules: %w", err)
	}
	defer rows.Close()
	var out []*windsock.TaskReschedule
	for rows.Next() {
		var r windsock.TaskReschedule
		if err := rows.Scan(&r.ID, &r.TaskID, &r.DagID, &r.RunID, &r.MapIndex, &r.TryNumber,
			nullTime{&r.StartDate}, nullTime{&r.EndDate}, &r.Duration, nullTime{&r.RescheduleDate}); err != nil {
			return nil, fmt.Errorf("list task reschedules: %w", err)
		}
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list task reschedules: %w", err)
	}
	return out, nil
}

// TaskRescheduleClear removes a task instance's reschedules.
func (q *queries) TaskRescheduleClear(ctx context.Context, key windsock.TaskInstanceKey) error {
	if _, err := q.exec(ctx, `DELETE FROM task_reschedule WHERE `+keyWhere, keyArgs(key)...); err != nil {
		return fmt.Errorf("clear task reschedules of %s: %w", keyString(key), err)
	}
	return nil
}

// RenderedFieldsSet stores the rendered templated fields (JSON) of a task
// instance, replacing the previous try's; ENOTFOUND when the task
// instance does not exist.
func (q *queries) RenderedFieldsSet(ctx context.Context, key windsock.TaskInstanceKey, fields []byte) error {
	// The column is text (JSON on PostgreSQL): bind a string, not bytes.
	_, err := q.exec(ctx, `INSERT INTO rendered_task_instance_fields (dag_id, task_id, run_id, map_index,
			rendered_fields)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (dag_id, task_id, run_id, map_index)
		DO UPDATE SET rendered_fields = excluded.rendered_fields`,
		append(keyArgs(key), string(fields))...)
	switch {
	case err != nil && q.d.IsForeignKeyViolation(err):
		return windsock.Errorf(windsock.ENOTFOUND, "task instance %s not found", keyString(key))
	case err != nil:
		return fmt.Errorf("set rendered fields of %s: %w", keyString(key), err)
	}
	return nil
}

// RenderedFieldsGet returns the rendered fields of a task instance;
// ENOTFOUND when none are stored.
func (q *queries) RenderedFieldsGet(ctx context.Context, key windsock.TaskInstanceKey) ([]byte, error) {
	var fields string
	err := q.queryRow(ctx, `SELECT rendered_fields FROM rendered_task_instance_fields WHERE `+keyWhere,
		keyArgs(key)...).Scan(&fields)
	switch {
	case isNoRows(err):
		return nil, windsock.Errorf(windsock.ENOTFOUND, "no rendered fields stored for %s", keyString(key))
	case err != nil:
		return nil, fmt.Errorf("get rendered fields of %s: %w", keyString(key), err)
	}
	return []byte(fields), nil
}

// SlaMissInsert records a miss; an existing (task_id, dag_id,
// execution_date) row is left as it is.
func (q *queries) SlaMissInsert(ctx context.Context, m *windsock.SlaMiss) error {
	if _, err := q.exec(ctx, `INSERT INTO sla_miss (task_id, dag_id, execution_date, email_sent,
			timestamp, description, notification_sent)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (task_id, dag_id, execution_date) DO NOTHING`,
		m.TaskID, m.DagID, utc(m.ExecutionDate), m.EmailSent, ts(m.Timestamp), str(m.Description),
		m.NotificationSent); err != nil {
		return fmt.Errorf("insert sla miss of %s.%s: %w", m.DagID, m.TaskID, err)
	}
	return nil
}

// SlaMissList returns a DAG's SLA misses ordered by execution_date, then
// task_id.
func (q *queries) SlaMissList(ctx context.Context, dagID string) ([]*windsock.SlaMiss, error) {
	rows, err := q.query(ctx, `SELECT task_id, dag_id, execution_date, email_sent, timestamp, description,
			notification_sent
		FROM sla_miss WHERE dag_id = ? ORDER BY execution_date, task_id`, dagID)
	return scanSlaMisses(rows, err)
}

// SlaMissClaimUnnotified claims the misses not yet notified. One UPDATE
// both marks and returns them, so two schedulers never claim the same row.
func (q *queries) SlaMissClaimUnnotified(ctx context.Context) ([]*windsock.SlaMiss, error) {
	rows, err := q.query(ctx, `UPDATE sla_miss SET notification_sent = ?
		WHERE notification_sent IS NULL OR notification_sent = ?
		RETURNING task_id, dag_id, execution_date, email_sent, timestamp, description, notification_sent`, true, false)
	out, err := scanSlaMisses(rows, err)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *windsock.SlaMiss) int {
		return cmp.Or(strings.Compare(a.DagID, b.DagID), a.ExecutionDate.Compare(b.ExecutionDate), strings.Compare(a.TaskID, b.TaskID))
	})
	return out, nil
}

// SlaMissRecent returns the newest misses across DAGs.
func (q *queries) SlaMissRecent(ctx context.Context, dagIDs []string, limit int) ([]*windsock.SlaMiss, error) {
	if dagIDs != nil && len(dagIDs) == 0 {
		return nil, nil
	}
	query := `SELECT task_id, dag_id, execution_date, email_sent, timestamp, description, notification_sent
		FROM sla_miss`
	var args []any
	if dagIDs != nil {
		query += ` WHERE dag_id IN (` + placeholders(len(dagIDs)) + `)`
		for _, id := range dagIDs {
			args = append(args, id)
		}
	}
	query += ` ORDER BY execution_date DESC, dag_id, task_id LIMIT ?`
	args = append(args, limit)
	rows, err := q.query(ctx, query, args...)
	return scanSlaMisses(rows, err)
}

func scanSlaMisses(rows *sql.Rows, err error) ([]*windsock.SlaMiss, error) {
	if err != nil {
		return nil, fmt.Errorf("list sla misses: %w", err)
	}
	defer rows.Close()
	var out []*windsock.SlaMiss
	for rows.Next() {
		var m windsock.SlaMiss
		if err := rows.Scan(&m.TaskID, &m.DagID, nullTime{&m.ExecutionDate}, nullBool{&m.EmailSent},
			nullTime{&m.Timestamp}, nullString{&m.Description}, nullBool{&m.NotificationSent}); err != nil {
			return nil, fmt.Errorf("list sla misses: %w", err)
		}
		out = append(out, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sla misses: %w", err)
	}
	return out, nil
}
