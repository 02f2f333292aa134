package datapipeline_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/dagfile"
	"github.com/windsock/windsock/internal/datapipeline"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/template"
	"github.com/windsock/windsock/internal/windsock"
)

var update = flag.Bool("update", false, "rewrite the golden DAG files in testdata")

// activation is the conversion time the tests use for
// FIRST_ACTIVATION_DATE_TIME schedules.
var activation = time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC)

// convert converts a testdata definition and loads the DAG file with the
// DAG folder's parser, which must accept it without an error.
func convert(t *testing.T, name string) (*datapipeline.Result, *windsock.DAG) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	def, err := datapipeline.Parse(src)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	res := datapipeline.Convert(def, datapipeline.Options{Source: name, Now: activation})
	if res.YAML == nil {
		return res, nil
	}
	f := dagfile.ParseFile(name+".yaml", res.YAML, dagfile.NewDefaults(activation), operator.Builtins())
	for _, e := range f.Errors {
		t.Errorf("DAG file of %s does not load: %v\n%s", name, e, res.YAML)
	}
	if len(f.DAGs) != 1 {
		t.Fatalf("DAG file of %s has %d DAGs", name, len(f.DAGs))
	}
	return res, f.DAGs[0]
}

func problems(r *datapipeline.Report) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.Kind+" "+p.ObjectID+"."+p.Field)
	}
	return out
}

func TestConvertFixtures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file string
		exit int
		// problems must all be reported (kind object.field).
		problems []string
		// tasks maps task id -> operator.
		tasks map[string]string
		// upstream maps task id -> its upstream task ids.
		upstream map[string][]string
	}{
		{file: "shell_cron.json", exit: 0,
			problems: []string{"warning Ec2.type"},
			tasks:    map[string]string{"Extract": "bash", "Load": "bash"},
			upstream: map[string][]string{"Load": {"Extract"}}},
		{file: "ondemand_api_lenient.json", exit: 0,
			problems: []string{"warning Default.schedule"},
			tasks:    map[string]string{"Run": "bash"}},
		{file: "timeseries_sensors.json", exit: 0,
			tasks: map[string]string{"Produce_Ready": "s3_key_sensor", "In_NotEmpty": "s3_key_sensor",
				"Produce": "datapipeline_shell", "Consume": "bash"},
			upstream: map[string][]string{"Produce": {"In_NotEmpty", "Produce_Ready"}, "Consume": {"Produce"}}},
		{file: "invalid.json", exit: 2,
			problems: []string{"invalid S.period", "invalid S.startDateTime", "invalid S.occurrences",
				"invalid A.dependsOn", "invalid A.runsOn", "invalid B.runsOn", "invalid objects[4] (name \"no id\").id", "invalid A.id"}},
		{file: "unsupported.json", exit: 3,
			problems: []string{"unsupported Step.type", "unsupported Db.type", "unsupported Weird.command", "unsupported Odd.type",
				"warning Emr.type"},
			tasks:    map[string]string{"Step": "emr_add_steps", "Query": "sql_execute", "Weird": "bash", "Odd": "bash"},
			upstream: map[string][]string{"Query": {"Step"}}},
		{file: "copy_sql_s3.json", exit: 0,
			problems: []string{"warning Db.*password"},
			tasks:    map[string]string{"Copy": "sql_to_s3"}},
		{file: "sql_postgres.json", exit: 0,
			problems: []string{"warning Pg.*password"},
			tasks:    map[string]string{"Insert": "sql_execute"}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			res, dag := convert(t, tc.file)
			if got := res.Report.ExitCode(); got != tc.exit {
				t.Errorf("exit code %d, want %d; problems %q", got, tc.exit, problems(res.Report))
			}
			got := problems(res.Report)
			for _, p := range tc.problems {
				if !slices.Contains(got, p) {
					t.Errorf("problem %q not reported; got %q", p, got)
				}
			}
			if tc.exit == 2 {
				if res.YAML != nil {
					t.Errorf("an invalid definition produced a DAG file")
				}
				return
			}
			ops := map[string]string{}
			for _, tr := range res.Report.Tasks {
				ops[tr.TaskID] = tr.Operator
			}
			for id, op := range tc.tasks {
				if ops[id] != op {
					t.Errorf("task %s: operator %q, want %q (tasks %v)", id, ops[id], op, ops)
				}
			}
			for id, want := range tc.upstream {
				task := dag.Task(id)
				if task == nil {
					t.Fatalf("no task %s", id)
				}
				if !slices.Equal(task.Upstream, want) {
					t.Errorf("task %s upstream %q, want %q", id, task.Upstream, want)
				}
			}
		})
	}
}

func TestConvertCopySQLToS3(t *testing.T) {
	t.Parallel()
	res, dag := convert(t, "copy_sql_s3.json")
	args := dag.Task("Copy").Args
	if args["sql_conn_id"] != "dp_db" || args["query"] != "select * from orders where day = '{{ data_interval_start.strftime('%Y-%m-%d') }}'" ||
		args["s3_key"] != "s3://backups/{{ data_interval_start.strftime('%Y/%m/%d') }}/orders.csv" {
		t.Errorf("Copy args %v", args)
	}
	if c := res.Report.Connections; len(c) != 1 || c[0].ConnType != "sqlite" || c[0].Host != "/var/lib/shop.db" {
		t.Errorf("connections %+v", c)
	}
}

// An isArray parameter standing alone in a list field expands into one
// value per element, as Data Pipeline repeats the field.
func TestConvertArrayParameter(t *testing.T) {
	t.Parallel()
	_, dag := convert(t, "array_args.json")
	want := "set -- 'first' 'a.csv' 'b csv' 'last'\necho \"$@\""
	if got := dag.Task("Args").Args["bash_command"]; got != want {
		t.Errorf("bash_command %q, want %q", got, want)
	}
}

func TestConvertSettings(t *testing.T) {
	t.Parallel()
	res, dag := convert(t, "shell_cron.json")
	extract, load := dag.Task("Extract"), dag.Task("Load")
	if extract.Retries != 1 || time.Duration(extract.RetryDelay) != 5*time.Minute {
		t.Errorf("Extract retries %d delay %v, want Default's 1 and 5m", extract.Retries, extract.RetryDelay)
	}
	if time.Duration(extract.ExecutionTimeout) != 2*time.Hour {
		t.Errorf("Extract execution_timeout %v, want attemptTimeout 2h", extract.ExecutionTimeout)
	}
	if load.Retries != 0 {
		t.Errorf("Load retries %d, want its own maximumRetries 0", load.Retries)
	}
	if extract.Queue != "Ec2" || load.Queue != "wg-load" {
		t.Errorf("queues %q and %q, want runsOn Ec2 and workerGroup wg-load", extract.Queue, load.Queue)
	}
	if !strings.Contains(string(res.YAML), "Ec2Resource Ec2 (not provisioned") || !strings.Contains(string(res.YAML), "#   instanceType: t1.micro") {
		t.Errorf("the Ec2Resource is not kept as a comment:\n%s", res.YAML)
	}
	// A cron pipeline's start is one period before Data Pipeline's, and
	// ends at the last interval's start minus a period.
	if want := time.Date(2023, 12, 31, 6, 0, 0, 0, time.UTC); !dag.StartDate.Equal(want) {
		t.Errorf("start_date %v, want %v", dag.StartDate, want)
	}
	if want := time.Date(2024, 1, 2, 6, 0, 0, 0, time.UTC); dag.EndDate == nil || !dag.EndDate.Equal(want) {
		t.Errorf("end_date %v, want %v", dag.EndDate, want)
	}
	if !dag.Catchup || dag.MaxActiveRuns != 1 {
		t.Errorf("catchup %v max_active_runs %d, want true and 1", dag.Catchup, dag.MaxActiveRuns)
	}
}

// TestScheduleIntervals checks that the DAG's runs are due exactly when
// Data Pipeline would start its instances, and that
// @scheduledStartTime/@scheduledEndTime render to the instance's bounds.
func TestScheduleIntervals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file string
		// due are the times Data Pipeline dispatches its instances, and
		// starts their @scheduledStartTime.
		due, starts []time.Time
		// task's arg holds format(@scheduledStartTime, layout).
		task, arg, layout string
	}{
		// cron: instances of [06:00+k days, +1 day) run at their start.
		{"shell_cron.json",
			[]time.Time{day(1, 6), day(2, 6), day(3, 6)},
			[]time.Time{day(1, 6), day(2, 6), day(3, 6)}, "Extract", "bash_command", "2006-01-02"},
		// timeseries: hourly instances from 00:00 until 05:00 (exclusive)
		// run at their end.
		{"timeseries_sensors.json",
			[]time.Time{hour(1), hour(2), hour(3), hour(4), hour(5)},
			[]time.Time{hour(0), hour(1), hour(2), hour(3), hour(4)}, "Produce_Ready", "bucket_key", "2006010215"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			_, dag := convert(t, tc.file)
			tt, err := schedule.New(dag.Schedule, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			r := schedule.Restriction{Earliest: dag.StartDate, Latest: dag.EndDate, Catchup: dag.Catchup}
			var last *schedule.DataInterval
			var due []time.Time
			var runs []schedule.RunInfo
			for i := 0; i < 10; i++ {
				info, ok := tt.NextRun(last, r, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
				if !ok {
					break
				}
				due = append(due, info.RunAfter)
				runs = append(runs, info)
				di := info.DataInterval
				last = &di
			}
			if !slices.EqualFunc(due, tc.due, time.Time.Equal) {
				t.Fatalf("runs due at %v, want %v", due, tc.due)
			}
			for i, info := range runs {
				tmpl, _ := dag.Task(tc.task).Args[tc.arg].(string)
				got := render(t, dag, tc.task, info, tmpl)
				if want := tc.starts[i].Format(tc.layout); !strings.Contains(got, want) {
					t.Errorf("run %d: %s renders %q, want @scheduledStartTime %s in it", i, tc.arg, got, want)
				}
			}
		})
	}
}

func day(d, h int) time.Time { return time.Date(2024, 1, d, h, 0, 0, 0, time.UTC) }
func hour(h int) time.Time   { return time.Date(2024, 3, 1, h, 0, 0, 0, time.UTC) }

// render renders a template for a run of dag with the given interval.
func render(t *testing.T, dag *windsock.DAG, taskID string, info schedule.RunInfo, tmpl string) string {
	t.Helper()
	ctx := context.Background()
	start, end := info.DataInterval.Start, info.DataInterval.End
	run := &windsock.DagRun{DagID: dag.DagID, RunID: windsock.RunID(windsock.RunTypeScheduled, start),
		LogicalDate: start, DataIntervalStart: &start, DataIntervalEnd: &end}
	task := dag.Task(taskID)
	if task == nil {
		task = &windsock.Task{TaskID: taskID}
	}
	ti := &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: dag.DagID, TaskID: taskID, RunID: run.RunID, MapIndex: -1}, TryNumber: 1}
	src := template.Sources{Variable: func(_ context.Context, key string) (string, error) {
		return "", windsock.Errorf(windsock.ENOTFOUND, "variable %s does not exist", key)
	}}
	tc, err := template.NewContext(ctx, dag, task, run, ti, src)
	if err != nil {
		t.Fatal(err)
	}
	out, err := template.Render(ctx, tmpl, tc)
	if err != nil {
		t.Fatalf("render %q: %v", tmpl, err)
	}
	return fmt.Sprint(out)
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		src       string
		line, col int
		msgPrefix string
	}{
		{"{\n  \"objects\": [\n    {\"id\": \"a\" \"type\": \"x\"}\n  ]\n}", 3, 16, "expected ',' or '}'"},
		{"{\"objects\": [}", 1, 14, "expected a value"},
		{"", 1, 1, "unexpected end of file"},
		{"{\"objects\": [{\"id\": \"a\"}]} trailing", 1, 28, "unexpected"},
	}
	for _, tc := range cases {
		_, err := datapipeline.Parse([]byte(tc.src))
		var se *datapipeline.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a SyntaxError", tc.src, err)
			continue
		}
		if se.Line != tc.line || se.Column != tc.col || !strings.HasPrefix(se.Msg, tc.msgPrefix) {
			t.Errorf("Parse(%q) = line %d column %d %q, want %d:%d %q...", tc.src, se.Line, se.Column, se.Msg, tc.line, tc.col, tc.msgPrefix)
		}
	}
	if _, err := datapipeline.Parse([]byte(`{"values": {"myX": "1"}}`)); err == nil || !strings.Contains(err.Error(), `missing "objects"`) {
		t.Errorf("a values-only file: %v, want missing objects", err)
	}
}

func TestLenientRepairs(t *testing.T) {
	t.Parallel()
	res, dag := convert(t, "ondemand_api_lenient.json")
	want := []string{"line 8: kept raw control characters inside a string", "line 9: removed a trailing comma",
		"line 9: removed a trailing comma", "line 9: removed a trailing comma", "line 10: removed a trailing comma"}
	if !slices.Equal(res.Report.Repairs, want) {
		t.Errorf("repairs %q, want %q", res.Report.Repairs, want)
	}
	if got := dag.Task("Run").Args["bash_command"]; got != "echo one\necho two\ttabbed" {
		t.Errorf("bash_command %q", got)
	}
	if dag.Schedule.Kind != windsock.ScheduleNone {
		t.Errorf("an on-demand pipeline has schedule %+v, want manual only", dag.Schedule)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"shell_cron", "timeseries_sensors"} {
		res, _ := convert(t, name+".json")
		path := filepath.Join("testdata", name+".golden.yaml")
		if *update {
			if err := os.WriteFile(path, res.YAML, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(res.YAML) != string(want) {
			t.Errorf("%s: DAG file differs from %s (go test -update to accept):\n%s", name, path, res.YAML)
		}
	}
}

// TestTranslateExpressions renders translated expressions for given data
// intervals, as a run would.
func TestTranslateExpressions(t *testing.T) {
	t.Parallel()
	daily := datapipeline.Period{N: 1, Unit: "day"}
	start := time.Date(2024, 2, 28, 22, 5, 9, 0, time.UTC)
	end := start.Add(24 * time.Hour)
	params := map[string]string{"myBucket": "s3://b", "myDays": "3"}
	cases := []struct {
		typ, expr, want string
	}{
		{"timeseries", "#{@scheduledStartTime}", "2024-02-28T22:05:09"},
		{"timeseries", "#{format(@scheduledStartTime, 'YYYY-MM-dd')}", "2024-02-28"},
		{"timeseries", "#{format(@scheduledEndTime, 'yyyy/MM/dd HH:mm:ss')}", "2024/02/29 22:05:09"},
		{"cron", "#{format(@scheduledStartTime, 'YYYY-MM-dd')}", "2024-02-29"},
		{"cron", "#{format(@scheduledEndTime, 'YYYY-MM-dd')}", "2024-03-01"},
		{"timeseries", "#{format(minusDays(@scheduledStartTime,1),'YYYY-MM-dd')}", "2024-02-27"},
		{"timeseries", "#{format(plusHours(@scheduledStartTime, 3), 'dd HH')}", "29 01"},
		{"timeseries", "#{format(minusMinutes(@scheduledStartTime,30),'YYYY-MM-dd hh:mm:ss')}", "2024-02-28 09:35:09"},
		{"timeseries", "#{day(@scheduledStartTime)}", "28"},
		{"timeseries", "#{month(@scheduledStartTime)}-#{year(@scheduledStartTime)}", "2-2024"},
		{"timeseries", "#{format(midnight(@scheduledStartTime), 'HH:mm')}", "00:00"},
		{"timeseries", "#{format(firstOfMonth(@scheduledStartTime), 'dd')}", "01"},
		{"timeseries", "#{format(sunday(@scheduledStartTime), 'EEE dd')}", "Sun 25"},
		{"timeseries", "#{format(plusPeriod(@scheduledStartTime, '1 month'), 'MMM d')}", "Mar 28"},
		{"timeseries", "#{@scheduledStartTime.format('YYYY')}", "2024"},
		{"timeseries", "#{format(makeDate(2011,5,24), 'YYYY-MM-dd')}", "2011-05-24"},
		{"timeseries", "#{myBucket}/in/#{format(@scheduledStartTime, 'YYYY')}/", "s3://b/in/2024/"},
		{"timeseries", "#{myBucket + '/x'}", "s3://b/x"},
		{"timeseries", "#{1/2} #{1.0/2} #{2^2} #{7-2*3}", "0 0.5 4.0 1"},
		{"timeseries", "cp ${INPUT1_STAGING_DIR}/$1 {{ not jinja }}", "cp ${INPUT1_STAGING_DIR}/$1 {{ not jinja }}"},
		{"timeseries", "#{format(@scheduledStartTime, \"'day' D\")}", "day 059"},
	}
	dag := &windsock.DAG{DagID: "d", Schedule: windsock.Schedule{Kind: windsock.ScheduleInterval, Interval: windsock.Duration(24 * time.Hour)}}
	info := schedule.RunInfo{DataInterval: schedule.DataInterval{Start: start, End: end}}
	for _, tc := range cases {
		tmpl, err := datapipeline.Translate(tc.expr, tc.typ, daily, params)
		if err != nil {
			t.Errorf("Translate(%q): %v", tc.expr, err)
			continue
		}
		if got := render(t, dag, "t", info, tmpl); got != tc.want {
			t.Errorf("%s %q -> %q renders %q, want %q", tc.typ, tc.expr, tmpl, got, tc.want)
		}
	}
	for _, bad := range []string{"#{sqoop command}", "#{@status}", "#{nope(1)}", "#{format(@scheduledStartTime, 'QQ')}", "#{unknownName}", "#{node.name}"} {
		if _, err := datapipeline.Translate(bad, "cron", daily, params); err == nil {
			t.Errorf("Translate(%q) succeeded, want an error", bad)
		}
	}
}
