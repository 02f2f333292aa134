package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// DatasetReferencesSet records a DAG definition's datasets and references.
func (q *queries) DatasetReferencesSet(ctx context.Context, params *store.DatasetReferencesSetParams) error {
	now := utc(params.Now)
	if params.Now.IsZero() {
		now = utc(time.Now())
	}
	return q.inTx(ctx, func(q *queries) error {
		var expr any
		if params.Schedule != nil {
			expr = params.Schedule.ExpressionJSON()
		}
		res, err := q.exec(ctx, `UPDATE dag SET dataset_expression = ? WHERE dag_id = ?`, expr, params.DagID)
		if err != nil {
			return fmt.Errorf("set dataset expression of %s: %w", params.DagID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return windsock.Errorf(windsock.ENOTFOUND, "dag %s not found", params.DagID)
		}
		if err := q.datasetRefsReplace(ctx, params.DagID, "dag_schedule_dataset_reference", "", params.Schedule.URIs(), now); err != nil {
			return err
		}
		if _, err := q.exec(ctx, `DELETE FROM task_outlet_dataset_reference WHERE dag_id = ?`, params.DagID); err != nil {
			return fmt.Errorf("clear outlet references of %s: %w", params.DagID, err)
		}
		for _, task := range slices.Sorted(maps.Keys(params.Outlets)) {
			if err := q.datasetRefsReplace(ctx, params.DagID, "task_outlet_dataset_reference", task, params.Outlets[task], now); err != nil {
				return err
			}
		}
		return nil
	})
}

// datasetRefsReplace makes uris the references of a DAG (or of one of its
// tasks when taskID is set) in table, creating missing datasets. A kept
// reference keeps its created_at.
func (q *queries) datasetRefsReplace(ctx context.Context, dagID, table, taskID string, uris []string, now time.Time) error {
	ids := make([]any, 0, len(uris))
	for _, uri := range uris {
		if err := windsock.CheckDatasetURI(uri); err != nil {
			return err
		}
		id, err := q.datasetEnsure(ctx, uri, now)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	if table == "dag_schedule_dataset_reference" {
		keep := ""
		if len(ids) > 0 {
			keep = " AND dataset_id NOT IN (" + placeholders(len(ids)) + ")"
		}
		if _, err := q.exec(ctx, `DELETE FROM dag_schedule_dataset_reference WHERE dag_id = ?`+keep, append([]any{dagID}, ids...)...); err != nil {
			return fmt.Errorf("clear schedule references of %s: %w", dagID, err)
		}
		for _, id := range ids {
			if _, err := q.exec(ctx, `INSERT INTO dag_schedule_dataset_reference (dataset_id, dag_id, created_at, updated_at)
				VALUES (?, ?, ?, ?) ON CONFLICT (dataset_id, dag_id) DO UPDATE SET updated_at = excluded.updated_at`,
				id, dagID, now, now); err != nil {
				return fmt.Errorf("reference dataset from %s: %w", dagID, err)
			}
		}
		return nil
	}
	for _, id := range ids {
		if _, err := q.exec(ctx, `INSERT INTO task_outlet_dataset_reference (dataset_id, dag_id, task_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (dataset_id, dag_id, task_id) DO NOTHING`,
			id, dagID, taskID, now, now); err != nil {
			return fmt.Errorf("reference dataset from %s.%s: %w", dagID, taskID, err)
		}
	}
	return nil
}

// datasetEnsure returns the id of the dataset uri, creating it if missing
// (and un-orphaning it: a definition references it again).
func (q *queries) datasetEnsure(ctx context.Context, uri string, now time.Time) (int64, error) {
	var id int64
	err := q.queryRow(ctx, `INSERT INTO dataset (uri, extra, created_at, updated_at, is_orphaned)
		VALUES (?, '{}', ?, ?, FALSE)
		ON CONFLICT (uri) DO UPDATE SET is_orphaned = FALSE
		RETURNING id`, uri, now, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create dataset %q: %w", uri, err)
	}
	return id, nil
}

// DatasetGet returns a dataset by URI with its references.
func (q *queries) DatasetGet(ctx context.Context, uri string) (*windsock.Dataset, error) {
	ds, err := q.datasetSelect(ctx, ` WHERE uri = ?`, "", []any{uri})
	if err != nil {
		return nil, fmt.Errorf("get dataset %q: %w", uri, err)
	}
	if len(ds) == 0 {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "dataset %q not found", uri)
	}
	return ds[0], nil
}

var datasetSort = map[string]sortColumn{
	"id": {expr: "id"}, "uri": {expr: "uri"}, "created_at": {expr: "created_at"}, "updated_at": {expr: "updated_at"},
}

// DatasetList returns one page of datasets and the number that match.
func (q *queries) DatasetList(ctx context.Context, params *store.DatasetListParams) ([]*windsock.Dataset, int, error) {
	order, err := orderBy(params.OrderBy, datasetSort, "id", "id")
	if err != nil {
		return nil, 0, err
	}
	var where []string
	var args []any
	if params.URIPattern != "" {
		where = append(where, "uri LIKE ? ESCAPE '\\'")
		args = append(args, "%"+likeEscape(params.URIPattern)+"%")
	}
	if len(params.DagIDs) > 0 {
		in := placeholders(len(params.DagIDs))
		where = append(where, `(id IN (SELECT dataset_id FROM dag_schedule_dataset_reference WHERE dag_id IN (`+in+`))
			OR id IN (SELECT dataset_id FROM task_outlet_dataset_reference WHERE dag_id IN (`+in+`)))`)
		for range 2 {
			for _, d := range params.DagIDs {
				args = append(args, d)
			}
		}
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM dataset`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count datasets: %w", err)
	}
	clause, pageArgs := limitOffset(params.Limit, params.Offset)
	ds, err := q.datasetSelect(ctx, cond, order+clause, append(args, pageArgs...))
	if err != nil {
		return nil, 0, fmt.Errorf("list datasets: %w", err)
	}
	return ds, total, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// datasetSelect reads datasets and then their references.
func (q *queries) datasetSelect(ctx context.Context, where, tail string, args []any) ([]*windsock.Dataset, error) {
	rows, err := q.query(ctx, `SELECT id, uri, extra, created_at, updated_at FROM dataset`+where+tail, args...)
	if err != nil {
		return nil, err
	}
	var out []*windsock.Dataset
	byID := map[int64]*windsock.Dataset{}
	for rows.Next() {
		d := &windsock.Dataset{ConsumingDAGs: []windsock.DatasetDAGRef{}, ProducingTasks: []windsock.DatasetTaskRef{}}
		var extra string
		if err := rows.Scan(&d.ID, &d.URI, nullString{&extra}, nullTime{&d.CreatedAt}, nullTime{&d.UpdatedAt}); err != nil {
			rows.Close()
			return nil, err
		}
		d.Extra = decodeExtra(extra)
		out = append(out, d)
		byID[d.ID] = d
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]any, 0, len(out))
	for _, d := range out {
		ids = append(ids, d.ID)
	}
	in := placeholders(len(ids))
	rows, err = q.query(ctx, `SELECT dataset_id, dag_id, '', created_at, updated_at FROM dag_schedule_dataset_reference
		WHERE dataset_id IN (`+in+`)
		UNION ALL SELECT dataset_id, dag_id, task_id, created_at, updated_at FROM task_outlet_dataset_reference
		WHERE dataset_id IN (`+in+`) ORDER BY 2, 3`, append(ids, ids...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var dagID, taskID string
		var created, updated time.Time
		if err := rows.Scan(&id, &dagID, nullString{&taskID}, nullTime{&created}, nullTime{&updated}); err != nil {
			return nil, err
		}
		d := byID[id]
		if taskID == "" {
			d.ConsumingDAGs = append(d.ConsumingDAGs, windsock.DatasetDAGRef{DagID: dagID, CreatedAt: created, UpdatedAt: updated})
		} else {
			d.ProducingTasks = append(d.ProducingTasks, windsock.DatasetTaskRef{DagID: dagID, TaskID: taskID, CreatedAt: created, UpdatedAt: updated})
		}
	}
	return out, rows.Err()
}

// decodeExtra reads an extra column; what is not a JSON object reads as
// empty. Whole numbers read as integers, as Python reads them, so that a
// template prints 42, not 42.0.
func decodeExtra(s string) map[string]any {
	m := map[string]any{}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return map[string]any{}
	}
	return numbers(m).(map[string]any)
}

// numbers replaces the json.Numbers in v by int64 or float64.
func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}

func encodeExtra(m map[string]any) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", windsock.Errorf(windsock.EINVALID, "dataset event extra is not JSON: %v", err)
	}
	return string(b), nil
}

// DatasetEventCreate records a dataset update and queues it for the
// consumers.
func (q *queries) DatasetEventCreate(ctx context.Context, params *store.DatasetEventCreateParams) (*windsock.DatasetEvent, []string, error) {
	extra, err := encodeExtra(params.Extra)
	if err != nil {
		return nil, nil, err
	}
	at := utc(params.Timestamp)
	if params.Timestamp.IsZero() {
		at = utc(time.Now())
	}
	ev := &windsock.DatasetEvent{
		DatasetURI: params.URI, Extra: decodeExtra(extra), SourceDagID: params.SourceDagID, SourceTaskID: params.SourceTaskID,
		SourceRunID: params.SourceRunID, SourceMapIndex: params.SourceMapIndex, Timestamp: at,
	}
	var consumers []string
	err = q.inTx(ctx, func(q *queries) error {
		err := q.queryRow(ctx, `SELECT id FROM dataset WHERE uri = ?`, params.URI).Scan(&ev.DatasetID)
		switch {
		case isNoRows(err):
			return windsock.Errorf(windsock.ENOTFOUND, "dataset %q not found", params.URI)
		case err != nil:
			return err
		}
		if err := q.queryRow(ctx, `INSERT INTO dataset_event (dataset_id, extra, source_task_id, source_dag_id,
				source_run_id, source_map_index, timestamp)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			ev.DatasetID, extra, str(params.SourceTaskID), str(params.SourceDagID), str(params.SourceRunID),
			params.SourceMapIndex, at).Scan(&ev.ID); err != nil {
			return err
		}
		// Queued for active, unpaused consumers only, as Airflow does; an
		// event already waiting keeps its (earlier) time.
		rows, err := q.query(ctx, `INSERT INTO dataset_dag_run_queue (dataset_id, target_dag_id, created_at)
			SELECT r.dataset_id, r.dag_id, ? FROM dag_schedule_dataset_reference r
			JOIN dag ON dag.dag_id = r.dag_id
			WHERE r.dataset_id = ? AND dag.is_active AND NOT dag.is_paused
			ON CONFLICT (dataset_id, target_dag_id) DO UPDATE SET created_at = dataset_dag_run_queue.created_at
			RETURNING target_dag_id`, at, ev.DatasetID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			consumers = append(consumers, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create event of dataset %q: %w", params.URI, err)
	}
	slices.Sort(consumers)
	return ev, consumers, nil
}

var datasetEventSort = map[string]sortColumn{
	"id": {expr: "e.id"}, "dataset_id": {expr: "e.dataset_id"}, "timestamp": {expr: "e.timestamp"},
	"source_dag_id": {expr: "e.source_dag_id", nullable: true}, "source_task_id": {expr: "e.source_task_id", nullable: true},
	"source_run_id": {expr: "e.source_run_id", nullable: true}, "source_map_index": {expr: "e.source_map_index", nullable: true},
}

// DatasetEventList returns one page of events, with the runs each
// triggered, and the number that match.
func (q *queries) DatasetEventList(ctx context.Context, params *store.DatasetEventListParams) ([]*windsock.DatasetEvent, int, error) {
	orderKey := params.OrderBy
	if orderKey == "" {
		orderKey = "-timestamp"
	}
	order, err := orderBy(orderKey, datasetEventSort, "e.timestamp", "e.id")
	if err != nil {
		return nil, 0, err
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if params.DatasetID != 0 {
		add("e.dataset_id = ?", params.DatasetID)
	}
	where, args = inList(where, args, "d.uri", params.URIs)
	if params.SourceDagID != "" {
		add("e.source_dag_id = ?", params.SourceDagID)
	}
	if params.SourceTaskID != "" {
		add("e.source_task_id = ?", params.SourceTaskID)
	}
	if params.SourceRunID != "" {
		add("e.source_run_id = ?", params.SourceRunID)
	}
	if params.SourceMapIndex != nil {
		add("e.source_map_index = ?", *params.SourceMapIndex)
	}
	if params.After != nil {
		add("e.timestamp > ?", utc(*params.After))
	}
	if params.Before != nil {
		add("e.timestamp <= ?", utc(*params.Before))
	}
	if params.DagRunID != 0 {
		add("e.id IN (SELECT event_id FROM dagrun_dataset_event WHERE dag_run_id = ?)", params.DagRunID)
	}
	// Events of a deleted dataset have no uri (no foreign key, as in
	// Airflow): a left join keeps them.
	from := ` FROM dataset_event e LEFT JOIN dataset d ON d.id = e.dataset_id`
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*)`+from+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count dataset events: %w", err)
	}
	clause, pageArgs := limitOffset(params.Limit, params.Offset)
	rows, err := q.query(ctx, `SELECT e.id, e.dataset_id, d.uri, e.extra, e.source_dag_id, e.source_task_id,
		e.source_run_id, e.source_map_index, e.timestamp`+from+cond+order+clause, append(args, pageArgs...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list dataset events: %w", err)
	}
	var out []*windsock.DatasetEvent
	for rows.Next() {
		e := &windsock.DatasetEvent{CreatedDagRuns: []*windsock.DagRun{}}
		var extra string
		if err := rows.Scan(&e.ID, &e.DatasetID, nullString{&e.DatasetURI}, nullString{&extra}, nullString{&e.SourceDagID},
			nullString{&e.SourceTaskID}, nullString{&e.SourceRunID}, nullInt{&e.SourceMapIndex}, nullTime{&e.Timestamp}); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("list dataset events: %w", err)
		}
		e.Extra = decodeExtra(extra)
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list dataset events: %w", err)
	}
	if err := q.datasetEventRuns(ctx, out); err != nil {
		return nil, 0, fmt.Errorf("list runs of dataset events: %w", err)
	}
	return out, total, nil
}

// datasetEventRuns fills the runs each event triggered.
func (q *queries) datasetEventRuns(ctx context.Context, events []*windsock.DatasetEvent) error {
	if len(events) == 0 {
		return nil
	}
	byID := map[int64]*windsock.DatasetEvent{}
	ids := make([]any, 0, len(events))
	for _, e := range events {
		byID[e.ID] = e
		ids = append(ids, e.ID)
	}
	rows, err := q.query(ctx, `SELECT event_id, dag_run_id FROM dagrun_dataset_event WHERE event_id IN (`+placeholders(len(ids))+`)
		ORDER BY dag_run_id`, ids...)
	if err != nil {
		return err
	}
	runsOf := map[int64][]int64{}
	var runIDs []any
	for rows.Next() {
		var ev, run int64
		if err := rows.Scan(&ev, &run); err != nil {
			rows.Close()
			return err
		}
		if !slices.Contains(runsOf[ev], run) {
			runsOf[ev] = append(runsOf[ev], run)
		}
		runIDs = append(runIDs, run)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(runIDs) == 0 {
		return err
	}
	runs, err := q.dagRunSelect(ctx, `SELECT `+dagRunColumns+` FROM dag_run WHERE id IN (`+placeholders(len(runIDs))+`)`, runIDs...)
	if err != nil {
		return err
	}
	for evID, rs := range runsOf {
		for _, id := range rs {
			if i := slices.IndexFunc(runs, func(r *windsock.DagRun) bool { return r.ID == id }); i >= 0 {
				byID[evID].CreatedDagRuns = append(byID[evID].CreatedDagRuns, runs[i])
			}
		}
	}
	return nil
}

// datasetQueueWhere is the WHERE clause of DatasetQueueParams over
// dataset_dag_run_queue.
func datasetQueueWhere(p *store.DatasetQueueParams) (string, []any) {
	where := []string{"1 = 1"}
	var args []any
	if p.DagID != "" {
		where = append(where, "target_dag_id = ?")
		args = append(args, p.DagID)
	}
	if p.URI != "" {
		where = append(where, "dataset_id IN (SELECT id FROM dataset WHERE uri = ?)")
		args = append(args, p.URI)
	}
	if p.Before != nil {
		where = append(where, "created_at < ?")
		args = append(args, utc(*p.Before))
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// DatasetQueueList returns the queued events matching params.
func (q *queries) DatasetQueueList(ctx context.Context, params *store.DatasetQueueParams) ([]*windsock.DatasetQueuedEvent, error) {
	where, args := datasetQueueWhere(params)
	out, err := q.datasetQueueRows(ctx, `SELECT dataset_id, target_dag_id, created_at FROM dataset_dag_run_queue`+where, args)
	if err != nil {
		return nil, fmt.Errorf("list queued dataset events: %w", err)
	}
	return out, nil
}

// DatasetQueueDelete deletes the queued events matching params and
// returns them. DELETE ... RETURNING hands each row to one deleter: a
// concurrent one waits on the row lock (PostgreSQL) or the write lock
// (SQLite) and then finds it gone.
func (q *queries) DatasetQueueDelete(ctx context.Context, params *store.DatasetQueueParams) ([]*windsock.DatasetQueuedEvent, error) {
	where, args := datasetQueueWhere(params)
	var out []*windsock.DatasetQueuedEvent
	err := q.inTx(ctx, func(q *queries) error {
		var err error
		out, err = q.datasetQueueRows(ctx, `DELETE FROM dataset_dag_run_queue`+where+` RETURNING dataset_id, target_dag_id, created_at`, args)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delete queued dataset events: %w", err)
	}
	return out, nil
}

// datasetQueueRows runs a query returning queue rows and names their
// datasets, ordered by target DAG and URI.
func (q *queries) datasetQueueRows(ctx context.Context, query string, args []any) ([]*windsock.DatasetQueuedEvent, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []*windsock.DatasetQueuedEvent
	ids := map[int64]bool{}
	for rows.Next() {
		e := &windsock.DatasetQueuedEvent{}
		if err := rows.Scan(&e.DatasetID, &e.TargetDagID, nullTime{&e.CreatedAt}); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, e)
		ids[e.DatasetID] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	idArgs := make([]any, 0, len(ids))
	for id := range ids {
		idArgs = append(idArgs, id)
	}
	uris := map[int64]string{}
	rows, err = q.query(ctx, `SELECT id, uri FROM dataset WHERE id IN (`+placeholders(len(idArgs))+`)`, idArgs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var uri string
		if err := rows.Scan(&id, &uri); err != nil {
			return nil, err
		}
		uris[id] = uri
	}
	for _, e := range out {
		e.URI = uris[e.DatasetID]
	}
	slices.SortFunc(out, func(a, b *windsock.DatasetQueuedEvent) int {
		if c := strings.Compare(a.TargetDagID, b.TargetDagID); c != 0 {
			return c
		}
		return strings.Compare(a.URI, b.URI)
	})
	return out, rows.Err()
}

// DagRunDatasetEventsLink records the events that triggered a run.
func (q *queries) DagRunDatasetEventsLink(ctx context.Context, dagRunID int64, eventIDs []int64) error {
	return q.inTx(ctx, func(q *queries) error {
		for _, id := range eventIDs {
			if _, err := q.exec(ctx, `INSERT INTO dagrun_dataset_event (dag_run_id, event_id) VALUES (?, ?)
				ON CONFLICT (dag_run_id, event_id) DO NOTHING`, dagRunID, id); err != nil {
				if q.d.IsForeignKeyViolation(err) {
					return windsock.Errorf(windsock.ENOTFOUND, "run %d or dataset event %d not found", dagRunID, id)
				}
				return fmt.Errorf("link dataset event %d to run %d: %w", id, dagRunID, err)
			}
		}
		return nil
	})
}
