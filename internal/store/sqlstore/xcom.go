package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

const xcomColumns = `dag_run_id, task_id, map_index, "key", dag_id, run_id, value, timestamp`

// XComSet inserts or replaces a value. x.DagRunID may be left 0: it is
// then looked up from x.DagID and x.RunID (one more query; the engine has
// the id at hand) and set. x.Timestamp defaults to now. ENOTFOUND when the
// run or task instance does not exist.
func (q *queries) XComSet(ctx context.Context, x *windsock.XCom) error {
	if x.Timestamp.IsZero() {
		x.Timestamp = time.Now()
	}
	notFound := windsock.Errorf(windsock.ENOTFOUND, "task instance %s not found", keyString(xcomKey(x)))
	if x.DagRunID == 0 {
		err := q.queryRow(ctx, `SELECT id FROM dag_run WHERE dag_id = ? AND run_id = ?`, x.DagID, x.RunID).Scan(&x.DagRunID)
		switch {
		case isNoRows(err):
			return notFound
		case err != nil:
			return fmt.Errorf("set xcom %q of %s: %w", x.Key, keyString(xcomKey(x)), err)
		}
	}
	_, err := q.exec(ctx, `INSERT INTO xcom (`+xcomColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dag_run_id, task_id, map_index, "key")
		DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp`,
		x.DagRunID, x.TaskID, x.MapIndex, x.Key, x.DagID, x.RunID, x.Value, utc(x.Timestamp))
	switch {
	case err != nil && q.d.IsForeignKeyViolation(err):
		return notFound
	case err != nil:
		return fmt.Errorf("set xcom %q of %s: %w", x.Key, keyString(xcomKey(x)), err)
	}
	return nil
}

func xcomKey(x *windsock.XCom) windsock.TaskInstanceKey {
	return windsock.TaskInstanceKey{DagID: x.DagID, TaskID: x.TaskID, RunID: x.RunID, MapIndex: x.MapIndex}
}

// XComGet returns one value; ENOTFOUND when absent.
func (q *queries) XComGet(ctx context.Context, params *store.XComGetParams) (*windsock.XCom, error) {
	xs, err := q.xcomSelect(ctx, `SELECT `+xcomColumns+` FROM xcom
		WHERE dag_id = ? AND task_id = ? AND run_id = ? AND map_index = ? AND "key" = ?`,
		params.DagID, params.TaskID, params.RunID, params.MapIndex, params.Key)
	if err != nil {
		return nil, fmt.Errorf("get xcom: %w", err)
	}
	if len(xs) == 0 {
		key := windsock.TaskInstanceKey{DagID: params.DagID, TaskID: params.TaskID, RunID: params.RunID, MapIndex: params.MapIndex}
		return nil, windsock.Errorf(windsock.ENOTFOUND, "xcom %q of %s not found", params.Key, keyString(key))
	}
	return xs[0], nil
}

// XComList returns the values of a run (of one task when taskID is set),
// ordered by task_id, map_index, key: the primary key's order, reached
// through the run's id.
func (q *queries) XComList(ctx context.Context, dagID, runID, taskID string) ([]*windsock.XCom, error) {
	query := `SELECT ` + xcomColumns + ` FROM xcom
		WHERE dag_run_id = (SELECT id FROM dag_run WHERE dag_id = ? AND run_id = ?)`
	args := []any{dagID, runID}
	if taskID != "" {
		query += " AND task_id = ?"
		args = append(args, taskID)
	}
	xs, err := q.xcomSelect(ctx, query+` ORDER BY task_id, map_index, "key"`, args...)
	if err != nil {
		return nil, fmt.Errorf("list xcoms: %w", err)
	}
	return xs, nil
}

// XComClear removes every value a task instance pushed.
func (q *queries) XComClear(ctx context.Context, key windsock.TaskInstanceKey) error {
	if _, err := q.exec(ctx, `DELETE FROM xcom WHERE dag_id = ? AND task_id = ? AND run_id = ? AND map_index = ?`,
		key.DagID, key.TaskID, key.RunID, key.MapIndex); err != nil {
		return fmt.Errorf("clear xcoms of %s: %w", keyString(key), err)
	}
	return nil
}

func (q *queries) xcomSelect(ctx context.Context, query string, args ...any) ([]*windsock.XCom, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*windsock.XCom
	for rows.Next() {
		var x windsock.XCom
		if err := rows.Scan(&x.DagRunID, &x.TaskID, &x.MapIndex, &x.Key, &x.DagID, &x.RunID, &x.Value,
			nullTime{&x.Timestamp}); err != nil {
			return nil, err
		}
		out = append(out, &x)
	}
	return out, rows.Err()
}
