package dagfile

import (
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

func TestDatasetSchedules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, schedule string
		kind           windsock.ScheduleKind
		want           string // DatasetCondition.String
		expr           string // ExpressionJSON
	}{
		{"list", `['s3://b/1', 's3://b/2']`, windsock.ScheduleDatasets, "s3://b/1 & s3://b/2", `{"all":["s3://b/1","s3://b/2"]}`},
		{"datasets list", `{datasets: ['s3://b/1']}`, windsock.ScheduleDatasets, "s3://b/1", `{"all":["s3://b/1"]}`},
		{"string condition", `{datasets: "((s3://b/1 & s3://b/2) | s3://b/3)"}`, windsock.ScheduleDatasets,
			"(s3://b/1 & s3://b/2) | s3://b/3", `{"any":[{"all":["s3://b/1","s3://b/2"]},"s3://b/3"]}`},
		{"and binds tighter", `{datasets: "a://1 | a://2 & a://3"}`, windsock.ScheduleDatasets, "a://1 | (a://2 & a://3)", `{"any":["a://1",{"all":["a://2","a://3"]}]}`},
		{"tags", "\n    datasets: !or\n      - !and [s3://b/1, s3://b/2]\n      - s3://b/3", windsock.ScheduleDatasets,
			"(s3://b/1 & s3://b/2) | s3://b/3", `{"any":[{"all":["s3://b/1","s3://b/2"]},"s3://b/3"]}`},
		{"dunder", `{datasets: {__or__: [{__and__: [s3://b/1, {uri: s3://b/2, __type__: airflow.datasets.Dataset}]}, s3://b/3]}}`, windsock.ScheduleDatasets,
			"(s3://b/1 & s3://b/2) | s3://b/3", `{"any":[{"all":["s3://b/1","s3://b/2"]},"s3://b/3"]}`},
		{"or time", `{datasets: "s3://b/1", timetable: {__type__: airflow.timetables.trigger.CronTriggerTimetable, cron: "0 1 * * 5", timezone: UTC}}`,
			windsock.ScheduleCron, "s3://b/1", `"s3://b/1"`},
		{"or preset", `{datasets: [s3://b/1], cron: "@daily"}`, windsock.ScheduleCron, "s3://b/1", `{"all":["s3://b/1"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "consumer:\n  start_date: 2024-01-01\n  schedule: " + tt.schedule + "\n  tasks:\n    t:\n      operator: bash\n      bash_command: echo\n"
			f := ParseFile("d.yaml", []byte(src), NewDefaults(testNow), operator.Builtins())
			d := dagByID(t, f, "consumer")
			if d.Schedule.Kind != tt.kind {
				t.Errorf("kind = %q, want %q", d.Schedule.Kind, tt.kind)
			}
			if got := d.Schedule.Datasets.String(); got != tt.want {
				t.Errorf("condition = %q, want %q", got, tt.want)
			}
			if got := d.Schedule.Datasets.ExpressionJSON(); got != tt.expr {
				t.Errorf("expression = %s, want %s", got, tt.expr)
			}
		})
	}
}

func TestDatasetScheduleErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ schedule, want string }{
		{`{datasets: "s3://a &"}`, "a dataset URI is missing at the end"},
		{`{datasets: "s3://a | | s3://b"}`, `a dataset URI is missing before "|"`},
		{`{datasets: "airflow://x"}`, "reserved 'airflow' scheme"},
		{`{file: /x.yml, datasets: [a]}`, "file:) are not supported"},
		{`{datasets: []}`, "must not be empty"},
		{`{datasets: !xor [a://1]}`, "unknown dataset condition tag !xor"},
		{`{datasets: [a://1], cron: "30m"}`, "cron expression or a preset"},
		{`{datasets: [a://1], timetable: {events: []}}`, "timetable needs cron"},
		{`{datasets: ~, cron: "@daily"}`, "needs datasets"},
	}
	for _, tt := range tests {
		src := "consumer:\n  schedule: " + tt.schedule + "\n  tasks:\n    t:\n      operator: bash\n      bash_command: echo\n"
		f := ParseFile("d.yaml", []byte(src), NewDefaults(testNow), operator.Builtins())
		if len(f.DAGs) != 0 || len(f.Errors) == 0 || !strings.Contains(f.Errors[0].Error(), tt.want) {
			t.Errorf("schedule %s: DAGs %d, errors %v; want an error with %q", tt.schedule, len(f.DAGs), f.Errors, tt.want)
		}
	}
}

func TestOutlets(t *testing.T) {
	t.Parallel()
	src := `producer:
  default_args: {start_date: 2024-01-01}
  tasks:
    a:
      operator: airflow.operators.bash_operator.BashOperator
      bash_command: echo
      outlets: ['s3://b/1', {uri: 's3://b/2'}, 's3://b/1']
    b:
      operator: bash
      bash_command: echo
      outlets: s3://b/3
    c:
      operator: bash
      bash_command: echo
`
	f := ParseFile("d.yaml", []byte(src), NewDefaults(testNow), operator.Builtins())
	d := dagByID(t, f, "producer")
	want := map[string]string{"a": "s3://b/1,s3://b/2", "b": "s3://b/3", "c": ""}
	for id, w := range want {
		if got := strings.Join(d.Task(id).Outlets, ","); got != w {
			t.Errorf("outlets of %s = %q, want %q", id, got, w)
		}
	}

	bad := "p:\n  tasks:\n    a:\n      operator: bash\n      bash_command: echo\n      outlets: {file: x.yml, datasets: [a]}\n"
	f = ParseFile("d.yaml", []byte(bad), NewDefaults(testNow), operator.Builtins())
	if len(f.DAGs) != 0 || len(f.Errors) == 0 || !strings.Contains(f.Errors[0].Error(), "outlets read from another file") {
		t.Errorf("outlets with file: gave DAGs %d, errors %v", len(f.DAGs), f.Errors)
	}
}
