package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// EventLogInsert appends to the event log and sets e.ID.
func (q *queries) EventLogInsert(ctx context.Context, e *windsock.EventLog) error {
	if err := q.queryRow(ctx, `INSERT INTO log (dttm, dag_id, task_id, map_index, event,
			execution_date, run_id, owner, extra, try_number)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		ts(e.Dttm), str(e.DagID), str(e.TaskID), intPtr(e.MapIndex), e.Event, tsPtr(e.ExecutionDate),
		str(e.RunID), str(e.Owner), str(e.Extra), intPtr(e.TryNumber)).Scan(&e.ID); err != nil {
		return fmt.Errorf("insert event log %q: %w", e.Event, err)
	}
	return nil
}

// EventLogList returns event log rows, newest first.
func (q *queries) EventLogList(ctx context.Context, params *store.EventLogListParams) ([]*windsock.EventLog, error) {
	if params == nil {
		params = &store.EventLogListParams{}
	}
	var where []string
	var args []any
	if params.DagID != "" {
		where = append(where, "dag_id = ?")
		args = append(args, params.DagID)
	}
	if params.Event != "" {
		where = append(where, "event = ?")
		args = append(args, params.Event)
	}
	query := `SELECT id, dttm, dag_id, task_id, map_index, event, execution_date, run_id, owner,
		extra, try_number FROM log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY dttm DESC, id DESC"
	clause, pageArgs := limitOffset(params.Limit, 0)
	rows, err := q.query(ctx, query+clause, append(args, pageArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("list event log: %w", err)
	}
	defer rows.Close()
	var out []*windsock.EventLog
	for rows.Next() {
		var e windsock.EventLog
		if err := rows.Scan(&e.ID, nullTime{&e.Dttm}, nullString{&e.DagID}, nullString{&e.TaskID},
			nullIntPtr{&e.MapIndex}, nullString{&e.Event}, nullTimePtr{&e.ExecutionDate},
			nullString{&e.RunID}, nullString{&e.Owner}, nullString{&e.Extra},
			nullIntPtr{&e.TryNumber}); err != nil {
			return nil, fmt.Errorf("list event log: %w", err)
		}
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list event log: %w", err)
	}
	return out, nil
}
