package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// DAGSetNextDagrun records the next run the scheduler will create.
func (q *queries) DAGSetNextDagrun(ctx context.Context, p *store.DAGSetNextDagrunParams) error {
	res, err := q.exec(ctx, `UPDATE dag SET next_dagrun = ?, next_dagrun_data_interval_start = ?,
		next_dagrun_data_interval_end = ?, next_dagrun_create_after = ? WHERE dag_id = ?`,
		tsPtr(p.NextDagrun), tsPtr(p.NextDagrunDataIntervalStart),
		tsPtr(p.NextDagrunDataIntervalEnd), tsPtr(p.NextDagrunCreateAfter), p.DagID)
	if err != nil {
		return fmt.Errorf("set next dagrun: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return windsock.Errorf(windsock.ENOTFOUND, "dag %q not found", p.DagID)
	}
	return nil
}

// DAGListDue returns the DAGs due for a new run. The due ids come first
// from the next_dagrun_create_after index, so an idle pass reads nothing
// but the index, however many DAGs there are.
func (q *queries) DAGListDue(ctx context.Context, now time.Time, limit int) ([]*windsock.DAGModel, error) {
	query := `SELECT dag_id FROM dag WHERE next_dagrun_create_after <= ? ORDER BY next_dagrun_create_after`
	args := []any{utc(now)}
	if limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list due dags: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list due dags: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list due dags: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	dags, err := q.DAGList(ctx, &store.DAGListParams{DagIDs: ids, OnlyActive: true})
	if err != nil {
		return nil, fmt.Errorf("list due dags: %w", err)
	}
	out := dags[:0]
	for _, d := range dags {
		if !d.IsPaused {
			out = append(out, d)
		}
	}
	return out, nil
}
