package dagfile

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// testNow is the injected "today" for relative start dates.
var testNow = time.Date(2024, 6, 10, 15, 0, 0, 0, time.UTC)

// parseTestdata parses a file under testdata with Airflow's defaults.
func parseTestdata(t testing.TB, name string) *File {
	t.Helper()
	p := filepath.Join("testdata", name)
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return ParseFile(p, src, NewDefaults(testNow), operator.Builtins())
}

func dagByID(t *testing.T, f *File, id string) *windsock.DAG {
	t.Helper()
	for _, d := range f.DAGs {
		if d.DagID == id {
			return d
		}
	}
	t.Fatalf("DAG %q not returned; errors: %v", id, f.Errors)
	return nil
}

func taskByID(t *testing.T, d *windsock.DAG, id string) *windsock.Task {
	t.Helper()
	task := d.Task(id)
	if task == nil {
		t.Fatalf("DAG %s has no task %q", d.DagID, id)
	}
	return task
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseFileInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		// want are "line:column: message substring" entries, in order; they
		// must be exactly the file's errors.
		want   []string
		broken []string
		valid  []string
	}{
		{
			file: "syntax.yaml",
			// yaml.v3 reports the line before the flow sequence it was parsing.
			want: []string{"3:9: YAML syntax error: did not find expected ',' or ']'"},
		},
		{
			file: "top_list.yaml",
			want: []string{"1:1: top level must be a mapping of DAG ids to DAG definitions, got a list"},
		},
		{
			file:   "dag_not_mapping.yaml",
			want:   []string{`1:9: DAG "broken" must be a mapping of DAG settings`},
			broken: []string{"broken"},
			valid:  []string{"good"},
		},
		{
			file: "unknown_keys.yaml",
			want: []string{
				`2:3: unknown DAG key "schedul" (did you mean schedule?)`,
				`4:5: task "a": BashOperator needs bash_command`,
				`6:7: unknown task key "bash_comand" for BashOperator (did you mean bash_command?)`,
			},
			broken: []string{"typo_dag"},
			valid:  []string{"good"},
		},
		{
			file: "duplicates.yaml",
			want: []string{
				`5:5: duplicate task id "a" (first defined at line 3)`,
				`11:16: duplicate task id "a" (first defined at line 9)`,
				`13:1: DAG "map_form" is defined twice in this file (first at line 1)`,
			},
			broken: []string{"map_form", "list_form"},
		},
		{
			file: "dependencies.yaml",
			want: []string{
				`5:25: dependency "nope" is not a task or task group of this DAG`,
				`18:22: cycle in dependencies: a -> b -> c -> a`,
			},
			broken: []string{"unknown_dep", "cyclic"},
		},
		{
			file: "operators.yaml",
			want: []string{
				`4:17: unknown operator "BashOperater" (did you mean BashOperator?)`,
				`6:17: unknown operator "airflow.operators.nope.NopeOperator": use a short name`,
				`9:5: task "run": BashOperator needs bash_command`,
				`11:5: task "mail": EmailOperator needs to`,
				`15:5: task "call": PythonOperator needs python_callable (or python_callable_name and python_callable_file)`,
				`17:7: python_callable_name needs python_callable_file too`,
				`18:5: task "noop" has no operator`,
			},
			broken: []string{"bad_operator", "missing_args"},
		},
		{
			file: "schedules.yaml",
			want: []string{
				`2:13: bad cron expression "0 25 * * *"`,
				`4:22: bad cron expression "0 3 * *": want 5 fields`,
				`6:13: unknown schedule preset "@fortnightly"`,
				`9:22: set either schedule or schedule_interval, not both`,
				`11:13: schedule @continuous needs max_active_runs: 1 (got 16)`,
				`13:24: dataset condition "s3://a & (s3://b": missing ) at offset 16`,
			},
			broken: []string{"bad_hour", "four_fields", "preset", "both", "continuous", "datasets"},
		},
		{
			file: "values.yaml",
			want: []string{
				`2:19: dagrun_timeout: bad duration "5 parsecs"`,
				`6:20: retry_delay: bad duration "forever"`,
				`7:31: execution_timeout_secs: must be a number of seconds, got "abc"`,
				`9:15: start_date: bad date "2024-13-01": month, day or time out of range`,
				`10:13: end_date: bad date "someday"`,
				`14:19: start_date: bad date "2024-02-30": February has no day 30`,
				`19:21: bad trigger_rule "all_sucess" (did you mean all_success?)`,
				`20:20: bad weight_rule "heavy": use downstream, upstream or absolute`,
				`22:12: catchup must be true or false, got "maybe"`,
				`23:20: max_active_runs must be at least 1, got 0`,
				`24:9: tags must be a list of strings, got "single"`,
				`28:16: retries must be a whole number, got "three"`,
				`29:19: pool_slots must be at least 1, got 0`,
				`30:24: depends_on_past must be true or false, got a list`,
			},
			broken: []string{"durations", "dates", "rules", "types"},
		},
		{
			file: "ids.yaml",
			want: []string{
				`1:1: bad DAG id: dag_id "bad id!" may contain only letters, digits`,
				`7:5: bad task id: task_id "t/1" holds a character that is not allowed`,
				`9:1: bad DAG id: dag_id ".." is not allowed`,
				`15:5: bad task id: task_id "." is not allowed`,
				`17:5: bad task id: task_id ".." is not allowed`,
			},
			broken: []string{"bad id!", "ok_dag", "..", "dot_task"},
			// Airflow's \w is Unicode-aware: letters of any script are fine.
			valid: []string{"unicode_ok_données"},
		},
		{
			file:   "long_id.yaml",
			want:   []string{"1:1: bad DAG id: dag_id must be 1 to 250 characters, got 251"},
			broken: []string{strings.Repeat("x", 251)},
		},
		{
			file: "groups.yaml",
			want: []string{
				`4:26: task group "g1" has unknown parent group "nope"`,
				`10:24: task "a" is in unknown task group "g3" (did you mean g1?)`,
			},
			broken: []string{"group_problems"},
		},
		{
			// A bad value in the default block is reported once, though it
			// breaks every DAG it reaches.
			file: "default_block.yaml",
			want: []string{
				`3:14: retries must be a whole number, got "three"`,
				`4:13: unknown timezone "Mars/Olympus"`,
			},
			broken: []string{"one", "two"},
		},
		{
			file:   "offset.yaml",
			want:   []string{`2:15: start_date: UTC offset +05:30 has no IANA time zone name`},
			broken: []string{"india"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			f := parseTestdata(t, filepath.Join("invalid", tt.file))
			var got []string
			for _, e := range f.Errors {
				got = append(got, fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Message))
			}
			want := tt.want
			if len(got) != len(want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
			}
			for i := range want {
				if !strings.HasPrefix(got[i], strings.SplitN(want[i], " ", 2)[0]) || !strings.Contains(got[i], strings.SplitN(want[i], " ", 2)[1]) {
					t.Errorf("error %d = %q, want %q", i, got[i], want[i])
				}
				if strings.Contains(f.Errors[i].Message, "\n") {
					t.Errorf("error %d spans lines: %q", i, f.Errors[i].Message)
				}
			}
			if !slices.Equal(f.BrokenDAGIDs, tt.broken) {
				t.Errorf("BrokenDAGIDs = %q, want %q", f.BrokenDAGIDs, tt.broken)
			}
			var ids []string
			for _, d := range f.DAGs {
				ids = append(ids, d.DagID)
			}
			if !slices.Equal(ids, tt.valid) {
				t.Errorf("valid DAGs = %q, want %q", ids, tt.valid)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "dags/a.yaml", Line: 3, Column: 7, Message: "bad"}, "dags/a.yaml:3:7: bad"},
		{Error{File: "dags/a.yaml", Line: 2, Message: "YAML syntax error: x"}, "dags/a.yaml:2: YAML syntax error: x"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestParseFileErrorsCarryFileAndDag(t *testing.T) {
	t.Parallel()
	f := parseTestdata(t, "invalid/unknown_keys.yaml")
	for _, e := range f.Errors {
		if e.File != filepath.Join("testdata", "invalid", "unknown_keys.yaml") || e.DagID != "typo_dag" {
			t.Errorf("error %+v: want file testdata/invalid/unknown_keys.yaml and DAG typo_dag", e)
		}
	}
}

func TestParseFileEmpty(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"", "# only a comment\n", "~\n"} {
		f := ParseFile("empty.yaml", []byte(src), NewDefaults(testNow), operator.Builtins())
		if len(f.DAGs) != 0 || len(f.Errors) != 0 || len(f.BrokenDAGIDs) != 0 {
			t.Errorf("ParseFile(%q) = %+v, want nothing", src, f)
		}
	}
}

func TestParseFileDagFactoryExample(t *testing.T) {
	t.Parallel()
	f := parseTestdata(t, "valid/dag_factory_example.yml")
	if len(f.Errors) != 0 {
		t.Fatalf("errors: %v", f.Errors)
	}
	var ids []string
	for _, d := range f.DAGs {
		ids = append(ids, d.DagID)
	}
	if want := []string{"example_dag", "example_dag2", "example_dag3", "example_dag4"}; !slices.Equal(ids, want) {
		t.Fatalf("DAGs = %q, want %q", ids, want)
	}

	d := dagByID(t, f, "example_dag")
	if got, want := *d.StartDate, time.Date(2024, 6, 8, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("start_date '2 days' = %v, want %v", got, want)
	}
	if d.Schedule.Cron != "0 3 * * *" || d.MaxActiveTasks != 1 || d.MaxActiveRuns != 1 || d.DagrunTimeout.Std() != 600*time.Second {
		t.Errorf("DAG settings: schedule %+v, max_active_tasks %d, max_active_runs %d, dagrun_timeout %v", d.Schedule, d.MaxActiveTasks, d.MaxActiveRuns, d.DagrunTimeout.Std())
	}
	if !slices.Equal(d.Owners, []string{"custom_owner"}) || !d.RenderTemplateAsNativeObj {
		t.Errorf("owners %q, render_template_as_native_obj %v", d.Owners, d.RenderTemplateAsNativeObj)
	}
	task := taskByID(t, d, "task_2")
	if task.Operator != "bash" || task.Retries != 1 || task.RetryDelay.Std() != 300*time.Second || !slices.Equal(task.Upstream, []string{"task_1"}) {
		t.Errorf("task_2 = %+v", task)
	}

	d2 := dagByID(t, f, "example_dag2")
	if d2.Timezone != "Europe/Amsterdam" || d2.StartDate.Format(time.RFC3339) != "2018-03-01T00:00:00+01:00" || d2.Schedule.Cron != "0 1 * * *" {
		t.Errorf("example_dag2: timezone %s, start %v, schedule %+v", d2.Timezone, d2.StartDate, d2.Schedule)
	}

	d3 := dagByID(t, f, "example_dag3")
	if got := taskByID(t, d3, "task_3").Args["python_callable"]; got != "/usr/local/airflow/dags/print_hello.py:print_hello" {
		t.Errorf("python_callable = %v", got)
	}

	d4 := dagByID(t, f, "example_dag4")
	if got := taskByID(t, d4, "task_group_1.task_2").Upstream; !slices.Equal(got, []string{"task_1"}) {
		t.Errorf("group root upstream = %q, want [task_1]", got)
	}
	if got := taskByID(t, d4, "task_4").Upstream; !slices.Equal(got, []string{"task_group_1.task_3"}) {
		t.Errorf("task_4 upstream = %q, want the group's leaf", got)
	}
	if len(d4.TaskGroups) != 1 || d4.TaskGroups[0].Tooltip != "this is a task group" {
		t.Errorf("task groups = %+v", d4.TaskGroups)
	}
}

func TestParseFileValid(t *testing.T) {
	t.Parallel()
	f := parseTestdata(t, "valid/multi.yaml")
	if len(f.Errors) != 0 || len(f.BrokenDAGIDs) != 0 {
		t.Fatalf("errors: %v, broken: %v", f.Errors, f.BrokenDAGIDs)
	}

	t.Run("map tasks", func(t *testing.T) {
		d := dagByID(t, f, "map_tasks")
		if d.Timezone != "Europe/Paris" || !d.StartDate.Equal(mustTime(t, "2024-03-01T05:00:00Z")) {
			t.Errorf("timezone %s, start %v", d.Timezone, d.StartDate)
		}
		if !d.EndDate.Equal(mustTime(t, "2024-12-30T23:00:00Z")) {
			t.Errorf("end_date %v, want midnight Paris time", d.EndDate)
		}
		if d.Catchup || d.MaxActiveTasks != 4 || d.DagrunTimeout.Std() != 2*time.Hour || d.Schedule.Cron != "0 0 * * *" {
			t.Errorf("catchup %v, max_active_tasks %d, dagrun_timeout %v, schedule %+v", d.Catchup, d.MaxActiveTasks, d.DagrunTimeout.Std(), d.Schedule)
		}
		if !slices.Equal(d.Tags, []string{"team-a"}) || d.Params["limit"] != 10 {
			t.Errorf("tags %q, params %v", d.Tags, d.Params)
		}
		if !slices.Equal(d.AccessControl["editors"], []string{"can_read", "can_edit"}) || !slices.Equal(d.AccessControl["viewers"], []string{"can_read"}) {
			t.Errorf("access_control %v", d.AccessControl)
		}
		extract := taskByID(t, d, "extract")
		if extract.Owner != "platform" || extract.Retries != 2 || extract.RetryDelay.Std() != 5*time.Minute ||
			extract.ExecutionTimeout.Std() != 10*time.Minute || extract.SLA.Std() != time.Hour ||
			extract.TriggerRule != windsock.TriggerAllDone || extract.Args["email_on_failure"] != true {
			t.Errorf("extract = %+v", extract)
		}
		load := taskByID(t, d, "load")
		if !load.DependsOnPast || !load.WaitForDownstream || load.DoXComPush || load.PriorityWeight != 5 ||
			load.WeightRule != windsock.WeightAbsolute || load.Pool != "etl" || load.PoolSlots != 2 || load.Queue != "heavy" ||
			load.MaxRetryDelay.Std() != 24*time.Hour || load.Args["python_callable"] != "/opt/dags/load.py:load" {
			t.Errorf("load = %+v", load)
		}
		if extract.MaxRetryDelay != 0 {
			t.Errorf("extract.MaxRetryDelay = %v, want 0 without exponential backoff", extract.MaxRetryDelay.Std())
		}
		wait := taskByID(t, d, "wait")
		if wait.Operator != "file_sensor" || wait.Args["mode"] != "reschedule" {
			t.Errorf("wait = %+v", wait)
		}
	})

	t.Run("list tasks and nested groups", func(t *testing.T) {
		d := dagByID(t, f, "list_tasks")
		if d.Timezone != "America/New_York" || !d.StartDate.Equal(mustTime(t, "2024-01-15T05:00:00Z")) {
			t.Errorf("timezone %s, start %v", d.Timezone, d.StartDate)
		}
		var ids []string
		for _, task := range d.Tasks {
			ids = append(ids, task.TaskID)
		}
		if want := []string{"start", "outer.a", "outer.inner.b", "outer.inner.c", "d", "end"}; !slices.Equal(ids, want) {
			t.Errorf("task ids = %q, want %q", ids, want)
		}
		if got := taskByID(t, d, "outer.inner.b"); got.Retries != 7 || got.TaskGroup != "outer.inner" {
			t.Errorf("inner group default_args/group: %+v", got)
		}
		if got := taskByID(t, d, "d").Upstream; !slices.Equal(got, []string{"outer.a", "outer.inner.c"}) {
			t.Errorf("d upstream = %q, want the leaves of outer", got)
		}
		end := taskByID(t, d, "end")
		if !slices.Equal(end.Upstream, []string{"d", "outer.a"}) || end.TriggerRule != windsock.TriggerNoneFailedMinOneSuccess || end.Operator != "empty" {
			t.Errorf("end = %+v", end)
		}
		groups := map[string]*windsock.TaskGroup{}
		for _, g := range d.TaskGroups {
			groups[g.GroupID] = g
		}
		if g := groups["outer.inner"]; g == nil || g.ParentGroup != "outer" || !slices.Equal(g.Children, []string{"outer.inner.b", "outer.inner.c"}) {
			t.Errorf("outer.inner = %+v", g)
		}
		if g := groups["outer"]; g == nil || !slices.Equal(g.Children, []string{"outer.inner", "outer.a"}) {
			t.Errorf("outer = %+v", g)
		}
	})

	t.Run("relative start and interval schedule", func(t *testing.T) {
		d := dagByID(t, f, "relative")
		if !d.StartDate.Equal(time.Date(2024, 6, 7, 0, 0, 0, 0, time.UTC)) || d.IsPausedUponCreation {
			t.Errorf("start %v, paused %v", d.StartDate, d.IsPausedUponCreation)
		}
		if d.Schedule.Kind != windsock.ScheduleInterval || d.Schedule.Interval.Std() != 6*time.Hour {
			t.Errorf("schedule = %+v", d.Schedule)
		}
		if got := taskByID(t, d, "ping"); got.OperatorClass != "HttpOperator" {
			t.Errorf("SimpleHttpOperator resolved to %s", got.OperatorClass)
		}
		if got := taskByID(t, d, "other").Args["execution_delta"]; got != 3600.0 {
			t.Errorf("execution_delta = %v, want 3600 seconds", got)
		}
	})

	t.Run("manual", func(t *testing.T) {
		d := dagByID(t, f, "manual")
		if d.Schedule.Kind != windsock.ScheduleNone || !d.StartDate.Equal(mustTime(t, "2024-02-29T12:30:00Z")) || len(d.Tasks) != 0 {
			t.Errorf("manual = %+v", d)
		}
	})
}

func TestParseFileDefaults(t *testing.T) {
	t.Parallel()
	src := []byte("d:\n  start_date: 2024-01-01\n  tasks:\n    a:\n      operator: empty\n")
	f := ParseFile("d.yaml", src, Defaults{Now: testNow, Owner: "ops", Retries: 3, RetryDelay: time.Minute, Catchup: true, Queue: "q"}, operator.Builtins())
	if len(f.DAGs) != 1 {
		t.Fatalf("errors: %v", f.Errors)
	}
	d := f.DAGs[0]
	a := d.Tasks[0]
	if a.Owner != "ops" || a.Retries != 3 || a.RetryDelay.Std() != time.Minute || a.Queue != "q" || a.Pool != "default_pool" || !a.DoXComPush {
		t.Errorf("task defaults = %+v", a)
	}
	// Airflow 2 schedules a DAG without schedule daily.
	if d.Schedule.Kind != windsock.ScheduleInterval || d.Schedule.Interval.Std() != 24*time.Hour || !d.Catchup || d.MaxActiveRuns != 16 || d.Timezone != "UTC" {
		t.Errorf("DAG defaults: schedule %+v, catchup %v, max_active_runs %d, timezone %s", d.Schedule, d.Catchup, d.MaxActiveRuns, d.Timezone)
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// 2024-03-31 is the day Paris moves to summer time.
	now := time.Date(2024, 4, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		loc  *time.Location
		want string
		err  string
	}{
		{in: "2024-01-01", loc: time.UTC, want: "2024-01-01T00:00:00Z"},
		{in: "2024-01-01", loc: paris, want: "2024-01-01T00:00:00+01:00"},
		{in: "'2024-07-01 06:30:00'", loc: paris, want: "2024-07-01T06:30:00+02:00"},
		{in: "2024-07-01T06:30:00Z", loc: paris, want: "2024-07-01T06:30:00Z"},
		{in: "2024-07-01T06:30:00.5-04:00", loc: time.UTC, want: "2024-07-01T06:30:00.5-04:00"},
		{in: "2001-12-14 21:59:43.10 -5", loc: time.UTC, want: "2001-12-14T21:59:43.1-05:00"},
		{in: "2 days", loc: time.UTC, want: "2024-03-30T00:00:00Z"},
		{in: "1 day", loc: paris, want: "2024-03-31T00:00:00+01:00"},
		{in: "2 days", loc: paris, want: "2024-03-30T00:00:00+01:00"},
		{in: "3 hours", loc: time.UTC, want: "2024-03-31T21:00:00Z"},
		{in: "1 week", loc: time.UTC, want: "2024-03-25T00:00:00Z"},
		{in: "{__type__: datetime.datetime, year: 2024, month: 5, day: 2, hour: 7}", loc: paris, want: "2024-05-02T07:00:00+02:00"},
		{in: "{__type__: datetime.datetime, __args__: [2024, 5, 2]}", loc: time.UTC, want: "2024-05-02T00:00:00Z"},
		{in: "2024-02-30", loc: time.UTC, err: "February has no day 30"},
		{in: "tomorrow", loc: time.UTC, err: `bad date "tomorrow"`},
		{in: "20240101", loc: time.UTC, err: "bad date a number"},
		{in: "{year: 2024}", loc: time.UTC, err: "__type__: datetime.datetime"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			f := ParseFile("t.yaml", []byte("d:\n  start_date: "+tt.in+"\n  timezone: "+tt.loc.String()+"\n"), NewDefaults(now), operator.Builtins())
			if tt.err != "" {
				if len(f.Errors) != 1 || !strings.Contains(f.Errors[0].Message, tt.err) {
					t.Fatalf("errors = %v, want one containing %q", f.Errors, tt.err)
				}
				return
			}
			if len(f.DAGs) != 1 {
				t.Fatalf("errors: %v", f.Errors)
			}
			got := f.DAGs[0].StartDate.Format(time.RFC3339Nano)
			want := mustTime(t, tt.want)
			if !f.DAGs[0].StartDate.Equal(want) {
				t.Errorf("start_date = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseFileZoneFromOffset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want string
	}{
		{"d:\n  start_date: 2024-01-01T00:00:00+00:00\n", "UTC"},
		{"d:\n  start_date: 2024-01-01T00:00:00+02:00\n", "Etc/GMT-2"},
		{"d:\n  start_date: 2024-07-01T00:00:00+02:00\n  timezone: Europe/Paris\n", "Europe/Paris"},
		// The offset wins over a timezone it does not match.
		{"d:\n  start_date: 2024-07-01T00:00:00-05:00\n  timezone: Europe/Paris\n", "Etc/GMT+5"},
	}
	for _, tt := range tests {
		f := ParseFile("z.yaml", []byte(tt.src), NewDefaults(testNow), operator.Builtins())
		if len(f.DAGs) != 1 {
			t.Fatalf("%q: errors %v", tt.src, f.Errors)
		}
		if got := f.DAGs[0].Timezone; got != tt.want {
			t.Errorf("%q: timezone = %s, want %s", tt.src, got, tt.want)
		}
	}
}

func TestParseFileDependencies(t *testing.T) {
	t.Parallel()
	// Upstream lists are sorted and deduplicated; full ids work as well as
	// the names written in the file; YAML anchors and merge keys work.
	src := []byte(`
common: &common
  operator: bash
  bash_command: echo
d:
  task_groups:
    g: {}
  tasks:
    z: *common
    y:
      <<: *common
      retries: 4
      task_group_name: g
    x:
      <<: *common
      dependencies: [z, g.y, g, z]
`)
	f := ParseFile("deps.yaml", src, NewDefaults(testNow), operator.Builtins())
	// "common" is not a DAG mapping Airflow would accept either.
	if !slices.Equal(f.BrokenDAGIDs, []string{"common"}) {
		t.Fatalf("broken = %v, errors %v", f.BrokenDAGIDs, f.Errors)
	}
	d := dagByID(t, f, "d")
	if got := taskByID(t, d, "x").Upstream; !slices.Equal(got, []string{"g.y", "z"}) {
		t.Errorf("x upstream = %q", got)
	}
	if got := taskByID(t, d, "g.y"); got.Retries != 4 || got.Args["bash_command"] != "echo" {
		t.Errorf("merge key task = %+v", got)
	}
}

func BenchmarkParseFile(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("bench_dag:\n  default_args:\n    owner: bench\n    retries: 1\n    retry_delay: 5m\n  start_date: 2024-01-01\n  schedule: '0 3 * * *'\n  tasks:\n")
	for i := range 10 {
		fmt.Fprintf(&sb, "    task_%d:\n      operator: bash\n      bash_command: echo %d\n", i, i)
		if i > 0 {
			fmt.Fprintf(&sb, "      dependencies: [task_%d]\n", i-1)
		}
	}
	src := []byte(sb.String())
	d := NewDefaults(testNow)
	ops := operator.Builtins()
	if f := ParseFile("bench.yaml", src, d, ops); len(f.Errors) != 0 || len(f.DAGs[0].Tasks) != 10 {
		b.Fatalf("bench file does not parse: %v", f.Errors)
	}
	b.ReportAllocs()
	for b.Loop() {
		ParseFile("bench.yaml", src, d, ops)
	}
}

func TestParseFileAliasBomb(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	sb.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&sb, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	f := ParseFile("bomb.yaml", []byte(sb.String()), NewDefaults(testNow), operator.Builtins())
	if len(f.Errors) != 1 || !strings.Contains(f.Errors[0].Message, "aliases") {
		t.Fatalf("errors = %v, want one about aliases", f.Errors)
	}
}

func TestParseFileKeepsTaskDisplayName(t *testing.T) {
	t.Parallel()
	src := []byte("d:\n  tasks:\n    a:\n      operator: bash\n      bash_command: echo\n      task_display_name: Nice name\n      on_failure_callback_name: notify\n      on_failure_callback_file: /cb.py\n")
	f := ParseFile("d.yaml", src, NewDefaults(testNow), operator.Builtins())
	if len(f.DAGs) != 1 {
		t.Fatalf("errors: %v", f.Errors)
	}
	args := f.DAGs[0].Tasks[0].Args
	if args["task_display_name"] != "Nice name" || args["on_failure_callback"] != "/cb.py:notify" || args["on_failure_callback_name"] != nil {
		t.Errorf("args = %v", args)
	}
}
