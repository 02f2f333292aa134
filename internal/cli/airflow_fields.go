package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/api"
	"github.com/windsock/windsock/internal/dagprocessor"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/windsock"
)

// The -o output of each command, one table per command, with the field
// names, order and value shapes of Airflow 2.10's airflow/cli/commands/*.py
// mappers (the command's Airflow function is named above each table).
// Where the mapper calls .isoformat() the value is windsock.ISOFormat (a
// "T" between date and time); where it hands a datetime to the console the
// value is the time itself, printed as Python's str() (a space). Tables
// marked Windsock-only have no Airflow counterpart.

// dagSchemaFields: the fields of Airflow's api_connexion dag_schema, which
// dag_command.dag_list_dags prints (--columns picks among them; the
// default is dagsListColumns). Dates are marshmallow's ISO strings. Left
// out: file_token (a signed token of Airflow's webserver) and the pickling
// fields Windsock has no use for beyond None.
var dagSchemaFields = fields[*windsock.DAGModel]{
	{"dag_id", func(d *windsock.DAGModel) any { return d.DagID }},
	{"dag_display_name", func(d *windsock.DAGModel) any { return d.DagID }},
	{"is_paused", func(d *windsock.DAGModel) any { return d.IsPaused }},
	{"is_active", func(d *windsock.DAGModel) any { return d.IsActive }},
	{"last_parsed_time", func(d *windsock.DAGModel) any { return isoOrNone(d.LastParsedTime) }},
	{"last_pickled", func(d *windsock.DAGModel) any { return nil }},
	{"last_expired", func(d *windsock.DAGModel) any { return nil }},
	{"scheduler_lock", func(d *windsock.DAGModel) any { return nil }},
	{"pickle_id", func(d *windsock.DAGModel) any { return nil }},
	{"default_view", func(d *windsock.DAGModel) any { return noneIfEmpty(d.DefaultView) }},
	{"fileloc", func(d *windsock.DAGModel) any { return d.Fileloc }},
	{"owners", func(d *windsock.DAGModel) any { return splitOwners(d.Owners) }},
	{"description", func(d *windsock.DAGModel) any { return noneIfEmpty(d.Description) }},
	{"schedule_interval", func(d *windsock.DAGModel) any { return scheduleInterval(d.ScheduleInterval) }},
	{"timetable_description", func(d *windsock.DAGModel) any { return noneIfEmpty(d.TimetableDescription) }},
	{"tags", func(d *windsock.DAGModel) any { return tagObjects(d.Tags) }},
	{"max_active_tasks", func(d *windsock.DAGModel) any { return d.MaxActiveTasks }},
	{"max_active_runs", func(d *windsock.DAGModel) any { return d.MaxActiveRuns }},
	{"has_task_concurrency_limits", func(d *windsock.DAGModel) any { return d.HasTaskConcurrencyLimits }},
	{"has_import_errors", func(d *windsock.DAGModel) any { return d.HasImportErrors }},
	{"next_dagrun", func(d *windsock.DAGModel) any { return isoOrNone(d.NextDagrun) }},
	{"next_dagrun_data_interval_start", func(d *windsock.DAGModel) any { return isoOrNone(d.NextDagrunDataIntervalStart) }},
	{"next_dagrun_data_interval_end", func(d *windsock.DAGModel) any { return isoOrNone(d.NextDagrunDataIntervalEnd) }},
	{"next_dagrun_create_after", func(d *windsock.DAGModel) any { return isoOrNone(d.NextDagrunCreateAfter) }},
}

// dagsListColumns is the default of dags list --columns.
var dagsListColumns = []string{"dag_id", "fileloc", "owners", "is_paused"}

// selectColumns returns the columns of fs named in names, in that order,
// and the names that are not columns of fs.
func selectColumns[T any](fs fields[T], names []string) (fields[T], []string) {
	var out fields[T]
	var invalid []string
	for _, n := range names {
		i := slices.IndexFunc(fs, func(c column[T]) bool { return c.name == n })
		if i < 0 {
			invalid = append(invalid, n)
			continue
		}
		out = append(out, fs[i])
	}
	return out, invalid
}

func isoOrNone(t *time.Time) any {
	if t == nil {
		return nil
	}
	return windsock.ISOFormat(*t)
}

// scheduleInterval is dag_schema's schedule_interval, as the REST API
// serves it ({"__type": "CronExpression", "value": "0 3 * * *"}).
func scheduleInterval(stored string) any {
	var v any
	if json.Unmarshal(api.ScheduleIntervalJSON(stored), &v) != nil {
		return nil
	}
	return v
}

// tagObjects is dag_schema's tags: a list of {"name": tag}.
func tagObjects(tags []string) []map[string]string {
	out := make([]map[string]string, len(tags))
	for i, t := range tags {
		out[i] = map[string]string{"name": t}
	}
	return out
}

// splitOwners is DAGSchema.get_owners: the stored owners split on ",".
func splitOwners(owners string) []string {
	if owners == "" {
		return []string{}
	}
	return strings.Split(owners, ",")
}

// importErrorFields: dag_command.dag_list_import_errors.
var importErrorFields = fields[*windsock.ImportError]{
	{"filepath", func(e *windsock.ImportError) any { return e.Filename }},
	{"error", func(e *windsock.ImportError) any { return e.Stacktrace }},
}

// dagReportRow is one DAG file of a parsing pass, its path relative to the
// DAG folder as Airflow's dagbag_stats has it.
type dagReportRow struct {
	file string
	dagprocessor.FileReport
}

// dagReportFields: dag_command.dag_report (duration is a timedelta).
var dagReportFields = fields[dagReportRow]{
	{"file", func(r dagReportRow) any { return r.file }},
	{"duration", func(r dagReportRow) any { return r.Duration }},
	{"dag_num", func(r dagReportRow) any { return len(r.DagIDs) }},
	{"task_num", func(r dagReportRow) any { return r.Tasks }},
	{"dags", func(r dagReportRow) any { return sortedCopy(r.DagIDs) }},
}

// dagPauseFields: dag_command.set_is_paused (dags pause and unpause).
var dagPauseFields = fields[*windsock.DAGModel]{
	{"dag_id", func(d *windsock.DAGModel) any { return d.DagID }},
	{"is_paused", func(d *windsock.DAGModel) any { return d.IsPaused }},
}

// dagRunListFields: dag_command.dag_list_dag_runs.
var dagRunListFields = fields[*windsock.DagRun]{
	{"dag_id", func(r *windsock.DagRun) any { return r.DagID }},
	{"run_id", func(r *windsock.DagRun) any { return r.RunID }},
	{"state", func(r *windsock.DagRun) any { return string(r.State) }},
	{"execution_date", func(r *windsock.DagRun) any { return windsock.ISOFormat(r.LogicalDate) }},
	{"start_date", func(r *windsock.DagRun) any { return isoOrEmpty(r.StartDate) }},
	{"end_date", func(r *windsock.DagRun) any { return isoOrEmpty(r.EndDate) }},
}

// dagTriggerFields: dag_command.dag_trigger, the dict api/client/
// local_client.py's trigger_dag returns (datetimes as they are).
var dagTriggerFields = fields[*windsock.DagRun]{
	{"conf", func(r *windsock.DagRun) any { return runConf(r) }},
	{"dag_id", func(r *windsock.DagRun) any { return r.DagID }},
	{"dag_run_id", func(r *windsock.DagRun) any { return r.RunID }},
	{"data_interval_start", func(r *windsock.DagRun) any { return r.DataIntervalStart }},
	{"data_interval_end", func(r *windsock.DagRun) any { return r.DataIntervalEnd }},
	{"end_date", func(r *windsock.DagRun) any { return r.EndDate }},
	{"external_trigger", func(r *windsock.DagRun) any { return r.ExternalTrigger }},
	{"last_scheduling_decision", func(r *windsock.DagRun) any { return r.LastSchedulingDecision }},
	{"logical_date", func(r *windsock.DagRun) any { return r.LogicalDate }},
	{"run_type", func(r *windsock.DagRun) any { return string(r.RunType) }},
	{"start_date", func(r *windsock.DagRun) any { return r.StartDate }},
	{"state", func(r *windsock.DagRun) any { return string(r.State) }},
}

func runConf(r *windsock.DagRun) map[string]any {
	if r.Conf == nil {
		return map[string]any{}
	}
	return r.Conf
}

// taskStateRow is a task instance with the logical date of its run.
type taskStateRow struct {
	*windsock.TaskInstance
	logicalDate time.Time
}

// taskStatesFields: task_command.task_states_for_dag_run; map_index is
// added when the run has mapped task instances (taskStatesMapIndex).
var taskStatesFields = fields[taskStateRow]{
	{"dag_id", func(r taskStateRow) any { return r.DagID }},
	{"execution_date", func(r taskStateRow) any { return windsock.ISOFormat(r.logicalDate) }},
	{"task_id", func(r taskStateRow) any { return r.TaskID }},
	{"state", func(r taskStateRow) any { return taskState(r.State) }},
	{"start_date", func(r taskStateRow) any { return isoOrEmpty(r.StartDate) }},
	{"end_date", func(r taskStateRow) any { return isoOrEmpty(r.EndDate) }},
}

var taskStatesMapIndex = column[taskStateRow]{"map_index", func(r taskStateRow) any {
	if r.MapIndex < 0 {
		return ""
	}
	return r.MapIndex
}}

// taskState is a task instance's state as Airflow holds it: None when it
// has none yet.
func taskState(s windsock.TaskInstanceState) any {
	if s == windsock.TaskStateNone {
		return nil
	}
	return string(s)
}

// taskListFields (Windsock-only: Airflow's tasks list prints task ids).
var taskListFields = fields[*windsock.Task]{
	{"task_id", func(t *windsock.Task) any { return t.TaskID }},
	{"operator", func(t *windsock.Task) any { return t.OperatorClass }},
	{"upstream_task_ids", func(t *windsock.Task) any { return sortedCopy(t.Upstream) }},
	{"trigger_rule", func(t *windsock.Task) any { return string(t.TriggerRule) }},
	{"task_group", func(t *windsock.Task) any { return t.TaskGroup }},
}

// variableListFields: variable_command.variables_list.
var variableListFields = fields[*windsock.Variable]{
	{"key", func(v *windsock.Variable) any { return v.Key }},
}

// connectionRow is a decrypted connection and what the store knows of it:
// its row id and encryption flags, nil for a connection defined in the
// environment (Airflow's id None, is_encrypted False).
type connectionRow struct {
	*secrets.Connection
	stored *windsock.Connection
}

// connectionFields: connection_command._connection_mapper (connections get
// and list). Unlike Airflow, secrets stay masked: the password, extra
// fields with sensitive names, and both inside get_uri; `connections
// export` is the way to read them.
var connectionFields = fields[connectionRow]{
	{"id", func(c connectionRow) any {
		if c.stored == nil {
			return nil
		}
		return c.stored.ID
	}},
	{"conn_id", func(c connectionRow) any { return c.ConnID }},
	{"conn_type", func(c connectionRow) any { return c.ConnType }},
	{"description", func(c connectionRow) any { return noneIfEmpty(c.Description) }},
	{"host", func(c connectionRow) any { return noneIfEmpty(c.Host) }},
	{"schema", func(c connectionRow) any { return noneIfEmpty(c.Schema) }},
	{"login", func(c connectionRow) any { return noneIfEmpty(c.Login) }},
	{"password", func(c connectionRow) any { return noneIfEmpty(maskedConnection(c.Connection).Password) }},
	{"port", func(c connectionRow) any {
		if c.Port == 0 {
			return nil
		}
		return c.Port
	}},
	{"is_encrypted", func(c connectionRow) any { return c.stored != nil && c.stored.IsEncrypted }},
	// Airflow's mapper reads is_encrypted here too.
	{"is_extra_encrypted", func(c connectionRow) any { return c.stored != nil && c.stored.IsEncrypted }},
	{"extra_dejson", func(c connectionRow) any { return extraDejson(maskedConnection(c.Connection).Extra) }},
	{"get_uri", func(c connectionRow) any { return maskedConnection(c.Connection).URI() }},
}

// noneIfEmpty is how an unset connection field reads in Airflow: None.
func noneIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// extraDejson is Connection.extra_dejson: the extra as a dict, {} when it
// is empty or not a JSON object.
func extraDejson(extra string) map[string]any {
	m := map[string]any{}
	if extra != "" {
		if err := json.Unmarshal([]byte(extra), &m); err != nil || m == nil {
			return map[string]any{}
		}
	}
	return m
}

// maskedConnection is a copy of c with its password and sensitive extra
// fields replaced by maskedPassword.
func maskedConnection(c *secrets.Connection) *secrets.Connection {
	m := *c
	if m.Password != "" {
		m.Password = maskedPassword
	}
	var extra map[string]any
	if m.Extra != "" && json.Unmarshal([]byte(m.Extra), &extra) == nil && extra != nil {
		masked := false
		for k := range extra {
			if secrets.IsSensitiveName(k) {
				extra[k] = maskedPassword
				masked = true
			}
		}
		if masked {
			if b, err := json.Marshal(extra); err == nil {
				m.Extra = string(b)
			}
		}
	}
	return &m
}

// poolFields: pool_command._show_pools (pools get and list).
var poolFields = fields[*windsock.Pool]{
	{"pool", func(p *windsock.Pool) any { return p.Pool }},
	{"slots", func(p *windsock.Pool) any { return p.Slots }},
	{"description", func(p *windsock.Pool) any { return p.Description }},
	{"include_deferred", func(p *windsock.Pool) any { return p.IncludeDeferred }},
}

// userListFields: the FAB provider's user_command.users_list.
var userListFields = fields[*windsock.User]{
	{"id", func(u *windsock.User) any { return u.ID }},
	{"username", func(u *windsock.User) any { return u.Username }},
	{"email", func(u *windsock.User) any { return u.Email }},
	{"first_name", func(u *windsock.User) any { return u.FirstName }},
	{"last_name", func(u *windsock.User) any { return u.LastName }},
	{"roles", func(u *windsock.User) any { return u.Roles }},
}

// roleListFields: the FAB provider's role_command.roles_list.
var roleListFields = fields[string]{
	{"name", func(n string) any { return n }},
}

// rolePermission is one role's actions on one resource.
type rolePermission struct {
	role, resource string
	actions        []string
}

// rolePermissionFields: role_command.roles_list with -p.
var rolePermissionFields = fields[rolePermission]{
	{"name", func(p rolePermission) any { return p.role }},
	{"resource", func(p rolePermission) any { return p.resource }},
	{"action", func(p rolePermission) any { return strings.Join(sortedCopy(p.actions), ",") }},
}

// apiTokenFields (Windsock-only: users token list).
var apiTokenFields = fields[*windsock.APIToken]{
	{"id", func(t *windsock.APIToken) any { return t.ID }},
	{"name", func(t *windsock.APIToken) any { return t.Name }},
	{"created_at", func(t *windsock.APIToken) any { return t.CreatedAt }},
	{"expires_at", func(t *windsock.APIToken) any { return t.ExpiresAt }},
	{"last_used_at", func(t *windsock.APIToken) any { return t.LastUsedAt }},
}

// sortedCopy returns s sorted, leaving s as it is.
func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return out
}
