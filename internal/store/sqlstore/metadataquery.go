package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

const eventLogColumns = `id, dttm, dag_id, task_id, map_index, event, execution_date, run_id, owner,
	extra, try_number`

// eventLogSort maps the REST API's EventLog fields to log columns.
var eventLogSort = map[string]sortColumn{
	"event_log_id":   {expr: "id"},
	"when":           {expr: "dttm", nullable: true},
	"dag_id":         {expr: "dag_id", nullable: true},
	"task_id":        {expr: "task_id", nullable: true},
	"run_id":         {expr: "run_id", nullable: true},
	"map_index":      {expr: "map_index", nullable: true},
	"try_number":     {expr: "try_number", nullable: true},
	"event":          {expr: "event", nullable: true},
	"execution_date": {expr: "execution_date", nullable: true},
	"owner":          {expr: "owner", nullable: true},
	"extra":          {expr: "extra", nullable: true},
}

// EventLogQuery returns one page of matching event log rows and the number
// of matching rows, counted with the same WHERE clause before paging.
func (q *queries) EventLogQuery(ctx context.Context, params *store.EventLogQueryParams) ([]*windsock.EventLog, int, error) {
	if params == nil {
		params = &store.EventLogQueryParams{}
	}
	order, err := orderBy(params.OrderBy, eventLogSort, "id", "id")
	if err != nil {
		return nil, 0, err
	}
	where, args := eventLogWhere(params)
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM log`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count event log: %w", err)
	}
	clause, pageArgs := limitOffset(params.Limit, params.Offset)
	rows, err := q.query(ctx, `SELECT `+eventLogColumns+` FROM log`+cond+order+clause, append(args, pageArgs...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("query event log: %w", err)
	}
	defer rows.Close()
	var out []*windsock.EventLog
	for rows.Next() {
		e, err := scanEventLog(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("query event log: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("query event log: %w", err)
	}
	return out, total, nil
}

// eventLogWhere builds the filter of EventLogQuery. Every value is a
// parameter; only fixed column names reach the SQL.
func eventLogWhere(p *store.EventLogQueryParams) ([]string, []any) {
	var where []string
	var args []any
	eq := func(col string, v any) {
		where = append(where, col+" = ?")
		args = append(args, v)
	}
	for _, f := range []struct{ col, v string }{
		{"dag_id", p.DagID}, {"task_id", p.TaskID}, {"run_id", p.RunID}, {"event", p.Event}, {"owner", p.Owner},
	} {
		if f.v != "" {
			eq(f.col, f.v)
		}
	}
	if p.MapIndex != nil {
		eq("map_index", *p.MapIndex)
	}
	if p.TryNumber != nil {
		eq("try_number", *p.TryNumber)
	}
	if p.Before != nil {
		where = append(where, "dttm <= ?")
		args = append(args, ts(*p.Before))
	}
	if p.After != nil {
		where = append(where, "dttm >= ?")
		args = append(args, ts(*p.After))
	}
	where, args = inList(where, args, "event", p.IncludedEvents)
	if len(p.ExcludedEvents) > 0 {
		// A row without an event is not one of the excluded events.
		where = append(where, "(event IS NULL OR event NOT IN ("+placeholders(len(p.ExcludedEvents))+"))")
		for _, e := range p.ExcludedEvents {
			args = append(args, e)
		}
	}
	if p.RestrictDAGs {
		if len(p.DagIDs) == 0 {
			where = append(where, "dag_id IS NULL")
		} else {
			where = append(where, "(dag_id IS NULL OR dag_id IN ("+placeholders(len(p.DagIDs))+"))")
			for _, id := range p.DagIDs {
				args = append(args, id)
			}
		}
	}
	return where, args
}

// EventLogGet returns the event log row with id.
func (q *queries) EventLogGet(ctx context.Context, id int64) (*windsock.EventLog, error) {
	e, err := scanEventLog(q.queryRow(ctx, `SELECT `+eventLogColumns+` FROM log WHERE id = ?`, id))
	switch {
	case isNoRows(err):
		return nil, windsock.Errorf(windsock.ENOTFOUND, "event log %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("get event log %d: %w", id, err)
	}
	return e, nil
}

func scanEventLog(row rowScanner) (*windsock.EventLog, error) {
	var e windsock.EventLog
	if err := row.Scan(&e.ID, nullTime{&e.Dttm}, nullString{&e.DagID}, nullString{&e.TaskID},
		nullIntPtr{&e.MapIndex}, nullString{&e.Event}, nullTimePtr{&e.ExecutionDate},
		nullString{&e.RunID}, nullString{&e.Owner}, nullString{&e.Extra},
		nullIntPtr{&e.TryNumber}); err != nil {
		return nil, err
	}
	return &e, nil
}

// PoolSlotsByState sums pool_slots per pool and state, from PoolUsage.
func (q *queries) PoolSlotsByState(ctx context.Context) (map[string]map[windsock.TaskInstanceState]int, error) {
	usage, err := q.PoolUsage(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[windsock.TaskInstanceState]int, len(usage))
	for pool, states := range usage {
		out[pool] = make(map[windsock.TaskInstanceState]int, len(states))
		for state, u := range states {
			out[pool][state] = u.Slots
		}
	}
	return out, nil
}

// PoolUsage counts task instances and sums their pool_slots per pool and
// state in one GROUP BY.
func (q *queries) PoolUsage(ctx context.Context) (map[string]map[windsock.TaskInstanceState]store.PoolUse, error) {
	rows, err := q.query(ctx, `SELECT pool, state, COUNT(*), SUM(pool_slots) FROM task_instance
		WHERE state IN (?, ?, ?, ?) GROUP BY pool, state`,
		string(windsock.TaskStateRunning), string(windsock.TaskStateQueued),
		string(windsock.TaskStateScheduled), string(windsock.TaskStateDeferred))
	if err != nil {
		return nil, fmt.Errorf("read pool usage: %w", err)
	}
	defer rows.Close()
	out := map[string]map[windsock.TaskInstanceState]store.PoolUse{}
	for rows.Next() {
		var pool, state string
		var u store.PoolUse
		if err := rows.Scan(&pool, &state, &u.Tasks, &u.Slots); err != nil {
			return nil, fmt.Errorf("read pool usage: %w", err)
		}
		if out[pool] == nil {
			out[pool] = map[windsock.TaskInstanceState]store.PoolUse{}
		}
		out[pool][windsock.TaskInstanceState(state)] = u
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pool usage: %w", err)
	}
	return out, nil
}
