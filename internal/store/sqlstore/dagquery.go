package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// DAGQuery returns one page of matching dag rows with their tags and the
// number of matching rows: two queries, a count and the page joined to its
// tags, both on the same WHERE clause.
func (q *queries) DAGQuery(ctx context.Context, params *store.DAGQueryParams) ([]*windsock.DAGModel, int, error) {
	if params == nil {
		params = &store.DAGQueryParams{}
	}
	dir := "ASC"
	switch params.OrderBy {
	case "", "dag_id":
	case "-dag_id":
		dir = "DESC"
	default:
		return nil, 0, windsock.Errorf(windsock.EINVALID, "cannot order dags by %q", params.OrderBy)
	}
	where, args := dagQueryWhere(params)
	var total int
	cond := ""
	if where != "" {
		cond = " WHERE " + where
	}
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM dag`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count dags: %w", err)
	}
	if total == 0 || params.Offset >= total {
		return nil, total, nil
	}
	clause, pageArgs := limitOffset(params.Limit, params.Offset)
	dags, err := q.dagSelectOrdered(ctx, where, append(args, pageArgs...), dir, clause)
	if err != nil {
		return nil, 0, fmt.Errorf("query dags: %w", err)
	}
	return dags, total, nil
}

// dagQueryWhere builds the filter of DAGQuery. Every value, the dag_id
// pattern included, is a parameter; only fixed column names reach the SQL.
func dagQueryWhere(p *store.DAGQueryParams) (string, []any) {
	var where []string
	var args []any
	if p.RestrictDAGs {
		if len(p.DagIDs) == 0 {
			where = append(where, "1 = 0")
		} else {
			where, args = inList(where, args, "dag_id", p.DagIDs)
		}
	}
	if p.OnlyActive {
		where = append(where, "is_active = ?")
		args = append(args, true)
	}
	if p.Paused != nil {
		// Rows imported from Airflow may hold NULL, which Airflow reads
		// as "not paused".
		where = append(where, "COALESCE(is_paused, FALSE) = ?")
		args = append(args, *p.Paused)
	}
	if len(p.Tags) > 0 {
		where = append(where, "dag_id IN (SELECT dag_id FROM dag_tag WHERE name IN ("+placeholders(len(p.Tags))+"))")
		for _, t := range p.Tags {
			args = append(args, t)
		}
	}
	if p.DagIDPattern != "" {
		// LOWER on both sides: LIKE ignores case in SQLite but not in
		// PostgreSQL. The escape character is spelled out because SQLite
		// has none by default and PostgreSQL's is the backslash.
		where = append(where, `LOWER(dag_id) LIKE LOWER(?) ESCAPE '\'`)
		args = append(args, "%"+p.DagIDPattern+"%")
	}
	return strings.Join(where, " AND "), args
}

// DAGSetPausedMany sets is_paused on the given DAGs in one statement per
// chunk of ids, atomically.
func (q *queries) DAGSetPausedMany(ctx context.Context, dagIDs []string, paused bool) error {
	if err := q.execIn(ctx, `UPDATE dag SET is_paused = ? WHERE dag_id IN (%s)`, dagIDs, paused); err != nil {
		return fmt.Errorf("set dags paused: %w", err)
	}
	return nil
}

// dagOwnedTables are the tables whose rows belong to one DAG through a
// dag_id column, children before parents so that deleting in this order
// never trips a foreign key, whatever the cascades.
func dagOwnedTables() []string {
	return []string{
		"task_map", "task_instance_history", "task_instance_note", "task_fail", "task_reschedule", "xcom",
		"rendered_task_instance_fields", "task_instance", "dag_run", "sla_miss", "job", "dag_tag",
		"serialized_dag", "dag",
	}
}

// DAGDelete removes a DAG's metadata in one transaction.
func (q *queries) DAGDelete(ctx context.Context, dagID string) error {
	err := q.inTx(ctx, func(q *queries) error {
		var running int
		if err := q.queryRow(ctx, `SELECT COUNT(*) FROM task_instance WHERE dag_id = ? AND state = ?`,
			dagID, string(windsock.TaskStateRunning)).Scan(&running); err != nil {
			return err
		}
		if running > 0 {
			return windsock.Errorf(windsock.ECONFLICT, "Task instances of dag with id: '%s' are still running", dagID)
		}
		var fileloc string
		err := q.queryRow(ctx, `SELECT fileloc FROM dag WHERE dag_id = ?`, dagID).Scan(nullString{&fileloc})
		switch {
		case isNoRows(err):
			return windsock.Errorf(windsock.ENOTFOUND, "Dag with id: '%s' not found", dagID)
		case err != nil:
			return err
		}
		// Notes hang off dag_run.id, not dag_id.
		if _, err := q.exec(ctx, `DELETE FROM dag_run_note
			WHERE dag_run_id IN (SELECT id FROM dag_run WHERE dag_id = ?)`, dagID); err != nil {
			return err
		}
		for _, table := range dagOwnedTables() {
			if _, err := q.exec(ctx, `DELETE FROM `+table+` WHERE dag_id = ?`, dagID); err != nil {
				return fmt.Errorf("delete from %s: %w", table, err)
			}
		}
		if fileloc != "" {
			if _, err := q.exec(ctx, `DELETE FROM import_error WHERE filename = ?`, fileloc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete dag %q: %w", dagID, err)
	}
	return nil
}
