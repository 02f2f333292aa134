package operator

import (
	"slices"
	"testing"
)

func TestCatalogLookup(t *testing.T) {
	t.Parallel()
	c := Builtins()
	tests := []struct {
		name      string
		wantShort string
		wantOK    bool
	}{
		{"bash", "bash", true},
		{"BashOperator", "bash", true},
		{"airflow.operators.bash.BashOperator", "bash", true},
		{"airflow.operators.bash_operator.BashOperator", "bash", true},
		{"empty", "empty", true},
		{"EmptyOperator", "empty", true},
		{"DummyOperator", "empty", true},
		{"airflow.operators.dummy_operator.DummyOperator", "empty", true},
		{"airflow.operators.dummy.DummyOperator", "empty", true},
		{"airflow.operators.empty.EmptyOperator", "empty", true},
		{"python", "python", true},
		{"airflow.operators.python_operator.PythonOperator", "python", true},
		{"branch_python", "branch_python", true},
		{"airflow.operators.python.BranchPythonOperator", "branch_python", true},
		{"ShortCircuitOperator", "short_circuit", true},
		{"airflow.providers.http.operators.http.HttpOperator", "http", true},
		{"airflow.providers.http.operators.http.SimpleHttpOperator", "http", true},
		{"SimpleHttpOperator", "http", true},
		{"airflow.operators.email.EmailOperator", "email", true},
		{"airflow.sensors.filesystem.FileSensor", "file_sensor", true},
		{"airflow.providers.http.sensors.http.HttpSensor", "http_sensor", true},
		{"airflow.providers.common.sql.sensors.sql.SqlSensor", "sql_sensor", true},
		{"airflow.sensors.time_delta.TimeDeltaSensor", "time_delta_sensor", true},
		{"airflow.sensors.date_time.DateTimeSensor", "date_time_sensor", true},
		{"airflow.sensors.external_task.ExternalTaskSensor", "external_task_sensor", true},
		{"airflow.sensors.external_task_sensor.ExternalTaskSensor", "external_task_sensor", true},
		{"airflow.sensors.bash.BashSensor", "bash_sensor", true},
		{" bash ", "bash", true},
		{"Bash", "", false},
		{"bashoperator", "", false},
		{"airflow.operators.nope.BashOperatorX", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		s, ok := c.Lookup(tt.name)
		if ok != tt.wantOK || (ok && s.Name != tt.wantShort) {
			t.Errorf("Lookup(%q) = %v, %v; want %q, %v", tt.name, s, ok, tt.wantShort, tt.wantOK)
		}
	}
}

func TestBuiltinsSpecs(t *testing.T) {
	t.Parallel()
	c := Builtins()
	wantNames := []string{"empty", "bash", "python", "branch_python", "short_circuit", "http", "email",
		"trigger_dagrun", "latest_only", "branch_day_of_week", "branch_datetime", "file_sensor", "http_sensor", "sql_sensor", "time_delta_sensor", "date_time_sensor", "external_task_sensor", "bash_sensor", "python_file_task"}
	wantNames = append(wantNames, "s3_key_sensor", "s3_create_object", "s3_copy_object", "s3_delete_objects", "s3_list",
		"s3_file_transform", "sql_to_s3", "s3_to_sql", "emr_add_steps", "s3_to_redshift", "dynamodb_value_sensor", "sql_execute", "datapipeline_shell")
	var names []string
	for _, s := range c.Specs() {
		names = append(names, s.Name)
		// python_file_task has no class path: no DAG file names it.
		if s.Class == "" || (len(s.Paths) == 0) != (s.Name == "python_file_task") {
			t.Errorf("%s: class %q, paths %q", s.Name, s.Class, s.Paths)
		}
		for _, p := range s.Paths {
			if got, ok := c.Lookup(p); !ok || got != s {
				t.Errorf("path %s does not find %s", p, s.Name)
			}
		}
		_, hasMode := s.Arg("mode")
		if hasMode != s.Sensor {
			t.Errorf("%s: sensor %v but mode argument %v", s.Name, s.Sensor, hasMode)
		}
	}
	if !slices.Equal(names, wantNames) {
		t.Errorf("specs = %q, want %q", names, wantNames)
	}
}

func TestSpecArgs(t *testing.T) {
	t.Parallel()
	c := Builtins()
	tests := []struct {
		op        string
		required  []string
		templated []string
	}{
		{"bash", []string{"bash_command"}, []string{"bash_command", "env", "cwd"}},
		{"python", []string{"python_callable"}, []string{"op_args", "op_kwargs", "templates_dict"}},
		{"email", []string{"to", "subject", "html_content"}, []string{"to", "subject", "html_content", "from_email", "files"}},
		{"sql_sensor", []string{"conn_id", "sql"}, []string{"sql", "parameters", "hook_params"}},
		{"external_task_sensor", []string{"external_dag_id"}, []string{"external_dag_id", "external_task_id", "external_task_ids", "external_task_group_id"}},
		{"http", nil, []string{"endpoint", "data", "headers"}},
		{"empty", nil, nil},
		{"trigger_dagrun", []string{"trigger_dag_id"}, []string{"trigger_dag_id", "trigger_run_id", "conf", "logical_date", "execution_date", "wait_for_completion", "skip_when_already_exists"}},
		{"airflow.operators.dagrun_operator.TriggerDagRunOperator", []string{"trigger_dag_id"}, []string{"trigger_dag_id", "trigger_run_id", "conf", "logical_date", "execution_date", "wait_for_completion", "skip_when_already_exists"}},
		{"airflow.operators.latest_only_operator.LatestOnlyOperator", nil, nil},
		{"BranchDayOfWeekOperator", []string{"follow_task_ids_if_true", "follow_task_ids_if_false", "week_day"}, nil},
		{"airflow.operators.datetime.BranchDateTimeOperator", []string{"follow_task_ids_if_true", "follow_task_ids_if_false"}, nil},
	}
	for _, tt := range tests {
		s, ok := c.Lookup(tt.op)
		if !ok {
			t.Fatalf("no %s", tt.op)
		}
		if got := s.Required(); !slices.Equal(got, tt.required) {
			t.Errorf("%s required = %q, want %q", tt.op, got, tt.required)
		}
		var templated []string
		for _, a := range s.Args {
			if a.Templated {
				templated = append(templated, a.Name)
			}
		}
		if !slices.Equal(templated, tt.templated) {
			t.Errorf("%s templated = %q, want %q", tt.op, templated, tt.templated)
		}
	}
}

func TestSpecsIsACopy(t *testing.T) {
	t.Parallel()
	c := Builtins()
	specs := c.Specs()
	specs[0] = nil
	if c.Specs()[0] == nil {
		t.Fatal("Specs exposes the catalog's slice")
	}
}
