package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// runFilter collects the conditions and arguments of a WHERE clause.
type runFilter struct {
	where []string
	args  []any
}

func (f *runFilter) add(cond string, args ...any) {
	f.where = append(f.where, cond)
	f.args = append(f.args, args...)
}

func (f *runFilter) in(col string, values []string) {
	f.where, f.args = inList(f.where, f.args, col, values)
}

func (f *runFilter) timeRange(col string, r store.TimeRange) {
	if r.GTE != nil {
		f.add(col+" >= ?", utc(*r.GTE))
	}
	if r.LTE != nil {
		f.add(col+" <= ?", utc(*r.LTE))
	}
}

// dagIDs restricts col to ids; with only set and no ids, to nothing.
func (f *runFilter) dagIDs(col string, ids []string, only bool) {
	if only && len(ids) == 0 {
		f.add("1 = 0")
		return
	}
	f.in(col, ids)
}

func (f *runFilter) clause() string {
	if len(f.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.where, " AND ")
}

// countWhere returns the number of rows the FROM clause and f select.
func (q *queries) countWhere(ctx context.Context, from string, f *runFilter) (int, error) {
	var n int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM `+from+f.clause(), f.args...).Scan(&n); err != nil {
		return 0, err
	}
	return n, nil
}

// DagRunQuery returns the runs matching params, paged, and the number of
// matches.
func (q *queries) DagRunQuery(ctx context.Context, params *store.DagRunQueryParams) ([]*windsock.DagRun, int, error) {
	if params == nil {
		params = &store.DagRunQueryParams{}
	}
	order, err := orderBy(params.OrderBy, dagRunSort, "dag_run.execution_date", "dag_run.id")
	if err != nil {
		return nil, 0, fmt.Errorf("query dag runs: %w", err)
	}
	var f runFilter
	f.dagIDs("dag_run.dag_id", params.DagIDs, params.OnlyDagIDs)
	f.where, f.args = inList(f.where, f.args, "dag_run.state", params.States)
	f.timeRange("dag_run.execution_date", params.LogicalDate)
	f.timeRange("dag_run.start_date", params.StartDate)
	f.timeRange("dag_run.end_date", params.EndDate)
	f.timeRange("dag_run.updated_at", params.UpdatedAt)
	total, err := q.countWhere(ctx, "dag_run", &f)
	if err != nil {
		return nil, 0, fmt.Errorf("query dag runs: %w", err)
	}
	if total == 0 || (params.Limit > 0 && params.Offset >= total) {
		return nil, total, nil
	}
	clause, pageArgs := limitOffset(params.Limit, params.Offset)
	runs, err := q.dagRunSelect(ctx, `SELECT `+dagRunColumns+` FROM dag_run`+f.clause()+order+clause,
		append(f.args, pageArgs...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("query dag runs: %w", err)
	}
	return runs, total, nil
}

// tiQuerySort are the columns TaskInstanceQuery may be ordered by: those
// of TaskInstanceList and a few the API shows.
var tiQuerySort = func() map[string]sortColumn {
	m := map[string]sortColumn{
		"execution_date": {expr: "dag_run.execution_date"},
		"logical_date":   {expr: "dag_run.execution_date"},
		"updated_at":     {expr: "task_instance.updated_at", nullable: true},
		"operator":       {expr: "task_instance.operator", nullable: true},
		"executor":       {expr: "task_instance.executor", nullable: true},
		"queued_when":    {expr: "task_instance.queued_dttm", nullable: true},
		"max_tries":      {expr: "task_instance.max_tries", nullable: true},
		"pool_slots":     {expr: "task_instance.pool_slots"},
		"hostname":       {expr: "task_instance.hostname", nullable: true},
	}
	for k, v := range tiSort {
		m[k] = v
	}
	return m
}()

// tiDetailJoins join a task instance to its run, rendered fields and SLA
// miss. Each join is on a primary or unique key.
const tiDetailJoins = `
	JOIN dag_run ON dag_run.dag_id = task_instance.dag_id AND dag_run.run_id = task_instance.run_id
	LEFT JOIN rendered_task_instance_fields rtif ON rtif.dag_id = task_instance.dag_id
		AND rtif.task_id = task_instance.task_id AND rtif.run_id = task_instance.run_id
		AND rtif.map_index = task_instance.map_index
	LEFT JOIN sla_miss ON sla_miss.dag_id = task_instance.dag_id AND sla_miss.task_id = task_instance.task_id
		AND sla_miss.execution_date = dag_run.execution_date`

// tiRunJoin joins a task instance to its run, for filters and orders on
// the run's logical date.
const tiRunJoin = ` JOIN dag_run ON dag_run.dag_id = task_instance.dag_id AND dag_run.run_id = task_instance.run_id`

// TaskInstanceQuery returns task instances with their run's logical date,
// rendered fields and SLA miss, paged, and the number of matches.
//
// A page costs what its rows cost, not what the rows before it do: the
// count and the page's keys are read from task_instance alone (joined to
// dag_run only when a filter or the order needs the logical date), which
// in the default order is a walk of the ti_dag_run_task index; only the
// page's rows are then joined to their run, rendered fields and SLA miss.
// Every task instance has its run (a foreign key), so leaving the join out
// changes no count.
func (q *queries) TaskInstanceQuery(ctx context.Context, params *store.TaskInstanceQueryParams) ([]*store.TaskInstanceDetail, int, error) {
	if params == nil {
		params = &store.TaskInstanceQueryParams{}
	}
	order, err := orderBy(params.OrderBy, tiQuerySort, tiDefaultOrder, tiDefaultOrder)
	if err != nil {
		return nil, 0, fmt.Errorf("query task instances: %w", err)
	}
	f, from := tiQueryFilter(params)
	total, err := q.countWhere(ctx, from, &f)
	if err != nil {
		return nil, 0, fmt.Errorf("query task instances: %w", err)
	}
	if total == 0 || (params.Limit > 0 && params.Offset >= total) {
		return nil, total, nil
	}
	if strings.Contains(order, "dag_run.") && !strings.Contains(from, "dag_run") {
		from += tiRunJoin
	}
	offset := params.Offset
	if params.OrderBy == "" && params.Limit > 0 && onlyImmutableFilters(params) {
		// The default order is the primary key, which never changes
		// (ti_dag_run_task indexes it): deep pages start at a bookmark.
		walk := `SELECT ` + tiDefaultOrder + ` FROM ` + from + f.clause() + order
		cond, keyArgs, rest, err := q.marks.seek(ctx, q, strings.Split(tiDefaultOrder, ", "), walk, f.args, total, offset)
		if err != nil {
			return nil, 0, fmt.Errorf("query task instances: %w", err)
		}
		if cond != "" {
			f.add(cond, keyArgs...)
			offset = rest
		}
	}
	clause, pageArgs := limitOffset(params.Limit, offset)
	query := `WITH page AS (
			SELECT task_instance.dag_id, task_instance.task_id, task_instance.run_id, task_instance.map_index
			FROM ` + from + f.clause() + order + clause + `
		)
		SELECT ` + tiColumns + `, dag_run.execution_date, rtif.rendered_fields, sla_miss.dag_id,
			sla_miss.email_sent, sla_miss.timestamp, sla_miss.description, sla_miss.notification_sent
		FROM page JOIN task_instance ON task_instance.dag_id = page.dag_id AND task_instance.task_id = page.task_id
			AND task_instance.run_id = page.run_id AND task_instance.map_index = page.map_index` + tiDetailJoins + order
	rows, err := q.query(ctx, query, append(f.args, pageArgs...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("query task instances: %w", err)
	}
	defer rows.Close()
	out := make([]*store.TaskInstanceDetail, 0, min(total, max(params.Limit, 0)))
	for rows.Next() {
		ti := &windsock.TaskInstance{}
		d := &store.TaskInstanceDetail{TaskInstance: ti}
		var state, rendered, slaDag string
		var sla windsock.SlaMiss
		dest := append(tiScanDest(ti, &state), nullTime{&d.LogicalDate}, nullString{&rendered},
			nullString{&slaDag}, nullBool{&sla.EmailSent}, nullTime{&sla.Timestamp}, nullString{&sla.Description},
			nullBool{&sla.NotificationSent})
		if err := rows.Scan(dest...); err != nil {
			return nil, 0, fmt.Errorf("query task instances: %w", err)
		}
		ti.State = windsock.TaskInstanceState(state)
		if rendered != "" {
			d.RenderedFields = []byte(rendered)
		}
		if slaDag != "" {
			sla.DagID, sla.TaskID, sla.ExecutionDate = ti.DagID, ti.TaskID, d.LogicalDate
			d.SlaMiss = &sla
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("query task instances: %w", err)
	}
	return out, total, nil
}

// onlyImmutableFilters reports whether params filter only on what never
// changes for a task instance (its key and its run's logical date), so
// that only inserts and deletes change the list: see bookmarkCache.
func onlyImmutableFilters(p *store.TaskInstanceQueryParams) bool {
	return len(p.States) == 0 && len(p.Pools) == 0 && len(p.Queues) == 0 && len(p.Executors) == 0 &&
		p.StartDate == (store.TimeRange{}) && p.EndDate == (store.TimeRange{}) && p.UpdatedAt == (store.TimeRange{}) &&
		p.DurationGTE == nil && p.DurationLTE == nil
}

// tiScanDest returns the scan destinations of tiColumns for ti; the state
// goes to state.
func tiScanDest(ti *windsock.TaskInstance, state *string) []any {
	return []any{&ti.DagID, &ti.TaskID, &ti.RunID, &ti.MapIndex, nullString{state},
		nullInt{&ti.TryNumber}, nullInt{&ti.MaxTries}, nullTimePtr{&ti.StartDate},
		nullTimePtr{&ti.EndDate}, nullFloat64Ptr{&ti.Duration}, nullString{&ti.Hostname},
		nullString{&ti.Unixname}, nullInt64Ptr{&ti.JobID}, nullString{&ti.Pool},
		nullInt{&ti.PoolSlots}, nullString{&ti.Queue}, nullInt{&ti.PriorityWeight},
		nullString{&ti.Operator}, nullTimePtr{&ti.QueuedDttm}, nullInt64Ptr{&ti.QueuedByJobID},
		nullIntPtr{&ti.PID}, nullString{&ti.Executor}, nullString{&ti.RenderedMapIndex}, nullTime{&ti.UpdatedAt},
		nullTimePtr{&ti.LastHeartbeatAt}, nullTimePtr{&ti.NextRetryAt}, nullString{&ti.Note}}
}

// XComQuery returns XCom entries with their run's logical date, paged, and
// the number of matches.
func (q *queries) XComQuery(ctx context.Context, params *store.XComQueryParams) ([]*store.XComEntry, int, error) {
	if params == nil {
		params = &store.XComQueryParams{}
	}
	var f runFilter
	f.dagIDs("xcom.dag_id", params.DagIDs, params.OnlyDagIDs)
	if params.RunID != "" {
		f.add("xcom.run_id = ?", params.RunID)
	}
	if params.TaskID != "" {
		f.add("xcom.task_id = ?", params.TaskID)
	}
	if params.MapIndex != nil {
		f.add("xcom.map_index = ?", *params.MapIndex)
	}
	if params.Key != "" {
		f.add(`xcom."key" = ?`, params.Key)
	}
	total, err := q.countWhere(ctx, "xcom", &f)
	if err != nil {
		return nil, 0, fmt.Errorf("query xcom entries: %w", err)
	}
	if total == 0 || (params.Limit > 0 && params.Offset >= total) {
		return nil, total, nil
	}
	clause, pageArgs := limitOffset(params.Limit, params.Offset)
	rows, err := q.query(ctx, `SELECT xcom.dag_run_id, xcom.task_id, xcom.map_index, xcom."key", xcom.dag_id,
			xcom.run_id, xcom.value, xcom.timestamp, dag_run.execution_date
		FROM xcom JOIN dag_run ON dag_run.id = xcom.dag_run_id`+f.clause()+`
		ORDER BY xcom.dag_id, xcom.run_id, xcom.task_id, xcom.map_index, xcom."key"`+clause,
		append(f.args, pageArgs...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("query xcom entries: %w", err)
	}
	defer rows.Close()
	var out []*store.XComEntry
	for rows.Next() {
		x := &windsock.XCom{}
		e := &store.XComEntry{XCom: x}
		if err := rows.Scan(&x.DagRunID, &x.TaskID, &x.MapIndex, &x.Key, &x.DagID, &x.RunID, &x.Value,
			nullTime{&x.Timestamp}, nullTime{&e.LogicalDate}); err != nil {
			return nil, 0, fmt.Errorf("query xcom entries: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("query xcom entries: %w", err)
	}
	return out, total, nil
}

// tiQueryFilter is TaskInstanceQuery's WHERE clause and the FROM it
// needs (joined to dag_run only when a filter names the run).
func tiQueryFilter(params *store.TaskInstanceQueryParams) (runFilter, string) {
	var f runFilter
	f.dagIDs("task_instance.dag_id", params.DagIDs, params.OnlyDagIDs)
	f.in("task_instance.run_id", params.RunIDs)
	f.in("task_instance.task_id", params.TaskIDs)
	if params.OnlyMapped {
		f.add("task_instance.map_index >= ?", 0)
	}
	if params.MapIndex != nil {
		f.add("task_instance.map_index = ?", *params.MapIndex)
	}
	if cond, args := stateFilter(params.States, false); cond != "" {
		f.add(cond, args...)
	}
	f.in("task_instance.pool", params.Pools)
	f.in("task_instance.queue", params.Queues)
	f.in("task_instance.executor", params.Executors)
	f.timeRange("dag_run.execution_date", params.LogicalDate)
	f.timeRange("task_instance.start_date", params.StartDate)
	f.timeRange("task_instance.end_date", params.EndDate)
	f.timeRange("task_instance.updated_at", params.UpdatedAt)
	if params.DurationGTE != nil {
		f.add("task_instance.duration >= ?", *params.DurationGTE)
	}
	if params.DurationLTE != nil {
		f.add("task_instance.duration <= ?", *params.DurationLTE)
	}
	from := "task_instance"
	if strings.Contains(f.clause(), "dag_run.") {
		from += tiRunJoin
	}
	return f, from
}

// DagRunCountsByPeriod counts the matching runs started in each period by
// state, in one query: a CASE over the bounds numbers each run's period,
// which both dialects evaluate alike (no date functions).
func (q *queries) DagRunCountsByPeriod(ctx context.Context, params *store.DagRunPeriodCountParams) ([]map[windsock.DagRunState]int, error) {
	n := len(params.Bounds) - 1
	if n < 1 {
		return nil, windsock.Errorf(windsock.EINVALID, "count dag runs by period: at least two bounds are needed")
	}
	var bucket strings.Builder
	var args []any
	bucket.WriteString("CASE")
	for i, b := range params.Bounds[1:] {
		fmt.Fprintf(&bucket, " WHEN dag_run.start_date < ? THEN %d", i)
		args = append(args, utc(b))
	}
	bucket.WriteString(" END")
	var f runFilter
	f.dagIDs("dag_run.dag_id", params.DagIDs, params.OnlyDagIDs)
	f.add("dag_run.start_date >= ?", utc(params.Bounds[0]))
	f.add("dag_run.start_date < ?", utc(params.Bounds[n]))
	rows, err := q.query(ctx, `SELECT `+bucket.String()+`, dag_run.state, COUNT(*) FROM dag_run`+f.clause()+
		` GROUP BY 1, 2`, append(args, f.args...)...)
	if err != nil {
		return nil, fmt.Errorf("count dag runs by period: %w", err)
	}
	defer rows.Close()
	out := make([]map[windsock.DagRunState]int, n)
	for i := range out {
		out[i] = map[windsock.DagRunState]int{}
	}
	for rows.Next() {
		var period, count int
		var state string
		if err := rows.Scan(&period, nullString{&state}, &count); err != nil {
			return nil, fmt.Errorf("count dag runs by period: %w", err)
		}
		out[period][windsock.DagRunState(state)] += count
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count dag runs by period: %w", err)
	}
	return out, nil
}

// TaskInstanceStateCounts counts the matching task instances by state in
// one grouped query.
func (q *queries) TaskInstanceStateCounts(ctx context.Context, params *store.TaskInstanceQueryParams) (map[windsock.TaskInstanceState]int, error) {
	f, from := tiQueryFilter(params)
	rows, err := q.query(ctx, `SELECT task_instance.state, COUNT(*) FROM `+from+f.clause()+` GROUP BY task_instance.state`, f.args...)
	if err != nil {
		return nil, fmt.Errorf("count task instances by state: %w", err)
	}
	defer rows.Close()
	out := map[windsock.TaskInstanceState]int{}
	for rows.Next() {
		var state string
		var count int
		if err := rows.Scan(nullString{&state}, &count); err != nil {
			return nil, fmt.Errorf("count task instances by state: %w", err)
		}
		out[windsock.TaskInstanceState(state)] += count
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count task instances by state: %w", err)
	}
	return out, nil
}
