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

// DAGListDue returns the DAGs due for a new run.
func (q *queries) DAGListDue(ctx context.Context, now time.Time, limit int) ([]*windsock.DAGModel, error) {
	page := ""
	args := []any{utc(now), true}
	if limit > 0 {
		page = " LIMIT ?"
		args = append(args, limit)
	}
	// dagSelect orders by dag_id; the inner filter uses the
	// next_dagrun_create_after index.
	dags, err := q.dagSelect(ctx, `next_dagrun_create_after <= ? AND is_active = ? AND COALESCE(is_paused, FALSE) = FALSE`, args, page)
	if err != nil {
		return nil, fmt.Errorf("list due dags: %w", err)
	}
	return dags, nil
}
