package template

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/windsock"
)

// Sources are what templates may read beyond the run itself. Every field is
// optional: a template that uses a missing source fails with an error
// saying so.
type Sources struct {
	// Variable returns a Variable's value (var.value.<key>, var.json.<key>);
	// an error with code windsock.ENOTFOUND when there is none.
	Variable func(ctx context.Context, key string) (string, error)
	// Connection returns a connection (conn.<conn_id>.host, ...); an error
	// with code windsock.ENOTFOUND when there is none.
	Connection func(ctx context.Context, connID string) (*operator.Connection, error)
	// XComPull looks up one task's XCom value for ti.xcom_pull; found is
	// false when there is none. See XComPullParams.
	XComPull func(ctx context.Context, p XComPullParams) (value any, found bool, err error)
	// PrevSuccess returns the DAG's latest successful run before this one,
	// nil when there is none (prev_data_interval_start_success, ...).
	PrevSuccess func(ctx context.Context) (*windsock.DagRun, error)
	// DisableConfOverridesParams is [core] dag_run_conf_overrides_params
	// set to False: dag_run.conf then no longer overrides params. The zero
	// value is Airflow's default (conf overrides params).
	DisableConfOverridesParams bool
	// DatasetEvents returns the dataset events that triggered the run
	// (triggering_dataset_events of a dataset_triggered run).
	DatasetEvents func(ctx context.Context) ([]*windsock.DatasetEvent, error)
	// Now is the clock of macros.time.time(); nil means time.Now.
	Now func() time.Time
}

// XComPullParams selects the XCom value of one task for ti.xcom_pull.
// ti.xcom_pull with a list of task ids makes one call per task id.
type XComPullParams struct {
	DagID string
	RunID string
	// TaskID is the task that pushed the value; "" (task_ids=None) means
	// any task.
	TaskID string
	// Key defaults to "return_value"; "" (key=None) means any key.
	Key string
	// MapIndex selects one mapped task instance. Nil is Airflow's default:
	// the unmapped value, or the list of every mapped instance's value in
	// map index order when the task is mapped.
	MapIndex *int
}

// Context is Airflow's template context for one try of a task: ds, ts,
// params, dag_run, ti, var, conn, macros and the rest, keyed by their
// Airflow names. Dates are DateTime values; dag, task, dag_run and ti are
// objects with Airflow's attributes. Build it with NewContext, use it with
// Render, RenderFields and JSON. Callers may add keys (templates_dict, ...).
type Context map[string]any

// WithTask returns a copy of c whose "task" is task, for a template
// rendered after the operator ran (map_index_template sees the rendered
// arguments), without building the context again: that costs queries.
func (c Context) WithTask(dag *windsock.DAG, task *windsock.Task) Context {
	cp := make(Context, len(c))
	for k, v := range c {
		cp[k] = v
	}
	dagObj, _ := c["dag"].(*object)
	if dagObj == nil {
		dagObj = dagObject(dag)
	}
	taskObj := taskObject(dag, task, dagObj)
	cp["task"] = taskObj
	// ti.task is the same task in Airflow: give the copy's ti the new one.
	if ti, ok := c["ti"].(*taskInstance); ok {
		attrs := make(map[string]any, len(ti.obj.attrs))
		for k, v := range ti.obj.attrs {
			attrs[k] = v
		}
		attrs["task"] = taskObj
		tiCopy := *ti
		tiCopy.obj = &object{repr: ti.obj.repr, attrs: attrs}
		cp["ti"], cp["task_instance"] = &tiCopy, &tiCopy
	}
	return cp
}

// NewContext builds Airflow 2.10's template context for one try.
func NewContext(ctx context.Context, dag *windsock.DAG, task *windsock.Task, run *windsock.DagRun, ti *windsock.TaskInstance, src Sources) (Context, error) {
	logical := run.LogicalDate.UTC()
	start, end := logical, logical
	if run.DataIntervalStart != nil {
		start = run.DataIntervalStart.UTC()
	}
	if run.DataIntervalEnd != nil {
		end = run.DataIntervalEnd.UTC()
	}
	var prev *windsock.DagRun
	if src.PrevSuccess != nil {
		var err error
		if prev, err = src.PrevSuccess(ctx); err != nil {
			return nil, fmt.Errorf("build template context: previous successful run: %w", err)
		}
	}
	now := src.Now
	if now == nil {
		now = time.Now
	}
	ds := logical.Format("2006-01-02")
	ts := windsock.ISOFormat(logical)
	next := nextLogicalDate(dag, run, start, end)
	prevDate := prevLogicalDate(dag, run, start, end)

	dagObj := dagObject(dag)
	taskObj := taskObject(dag, task, dagObj)
	runObj := dagRunObject(run, start, end)
	tiRef := &taskInstance{obj: taskInstanceObject(ti, task, taskObj, runObj, logical), pull: src.XComPull, dagID: ti.DagID, runID: ti.RunID}

	c := Context{
		"dag":                              dagObj,
		"task":                             taskObj,
		"dag_run":                          runObj,
		"ti":                               tiRef,
		"task_instance":                    tiRef,
		"run_id":                           run.RunID,
		"ds":                               ds,
		"ds_nodash":                        strings.ReplaceAll(ds, "-", ""),
		"ts":                               ts,
		"ts_nodash":                        logical.Format("20060102T150405"),
		"ts_nodash_with_tz":                strings.NewReplacer("-", "", ":", "").Replace(ts),
		"logical_date":                     contextDate(logical),
		"execution_date":                   contextDate(logical),
		"data_interval_start":              contextDate(start),
		"data_interval_end":                contextDate(end),
		"next_execution_date":              optionalDate(next),
		"next_ds":                          dsOf(next, "2006-01-02"),
		"next_ds_nodash":                   dsOf(next, "20060102"),
		"prev_execution_date":              optionalDate(prevDate),
		"prev_ds":                          dsOf(prevDate, "2006-01-02"),
		"prev_ds_nodash":                   dsOf(prevDate, "20060102"),
		"yesterday_ds":                     logical.AddDate(0, 0, -1).Format("2006-01-02"),
		"yesterday_ds_nodash":              logical.AddDate(0, 0, -1).Format("20060102"),
		"tomorrow_ds":                      logical.AddDate(0, 0, 1).Format("2006-01-02"),
		"tomorrow_ds_nodash":               logical.AddDate(0, 0, 1).Format("20060102"),
		"task_instance_key_str":            ti.DagID + "__" + ti.TaskID + "__" + strings.ReplaceAll(ds, "-", ""),
		"params":                           params(dag, task, run, src.DisableConfOverridesParams),
		"var":                              variables{get: src.Variable},
		"conn":                             connections{get: src.Connection},
		"macros":                           newMacros(now),
		"inlets":                           []any{},
		"outlets":                          []any{},
		"triggering_dataset_events":        map[string]any{},
		"expanded_ti_count":                nil,
		"map_index_template":               nil,
		"test_mode":                        false,
		"prev_data_interval_start_success": nil,
		"prev_data_interval_end_success":   nil,
		"prev_start_date_success":          nil,
		"prev_end_date_success":            nil,
		"prev_execution_date_success":      nil,
	}
	if run.RunType == windsock.RunTypeDatasetTriggered && src.DatasetEvents != nil {
		evs, err := src.DatasetEvents(ctx)
		if err != nil {
			return nil, fmt.Errorf("build template context: triggering dataset events: %w", err)
		}
		c["triggering_dataset_events"] = triggeringDatasetEvents(evs)
	}
	if prev != nil {
		c["prev_data_interval_start_success"] = optionalDate(prev.DataIntervalStart)
		c["prev_data_interval_end_success"] = optionalDate(prev.DataIntervalEnd)
		c["prev_start_date_success"] = optionalDate(prev.StartDate)
		c["prev_end_date_success"] = optionalDate(prev.EndDate)
		c["prev_execution_date_success"] = contextDate(prev.LogicalDate)
	}
	return c, nil
}

// JSON returns a JSON-friendly copy of the context for a subprocess (the
// python operator): strings, numbers, booleans, lists and maps only. Dates
// are isoformat strings and dag, task, dag_run and ti are maps of their
// attributes. var, conn and macros are left out: they read secrets or run
// code, which a copy cannot do.
func (c Context) JSON() map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		switch k {
		case "var", "conn", "macros":
			continue
		}
		out[k] = jsonValue(v)
	}
	return out
}

// params is Airflow's params: the DAG's, then the task's on top, then
// dag_run.conf on top unless disabled.
func params(dag *windsock.DAG, task *windsock.Task, run *windsock.DagRun, noConf bool) map[string]any {
	p := map[string]any{}
	maps.Copy(p, dag.Params)
	if tp, ok := task.Args["params"].(map[string]any); ok {
		maps.Copy(p, tp)
	}
	if !noConf {
		maps.Copy(p, run.Conf)
	}
	return p
}

// nextLogicalDate is Airflow's deprecated next_execution_date: the logical
// date itself for a manually triggered run, else the logical date of the
// run the schedule would create after this one.
func nextLogicalDate(dag *windsock.DAG, run *windsock.DagRun, start, end time.Time) *time.Time {
	if run.ExternalTrigger {
		t := run.LogicalDate.UTC()
		return &t
	}
	loc := time.UTC
	// Only cron schedules read the zone, and loading one costs more than
	// the rest of the context together.
	if dag.Schedule.Kind == windsock.ScheduleCron && dag.Timezone != "" && dag.Timezone != "UTC" {
		if l, err := time.LoadLocation(dag.Timezone); err == nil {
			loc = l
		}
	}
	tt, err := schedule.New(dag.Schedule, loc)
	if err != nil || !tt.Periodic() {
		return nil
	}
	info, ok := tt.NextRun(&schedule.DataInterval{Start: start, End: end}, schedule.Restriction{Catchup: true}, end)
	if !ok {
		return nil
	}
	t := info.LogicalDate()
	return &t
}

// prevLogicalDate is Airflow's deprecated prev_execution_date: the logical
// date itself for a manually triggered run, else the schedule point before
// it. For cron schedules this assumes the previous interval is as long as
// the current one, which holds for the presets and regular expressions.
func prevLogicalDate(dag *windsock.DAG, run *windsock.DagRun, start, end time.Time) *time.Time {
	if run.ExternalTrigger {
		t := run.LogicalDate.UTC()
		return &t
	}
	var t time.Time
	switch dag.Schedule.Kind {
	case windsock.ScheduleInterval:
		t = run.LogicalDate.UTC().Add(-dag.Schedule.Interval.Std())
	case windsock.ScheduleCron:
		if !end.After(start) {
			return nil
		}
		t = start.Add(-end.Sub(start))
	default:
		return nil
	}
	return &t
}

func dsOf(t *time.Time, layout string) any {
	if t == nil {
		return nil
	}
	return t.Format(layout)
}

// dagObject is the DAG as templates see it ({{ dag.dag_id }}).
func dagObject(dag *windsock.DAG) *object {
	taskIDs := make([]any, len(dag.Tasks))
	for i, t := range dag.Tasks {
		taskIDs[i] = t.TaskID
	}
	return &object{repr: "<DAG: " + dag.DagID + ">", attrs: map[string]any{
		"dag_id":                  dag.DagID,
		"dag_display_name":        dag.DagID,
		"description":             nilIfEmpty(dag.Description),
		"doc_md":                  nilIfEmpty(dag.DocMD),
		"fileloc":                 dag.Fileloc,
		"owner":                   strings.Join(dag.Owners, ", "),
		"tags":                    stringList(dag.Tags),
		"params":                  copyMap(dag.Params),
		"timezone":                dag.Timezone,
		"schedule_interval":       nilIfEmpty(dag.Schedule.Expr),
		"start_date":              optionalDate(dag.StartDate),
		"end_date":                optionalDate(dag.EndDate),
		"catchup":                 dag.Catchup,
		"max_active_runs":         dag.MaxActiveRuns,
		"max_active_tasks":        dag.MaxActiveTasks,
		"default_args":            copyMap(dag.DefaultArgs),
		"task_ids":                taskIDs,
		"is_paused_upon_creation": dag.IsPausedUponCreation,
	}}
}

// taskObject is the task as templates see it ({{ task.task_id }}): the
// BaseOperator attributes, then the operator's own arguments as written.
func taskObject(dag *windsock.DAG, task *windsock.Task, dagObj *object) *object {
	var downstream []any
	for _, t := range dag.Tasks {
		for _, up := range t.Upstream {
			if up == task.TaskID {
				downstream = append(downstream, t.TaskID)
			}
		}
	}
	attrs := map[string]any{}
	for k, v := range task.Args {
		attrs[k] = v
	}
	maps.Copy(attrs, map[string]any{
		"task_id":                   task.TaskID,
		"dag_id":                    dag.DagID,
		"dag":                       dagObj,
		"owner":                     task.Owner,
		"task_type":                 task.OperatorClass,
		"operator_name":             task.OperatorClass,
		"retries":                   task.Retries,
		"retry_delay":               timedelta{task.RetryDelay.Std()},
		"retry_exponential_backoff": task.RetryExponentialBackoff,
		"execution_timeout":         optionalTimedelta(task.ExecutionTimeout),
		"trigger_rule":              string(task.TriggerRule),
		"depends_on_past":           task.DependsOnPast,
		"wait_for_downstream":       task.WaitForDownstream,
		"pool":                      task.Pool,
		"pool_slots":                task.PoolSlots,
		"priority_weight":           task.PriorityWeight,
		"weight_rule":               string(task.WeightRule),
		"queue":                     task.Queue,
		"do_xcom_push":              task.DoXComPush,
		"start_date":                optionalDate(task.StartDate),
		"end_date":                  optionalDate(task.EndDate),
		"task_group":                nilIfEmpty(task.TaskGroup),
		"upstream_task_ids":         stringList(task.Upstream),
		"downstream_task_ids":       downstream,
		"params":                    params(dag, task, &windsock.DagRun{}, true),
	})
	if downstream == nil {
		attrs["downstream_task_ids"] = []any{}
	}
	return &object{repr: "<Task(" + task.OperatorClass + "): " + task.TaskID + ">", attrs: attrs}
}

// dagRunObject is the DAG run as templates see it ({{ dag_run.conf }}).
func dagRunObject(run *windsock.DagRun, start, end time.Time) *object {
	conf := copyMap(run.Conf)
	queued := "None"
	if run.QueuedAt != nil {
		queued = DateTime{t: run.QueuedAt.UTC(), stdlib: true}.String()
	}
	repr := fmt.Sprintf("<DagRun %s @ %s: %s, state:%s, queued_at: %s. externally triggered: %s>",
		run.DagID, DateTime{t: run.LogicalDate.UTC(), stdlib: true}, run.RunID, run.State, queued, pyBool(run.ExternalTrigger))
	return &object{repr: repr, attrs: map[string]any{
		"id":                  run.ID,
		"dag_id":              run.DagID,
		"run_id":              run.RunID,
		"run_type":            string(run.RunType),
		"state":               string(run.State),
		"conf":                conf,
		"external_trigger":    run.ExternalTrigger,
		"logical_date":        contextDate(run.LogicalDate),
		"execution_date":      contextDate(run.LogicalDate),
		"data_interval_start": contextDate(start),
		"data_interval_end":   contextDate(end),
		"start_date":          optionalDate(run.StartDate),
		"end_date":            optionalDate(run.EndDate),
		"queued_at":           optionalDate(run.QueuedAt),
		"clear_number":        run.ClearNumber,
		"note":                nilIfEmpty(run.Note),
	}}
}

// taskInstanceObject is the task instance as templates see it ({{ ti.try_number }}).
func taskInstanceObject(ti *windsock.TaskInstance, task *windsock.Task, taskObj, runObj *object, logical time.Time) *object {
	state := "None"
	if ti.State != "" {
		state = string(ti.State)
	}
	repr := "<TaskInstance: " + ti.DagID + "." + ti.TaskID + " " + ti.RunID + " "
	if ti.MapIndex != -1 {
		repr += fmt.Sprintf("map_index=%d ", ti.MapIndex)
	}
	repr += "[" + state + "]>"
	var pid, jobID, duration any
	if ti.PID != nil {
		pid = *ti.PID
	}
	if ti.JobID != nil {
		jobID = *ti.JobID
	}
	if ti.Duration != nil {
		duration = *ti.Duration
	}
	return &object{repr: repr, attrs: map[string]any{
		"dag_id":          ti.DagID,
		"task_id":         ti.TaskID,
		"run_id":          ti.RunID,
		"map_index":       ti.MapIndex,
		"try_number":      ti.TryNumber,
		"max_tries":       ti.MaxTries,
		"state":           nilIfEmpty(string(ti.State)),
		"hostname":        ti.Hostname,
		"unixname":        ti.Unixname,
		"pool":            ti.Pool,
		"pool_slots":      ti.PoolSlots,
		"queue":           ti.Queue,
		"priority_weight": ti.PriorityWeight,
		"operator":        ti.Operator,
		"executor":        nilIfEmpty(ti.Executor),
		"pid":             pid,
		"job_id":          jobID,
		"duration":        duration,
		"start_date":      optionalDate(ti.StartDate),
		"end_date":        optionalDate(ti.EndDate),
		"queued_dttm":     optionalDate(ti.QueuedDttm),
		"execution_date":  contextDate(logical),
		"logical_date":    contextDate(logical),
		"task":            taskObj,
		"dag_run":         runObj,
		"log_url":         nil,
		"owner":           task.Owner,
	}}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func stringList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	maps.Copy(out, m)
	return out
}

func optionalTimedelta(d windsock.Duration) any {
	if d == 0 {
		return nil
	}
	return timedelta{d.Std()}
}
