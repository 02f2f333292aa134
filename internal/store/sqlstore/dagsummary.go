package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/windsock/windsock/internal/windsock"
)

// summaryChunk bounds the dag_ids of one IN list, well under every
// driver's limit on parameters.
const summaryChunk = 500

// latestRunCond keeps the dag_run row named alias when it has the greatest
// logical date of its DAG; the (dag_id, execution_date) unique index
// answers the MAX.
func latestRunCond(alias string) string {
	return alias + `.execution_date = (SELECT MAX(r2.execution_date) FROM dag_run r2 WHERE r2.dag_id = ` + alias + `.dag_id)`
}

// DagRunStateCounts counts the runs of the given DAGs by state.
func (q *queries) DagRunStateCounts(ctx context.Context, dagIDs []string) (map[string]map[windsock.DagRunState]int, error) {
	out := map[string]map[windsock.DagRunState]int{}
	err := eachChunk(dagIDs, func(ids []string) error {
		where, args := inList(nil, nil, "dag_id", ids)
		rows, err := q.query(ctx, `SELECT dag_id, state, COUNT(*) FROM dag_run WHERE `+where[0]+
			` GROUP BY dag_id, state`, args...)
		if err != nil {
			return err
		}
		return scanStateCounts(rows, out)
	})
	if err != nil {
		return nil, fmt.Errorf("count dag runs by state: %w", err)
	}
	return out, nil
}

// DagRunLatest returns the latest run of each of the given DAGs.
func (q *queries) DagRunLatest(ctx context.Context, dagIDs []string) (map[string]*windsock.DagRun, error) {
	out := map[string]*windsock.DagRun{}
	err := eachChunk(dagIDs, func(ids []string) error {
		where, args := inList(nil, nil, "dag_run.dag_id", ids)
		runs, err := q.dagRunSelect(ctx, `SELECT `+dagRunColumns+` FROM dag_run
			WHERE `+where[0]+` AND `+latestRunCond("dag_run"), args...)
		if err != nil {
			return err
		}
		for _, r := range runs {
			out[r.DagID] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read latest dag runs: %w", err)
	}
	return out, nil
}

// TaskInstanceStateCountsLatest counts the task instances of each given
// DAG's latest run by state.
func (q *queries) TaskInstanceStateCountsLatest(ctx context.Context, dagIDs []string) (map[string]map[windsock.TaskInstanceState]int, error) {
	out := map[string]map[windsock.TaskInstanceState]int{}
	err := eachChunk(dagIDs, func(ids []string) error {
		where, args := inList(nil, nil, "r.dag_id", ids)
		rows, err := q.query(ctx, `SELECT ti.dag_id, ti.state, COUNT(*) FROM dag_run r
			JOIN task_instance ti ON ti.dag_id = r.dag_id AND ti.run_id = r.run_id
			WHERE `+where[0]+` AND `+latestRunCond("r")+`
			GROUP BY ti.dag_id, ti.state`, args...)
		if err != nil {
			return err
		}
		return scanStateCounts(rows, out)
	})
	if err != nil {
		return nil, fmt.Errorf("count latest task instances by state: %w", err)
	}
	return out, nil
}

// DAGIDsByLatestRunState returns the DAGs whose latest run is in state.
func (q *queries) DAGIDsByLatestRunState(ctx context.Context, state windsock.DagRunState) ([]string, error) {
	rows, err := q.query(ctx, `SELECT r.dag_id FROM dag_run r WHERE r.state = ? AND `+latestRunCond("r")+
		` ORDER BY r.dag_id`, string(state))
	if err != nil {
		return nil, fmt.Errorf("list dags by latest run state: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list dags by latest run state: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list dags by latest run state: %w", err)
	}
	return out, nil
}

// eachChunk calls fn with ids in slices of at most summaryChunk.
func eachChunk(ids []string, fn func([]string) error) error {
	for len(ids) > 0 {
		n := min(len(ids), summaryChunk)
		if err := fn(ids[:n]); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// scanStateCounts adds rows of (dag_id, state, count) to out and closes
// rows.
func scanStateCounts[S ~string](rows *sql.Rows, out map[string]map[S]int) error {
	defer rows.Close()
	for rows.Next() {
		var dagID, state string
		var n int
		if err := rows.Scan(&dagID, nullString{&state}, &n); err != nil {
			return err
		}
		if out[dagID] == nil {
			out[dagID] = map[S]int{}
		}
		out[dagID][S(state)] += n
	}
	return rows.Err()
}
