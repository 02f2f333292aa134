// Package operator describes the operators Windsock knows: their names,
// the Airflow class paths DAG files may use for them, and the arguments
// they accept. This file holds only the catalog of specs; running an
// operator lives elsewhere.
package operator

import "strings"

// Arg is one argument an operator accepts.
type Arg struct {
	Name string
	// Required arguments must be set by the task or its default_args.
	Required bool
	// Templated arguments are rendered with Jinja before the task runs
	// (Airflow's template_fields).
	Templated bool
}

// Spec describes one operator: its names and its own arguments (the
// BaseOperator arguments every task accepts are not listed).
type Spec struct {
	// Name is the short name DAG files may use ("bash").
	Name string
	// Class is the Airflow class name shown to users ("BashOperator").
	Class string
	// Paths are the full Airflow class paths accepted for this operator,
	// including deprecated module paths.
	Paths []string
	// Sensor says the operator is a sensor, which also accepts the
	// BaseSensorOperator arguments (already included in Args).
	Sensor bool
	Args   []Arg
	// Missing, for a placeholder, names what the operator needs that
	// Windsock does not have ("Amazon EMR"): its tasks parse, and fail
	// when they run. "" for the operators Windsock runs.
	Missing string
}

// Arg returns the argument called name, if the operator accepts it.
func (s *Spec) Arg(name string) (Arg, bool) {
	for _, a := range s.Args {
		if a.Name == name {
			return a, true
		}
	}
	return Arg{}, false
}

// Required returns the names of the required arguments, in declaration order.
func (s *Spec) Required() []string {
	var out []string
	for _, a := range s.Args {
		if a.Required {
			out = append(out, a.Name)
		}
	}
	return out
}

// Catalog is a set of operator specs, looked up by any of their names.
type Catalog struct {
	specs []*Spec
	index map[string]*Spec
}

// NewCatalog builds a catalog from specs. A later spec does not replace an
// earlier one's names: the first spec to claim a name keeps it.
func NewCatalog(specs ...*Spec) *Catalog {
	c := &Catalog{index: make(map[string]*Spec)}
	for _, s := range specs {
		c.specs = append(c.specs, s)
		c.claim(s.Name, s)
		c.claim(s.Class, s)
		for _, p := range s.Paths {
			c.claim(p, s)
			// The bare class name of every path is accepted too, so
			// "DummyOperator" finds the empty operator.
			c.claim(p[strings.LastIndex(p, ".")+1:], s)
		}
	}
	return c
}

func (c *Catalog) claim(name string, s *Spec) {
	if name == "" {
		return
	}
	if _, taken := c.index[name]; !taken {
		c.index[name] = s
	}
}

// Lookup finds a spec by short name ("bash"), class name ("BashOperator")
// or full class path ("airflow.operators.bash.BashOperator").
func (c *Catalog) Lookup(name string) (*Spec, bool) {
	s, ok := c.index[strings.TrimSpace(name)]
	return s, ok
}

// Specs returns every spec in catalog order.
func (c *Catalog) Specs() []*Spec {
	return append([]*Spec(nil), c.specs...)
}

// Names returns every name Lookup accepts, for "did you mean" suggestions.
func (c *Catalog) Names() []string {
	out := make([]string, 0, len(c.index))
	for n := range c.index {
		out = append(out, n)
	}
	return out
}

// Builtins returns the catalog of the operators Windsock ships, with the
// class paths Airflow 2.10 (and the older 1.10-style modules, and the
// standard provider of later releases) uses for them.
func Builtins() *Catalog {
	return newCatalogWith(amazonSpecs(),
		&Spec{
			Name: "empty", Class: "EmptyOperator",
			Paths: []string{
				"airflow.operators.empty.EmptyOperator",
				"airflow.providers.standard.operators.empty.EmptyOperator",
				"airflow.operators.dummy.DummyOperator",
				"airflow.operators.dummy_operator.DummyOperator",
			},
		},
		&Spec{
			Name: "bash", Class: "BashOperator",
			Paths: []string{
				"airflow.operators.bash.BashOperator",
				"airflow.operators.bash_operator.BashOperator",
				"airflow.providers.standard.operators.bash.BashOperator",
			},
			Args: []Arg{
				{Name: "bash_command", Required: true, Templated: true},
				{Name: "env", Templated: true},
				{Name: "append_env"},
				{Name: "output_encoding"},
				{Name: "skip_on_exit_code"},
				{Name: "cwd", Templated: true},
			},
		},
		&Spec{
			Name: "python", Class: "PythonOperator",
			Paths: []string{
				"airflow.operators.python.PythonOperator",
				"airflow.operators.python_operator.PythonOperator",
				"airflow.providers.standard.operators.python.PythonOperator",
			},
			Args: pythonArgs(),
		},
		&Spec{
			Name: "branch_python", Class: "BranchPythonOperator",
			Paths: []string{
				"airflow.operators.python.BranchPythonOperator",
				"airflow.operators.python_operator.BranchPythonOperator",
				"airflow.providers.standard.operators.python.BranchPythonOperator",
			},
			Args: pythonArgs(),
		},
		&Spec{
			Name: "short_circuit", Class: "ShortCircuitOperator",
			Paths: []string{
				"airflow.operators.python.ShortCircuitOperator",
				"airflow.operators.python_operator.ShortCircuitOperator",
				"airflow.providers.standard.operators.python.ShortCircuitOperator",
			},
			Args: append(pythonArgs(), Arg{Name: "ignore_downstream_trigger_rules"}),
		},
		&Spec{
			Name: "http", Class: "HttpOperator",
			Paths: []string{
				"airflow.providers.http.operators.http.HttpOperator",
				"airflow.providers.http.operators.http.SimpleHttpOperator",
				"airflow.operators.http_operator.SimpleHttpOperator",
			},
			Args: []Arg{
				{Name: "http_conn_id"},
				{Name: "endpoint", Templated: true},
				{Name: "method"},
				{Name: "data", Templated: true},
				{Name: "headers", Templated: true},
				{Name: "response_check"},
				{Name: "response_filter"},
				{Name: "extra_options"},
				{Name: "log_response"},
			},
		},
		&Spec{
			Name: "email", Class: "EmailOperator",
			Paths: []string{
				"airflow.operators.email.EmailOperator",
				"airflow.operators.email_operator.EmailOperator",
				"airflow.providers.smtp.operators.smtp.EmailOperator",
			},
			Args: []Arg{
				{Name: "to", Required: true, Templated: true},
				{Name: "subject", Required: true, Templated: true},
				{Name: "html_content", Required: true, Templated: true},
				{Name: "from_email", Templated: true},
				{Name: "files", Templated: true},
				{Name: "cc"},
				{Name: "bcc"},
				{Name: "mime_subtype"},
				{Name: "mime_charset"},
				{Name: "conn_id"},
			},
		},
		&Spec{
			Name: "trigger_dagrun", Class: "TriggerDagRunOperator",
			Paths: []string{
				"airflow.operators.trigger_dagrun.TriggerDagRunOperator",
				"airflow.operators.dagrun_operator.TriggerDagRunOperator",
				"airflow.providers.standard.operators.trigger_dagrun.TriggerDagRunOperator",
			},
			Args: []Arg{
				{Name: "trigger_dag_id", Required: true, Templated: true},
				{Name: "trigger_run_id", Templated: true},
				{Name: "conf", Templated: true},
				{Name: "logical_date", Templated: true},
				{Name: "execution_date", Templated: true}, // before 2.6
				{Name: "reset_dag_run"},
				{Name: "wait_for_completion", Templated: true},
				{Name: "poke_interval"},
				{Name: "allowed_states"},
				{Name: "failed_states"},
				{Name: "skip_when_already_exists", Templated: true},
				{Name: "deferrable"},
			},
		},
		&Spec{
			Name: "latest_only", Class: "LatestOnlyOperator",
			Paths: []string{
				"airflow.operators.latest_only.LatestOnlyOperator",
				"airflow.operators.latest_only_operator.LatestOnlyOperator",
				"airflow.providers.standard.operators.latest_only.LatestOnlyOperator",
			},
		},
		&Spec{
			Name: "branch_day_of_week", Class: "BranchDayOfWeekOperator",
			Paths: []string{
				"airflow.operators.weekday.BranchDayOfWeekOperator",
				"airflow.providers.standard.operators.weekday.BranchDayOfWeekOperator",
			},
			Args: append(branchArgs(),
				Arg{Name: "week_day", Required: true},
				Arg{Name: "use_task_execution_day"}, // before 2.3
			),
		},
		&Spec{
			Name: "branch_datetime", Class: "BranchDateTimeOperator",
			Paths: []string{
				"airflow.operators.datetime.BranchDateTimeOperator",
				"airflow.providers.standard.operators.datetime.BranchDateTimeOperator",
			},
			Args: append(branchArgs(),
				Arg{Name: "target_lower"},
				Arg{Name: "target_upper"},
				Arg{Name: "use_task_execution_date"}, // before 2.3
			),
		},
		sensor(&Spec{
			Name: "file_sensor", Class: "FileSensor",
			Paths: []string{
				"airflow.sensors.filesystem.FileSensor",
				"airflow.contrib.sensors.file_sensor.FileSensor",
				"airflow.providers.standard.sensors.filesystem.FileSensor",
			},
			Args: []Arg{
				{Name: "filepath", Required: true, Templated: true},
				{Name: "fs_conn_id"},
				{Name: "recursive"},
			},
		}),
		sensor(&Spec{
			Name: "http_sensor", Class: "HttpSensor",
			Paths: []string{
				"airflow.providers.http.sensors.http.HttpSensor",
				"airflow.sensors.http_sensor.HttpSensor",
			},
			Args: []Arg{
				{Name: "endpoint", Required: true, Templated: true},
				{Name: "http_conn_id"},
				{Name: "method"},
				{Name: "request_params", Templated: true},
				{Name: "headers", Templated: true},
				{Name: "response_check"},
				{Name: "extra_options"},
			},
		}),
		sensor(&Spec{
			Name: "sql_sensor", Class: "SqlSensor",
			Paths: []string{
				"airflow.providers.common.sql.sensors.sql.SqlSensor",
				"airflow.sensors.sql.SqlSensor",
				"airflow.sensors.sql_sensor.SqlSensor",
			},
			Args: []Arg{
				{Name: "conn_id", Required: true},
				{Name: "sql", Required: true, Templated: true},
				{Name: "parameters", Templated: true},
				{Name: "success"},
				{Name: "failure"},
				{Name: "fail_on_empty"},
				{Name: "hook_params", Templated: true},
			},
		}),
		sensor(&Spec{
			Name: "time_delta_sensor", Class: "TimeDeltaSensor",
			Paths: []string{
				"airflow.sensors.time_delta.TimeDeltaSensor",
				"airflow.sensors.time_delta_sensor.TimeDeltaSensor",
				"airflow.providers.standard.sensors.time_delta.TimeDeltaSensor",
			},
			Args: []Arg{{Name: "delta", Required: true}},
		}),
		sensor(&Spec{
			Name: "date_time_sensor", Class: "DateTimeSensor",
			Paths: []string{
				"airflow.sensors.date_time.DateTimeSensor",
				"airflow.sensors.date_time_sensor.DateTimeSensor",
				"airflow.providers.standard.sensors.date_time.DateTimeSensor",
			},
			Args: []Arg{{Name: "target_time", Required: true, Templated: true}},
		}),
		sensor(&Spec{
			Name: "external_task_sensor", Class: "ExternalTaskSensor",
			Paths: []string{
				"airflow.sensors.external_task.ExternalTaskSensor",
				"airflow.sensors.external_task_sensor.ExternalTaskSensor",
				"airflow.providers.standard.sensors.external_task.ExternalTaskSensor",
			},
			Args: []Arg{
				{Name: "external_dag_id", Required: true, Templated: true},
				{Name: "external_task_id", Templated: true},
				{Name: "external_task_ids", Templated: true},
				{Name: "external_task_group_id", Templated: true},
				{Name: "allowed_states"},
				{Name: "skipped_states"},
				{Name: "failed_states"},
				{Name: "execution_delta"},
				{Name: "execution_date_fn"},
				{Name: "check_existence"},
			},
		}),
		sensor(&Spec{
			Name: "bash_sensor", Class: "BashSensor",
			Paths: []string{
				"airflow.sensors.bash.BashSensor",
				"airflow.sensors.bash_sensor.BashSensor",
				"airflow.providers.standard.sensors.bash.BashSensor",
			},
			Args: []Arg{
				{Name: "bash_command", Required: true, Templated: true},
				{Name: "env", Templated: true},
				{Name: "output_encoding"},
				{Name: "retry_exit_code"},
			},
		}),
		// A task of a Python DAG file that runs in Python, from the file
		// itself; only the Python parser emits it. Its one argument is the
		// metadata the parse child wrote (class, template fields, ...);
		// the task shows that class, not this spec's.
		&Spec{
			Name: "python_file_task", Class: "PythonFileTask",
			Args: []Arg{{Name: "python_file_task", Required: true}},
		},
	)
}

// pythonArgs are the arguments PythonOperator and its subclasses share;
// templates_dict, op_args and op_kwargs are its template_fields.
func pythonArgs() []Arg {
	return []Arg{
		{Name: "python_callable", Required: true},
		{Name: "op_args", Templated: true},
		{Name: "op_kwargs", Templated: true},
		{Name: "templates_dict", Templated: true},
		{Name: "templates_exts"},
		{Name: "show_return_value_in_logs"},
	}
}

// branchArgs are the arguments the date branch operators share.
func branchArgs() []Arg {
	return []Arg{
		{Name: "follow_task_ids_if_true", Required: true},
		{Name: "follow_task_ids_if_false", Required: true},
		{Name: "use_task_logical_date"},
	}
}

// sensor marks s as a sensor and adds BaseSensorOperator's arguments.
func sensor(s *Spec) *Spec {
	s.Sensor = true
	s.Args = append(s.Args,
		Arg{Name: "poke_interval"},
		Arg{Name: "timeout"},
		Arg{Name: "mode"},
		Arg{Name: "soft_fail"},
		Arg{Name: "exponential_backoff"},
		Arg{Name: "max_wait"},
		Arg{Name: "silent_fail"},
	)
	return s
}
