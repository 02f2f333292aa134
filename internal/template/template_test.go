package template_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/template"
	"github.com/windsock/windsock/internal/windsock"
)

// fixture is one try of task "load" in DAG "etl", scheduled daily at 22:00
// New York time, so that its logical date (03:00 UTC) falls on the next
// day in UTC, the day Airflow's ds uses.
type fixture struct {
	dag  *windsock.DAG
	task *windsock.Task
	run  *windsock.DagRun
	ti   *windsock.TaskInstance
	src  template.Sources
	// pulls records the XCom look-ups the templates made.
	pulls *[]template.XComPullParams
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

func setup(t testing.TB) *fixture {
	t.Helper()
	task := &windsock.Task{
		TaskID: "load", Operator: "bash", OperatorClass: "BashOperator", Owner: "alice",
		Upstream: []string{"push"}, Pool: "default_pool", PoolSlots: 1, Queue: "default",
		Args: map[string]any{
			"bash_command": "echo {{ ds }}",
			"params":       map[string]any{"env": "task"},
		},
	}
	dag := &windsock.DAG{
		DagID: "etl", Fileloc: "/dags/etl.yaml", Owners: []string{"alice"},
		Schedule: windsock.Schedule{Kind: windsock.ScheduleCron, Expr: "0 22 * * *", Cron: "0 22 * * *"},
		Timezone: "America/New_York", Tags: []string{"finance", "daily"},
		Params: map[string]any{"x": 1, "env": "dag", "region": "eu"},
		Tasks:  []*windsock.Task{{TaskID: "push", Operator: "bash", OperatorClass: "BashOperator"}, task},
	}
	run := &windsock.DagRun{
		ID: 7, DagID: "etl", RunID: "scheduled__2024-01-15T03:00:00+00:00",
		LogicalDate:       date("2024-01-15T03:00:00Z"),
		DataIntervalStart: ptr(date("2024-01-15T03:00:00Z")),
		DataIntervalEnd:   ptr(date("2024-01-16T03:00:00Z")),
		StartDate:         ptr(date("2024-01-16T03:00:05Z")),
		State:             windsock.DagRunState("running"),
		RunType:           windsock.RunTypeScheduled,
		Conf:              map[string]any{"y": "from-conf", "region": "us"},
	}
	ti := &windsock.TaskInstance{
		TaskInstanceKey: windsock.TaskInstanceKey{DagID: "etl", TaskID: "load", RunID: run.RunID, MapIndex: -1},
		State:           windsock.TaskInstanceState("running"), TryNumber: 2, MaxTries: 3,
		Pool: "default_pool", Queue: "default", Operator: "BashOperator", Hostname: "worker-1",
	}
	prev := &windsock.DagRun{
		DagID: "etl", RunID: "scheduled__2024-01-14T03:00:00+00:00",
		LogicalDate:       date("2024-01-14T03:00:00Z"),
		DataIntervalStart: ptr(date("2024-01-14T03:00:00Z")),
		DataIntervalEnd:   ptr(date("2024-01-15T03:00:00Z")),
		StartDate:         ptr(date("2024-01-15T03:00:07Z")),
		EndDate:           ptr(date("2024-01-15T03:10:00Z")),
	}
	variables := map[string]string{
		"greeting": "hello",
		"settings": `{"region": "eu-west-1", "buckets": ["a", "b"]}`,
		"broken":   `{not json`,
	}
	conns := map[string]*operator.Connection{
		"pg": {ConnID: "pg", ConnType: "postgres", Host: "db.internal", Schema: "sales", Login: "etl",
			Password: "s3cret", Port: 5432, Extra: map[string]any{"sslmode": "require"}},
	}
	// XComs keyed by dag/run/task/key, as the store keys them.
	xcoms := map[string]any{
		"etl/" + run.RunID + "/push/return_value":   "v1",
		"etl/" + run.RunID + "/push/k":              map[string]any{"n": 3},
		"etl/" + run.RunID + "/push2/return_value":  "v2",
		"other/" + run.RunID + "/push/return_value": "from-other-dag",
	}
	var pulls []template.XComPullParams
	src := template.Sources{
		Variable: func(_ context.Context, key string) (string, error) {
			v, ok := variables[key]
			if !ok {
				return "", windsock.Errorf(windsock.ENOTFOUND, "variable %s does not exist", key)
			}
			return v, nil
		},
		Connection: func(_ context.Context, id string) (*operator.Connection, error) {
			c, ok := conns[id]
			if !ok {
				return nil, windsock.Errorf(windsock.ENOTFOUND, "connection %s does not exist", id)
			}
			return c, nil
		},
		XComPull: func(_ context.Context, p template.XComPullParams) (any, bool, error) {
			pulls = append(pulls, p)
			if p.TaskID == "boom" {
				return nil, false, errors.New("store unavailable")
			}
			v, ok := xcoms[p.DagID+"/"+p.RunID+"/"+p.TaskID+"/"+p.Key]
			return v, ok, nil
		},
		PrevSuccess: func(context.Context) (*windsock.DagRun, error) { return prev, nil },
	}
	return &fixture{dag: dag, task: task, run: run, ti: ti, src: src, pulls: &pulls}
}

func (f *fixture) context(t testing.TB) template.Context {
	t.Helper()
	tc, err := template.NewContext(context.Background(), f.dag, f.task, f.run, f.ti, f.src)
	if err != nil {
		t.Fatalf("NewContext: %v", err)
	}
	return tc
}

func render(t *testing.T, tc template.Context, src string) (string, error) {
	t.Helper()
	out, err := template.Render(context.Background(), src, tc)
	if err != nil {
		return "", err
	}
	s, ok := out.(string)
	if !ok {
		t.Fatalf("Render(%q) returned %T, want string", src, out)
	}
	return s, nil
}

func TestRenderContextVariables(t *testing.T) {
	t.Parallel()
	tc := setup(t).context(t)
	tests := []struct {
		tpl, want string
	}{
		{"{{ ds }}", "2024-01-15"},
		{"{{ ds_nodash }}", "20240115"},
		{"{{ ts }}", "2024-01-15T03:00:00+00:00"},
		{"{{ ts_nodash }}", "20240115T030000"},
		{"{{ ts_nodash_with_tz }}", "20240115T030000+0000"},
		{"{{ logical_date }}", "2024-01-15T03:00:00+00:00"},
		{"{{ execution_date }}", "2024-01-15T03:00:00+00:00"},
		{"{{ logical_date.year }}-{{ logical_date.month }}-{{ logical_date.day }} {{ logical_date.hour }}", "2024-1-15 3"},
		{"{{ logical_date.strftime('%Y/%m/%d %H:%M') }}", "2024/01/15 03:00"},
		{"{{ logical_date.isoformat() }}", "2024-01-15T03:00:00+00:00"},
		{"{{ logical_date.in_timezone('America/New_York') }}", "2024-01-14T22:00:00-05:00"},
		{"{{ logical_date.add(days=1) | ds }}", "2024-01-16"},
		{"{{ logical_date.subtract(hours=4) }}", "2024-01-14T23:00:00+00:00"},
		{"{{ logical_date.start_of('month') }}", "2024-01-01T00:00:00+00:00"},
		{"{{ data_interval_start }}", "2024-01-15T03:00:00+00:00"},
		{"{{ data_interval_end }}", "2024-01-16T03:00:00+00:00"},
		{"{{ data_interval_end | ds }} {{ data_interval_end | ds_nodash }}", "2024-01-16 20240116"},
		{"{{ data_interval_end | ts }} {{ data_interval_end | ts_nodash }}", "2024-01-16T03:00:00+00:00 20240116T030000"},
		{"{{ data_interval_end | ts_nodash_with_tz }}", "20240116T030000+0000"},
		{"{{ prev_data_interval_start_success }}", "2024-01-14T03:00:00+00:00"},
		{"{{ prev_data_interval_end_success }}", "2024-01-15T03:00:00+00:00"},
		{"{{ prev_start_date_success }}", "2024-01-15T03:00:07+00:00"},
		{"{{ prev_end_date_success }}", "2024-01-15T03:10:00+00:00"},
		{"{{ prev_execution_date_success }}", "2024-01-14T03:00:00+00:00"},
		{"{{ next_ds }} {{ next_ds_nodash }} {{ next_execution_date }}", "2024-01-16 20240116 2024-01-16T03:00:00+00:00"},
		{"{{ prev_ds }} {{ prev_ds_nodash }}", "2024-01-14 20240114"},
		{"{{ yesterday_ds }} {{ tomorrow_ds_nodash }}", "2024-01-14 20240116"},
		{"{{ run_id }}", "scheduled__2024-01-15T03:00:00+00:00"},
		{"{{ dag_run.run_id }} {{ dag_run.run_type }} {{ dag_run.conf.y }} {{ dag_run.conf['y'] }}", "scheduled__2024-01-15T03:00:00+00:00 scheduled from-conf from-conf"},
		{"{{ dag_run.conf.get('missing', 'dflt') }}", "dflt"},
		{"{{ dag_run.logical_date }} {{ dag_run.data_interval_end }}", "2024-01-15T03:00:00+00:00 2024-01-16T03:00:00+00:00"},
		{"{{ dag_run.external_trigger }}", "False"},
		{"{{ dag_run }}", "<DagRun etl @ 2024-01-15 03:00:00+00:00: scheduled__2024-01-15T03:00:00+00:00, state:running, queued_at: None. externally triggered: False>"},
		{"{{ dag.dag_id }} {{ dag.tags | join(',') }} {{ dag.owner }} {{ dag.timezone }}", "etl finance,daily alice America/New_York"},
		{"{{ dag }}", "<DAG: etl>"},
		{"{{ task.task_id }} {{ task.owner }} {{ task.task_type }} {{ task.upstream_task_ids }}", "load alice BashOperator ['push']"},
		{"{{ task }}", "<Task(BashOperator): load>"},
		{"{{ ti.task_id }} {{ ti.dag_id }} {{ ti.run_id }} {{ ti.try_number }} {{ ti.map_index }} {{ ti.hostname }}", "load etl scheduled__2024-01-15T03:00:00+00:00 2 -1 worker-1"},
		{"{{ task_instance.try_number }} {{ task_instance.max_tries }}", "2 3"},
		{"{{ ti }}", "<TaskInstance: etl.load scheduled__2024-01-15T03:00:00+00:00 [running]>"},
		{"{{ task_instance_key_str }}", "etl__load__20240115"},
		{"{{ params.x }} {{ params['region'] }}", "1 us"},
		{"{{ params.env }}", "task"},
		{"{{ params.y }}", "from-conf"},
		{"{{ var.value.greeting }} {{ var.value['greeting'] }}", "hello hello"},
		{"{{ var.json.settings.region }} {{ var.json.settings.buckets | join('+') }}", "eu-west-1 a+b"},
		{"{{ var.value.get('nope', 'fallback') }}", "fallback"},
		{"{{ conn.pg.host }}:{{ conn.pg.port }} {{ conn.pg.login }}/{{ conn.pg.password }}", "db.internal:5432 etl/s3cret"},
		{"{{ conn.pg.schema }} {{ conn.pg.conn_type }} {{ conn.pg.extra_dejson.sslmode }}", "sales postgres require"},
		{"{{ conn.pg.extra }}", `{"sslmode":"require"}`},
		{"{{ conn['pg'].host }} [{{ conn.get('nope') }}]", "db.internal [None]"}, // Jinja prints a call's None
		{"[{{ params.get('absent') }}][{{ no_such_name }}][{{ params.absent }}]", "[None][][]"},
		{"{{ macros.ds_add(ds, 5) }} {{ macros.ds_add(ds, -15) }} {{ macros.ds_add(ds, 0) }}", "2024-01-20 2023-12-31 2024-01-15"},
		{"{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }}", "15/01/2024"},
		{"{{ macros.ds_format('20240229', '%Y%m%d', '%b %-d, %Y') }}", "Feb 29, 2024"},
		{"{{ macros.datetime(2024, 2, 29) }}", "2024-02-29 00:00:00"},
		{"{{ macros.datetime(2024, 2, 29, 13, minute=5).strftime('%A %I:%M %p') }}", "Thursday 01:05 PM"},
		{"{{ macros.datetime.strptime('2024-05-01', '%Y-%m-%d').isoformat() }}", "2024-05-01T00:00:00"},
		{"{{ macros.timedelta(days=1, hours=2) }} {{ macros.timedelta(minutes=90).total_seconds() }}", "1 day, 2:00:00 5400.0"},
		{"{{ macros.uuid.uuid4() | length > 0 }}", "True"},
		{"{{ inlets }} {{ outlets }} [{{ expanded_ti_count }}]", "[] [] []"},
		{"[{{ not_defined }}] [{{ not_defined | default('d') }}]", "[] [d]"},
		{"{% for i in range(3) %}{{ i }}{% endfor %}{% for i in range(10, 4, -3) %},{{ i }}{% endfor %}", "012,10,7"},
		{"{% for t in dag.tags %}{{ t | upper }};{% endfor %}", "FINANCE;DAILY;"},
		{"{% if params.x == 1 %}one{% else %}other{% endif %}", "one"},
		{"{{ logical_date - macros.timedelta(days=1) }}", "2024-01-14T03:00:00+00:00"},
		{"{{ (data_interval_end - macros.timedelta(hours=1)).strftime('%H:%M') }}", "02:00"},
		{"{{ (macros.timedelta(days=2) + logical_date) | ds }}", "2024-01-17"},
		{"{{ data_interval_end - data_interval_start }}", "1 day, 0:00:00"},
		{"{{ (data_interval_end - data_interval_start).total_seconds() }}", "86400.0"},
		{"{{ logical_date < data_interval_end }} {{ data_interval_end <= logical_date }}", "True False"},
		{"{% if logical_date >= prev_data_interval_start_success %}after{% endif %}", "after"},
		{"{{ 1 + 2 }} {{ 1.5 + 1 }} {{ 'a' + 'b' }} {{ [1] + [2] }} {{ 5 - 7 }} {{ 2 < 10 }} {{ 'b' > 'a' }}", "3 2.5 ab [1, 2] -2 True True"},
		{"echo hi\n", "echo hi"},
		{"{{ ds }}\r\nnext\n", "2024-01-15\nnext"},
		{"no markup at all", "no markup at all"},
	}
	for _, tt := range tests {
		t.Run(tt.tpl, func(t *testing.T) {
			t.Parallel()
			got, err := render(t, tc, tt.tpl)
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.tpl, err)
			}
			if got != tt.want {
				t.Errorf("Render(%q) = %q, want %q", tt.tpl, got, tt.want)
			}
		})
	}
}

func TestXComPull(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tpl, want string
		// wantPulls are the task ids and keys the source was asked for.
		wantPulls []template.XComPullParams
	}{
		{
			tpl:       "{{ ti.xcom_pull(task_ids='push') }}",
			want:      "v1",
			wantPulls: []template.XComPullParams{{DagID: "etl", TaskID: "push", Key: "return_value"}},
		},
		{
			tpl:       "{{ ti.xcom_pull('push') }}",
			want:      "v1",
			wantPulls: []template.XComPullParams{{DagID: "etl", TaskID: "push", Key: "return_value"}},
		},
		{
			tpl:       "{{ ti.xcom_pull(task_ids='push', key='k').n }}",
			want:      "3",
			wantPulls: []template.XComPullParams{{DagID: "etl", TaskID: "push", Key: "k"}},
		},
		{
			tpl:  "{{ ti.xcom_pull(task_ids=['push', 'missing', 'push2']) }}",
			want: "['v1', 'v2']",
			wantPulls: []template.XComPullParams{
				{DagID: "etl", TaskID: "push", Key: "return_value"},
				{DagID: "etl", TaskID: "missing", Key: "return_value"},
				{DagID: "etl", TaskID: "push2", Key: "return_value"},
			},
		},
		{
			tpl:       "{{ ti.xcom_pull(task_ids='push', dag_id='other') }}",
			want:      "from-other-dag",
			wantPulls: []template.XComPullParams{{DagID: "other", TaskID: "push", Key: "return_value"}},
		},
		{
			tpl:       "{{ ti.xcom_pull(task_ids='missing', default='none-yet') }}",
			want:      "none-yet",
			wantPulls: []template.XComPullParams{{DagID: "etl", TaskID: "missing", Key: "return_value"}},
		},
		{
			tpl:       "[{{ task_instance.xcom_pull(task_ids='missing') }}]",
			want:      "[None]", // Jinja prints None: the classic "None" in a bash_command
			wantPulls: []template.XComPullParams{{DagID: "etl", TaskID: "missing", Key: "return_value"}},
		},
		{
			tpl:       "{{ ti.xcom_pull(task_ids='push', key=None, map_indexes=2) }}",
			want:      "None",
			wantPulls: []template.XComPullParams{{DagID: "etl", TaskID: "push", Key: "", MapIndex: ptr(2)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.tpl, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			got, err := render(t, f.context(t), tt.tpl)
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.tpl, err)
			}
			if got != tt.want {
				t.Errorf("Render(%q) = %q, want %q", tt.tpl, got, tt.want)
			}
			pulls := *f.pulls
			if len(pulls) != len(tt.wantPulls) {
				t.Fatalf("source called %d times (%+v), want %d", len(pulls), pulls, len(tt.wantPulls))
			}
			for i, p := range pulls {
				w := tt.wantPulls[i]
				w.RunID = f.run.RunID
				same := p.DagID == w.DagID && p.RunID == w.RunID && p.TaskID == w.TaskID && p.Key == w.Key &&
					(p.MapIndex == nil) == (w.MapIndex == nil) && (p.MapIndex == nil || *p.MapIndex == *w.MapIndex)
				if !same {
					t.Errorf("pull %d = %+v, want %+v", i, p, w)
				}
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	tc := setup(t).context(t)
	tests := []struct {
		name, tpl string
		// wantMsg are substrings the error message must contain.
		wantMsg  []string
		wantCode string
	}{
		{"syntax error", "echo {{ ds ", []string{"template syntax error", "Line: 1 Col: 12"}, windsock.EINVALID},
		{"unclosed block", "{% if ds %}x", []string{"template syntax error"}, windsock.EINVALID},
		{"missing variable", "{{ var.value.nope }}", []string{"var.value.nope: variable nope does not exist"}, windsock.ENOTFOUND},
		{"missing json variable", "{{ var.json.nope.x }}", []string{"variable nope"}, windsock.ENOTFOUND},
		{"variable not json", "{{ var.json.broken }}", []string{"var.json.broken: variable broken is not valid JSON"}, windsock.EINTERNAL},
		{"missing connection", "{{ conn.nope.host }}", []string{"conn.nope: connection nope does not exist"}, windsock.ENOTFOUND},
		{"xcom source error", "{{ ti.xcom_pull(task_ids='boom') }}", []string{"boom", "store unavailable"}, windsock.EINTERNAL},
		{"include refused", "{% include '/etc/passwd' %}", []string{"cannot load other templates"}, windsock.EINVALID},
		{"extends refused", "{% extends 'base.html' %}", []string{"cannot load other templates"}, windsock.EINVALID},
		{"attribute of undefined", "{{ nothing.here }}", []string{"nothing.here"}, windsock.EINVALID},
		{"modulo by zero does not panic", "{{ 1 % 0 }}", []string{"template error"}, windsock.EINVALID},
		{"bad ds_add", "{{ macros.ds_add('15/01/2024', 1) }}", []string{"YYYY-MM-DD"}, windsock.EINVALID},
		{"self include", "x{% include '<template>' %}", []string{"cannot load other templates"}, windsock.EINVALID},
		{"range too big", "{% for i in range(1000000) %}{% endfor %}", []string{"range too big"}, windsock.EINVALID},
		{"date plus number", "{{ logical_date + 1 }}", []string{"unsupported operand types for +: datetime and int"}, windsock.EINVALID},
		{"date arithmetic in set", "{% set d = logical_date - macros.timedelta(days=1) %}{{ d }}", []string{"date arithmetic is not supported"}, windsock.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := render(t, tc, tt.tpl)
			if err == nil {
				t.Fatalf("Render(%q) succeeded, want an error", tt.tpl)
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("Render(%q) error %q does not contain %q", tt.tpl, err, m)
				}
			}
			if got := windsock.ErrorCode(err); got != tt.wantCode {
				t.Errorf("Render(%q) error code = %q, want %q (error %v)", tt.tpl, got, tt.wantCode, err)
			}
		})
	}
}

func TestRenderFields(t *testing.T) {
	t.Parallel()
	tc := setup(t).context(t)
	spec := &operator.Spec{Name: "bash", Class: "BashOperator", Args: []operator.Arg{
		{Name: "bash_command", Required: true, Templated: true},
		{Name: "env", Templated: true},
		{Name: "cwd", Templated: true},
		{Name: "append_env"},
		{Name: "output_encoding"},
	}}
	args := map[string]any{
		"bash_command": "echo {{ ds }} {{ params.x }}",
		"env": map[string]any{
			"DAY":   "{{ ds_nodash }}",
			"LIST":  []any{"{{ run_id }}", 3, map[string]any{"deep": "{{ ti.try_number }}"}},
			"COUNT": 2,
		},
		"append_env":      true,
		"output_encoding": "{{ not rendered }}",
	}
	out, rendered, err := template.RenderFields(context.Background(), spec, args, tc)
	if err != nil {
		t.Fatalf("RenderFields: %v", err)
	}
	wantEnv := map[string]any{
		"DAY":   "20240115",
		"LIST":  []any{"scheduled__2024-01-15T03:00:00+00:00", 3, map[string]any{"deep": "2"}},
		"COUNT": 2,
	}
	if got := out["bash_command"]; got != "echo 2024-01-15 1" {
		t.Errorf("bash_command = %q", got)
	}
	if got, want := mustJSON(t, out["env"]), mustJSON(t, wantEnv); got != want {
		t.Errorf("env = %s, want %s", got, want)
	}
	if out["output_encoding"] != "{{ not rendered }}" || out["append_env"] != true {
		t.Errorf("untemplated args changed: %v", out)
	}
	if len(rendered) != 2 || rendered["bash_command"] != "echo 2024-01-15 1" || rendered["env"] == nil {
		t.Errorf("rendered fields = %v, want bash_command and env only", rendered)
	}
	if args["bash_command"] != "echo {{ ds }} {{ params.x }}" || args["env"].(map[string]any)["DAY"] != "{{ ds_nodash }}" {
		t.Errorf("RenderFields changed its input: %v", args)
	}

	args["cwd"] = "/tmp/{{ ds "
	_, _, err = template.RenderFields(context.Background(), spec, args, tc)
	if err == nil || !strings.Contains(err.Error(), "BashOperator.cwd") || !strings.Contains(err.Error(), "syntax") {
		t.Errorf("RenderFields with a syntax error: err = %v, want one naming BashOperator.cwd", err)
	}
	delete(args, "cwd")
	args["env"] = map[string]any{"V": "{{ var.value.missing_var }}"}
	_, _, err = template.RenderFields(context.Background(), spec, args, tc)
	if err == nil || !strings.Contains(err.Error(), "env") || !strings.Contains(err.Error(), "missing_var") ||
		windsock.ErrorCode(err) != windsock.ENOTFOUND {
		t.Errorf("RenderFields with a missing variable: err = %v, want ENOTFOUND naming env and missing_var", err)
	}
}

func TestParamsOverride(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		disable    bool
		conf       map[string]any
		taskParams map[string]any
		want       string
	}{
		{"conf overrides by default", false, map[string]any{"env": "conf"}, map[string]any{"env": "task"}, "conf eu"},
		{"task overrides dag", false, nil, map[string]any{"env": "task"}, "task eu"},
		{"dag params alone", false, nil, nil, "dag eu"},
		{"conf ignored when disabled", true, map[string]any{"env": "conf", "region": "us"}, nil, "dag eu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.run.Conf = tt.conf
			f.task.Args["params"] = tt.taskParams
			f.src.DisableConfOverridesParams = tt.disable
			got, err := render(t, f.context(t), "{{ params.env }} {{ params.region }}")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("params = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestManualRunAndNoPreviousSuccess(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.run.ExternalTrigger = true
	f.run.RunType = windsock.RunTypeManual
	f.src.PrevSuccess = func(context.Context) (*windsock.DagRun, error) { return nil, nil }
	got, err := render(t, f.context(t), "{{ next_ds }}|{{ prev_ds }}|{{ prev_data_interval_start_success }}|{{ prev_start_date_success | ds }}")
	if err != nil {
		t.Fatal(err)
	}
	// A manual run's next and previous dates are its own logical date, and
	// with no successful run before it the *_success values are None.
	if want := "2024-01-15|2024-01-15||"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestContextJSON(t *testing.T) {
	t.Parallel()
	j := setup(t).context(t).JSON()
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatalf("marshal JSON context: %v", err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	checks := map[string]any{
		"ds":           "2024-01-15",
		"ts":           "2024-01-15T03:00:00+00:00",
		"run_id":       "scheduled__2024-01-15T03:00:00+00:00",
		"logical_date": "2024-01-15T03:00:00+00:00",
	}
	for k, want := range checks {
		if back[k] != want {
			t.Errorf("JSON()[%q] = %v, want %v", k, back[k], want)
		}
	}
	if p := back["params"].(map[string]any); p["x"] != 1.0 || p["y"] != "from-conf" {
		t.Errorf("params = %v", p)
	}
	if conf := back["dag_run"].(map[string]any)["conf"].(map[string]any); conf["y"] != "from-conf" {
		t.Errorf("dag_run.conf = %v", conf)
	}
	if ti := back["ti"].(map[string]any); ti["try_number"] != 2.0 || ti["task_id"] != "load" {
		t.Errorf("ti = %v", ti)
	}
	for _, k := range []string{"var", "conn", "macros"} {
		if _, ok := back[k]; ok {
			t.Errorf("JSON() has %q, which must not leave the process", k)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func BenchmarkRenderBashCommand(b *testing.B) {
	f := setup(b)
	spec := &operator.Spec{Name: "bash", Class: "BashOperator", Args: []operator.Arg{
		{Name: "bash_command", Required: true, Templated: true},
		{Name: "env", Templated: true},
	}}
	args := map[string]any{"bash_command": "echo {{ ds }} {{ params.x }}"}
	ctx := context.Background()
	for b.Loop() {
		tc, err := template.NewContext(ctx, f.dag, f.task, f.run, f.ti, f.src)
		if err != nil {
			b.Fatal(err)
		}
		out, _, err := template.RenderFields(ctx, spec, args, tc)
		if err != nil || out["bash_command"] != "echo 2024-01-15 1" {
			b.Fatalf("got %v, %v", out["bash_command"], err)
		}
	}
}
