package config

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// kind is how an option's string is parsed into its field.
type kind int

const (
	kindString  kind = iota
	kindPath         // a string; relative paths resolve against Home
	kindInt          //
	kindSeconds      // a number of seconds, into a time.Duration
	kindBool         // Airflow's booleans: True/False, t/f, 1/0
	kindList         // comma-separated strings
)

// optionSpec describes one known option: its names, default, and the field
// it is parsed into. The table below is the single list of known options.
type optionSpec struct {
	section, name string
	kind          kind
	def           func(home string) string
	field         func(c *Config) any // pointer to the field
	sensitive     bool
	// deprecated lists the older "section.option" names Airflow still
	// reads for this option, looked up after the current name.
	deprecated []string
}

func constant(v string) func(string) string {
	return func(string) string { return v }
}

func underHome(parts ...string) func(string) string {
	return func(home string) string { return filepath.Join(append([]string{home}, parts...)...) }
}

var knownOptions = []optionSpec{
	{section: "core", name: "dags_folder", kind: kindPath, def: underHome("dags"), field: func(c *Config) any { return &c.Core.DagsFolder }},
	{section: "core", name: "parallelism", kind: kindInt, def: constant("32"), field: func(c *Config) any { return &c.Core.Parallelism }},
	{section: "core", name: "max_active_tasks_per_dag", kind: kindInt, def: constant("16"), field: func(c *Config) any { return &c.Core.MaxActiveTasksPerDAG }, deprecated: []string{"core.dag_concurrency"}},
	{section: "core", name: "max_active_runs_per_dag", kind: kindInt, def: constant("16"), field: func(c *Config) any { return &c.Core.MaxActiveRunsPerDAG }},
	{section: "core", name: "dags_are_paused_at_creation", kind: kindBool, def: constant("True"), field: func(c *Config) any { return &c.Core.DagsArePausedAtCreation }},
	{section: "core", name: "load_examples", kind: kindBool, def: constant("True"), field: func(c *Config) any { return &c.Core.LoadExamples }},
	{section: "core", name: "fernet_key", kind: kindString, def: constant(""), field: func(c *Config) any { return &c.Core.FernetKey }, sensitive: true},
	{section: "core", name: "default_timezone", kind: kindString, def: constant("utc"), field: func(c *Config) any { return &c.Core.DefaultTimezone }},
	{section: "core", name: "default_task_retries", kind: kindInt, def: constant("0"), field: func(c *Config) any { return &c.Core.DefaultTaskRetries }},
	{section: "core", name: "default_task_retry_delay", kind: kindSeconds, def: constant("300"), field: func(c *Config) any { return &c.Core.DefaultTaskRetryDelay }},
	{section: "core", name: "max_task_retry_delay", kind: kindSeconds, def: constant("86400"), field: func(c *Config) any { return &c.Core.MaxTaskRetryDelay }},
	{section: "core", name: "default_pool_task_slot_count", kind: kindInt, def: constant("128"), field: func(c *Config) any { return &c.Core.DefaultPoolTaskSlotCount }},
	{section: "core", name: "dag_ignore_file_syntax", kind: kindString, def: constant("regexp"), field: func(c *Config) any { return &c.Core.DagIgnoreFileSyntax }},
	{section: "core", name: "max_dag_file_size", kind: kindInt, def: constant("10485760"), field: func(c *Config) any { return &c.Core.MaxDagFileSize }},
	{section: "core", name: "sensitive_var_conn_names", kind: kindList, def: constant(""), field: func(c *Config) any { return &c.Core.SensitiveVarConnNames }},
	{section: "core", name: "max_map_length", kind: kindInt, def: constant("1024"), field: func(c *Config) any { return &c.Core.MaxMapLength }},
	{section: "core", name: "dagbag_import_timeout", kind: kindSeconds, def: constant("30"), field: func(c *Config) any { return &c.Core.DagbagImportTimeout }},
	{section: "core", name: "python_executable", kind: kindString, def: constant(""), field: func(c *Config) any { return &c.Core.PythonExecutable }},
	{section: "core", name: "plugins_folder", kind: kindPath, def: underHome("plugins"), field: func(c *Config) any { return &c.Core.PluginsFolder }},
	{section: "core", name: "dag_discovery_safe_mode", kind: kindBool, def: constant("True"), field: func(c *Config) any { return &c.Core.DagDiscoverySafeMode }},
	{section: "core", name: "killed_task_cleanup_time", kind: kindSeconds, def: constant("60"), field: func(c *Config) any { return &c.Core.KilledTaskCleanupTime }},
	{section: "core", name: "test_connection", kind: kindString, def: constant("Disabled"), field: func(c *Config) any { return &c.Core.TestConnection }},
	{section: "core", name: "executor", kind: kindString, def: constant("LocalExecutor"), field: func(c *Config) any { return &c.Core.Executor }},
	{section: "core", name: "requirements_file", kind: kindPath, def: underHome("requirements.txt"), field: func(c *Config) any { return &c.Core.RequirementsFile }},
	{section: "core", name: "plugins_zip", kind: kindPath, def: underHome("plugins.zip"), field: func(c *Config) any { return &c.Core.PluginsZip }},
	{section: "celery", name: "worker_concurrency", kind: kindInt, def: constant("16"), field: func(c *Config) any { return &c.Celery.WorkerConcurrency }},
	{section: "core", name: "hostname_callable", kind: kindString, def: constant(""), field: func(c *Config) any { return &c.Core.HostnameCallable }},

	{section: "database", name: "sql_alchemy_conn", kind: kindString, def: func(home string) string { return "sqlite:///" + filepath.Join(home, "windsock.db") }, field: func(c *Config) any { return &c.Database.SQLAlchemyConn }, sensitive: true, deprecated: []string{"core.sql_alchemy_conn"}},

	{section: "logging", name: "base_log_folder", kind: kindPath, def: underHome("logs"), field: func(c *Config) any { return &c.Logging.BaseLogFolder }, deprecated: []string{"core.base_log_folder"}},
	{section: "logging", name: "logging_level", kind: kindString, def: constant("INFO"), field: func(c *Config) any { return &c.Logging.LoggingLevel }, deprecated: []string{"core.logging_level"}},
	{section: "logging", name: "dag_processor_manager_log_location", kind: kindPath, def: underHome("logs", "dag_processor_manager", "dag_processor_manager.log"), field: func(c *Config) any { return &c.Logging.DagProcessorManagerLogLocation }, deprecated: []string{"core.dag_processor_manager_log_location"}},
	{section: "logging", name: "worker_log_server_port", kind: kindInt, def: constant("8793"), field: func(c *Config) any { return &c.Logging.WorkerLogServerPort }, deprecated: []string{"celery.worker_log_server_port"}},
	{section: "metrics", name: "metrics_host", kind: kindString, def: constant("127.0.0.1"), field: func(c *Config) any { return &c.Metrics.MetricsHost }},
	{section: "metrics", name: "metrics_port", kind: kindInt, def: constant(strconv.Itoa(DefaultMetricsPort)), field: func(c *Config) any { return &c.Metrics.MetricsPort }},
	{section: "logging", name: "log_fetch_timeout_sec", kind: kindSeconds, def: constant("5"), field: func(c *Config) any { return &c.Logging.LogFetchTimeoutSec }},
	{section: "logging", name: "remote_logging", kind: kindBool, def: constant("False"), field: func(c *Config) any { return &c.Logging.RemoteLogging }, deprecated: []string{"core.remote_logging"}},
	{section: "logging", name: "remote_base_log_folder", kind: kindString, def: constant(""), field: func(c *Config) any { return &c.Logging.RemoteBaseLogFolder }, deprecated: []string{"core.remote_base_log_folder"}},
	{section: "logging", name: "remote_log_conn_id", kind: kindString, def: constant(""), field: func(c *Config) any { return &c.Logging.RemoteLogConnID }, deprecated: []string{"core.remote_log_conn_id"}},
	{section: "logging", name: "delete_local_logs", kind: kindBool, def: constant("False"), field: func(c *Config) any { return &c.Logging.DeleteLocalLogs }},

	{section: "scheduler", name: "catchup_by_default", kind: kindBool, def: constant("True"), field: func(c *Config) any { return &c.Scheduler.CatchupByDefault }},
	{section: "scheduler", name: "dag_dir_list_interval", kind: kindSeconds, def: constant("300"), field: func(c *Config) any { return &c.Scheduler.DagDirListInterval }},
	{section: "scheduler", name: "min_file_process_interval", kind: kindSeconds, def: constant("30"), field: func(c *Config) any { return &c.Scheduler.MinFileProcessInterval }},
	{section: "scheduler", name: "scheduler_heartbeat_sec", kind: kindSeconds, def: constant("5"), field: func(c *Config) any { return &c.Scheduler.SchedulerHeartbeatSec }},
	{section: "scheduler", name: "scheduler_health_check_threshold", kind: kindSeconds, def: constant("30"), field: func(c *Config) any { return &c.Scheduler.SchedulerHealthCheckThreshold }},
	{section: "scheduler", name: "task_queued_timeout", kind: kindSeconds, def: constant("600"), field: func(c *Config) any { return &c.Scheduler.TaskQueuedTimeout }},
	{section: "scheduler", name: "scheduler_zombie_task_threshold", kind: kindSeconds, def: constant("300"), field: func(c *Config) any { return &c.Scheduler.SchedulerZombieTaskThreshold }},
	{section: "scheduler", name: "worker_health_check_threshold", kind: kindSeconds, def: constant("30"), field: func(c *Config) any { return &c.Scheduler.WorkerHealthCheckThreshold }},
	{section: "scheduler", name: "retry_tries_lost_to_crash", kind: kindBool, def: constant("True"), field: func(c *Config) any { return &c.Scheduler.RetryTriesLostToCrash }},
	{section: "scheduler", name: "max_tis_per_query", kind: kindInt, def: constant("16"), field: func(c *Config) any { return &c.Scheduler.MaxTisPerQuery }},
	{section: "scheduler", name: "standalone_dag_processor", kind: kindBool, def: constant("False"), field: func(c *Config) any { return &c.Scheduler.StandaloneDagProcessor }},

	{section: "webserver", name: "web_server_host", kind: kindString, def: constant("127.0.0.1"), field: func(c *Config) any { return &c.Webserver.WebServerHost }},
	{section: "webserver", name: "web_server_port", kind: kindInt, def: constant("8080"), field: func(c *Config) any { return &c.Webserver.WebServerPort }},
	{section: "aws_mwaa", name: "token_secret", kind: kindString, def: constant(""), field: func(c *Config) any { return &c.AwsMwaa.TokenSecret }, sensitive: true},
	{section: "webserver", name: "secret_key", kind: kindString, def: constant(""), field: func(c *Config) any { return &c.Webserver.SecretKey }, sensitive: true},
	{section: "webserver", name: "expose_config", kind: kindBool, def: constant("False"), field: func(c *Config) any { return &c.Webserver.ExposeConfig }},
	{section: "webserver", name: "web_server_worker_timeout", kind: kindSeconds, def: constant("120"), field: func(c *Config) any { return &c.Webserver.WebServerWorkerTimeout }},
	{section: "webserver", name: "base_url", kind: kindString, def: constant(""), field: func(c *Config) any { return &c.Webserver.BaseURL }},
	{section: "webserver", name: "session_lifetime_minutes", kind: kindInt, def: constant("43200"), field: func(c *Config) any { return &c.Webserver.SessionLifetimeMinutes }},
	{section: "webserver", name: "auth_rate_limited", kind: kindBool, def: constant("True"), field: func(c *Config) any { return &c.Webserver.AuthRateLimited }},
	{section: "webserver", name: "auth_rate_limit", kind: kindString, def: constant("5 per 40 second"), field: func(c *Config) any { return &c.Webserver.AuthRateLimit }},

	{section: "api", name: "auth_backends", kind: kindList, def: constant("airflow.api.auth.backend.session,airflow.api.auth.backend.basic_auth"), field: func(c *Config) any { return &c.API.AuthBackends }, deprecated: []string{"api.auth_backend"}},
	{section: "api", name: "maximum_page_limit", kind: kindInt, def: constant("100"), field: func(c *Config) any { return &c.API.MaximumPageLimit }},
	{section: "api", name: "max_concurrent_requests", kind: kindInt, def: constant("0"), field: func(c *Config) any { return &c.API.MaxConcurrentRequests }},
	{section: "api", name: "fallback_page_limit", kind: kindInt, def: constant("100"), field: func(c *Config) any { return &c.API.FallbackPageLimit }},

	{section: "operators", name: "default_queue", kind: kindString, def: constant("default"), field: func(c *Config) any { return &c.Operators.DefaultQueue }},
	{section: "operators", name: "default_owner", kind: kindString, def: constant("airflow"), field: func(c *Config) any { return &c.Operators.DefaultOwner }},
}

// sensitiveUnknown are options Windsock does not use but Airflow marks
// sensitive; they are masked when they show up in an imported config.
var sensitiveUnknown = map[string]bool{
	"celery.broker_url":                true,
	"celery.flower_basic_auth":         true,
	"celery.result_backend":            true,
	"core.internal_api_secret_key":     true,
	"database.sql_alchemy_engine_args": true,
	"secrets.backend_kwargs":           true,
	"sentry.sentry_dsn":                true,
	"smtp.smtp_password":               true,
}

// isSensitiveUnknown masks Airflow's sensitive options, their _cmd and
// _secret variants (which Airflow also hides), and, erring on the side of
// hiding, names that look like credentials.
func isSensitiveUnknown(section, name string) bool {
	base := strings.TrimSuffix(strings.TrimSuffix(name, "_cmd"), "_secret")
	key := section + "." + base
	if sensitiveUnknown[key] {
		return true
	}
	for _, spec := range knownOptions {
		if spec.sensitive && spec.key() == key {
			return true
		}
	}
	for _, s := range []string{"password", "passwd", "secret", "token", "credential"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

func (s *optionSpec) key() string { return s.section + "." + s.name }

// lookup finds the option's raw value by precedence: WINDSOCK__ then
// AIRFLOW__ variables (current name, then deprecated names), then the file
// (same order). It marks every name it consumed in used.
func (s *optionSpec) lookup(env envVars, file map[string]string, used map[string]bool) (string, string) {
	names := append([]string{s.key()}, s.deprecated...)
	for _, n := range names {
		used[n] = true
	}
	for _, n := range names {
		if v, ok := env.windsock[n]; ok {
			return v, SourceEnv
		}
		if v, ok := env.airflow[n]; ok {
			return v, SourceEnv
		}
	}
	for _, n := range names {
		if v, ok := file[n]; ok {
			return v, SourceFile
		}
	}
	return "", SourceDefault
}

// set parses value into the option's field of c.
func (s *optionSpec) set(c *Config, value string) error {
	switch p := s.field(c).(type) {
	case *string:
		if s.kind == kindPath {
			*p = c.resolvePath(strings.TrimSpace(value))
		} else {
			*p = value
		}
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("not an integer: %q", value)
		}
		*p = n
	case *time.Duration:
		d, err := parseSeconds(value)
		if err != nil {
			return err
		}
		*p = d
	case *bool:
		b, err := parseBool(value)
		if err != nil {
			return err
		}
		*p = b
	case *[]string:
		*p = splitList(value)
	default:
		return fmt.Errorf("unsupported field type %T", p)
	}
	return nil
}

// format renders the field back into the option's string form.
func (s *optionSpec) format(c *Config) string {
	switch p := s.field(c).(type) {
	case *string:
		return *p
	case *int:
		return strconv.Itoa(*p)
	case *time.Duration:
		return strconv.FormatFloat(p.Seconds(), 'f', -1, 64)
	case *bool:
		if *p {
			return "True"
		}
		return "False"
	case *[]string:
		return strings.Join(*p, ",")
	}
	return ""
}

func (s *optionSpec) isZero(c *Config) bool {
	switch p := s.field(c).(type) {
	case *string:
		return *p == ""
	case *int:
		return *p == 0
	case *time.Duration:
		return *p == 0
	case *[]string:
		return len(*p) == 0
	}
	// Booleans: false is a legitimate value, never replaced.
	return false
}

func (s *optionSpec) copyField(dst, src *Config) {
	switch p := s.field(dst).(type) {
	case *string:
		*p = *s.field(src).(*string)
	case *int:
		*p = *s.field(src).(*int)
	case *time.Duration:
		*p = *s.field(src).(*time.Duration)
	case *[]string:
		*p = append([]string(nil), *s.field(src).(*[]string)...)
	}
}

// parseBool accepts what Airflow's getboolean accepts: t/true/1 and
// f/false/0, case-insensitive, ignoring a trailing "# comment".
func parseBool(value string) (bool, error) {
	v := strings.ToLower(value)
	if i := strings.IndexByte(v, '#'); i >= 0 {
		v = v[:i]
	}
	switch strings.TrimSpace(v) {
	case "t", "true", "1":
		return true, nil
	case "f", "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q (use True or False)", value)
}

// parseSeconds reads a number of seconds; fractions are allowed, as for
// Airflow's float options.
func parseSeconds(value string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxInt64/float64(time.Second) {
		return 0, fmt.Errorf("not a number of seconds: %q", value)
	}
	return time.Duration(f * float64(time.Second)), nil
}

func splitList(value string) []string {
	var out []string
	for _, part := range strings.Split(value, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
