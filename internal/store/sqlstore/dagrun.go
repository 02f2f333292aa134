package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// dagRunColumns are the dag_run columns DagRun holds, in scanDagRun's
// order. The note lives in dag_run_note, as in Airflow.
const dagRunColumns = `dag_run.id, dag_run.dag_id, dag_run.run_id, dag_run.execution_date,
	dag_run.queued_at, dag_run.start_date, dag_run.end_date, dag_run.state, dag_run.run_type,
	dag_run.external_trigger, dag_run.conf, dag_run.data_interval_start, dag_run.data_interval_end,
	dag_run.last_scheduling_decision, dag_run.dag_hash, dag_run.creating_job_id,
	dag_run.clear_number, dag_run.updated_at,
	(SELECT content FROM dag_run_note WHERE dag_run_note.dag_run_id = dag_run.id)`

// dagRunSort are the columns DagRunList may be ordered by.
var dagRunSort = map[string]sortColumn{
	"id":             {expr: "dag_run.id"},
	"dag_id":         {expr: "dag_run.dag_id"},
	"run_id":         {expr: "dag_run.run_id"},
	"execution_date": {expr: "dag_run.execution_date"},
	"logical_date":   {expr: "dag_run.execution_date"},
	"start_date":     {expr: "dag_run.start_date", nullable: true},
	"end_date":       {expr: "dag_run.end_date", nullable: true},
	"state":          {expr: "dag_run.state", nullable: true},
	"run_type":       {expr: "dag_run.run_type"},
	"queued_at":      {expr: "dag_run.queued_at", nullable: true},
	"updated_at":     {expr: "dag_run.updated_at", nullable: true},
}

// DagRunCreate inserts a run and its task instances and sets run.ID;
// ECONFLICT when the DAG already has a run with that run_id or logical
// date.
func (q *queries) DagRunCreate(ctx context.Context, params *store.DagRunCreateParams) error {
	if params == nil || params.Run == nil {
		return windsock.Errorf(windsock.EINVALID, "create dag run: no run given")
	}
	r := params.Run
	// Task instances belong to the run: fill in its key where left empty.
	for _, ti := range params.TaskInstances {
		ti.DagID = cmp.Or(ti.DagID, r.DagID)
		ti.RunID = cmp.Or(ti.RunID, r.RunID)
		if ti.DagID != r.DagID || ti.RunID != r.RunID {
			return windsock.Errorf(windsock.EINVALID, "create dag run %s/%s: task instance %s belongs to another run",
				r.DagID, r.RunID, keyString(ti.TaskInstanceKey))
		}
	}
	conf, err := encodeConf(r.Conf)
	if err != nil {
		return fmt.Errorf("create dag run %s/%s: %w", r.DagID, r.RunID, err)
	}
	now := utc(time.Now())
	err = q.inTx(ctx, func(q *queries) error {
		err := q.queryRow(ctx, `INSERT INTO dag_run (dag_id, queued_at, execution_date, start_date,
				end_date, state, run_id, creating_job_id, external_trigger, run_type, conf,
				data_interval_start, data_interval_end, last_scheduling_decision, dag_hash,
				updated_at, clear_number)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.DagID, tsPtr(r.QueuedAt), utc(r.LogicalDate), tsPtr(r.StartDate), tsPtr(r.EndDate),
			str(string(r.State)), r.RunID, int64Ptr(r.CreatingJobID), r.ExternalTrigger, string(r.RunType),
			conf, tsPtr(r.DataIntervalStart), tsPtr(r.DataIntervalEnd), tsPtr(r.LastSchedulingDecision),
			str(r.DagHash), now, r.ClearNumber).Scan(&r.ID)
		switch {
		case err != nil && q.d.IsUniqueViolation(err):
			return windsock.Errorf(windsock.ECONFLICT, "dag %q already has a run with run_id %q or logical date %s",
				r.DagID, r.RunID, windsock.ISOFormat(r.LogicalDate))
		case err != nil:
			return err
		}
		if err := q.setDagRunNote(ctx, r.ID, r.Note, now); err != nil {
			return err
		}
		return q.insertTaskInstances(ctx, params.TaskInstances, now)
	})
	if err != nil {
		return fmt.Errorf("create dag run %s/%s: %w", r.DagID, r.RunID, err)
	}
	r.UpdatedAt = now
	return nil
}

// DagRunGet returns a run; ENOTFOUND when the DAG has no such run.
func (q *queries) DagRunGet(ctx context.Context, dagID, runID string) (*windsock.DagRun, error) {
	runs, err := q.dagRunSelect(ctx, `SELECT `+dagRunColumns+` FROM dag_run
		WHERE dag_run.dag_id = ? AND dag_run.run_id = ?`, dagID, runID)
	if err != nil {
		return nil, fmt.Errorf("get dag run: %w", err)
	}
	if len(runs) == 0 {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "dag run %q of dag %q not found", runID, dagID)
	}
	return runs[0], nil
}

// DagRunList returns runs matching params, ordered as params.OrderBy
// (logical date ascending by default), ties broken by id.
func (q *queries) DagRunList(ctx context.Context, params *store.DagRunListParams) ([]*windsock.DagRun, error) {
	if params == nil {
		params = &store.DagRunListParams{}
	}
	order, err := orderBy(params.OrderBy, dagRunSort, "dag_run.execution_date", "dag_run.id")
	if err != nil {
		return nil, fmt.Errorf("list dag runs: %w", err)
	}
	var where []string
	var args []any
	if params.DagID != "" {
		where = append(where, "dag_run.dag_id = ?")
		args = append(args, params.DagID)
	}
	where, args = inList(where, args, "dag_run.dag_id", params.DagIDs)
	if params.RunID != "" {
		where = append(where, "dag_run.run_id = ?")
		args = append(args, params.RunID)
	}
	where, args = inList(where, args, "dag_run.state", params.States)
	where, args = inList(where, args, "dag_run.run_type", params.RunTypes)
	if params.LogicalDateGTE != nil {
		where = append(where, "dag_run.execution_date >= ?")
		args = append(args, utc(*params.LogicalDateGTE))
	}
	if params.LogicalDateLTE != nil {
		where = append(where, "dag_run.execution_date <= ?")
		args = append(args, utc(*params.LogicalDateLTE))
	}
	columns, sel := dagRunColumns, q.dagRunSelect
	if params.DatesAndStates {
		columns, sel = dagRunDateStateColumns, q.dagRunDateStateSelect
	}
	query := `SELECT ` + columns + ` FROM dag_run`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	clause, pageArgs := limitOffset(params.Limit, params.Offset)
	runs, err := sel(ctx, query+order+clause, append(args, pageArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("list dag runs: %w", err)
	}
	return runs, nil
}

// DagRunUpdate writes the mutable columns of run.ID and sets updated_at.
func (q *queries) DagRunUpdate(ctx context.Context, run *windsock.DagRun) error {
	conf, err := encodeConf(run.Conf)
	if err != nil {
		return fmt.Errorf("update dag run %d: %w", run.ID, err)
	}
	now := utc(time.Now())
	err = q.inTx(ctx, func(q *queries) error {
		if err := q.execOne(ctx, windsock.Errorf(windsock.ENOTFOUND, "dag run %d not found", run.ID),
			`UPDATE dag_run SET state = ?, start_date = ?, end_date = ?, queued_at = ?,
				last_scheduling_decision = ?, clear_number = ?, conf = ?, updated_at = ?
			WHERE id = ?`,
			str(string(run.State)), tsPtr(run.StartDate), tsPtr(run.EndDate), tsPtr(run.QueuedAt),
			tsPtr(run.LastSchedulingDecision), run.ClearNumber, conf, now, run.ID); err != nil {
			return err
		}
		return q.setDagRunNote(ctx, run.ID, run.Note, now)
	})
	if err != nil {
		return fmt.Errorf("update dag run %d: %w", run.ID, err)
	}
	run.UpdatedAt = now
	return nil
}

// DagRunDelete removes a run; the foreign keys' ON DELETE CASCADE removes
// its task instances and what hangs off them.
func (q *queries) DagRunDelete(ctx context.Context, dagID, runID string) error {
	if err := q.execOne(ctx, windsock.Errorf(windsock.ENOTFOUND, "dag run %q of dag %q not found", runID, dagID),
		`DELETE FROM dag_run WHERE dag_id = ? AND run_id = ?`, dagID, runID); err != nil {
		return fmt.Errorf("delete dag run: %w", err)
	}
	return nil
}

// DagRunCounts returns, per DAG, the number of runs in the given states
// (in any state when states is empty). DAGs without such runs are absent.
func (q *queries) DagRunCounts(ctx context.Context, states []windsock.DagRunState) (map[string]int, error) {
	where, args := inList(nil, nil, "state", states)
	query := `SELECT dag_id, COUNT(*) FROM dag_run`
	if len(where) > 0 {
		query += " WHERE " + where[0]
	}
	rows, err := q.query(ctx, query+" GROUP BY dag_id", args...)
	if err != nil {
		return nil, fmt.Errorf("count dag runs: %w", err)
	}
	defer rows.Close()
	out := make(map[string]int)
	for rows.Next() {
		var dagID string
		var n int
		if err := rows.Scan(&dagID, &n); err != nil {
			return nil, fmt.Errorf("count dag runs: %w", err)
		}
		out[dagID] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count dag runs: %w", err)
	}
	return out, nil
}

// setDagRunNote writes a run's note to dag_run_note, removing the row for
// an empty note.
func (q *queries) setDagRunNote(ctx context.Context, runID int64, note string, now time.Time) error {
	if note == "" {
		_, err := q.exec(ctx, `DELETE FROM dag_run_note WHERE dag_run_id = ?`, runID)
		return err
	}
	_, err := q.exec(ctx, `INSERT INTO dag_run_note (dag_run_id, content, created_at, updated_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (dag_run_id) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at`,
		runID, note, now, now)
	return err
}

func (q *queries) dagRunSelect(ctx context.Context, query string, args ...any) ([]*windsock.DagRun, error) {
	return selectRows(ctx, q, query, args, func(row rowScanner) (*windsock.DagRun, error) {
		var r windsock.DagRun
		var state, runType string
		var conf []byte
		if err := row.Scan(&r.ID, &r.DagID, &r.RunID, nullTime{&r.LogicalDate}, nullTimePtr{&r.QueuedAt},
			nullTimePtr{&r.StartDate}, nullTimePtr{&r.EndDate}, nullString{&state}, nullString{&runType},
			nullBool{&r.ExternalTrigger}, &conf, nullTimePtr{&r.DataIntervalStart},
			nullTimePtr{&r.DataIntervalEnd}, nullTimePtr{&r.LastSchedulingDecision},
			nullString{&r.DagHash}, nullInt64Ptr{&r.CreatingJobID}, nullInt{&r.ClearNumber},
			nullTime{&r.UpdatedAt}, nullString{&r.Note}); err != nil {
			return nil, err
		}
		r.State = windsock.DagRunState(state)
		r.RunType = windsock.RunType(runType)
		var err error
		if r.Conf, err = decodeConf(conf); err != nil {
			return nil, fmt.Errorf("run %s/%s: %w", r.DagID, r.RunID, err)
		}
		return &r, nil
	})
}

// dagRunDateStateColumns are what DagRunListParams.DatesAndStates reads.
const dagRunDateStateColumns = `dag_run.id, dag_run.dag_id, dag_run.run_id, dag_run.execution_date, dag_run.state`

func (q *queries) dagRunDateStateSelect(ctx context.Context, query string, args ...any) ([]*windsock.DagRun, error) {
	return selectRows(ctx, q, query, args, func(row rowScanner) (*windsock.DagRun, error) {
		var r windsock.DagRun
		var state string
		if err := row.Scan(&r.ID, &r.DagID, &r.RunID, nullTime{&r.LogicalDate}, nullString{&state}); err != nil {
			return nil, err
		}
		r.State = windsock.DagRunState(state)
		return &r, nil
	})
}

// encodeConf returns a run's conf as the JSON bytes stored in dag_run.conf
// (Airflow pickles it; Windsock writes JSON), or NULL for a nil conf.
func encodeConf(conf map[string]any) (any, error) {
	if conf == nil {
		return nil, nil
	}
	// A float stays a float when read back (5.0, not 5).
	b, err := json.Marshal(windsock.KeepFloats(conf))
	if err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "conf is not JSON-serializable: %v", err)
	}
	return b, nil
}

// decodeConf reads dag_run.conf back; NULL and JSON null are a nil conf.
func decodeConf(b []byte) (map[string]any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var conf map[string]any
	if err := windsock.DecodeJSON(b, &conf); err != nil {
		return nil, fmt.Errorf("decode conf (JSON expected): %w", err)
	}
	return conf, nil
}
