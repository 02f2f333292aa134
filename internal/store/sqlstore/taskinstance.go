package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// tiColumns are the task_instance columns TaskInstance holds, in
// scanTaskInstance's order, qualified so that they serve a SELECT and an
// UPDATE ... FROM ... RETURNING alike. The note lives in
// task_instance_note, as in Airflow.
const tiColumns = `task_instance.dag_id, task_instance.task_id, task_instance.run_id,
	task_instance.map_index, task_instance.state, task_instance.try_number, task_instance.max_tries,
	task_instance.start_date, task_instance.end_date, task_instance.duration, task_instance.hostname,
	task_instance.unixname, task_instance.job_id, task_instance.pool, task_instance.pool_slots,
	task_instance.queue, task_instance.priority_weight, task_instance.operator,
	task_instance.queued_dttm, task_instance.queued_by_job_id, task_instance.pid,
	task_instance.executor, task_instance.rendered_map_index, task_instance.updated_at,
	task_instance.last_heartbeat_at, task_instance.next_retry_at, ` + tiNote

// tiNote reads a task instance's note in the same row.
const tiNote = `(SELECT content FROM task_instance_note n
	WHERE n.dag_id = task_instance.dag_id AND n.task_id = task_instance.task_id
		AND n.run_id = task_instance.run_id AND n.map_index = task_instance.map_index)`

// tiKeyWhere matches one task instance by primary key.
const tiKeyWhere = `task_instance.dag_id = ? AND task_instance.task_id = ? AND task_instance.run_id = ?
	AND task_instance.map_index = ?`

// tiInsertColumns are the columns a task instance is inserted with, in
// tiValues' order.
const tiInsertColumns = `dag_id, task_id, run_id, map_index, state, try_number, max_tries,
	start_date, end_date, duration, hostname, unixname, job_id, pool, pool_slots, queue,
	priority_weight, operator, queued_dttm, queued_by_job_id, pid, executor, rendered_map_index,
	updated_at, last_heartbeat_at, next_retry_at`

const tiInsertColumnCount = 26

// tiInsertChunk bounds the rows of one multi-row INSERT: 26 parameters a
// row keeps a chunk well under SQLite's 32,766 and PostgreSQL's 65,535.
const tiInsertChunk = 500

// maxClaimKeys bounds TaskInstanceClaimParams.Keys: four parameters a key
// in one statement.
const maxClaimKeys = 5000

// claimKeyChunk is how many named task instances one claim statement
// matches; claims of more are made chunk by chunk, of fewer padded.
const claimKeyChunk = 8

// tiSort are the columns TaskInstanceList may be ordered by.
var tiSort = map[string]sortColumn{
	"task_id":         {expr: "task_instance.task_id"},
	"dag_id":          {expr: "task_instance.dag_id"},
	"run_id":          {expr: "task_instance.run_id"},
	"map_index":       {expr: "task_instance.map_index"},
	"state":           {expr: "task_instance.state", nullable: true},
	"start_date":      {expr: "task_instance.start_date", nullable: true},
	"end_date":        {expr: "task_instance.end_date", nullable: true},
	"duration":        {expr: "task_instance.duration", nullable: true},
	"priority_weight": {expr: "task_instance.priority_weight", nullable: true},
	"try_number":      {expr: "task_instance.try_number", nullable: true},
	"pool":            {expr: "task_instance.pool"},
	"queue":           {expr: "task_instance.queue", nullable: true},
}

const tiDefaultOrder = "task_instance.dag_id, task_instance.run_id, task_instance.task_id, task_instance.map_index"

// TaskInstanceInsert adds task instances; ECONFLICT when one exists,
// ENOTFOUND when its run does not.
func (q *queries) TaskInstanceInsert(ctx context.Context, tis []*windsock.TaskInstance) error {
	if len(tis) == 0 {
		return nil
	}
	now := utc(time.Now())
	if err := q.inTx(ctx, func(q *queries) error { return q.insertTaskInstances(ctx, tis, now) }); err != nil {
		return fmt.Errorf("insert task instances: %w", err)
	}
	return nil
}

// insertTaskInstances writes tis with multi-row INSERTs, then their notes.
// The caller makes it atomic.
func (q *queries) insertTaskInstances(ctx context.Context, tis []*windsock.TaskInstance, now time.Time) error {
	row := "(" + placeholders(tiInsertColumnCount) + ")"
	for start := 0; start < len(tis); start += tiInsertChunk {
		chunk := tis[start:min(start+tiInsertChunk, len(tis))]
		args := make([]any, 0, len(chunk)*tiInsertColumnCount)
		rows := make([]string, len(chunk))
		for i, ti := range chunk {
			args = append(args, ti.DagID, ti.TaskID, ti.RunID, ti.MapIndex)
			args = append(args, tiValues(ti)...)
			args = append(args, now, tsPtr(ti.LastHeartbeatAt), tsPtr(ti.NextRetryAt))
			rows[i] = row
		}
		_, err := q.exec(ctx, `INSERT INTO task_instance (`+tiInsertColumns+`) VALUES `+strings.Join(rows, ", "), args...)
		switch {
		case err != nil && q.d.IsUniqueViolation(err):
			return windsock.Errorf(windsock.ECONFLICT, "task instance already exists (first of the batch: %s)", keyString(chunk[0].TaskInstanceKey))
		case err != nil && q.d.IsForeignKeyViolation(err):
			return windsock.Errorf(windsock.ENOTFOUND, "dag run of task instance not found (first of the batch: %s)", keyString(chunk[0].TaskInstanceKey))
		case err != nil:
			return err
		}
	}
	for _, ti := range tis {
		ti.UpdatedAt = now
		if ti.Note != "" {
			if err := q.setTaskInstanceNote(ctx, ti.TaskInstanceKey, ti.Note, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// tiValues returns the values of the columns from state to
// rendered_map_index, as
// tiInsertColumns and TaskInstanceUpdate list them. An empty pool is the
// default pool and pool_slots is at least 1, as Airflow requires; ti is
// updated to match what is written.
func tiValues(ti *windsock.TaskInstance) []any {
	if ti.Pool == "" {
		ti.Pool = windsock.DefaultPoolName
	}
	ti.PoolSlots = max(ti.PoolSlots, 1)
	return []any{
		str(string(ti.State)), ti.TryNumber, ti.MaxTries, tsPtr(ti.StartDate), tsPtr(ti.EndDate),
		float64Ptr(ti.Duration), str(ti.Hostname), str(ti.Unixname), int64Ptr(ti.JobID), ti.Pool,
		ti.PoolSlots, str(ti.Queue), ti.PriorityWeight, str(ti.Operator), tsPtr(ti.QueuedDttm),
		int64Ptr(ti.QueuedByJobID), intPtr(ti.PID), str(ti.Executor), str(ti.RenderedMapIndex),
	}
}

// TaskInstanceGet returns a task instance; ENOTFOUND when absent.
func (q *queries) TaskInstanceGet(ctx context.Context, key windsock.TaskInstanceKey) (*windsock.TaskInstance, error) {
	tis, err := q.tiSelect(ctx, `SELECT `+tiColumns+` FROM task_instance WHERE `+tiKeyWhere,
		key.DagID, key.TaskID, key.RunID, key.MapIndex)
	if err != nil {
		return nil, fmt.Errorf("get task instance: %w", err)
	}
	if len(tis) == 0 {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "task instance %s not found", keyString(key))
	}
	return tis[0], nil
}

// TaskInstanceList returns task instances matching params. The state
// filter is States plus, with IncludeNullState (or TaskStateNone among
// States), the instances with no state; IncludeNullState alone selects
// only those.
func (q *queries) TaskInstanceList(ctx context.Context, params *store.TaskInstanceListParams) ([]*windsock.TaskInstance, error) {
	if params == nil {
		params = &store.TaskInstanceListParams{}
	}
	order, err := orderBy(params.OrderBy, tiSort, tiDefaultOrder, tiDefaultOrder)
	if err != nil {
		return nil, fmt.Errorf("list task instances: %w", err)
	}
	var where []string
	var args []any
	if params.DagID != "" {
		where = append(where, "task_instance.dag_id = ?")
		args = append(args, params.DagID)
	}
	if params.RunID != "" {
		where = append(where, "task_instance.run_id = ?")
		args = append(args, params.RunID)
	}
	where, args = inList(where, args, "task_instance.run_id", params.RunIDs)
	where, args = inList(where, args, "task_instance.task_id", params.TaskIDs)
	if cond, stateArgs := stateFilter(params.States, params.IncludeNullState); cond != "" {
		where = append(where, cond)
		args = append(args, stateArgs...)
	}
	if params.DueBefore != nil {
		where = append(where, "task_instance.next_retry_at < ?")
		args = append(args, utc(*params.DueBefore))
	}
	if params.HeartbeatBefore != nil {
		where = append(where, "(task_instance.last_heartbeat_at < ? OR task_instance.last_heartbeat_at IS NULL)")
		args = append(args, utc(*params.HeartbeatBefore))
	}
	columns, sel := tiColumns, q.tiSelect
	if params.Timings {
		columns, sel = tiTimingColumns, q.tiTimingSelect
	}
	query := `SELECT ` + columns + ` FROM task_instance`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	clause, pageArgs := limitOffset(params.Limit, params.Offset)
	tis, err := sel(ctx, query+order+clause, append(args, pageArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("list task instances: %w", err)
	}
	return tis, nil
}

// stateFilter returns the condition matching task instance states:
// TaskStateNone and includeNull match the NULL state. "" when there is no
// filter.
func stateFilter(states []windsock.TaskInstanceState, includeNull bool) (string, []any) {
	var named []windsock.TaskInstanceState
	for _, s := range states {
		if s == windsock.TaskStateNone {
			includeNull = true
			continue
		}
		named = append(named, s)
	}
	conds, args := inList(nil, nil, "task_instance.state", named)
	if includeNull {
		conds = append(conds, "task_instance.state IS NULL")
	}
	switch len(conds) {
	case 0:
		return "", nil
	case 1:
		return conds[0], args
	default:
		return "(" + conds[0] + " OR " + conds[1] + ")", args
	}
}

// TaskInstanceUpdate writes every mutable column of ti and sets
// updated_at, in one UPDATE guarded by fromStates when given. Without a
// guard a missing instance is ENOTFOUND; with one, a missing instance is
// ENOTFOUND too and a state outside fromStates is (false, nil) with
// nothing written.
//
// The note lives in another table, yet almost every update leaves it as
// it is. So the first try is one autocommit UPDATE that applies only when
// the stored note already equals ti.Note; only when it did not apply (the
// note changes, the guard lost, or the instance is missing) does a
// transaction redo the UPDATE, write the note and tell the cases apart.
func (q *queries) TaskInstanceUpdate(ctx context.Context, ti *windsock.TaskInstance, fromStates ...windsock.TaskInstanceState) (bool, error) {
	return q.updateTI(ctx, ti, "", nil, fromStates)
}

// TaskInstanceFinishTry writes the outcome columns of ti only if the
// stored row is still running try ti.TryNumber. It writes no other column:
// every write of task_instance also rewrites the indexes over the columns
// it sets, and a try's end is the most frequent write there is. It reads
// back the note, the one column others write while a try runs, so that
// the scheduler, going on from ti, does not write an older one over it.
func (q *queries) TaskInstanceFinishTry(ctx context.Context, ti *windsock.TaskInstance) (bool, error) {
	now := utc(time.Now())
	rows, err := q.query(ctx, `UPDATE task_instance SET state = ?, end_date = ?, duration = ?,
			max_tries = ?, pid = ?, next_retry_at = ?, updated_at = ?,
			rendered_map_index = COALESCE(?, rendered_map_index)
		WHERE `+tiKeyWhere+` AND state = ? AND try_number = ?
		RETURNING `+tiNote,
		string(ti.State), tsPtr(ti.EndDate), float64Ptr(ti.Duration), ti.MaxTries, intPtr(ti.PID),
		tsPtr(ti.NextRetryAt), now, str(ti.RenderedMapIndex),
		ti.DagID, ti.TaskID, ti.RunID, ti.MapIndex, string(windsock.TaskStateRunning), ti.TryNumber)
	if err != nil {
		return false, fmt.Errorf("record the outcome of %s: %w", keyString(ti.TaskInstanceKey), err)
	}
	updated := rows.Next()
	var note string
	if updated {
		err = rows.Scan(nullString{&note})
	}
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return false, fmt.Errorf("record the outcome of %s: %w", keyString(ti.TaskInstanceKey), err)
	}
	if !updated {
		return false, q.tiMustExist(ctx, ti.TaskInstanceKey)
	}
	ti.Note, ti.UpdatedAt = note, now
	return true, nil
}

// updateTI is TaskInstanceUpdate with an extra condition on the stored row.
func (q *queries) updateTI(ctx context.Context, ti *windsock.TaskInstance, extra string, extraArgs []any, fromStates []windsock.TaskInstanceState) (bool, error) {
	now := utc(time.Now())
	args := tiValues(ti)
	args = append(args, now, tsPtr(ti.LastHeartbeatAt), tsPtr(ti.NextRetryAt),
		ti.DagID, ti.TaskID, ti.RunID, ti.MapIndex)
	query := `UPDATE task_instance SET state = ?, try_number = ?, max_tries = ?, start_date = ?,
			end_date = ?, duration = ?, hostname = ?, unixname = ?, job_id = ?, pool = ?,
			pool_slots = ?, queue = ?, priority_weight = ?, operator = ?, queued_dttm = ?,
			queued_by_job_id = ?, pid = ?, executor = ?, rendered_map_index = ?, updated_at = ?,
			last_heartbeat_at = ?, next_retry_at = ?
		WHERE ` + tiKeyWhere
	if len(fromStates) > 0 {
		cond, stateArgs := stateFilter(fromStates, false)
		query += " AND " + cond
		args = append(args, stateArgs...)
	}
	query += extra
	args = append(args, extraArgs...)
	updated, err := q.tiUpdate(ctx, ti, query, args, len(fromStates) > 0, now)
	if err != nil {
		return false, fmt.Errorf("update task instance %s: %w", keyString(ti.TaskInstanceKey), err)
	}
	if updated {
		ti.UpdatedAt = now
	}
	return updated, nil
}

func (q *queries) tiUpdate(ctx context.Context, ti *windsock.TaskInstance, query string, args []any, guarded bool, now time.Time) (bool, error) {
	res, err := q.exec(ctx, query+" AND COALESCE("+tiNote+", '') = ?", append(args, ti.Note)...)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, fmt.Errorf("count affected rows: %w", err)
	} else if n == 1 {
		return true, nil
	}
	// RETURNING the stored note tells whether it needs writing.
	query += " RETURNING " + tiNote
	q.prepare(ctx, query, len(args))
	updated := false
	err = q.inTx(ctx, func(q *queries) error {
		var stored string
		err := q.queryRow(ctx, query, args...).Scan(nullString{&stored})
		switch {
		case isNoRows(err) && !guarded:
			return windsock.Errorf(windsock.ENOTFOUND, "task instance %s not found", keyString(ti.TaskInstanceKey))
		case isNoRows(err):
			return q.tiMustExist(ctx, ti.TaskInstanceKey)
		case err != nil:
			return err
		}
		updated = true
		if stored == ti.Note {
			return nil
		}
		return q.setTaskInstanceNote(ctx, ti.TaskInstanceKey, ti.Note, now)
	})
	return updated, err
}

// tiMustExist returns ENOTFOUND unless the task instance exists.
func (q *queries) tiMustExist(ctx context.Context, key windsock.TaskInstanceKey) error {
	var one int
	err := q.queryRow(ctx, `SELECT 1 FROM task_instance WHERE `+tiKeyWhere,
		key.DagID, key.TaskID, key.RunID, key.MapIndex).Scan(&one)
	if isNoRows(err) {
		return windsock.Errorf(windsock.ENOTFOUND, "task instance %s not found", keyString(key))
	}
	return err
}

// setTaskInstanceNote writes a task instance's note to
// task_instance_note, removing the row for an empty note.
func (q *queries) setTaskInstanceNote(ctx context.Context, key windsock.TaskInstanceKey, note string, now time.Time) error {
	if note == "" {
		_, err := q.exec(ctx, `DELETE FROM task_instance_note
			WHERE dag_id = ? AND task_id = ? AND run_id = ? AND map_index = ?`,
			key.DagID, key.TaskID, key.RunID, key.MapIndex)
		return err
	}
	_, err := q.exec(ctx, `INSERT INTO task_instance_note (dag_id, task_id, run_id, map_index, content,
			created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (task_id, dag_id, run_id, map_index)
		DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at`,
		key.DagID, key.TaskID, key.RunID, key.MapIndex, note, now, now)
	return err
}

// TaskInstanceClaim moves up to params.Limit queued task instances to
// running in one statement: a CTE picks the candidates (highest
// priority_weight first, then longest queued) and the UPDATE takes only
// those still queued. SQLite runs the statement under its single write
// lock; PostgreSQL locks the picked rows with the dialect's FOR UPDATE
// SKIP LOCKED, so concurrent claimers pick different rows. Each claimed
// try starts now: start_date and last_heartbeat_at are params.Now,
// end_date, duration, pid and next_retry_at are cleared; queued_by_job_id
// is kept.
func (q *queries) TaskInstanceClaim(ctx context.Context, params *store.TaskInstanceClaimParams) ([]*windsock.TaskInstance, error) {
	if params == nil || params.Limit <= 0 {
		return nil, nil
	}
	if len(params.Keys) > maxClaimKeys {
		return nil, windsock.Errorf(windsock.EINVALID, "cannot claim more than %d named task instances at once, got %d", maxClaimKeys, len(params.Keys))
	}
	now := utc(params.Now)
	if params.Now.IsZero() {
		now = utc(time.Now())
	}
	if len(params.Keys) > 0 && len(params.Queues) == 0 && params.Limit >= len(params.Keys) {
		return q.claimNamed(ctx, params.Keys, params, now)
	}
	args := []any{string(windsock.TaskStateQueued)}
	where := []string{"state = ?"}
	where, args = inList(where, args, "queue", params.Queues)
	if len(params.Keys) > 0 {
		cond, keyArgs := keysMatch(params.Keys)
		where = append(where, cond)
		args = append(args, keyArgs...)
	}
	args = append(args, params.Limit)
	args = append(args, claimValues(params, now)...)
	args = append(args, string(windsock.TaskStateQueued))
	query := `WITH picked AS (
			SELECT dag_id, task_id, run_id, map_index FROM task_instance
			WHERE ` + strings.Join(where, " AND ") + `
			ORDER BY priority_weight DESC, (queued_dttm IS NULL), queued_dttm, ` + strings.ReplaceAll(tiDefaultOrder, "task_instance.", "") + `
			LIMIT ?` + lockClause(q.d) + `
		)
		UPDATE task_instance SET ` + claimSet + `
		FROM picked
		WHERE task_instance.state = ? AND task_instance.dag_id = picked.dag_id
			AND task_instance.task_id = picked.task_id AND task_instance.run_id = picked.run_id
			AND task_instance.map_index = picked.map_index
		RETURNING ` + tiColumns
	tis, err := q.tiSelect(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("claim task instances: %w", err)
	}
	sortClaimed(tis)
	return tis, nil
}

// claimSet is what a claim writes: the try starts running on the
// claimer's host (claimValues fills it in).
const claimSet = `state = ?, hostname = ?, unixname = ?, job_id = ?, start_date = ?,
	last_heartbeat_at = ?, updated_at = ?, end_date = NULL, duration = NULL, pid = ?,
	next_retry_at = NULL`

func claimValues(params *store.TaskInstanceClaimParams, now time.Time) []any {
	var pid any
	if params.PID > 0 {
		pid = params.PID
	}
	return []any{string(windsock.TaskStateRunning), str(params.Hostname), str(params.Unixname), int64Ptr(params.JobID), now, now, now, pid}
}

// sortClaimed puts claimed instances in claim order (RETURNING gives rows
// in no particular order): highest priority first, then longest queued.
func sortClaimed(tis []*windsock.TaskInstance) {
	slices.SortFunc(tis, func(a, b *windsock.TaskInstance) int {
		if c := cmp.Compare(b.PriorityWeight, a.PriorityWeight); c != 0 {
			return c
		}
		if c := compareTimePtr(a.QueuedDttm, b.QueuedDttm); c != 0 {
			return c
		}
		return compareKeys(a.TaskInstanceKey, b.TaskInstanceKey)
	})
}

// claimNamed claims every one of the named task instances that is still
// queued: a local executor's claim, with nothing to choose and no limit to
// apply. It runs a plain UPDATE on chunks of claimKeyChunk keys, the last
// padded with repeats, so that every statement has one shape and stays
// prepared: SQLite recompiles the general claim, whose plan depends on
// its bound values, at every run.
func (q *queries) claimNamed(ctx context.Context, keys []windsock.TaskInstanceKey, params *store.TaskInstanceClaimParams, now time.Time) ([]*windsock.TaskInstance, error) {
	var out []*windsock.TaskInstance
	for _, chunk := range keyChunks(keys) {
		cond, keyArgs := keysMatch(chunk)
		args := append(append(claimValues(params, now), string(windsock.TaskStateQueued)), keyArgs...)
		tis, err := q.tiSelect(ctx, `UPDATE task_instance SET `+claimSet+`
			WHERE state = ? AND `+cond+`
			RETURNING `+tiColumns, args...)
		if err != nil {
			return out, fmt.Errorf("claim task instances: %w", err)
		}
		out = append(out, tis...)
	}
	sortClaimed(out)
	return out, nil
}

// TaskInstanceQueue moves the named scheduled task instances to queued,
// one primary-key statement each (see moveEach).
func (q *queries) TaskInstanceQueue(ctx context.Context, keys []windsock.TaskInstanceKey, at time.Time, byJobID int64) ([]windsock.TaskInstanceKey, error) {
	now := utc(time.Now())
	moved, err := q.moveEach(ctx, keys, `UPDATE task_instance SET state = ?, queued_dttm = ?, queued_by_job_id = ?, updated_at = ?
		WHERE `+tiKeyWhere+` AND state = ?`,
		func(k windsock.TaskInstanceKey) []any {
			return []any{string(windsock.TaskStateQueued), utc(at), byJobID, now,
				k.DagID, k.TaskID, k.RunID, k.MapIndex, string(windsock.TaskStateScheduled)}
		})
	if err != nil {
		return nil, fmt.Errorf("move task instances to queued: %w", err)
	}
	return moved, nil
}

// TaskInstanceSchedule moves the named task instances in state from to
// scheduled, one primary-key statement each (see moveEach).
func (q *queries) TaskInstanceSchedule(ctx context.Context, keys []windsock.TaskInstanceKey, from windsock.TaskInstanceState) ([]windsock.TaskInstanceKey, error) {
	next := 1
	if from == windsock.TaskStateUpForReschedule {
		next = 0
	}
	stateIs, stateArgs := "state IS NULL", []any(nil)
	if from != windsock.TaskStateNone {
		stateIs, stateArgs = "state = ?", []any{string(from)}
	}
	now := utc(time.Now())
	const set = `UPDATE task_instance SET state = ?, try_number = COALESCE(try_number, 0) + ?,
			next_retry_at = NULL, updated_at = ?`
	var moved []windsock.TaskInstanceKey
	err := q.inTx(ctx, func(q *queries) error {
		moved = moved[:0]
		for _, span := range indexSpans(keys) {
			if len(span) == 1 {
				got, err := q.moveEach(ctx, span, set+` WHERE `+tiKeyWhere+` AND `+stateIs,
					func(k windsock.TaskInstanceKey) []any {
						return append([]any{string(windsock.TaskStateScheduled), next, now, k.DagID, k.TaskID, k.RunID, k.MapIndex}, stateArgs...)
					})
				if err != nil {
					return err
				}
				moved = append(moved, got...)
				continue
			}
			// Consecutive map indexes of one mapped task: one statement
			// over the primary key's range instead of one per instance.
			k := span[0]
			rows, err := q.query(ctx, set+` WHERE dag_id = ? AND task_id = ? AND run_id = ? AND map_index >= ? AND map_index <= ? AND `+stateIs+` RETURNING map_index`,
				append([]any{string(windsock.TaskStateScheduled), next, now, k.DagID, k.TaskID, k.RunID, k.MapIndex, span[len(span)-1].MapIndex}, stateArgs...)...)
			if err != nil {
				return err
			}
			var got []int
			for rows.Next() {
				var i int
				if err := rows.Scan(&i); err != nil {
					rows.Close()
					return err
				}
				got = append(got, i)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
			slices.Sort(got)
			for _, i := range got {
				k.MapIndex = i
				moved = append(moved, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("move task instances to scheduled: %w", err)
	}
	return moved, nil
}

// indexSpans cuts keys, in order, into runs of consecutive map indexes
// (0 and up) of one task in one run; any other key is a span of its own.
func indexSpans(keys []windsock.TaskInstanceKey) [][]windsock.TaskInstanceKey {
	var out [][]windsock.TaskInstanceKey
	start := 0
	for i := 1; i <= len(keys); i++ {
		if i < len(keys) {
			a, b := keys[i-1], keys[i]
			if a.MapIndex >= 0 && b.MapIndex == a.MapIndex+1 && a.DagID == b.DagID && a.TaskID == b.TaskID && a.RunID == b.RunID {
				continue
			}
		}
		out = append(out, keys[start:i])
		start = i
	}
	return out
}

// moveEach runs update, a statement changing one task instance by primary
// key, for each key in one transaction, and returns the keys it changed in
// order. One statement a key, rather than one matching several keys:
// SQLite's planner then picks a state index for the several and reads
// every task instance in that state, thousands in a large run.
func (q *queries) moveEach(ctx context.Context, keys []windsock.TaskInstanceKey, update string, args func(windsock.TaskInstanceKey) []any) ([]windsock.TaskInstanceKey, error) {
	var out []windsock.TaskInstanceKey
	err := q.inTx(ctx, func(q *queries) error {
		out = out[:0]
		for _, k := range keys {
			res, err := q.exec(ctx, update, args(k)...)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n > 0 {
				out = append(out, k)
			}
		}
		return nil
	})
	return out, err
}

// keyChunks splits keys into chunks of claimKeyChunk, the last padded with
// repeats of its last key (matching a key twice changes nothing), so that
// statements matching a chunk always have the same text and stay prepared.
func keyChunks(keys []windsock.TaskInstanceKey) [][]windsock.TaskInstanceKey {
	chunks := make([][]windsock.TaskInstanceKey, 0, (len(keys)+claimKeyChunk-1)/claimKeyChunk)
	for len(keys) > 0 {
		chunk := make([]windsock.TaskInstanceKey, claimKeyChunk)
		n := copy(chunk, keys)
		for i := n; i < claimKeyChunk; i++ {
			chunk[i] = keys[n-1]
		}
		keys = keys[n:]
		chunks = append(chunks, chunk)
	}
	return chunks
}

// lockClause returns the dialect's row-locking suffix with a leading
// space, or "".
func lockClause(d Dialect) string {
	if lock := d.LockForUpdateSkipLocked(); lock != "" {
		return " " + lock
	}
	return ""
}

// TaskInstanceHeartbeat sets last_heartbeat_at of the running instances
// among keys.
func (q *queries) TaskInstanceHeartbeat(ctx context.Context, tries []store.Try, at time.Time) error {
	if len(tries) == 0 {
		return nil
	}
	err := q.inTx(ctx, func(q *queries) error {
		for start := 0; start < len(tries); start += inChunkSize {
			chunk := tries[start:min(start+inChunkSize, len(tries))]
			conds := make([]string, len(chunk))
			args := []any{utc(at), string(windsock.TaskStateRunning)}
			for i, t := range chunk {
				conds[i] = "(dag_id = ? AND task_id = ? AND run_id = ? AND map_index = ? AND try_number = ?)"
				args = append(args, t.Key.DagID, t.Key.TaskID, t.Key.RunID, t.Key.MapIndex, t.TryNumber)
			}
			if _, err := q.exec(ctx, `UPDATE task_instance SET last_heartbeat_at = ?
				WHERE state = ? AND (`+strings.Join(conds, " OR ")+`)`, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("heartbeat task instances: %w", err)
	}
	return nil
}

// keysMatch returns a condition matching any of keys. It is an OR of
// primary-key matches rather than a row-value IN list, which SQLite does
// not accept, or IN (VALUES ...), whose parameters PostgreSQL cannot type.
func keysMatch(keys []windsock.TaskInstanceKey) (string, []any) {
	conds := make([]string, len(keys))
	args := make([]any, 0, 4*len(keys))
	for i, k := range keys {
		conds[i] = "(dag_id = ? AND task_id = ? AND run_id = ? AND map_index = ?)"
		args = append(args, k.DagID, k.TaskID, k.RunID, k.MapIndex)
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// TaskInstanceSlotUsage returns what queued and running instances occupy,
// from one GROUP BY.
func (q *queries) TaskInstanceSlotUsage(ctx context.Context) (*store.SlotUsage, error) {
	rows, err := q.query(ctx, `SELECT pool, dag_id, SUM(pool_slots), COUNT(*) FROM task_instance
		WHERE state IN (?, ?) GROUP BY pool, dag_id`,
		string(windsock.TaskStateQueued), string(windsock.TaskStateRunning))
	if err != nil {
		return nil, fmt.Errorf("read slot usage: %w", err)
	}
	defer rows.Close()
	u := &store.SlotUsage{PoolSlots: make(map[string]int), DagTasks: make(map[string]int)}
	for rows.Next() {
		var pool, dagID string
		var slots, n int
		if err := rows.Scan(&pool, &dagID, &slots, &n); err != nil {
			return nil, fmt.Errorf("read slot usage: %w", err)
		}
		u.PoolSlots[pool] += slots
		u.DagTasks[dagID] += n
		u.Total += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read slot usage: %w", err)
	}
	return u, nil
}

func (q *queries) tiSelect(ctx context.Context, query string, args ...any) ([]*windsock.TaskInstance, error) {
	return selectRows(ctx, q, query, args, func(row rowScanner) (*windsock.TaskInstance, error) {
		var ti windsock.TaskInstance
		var state string
		if err := row.Scan(tiScanDest(&ti, &state)...); err != nil {
			return nil, err
		}
		ti.State = windsock.TaskInstanceState(state)
		return &ti, nil
	})
}

// tiTimingColumns are what TaskInstanceListParams.Timings reads.
const tiTimingColumns = `task_instance.dag_id, task_instance.task_id, task_instance.run_id,
	task_instance.map_index, task_instance.state, task_instance.try_number, task_instance.start_date,
	task_instance.end_date, task_instance.duration, task_instance.queued_dttm`

func (q *queries) tiTimingSelect(ctx context.Context, query string, args ...any) ([]*windsock.TaskInstance, error) {
	return selectRows(ctx, q, query, args, func(row rowScanner) (*windsock.TaskInstance, error) {
		var ti windsock.TaskInstance
		var state string
		if err := row.Scan(&ti.DagID, &ti.TaskID, &ti.RunID, &ti.MapIndex, nullString{&state}, nullInt{&ti.TryNumber},
			nullTimePtr{&ti.StartDate}, nullTimePtr{&ti.EndDate}, nullFloat64Ptr{&ti.Duration}, nullTimePtr{&ti.QueuedDttm}); err != nil {
			return nil, err
		}
		ti.State = windsock.TaskInstanceState(state)
		return &ti, nil
	})
}

// keyString formats a key for messages: dag_id.task_id[map_index]@run_id.
func keyString(k windsock.TaskInstanceKey) string {
	if k.MapIndex < 0 {
		return fmt.Sprintf("%s.%s@%s", k.DagID, k.TaskID, k.RunID)
	}
	return fmt.Sprintf("%s.%s[%d]@%s", k.DagID, k.TaskID, k.MapIndex, k.RunID)
}

func compareKeys(a, b windsock.TaskInstanceKey) int {
	return cmp.Or(cmp.Compare(a.DagID, b.DagID), cmp.Compare(a.RunID, b.RunID),
		cmp.Compare(a.TaskID, b.TaskID), cmp.Compare(a.MapIndex, b.MapIndex))
}

// compareTimePtr orders times ascending with nil last.
func compareTimePtr(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
}

// TaskInstanceReplace counts the instances to delete first, so that a lost
// race changes nothing even inside a caller's transaction (where a failed
// statement could not be rolled back alone), then deletes and inserts.
func (q *queries) TaskInstanceReplace(ctx context.Context, old []windsock.TaskInstanceKey, fromStates []windsock.TaskInstanceState, tis []*windsock.TaskInstance) (bool, error) {
	replaced := false
	err := q.inTx(ctx, func(q *queries) error {
		cond, args := "", []any(nil)
		if len(fromStates) > 0 {
			c, a := stateFilter(fromStates, false)
			cond, args = " AND "+c, a
		}
		for _, chunk := range plainChunks(old) {
			match, keyArgs := keysMatch(chunk)
			var n int
			if err := q.queryRow(ctx, `SELECT COUNT(*) FROM task_instance WHERE `+match+cond, append(keyArgs, args...)...).Scan(&n); err != nil {
				return err
			}
			if n != len(chunk) {
				return nil
			}
		}
		for i, chunk := range plainChunks(old) {
			match, keyArgs := keysMatch(chunk)
			res, err := q.exec(ctx, `DELETE FROM task_instance WHERE `+match+cond, append(keyArgs, args...)...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			switch {
			case err != nil:
				return err
			case n == 0 && i == 0:
				// Another transaction replaced or changed them between
				// the count and the delete (PostgreSQL re-reads the rows
				// it waited on): nothing was written, so the caller just
				// sees them changed, as when the count differs.
				return nil
			case int(n) != len(chunk):
				return fmt.Errorf("task instances changed while being replaced (%d of %d deleted)", n, len(chunk))
			}
		}
		replaced = true
		return q.insertTaskInstances(ctx, tis, utc(time.Now()))
	})
	if err != nil {
		return false, fmt.Errorf("replace task instances: %w", err)
	}
	return replaced, nil
}

// plainChunks splits keys into chunks of at most claimKeyChunk, unpadded:
// statements that count what they match need each key once.
func plainChunks(keys []windsock.TaskInstanceKey) [][]windsock.TaskInstanceKey {
	var out [][]windsock.TaskInstanceKey
	for len(keys) > 0 {
		n := min(len(keys), claimKeyChunk)
		out = append(out, keys[:n])
		keys = keys[n:]
	}
	return out
}
