package mwaa

import (
	"strconv"
	"strings"
)

// BucketName is the bucket of an S3 bucket ARN (arn:aws:s3:::NAME).
func BucketName(arn string) string {
	if i := strings.Index(arn, ":::"); i >= 0 {
		return arn[i+3:]
	}
	return arn
}

// optionRename is an Airflow configuration option that moved: from the
// version Since on, Old is read as New. A version change (clone, upgrade)
// applies the renames the target version implies, as AWS's migration
// guide asks users to do by hand.
type optionRename struct {
	Since    string
	Old, New string
}

var optionRenames = []optionRename{
	{"2.0.0", "core.remote_logging", "logging.remote_logging"},
	{"2.0.0", "core.logging_level", "logging.logging_level"},
	{"2.0.0", "core.fab_logging_level", "logging.fab_logging_level"},
	{"2.0.0", "core.base_log_folder", "logging.base_log_folder"},
	{"2.0.0", "core.remote_log_conn_id", "logging.remote_log_conn_id"},
	{"2.0.0", "core.remote_base_log_folder", "logging.remote_base_log_folder"},
	{"2.0.0", "core.colored_console_log", "logging.colored_console_log"},
	{"2.0.0", "core.log_filename_template", "logging.log_filename_template"},
	{"2.2.0", "core.dag_concurrency", "core.max_active_tasks_per_dag"},
	{"2.2.0", "core.non_pooled_task_slot_count", "core.default_pool_task_slot_count"},
	{"2.2.0", "scheduler.processor_poll_interval", "scheduler.scheduler_idle_sleep_time"},
	{"2.3.0", "core.sql_alchemy_conn", "database.sql_alchemy_conn"},
	{"2.3.0", "core.load_default_connections", "database.load_default_connections"},
	{"2.3.0", "core.max_db_retries", "database.max_db_retries"},
	{"2.3.0", "core.sql_engine_encoding", "database.sql_engine_encoding"},
	{"2.3.0", "core.sql_alchemy_pool_enabled", "database.sql_alchemy_pool_enabled"},
	{"2.3.0", "core.sql_alchemy_pool_size", "database.sql_alchemy_pool_size"},
	{"2.3.0", "core.sql_alchemy_max_overflow", "database.sql_alchemy_max_overflow"},
	{"2.3.0", "core.sql_alchemy_pool_recycle", "database.sql_alchemy_pool_recycle"},
	{"2.3.0", "core.sql_alchemy_pool_pre_ping", "database.sql_alchemy_pool_pre_ping"},
	{"2.3.0", "core.sql_alchemy_schema", "database.sql_alchemy_schema"},
	{"2.5.0", "webserver.session_lifetime_days", "webserver.session_lifetime_minutes"},
	{"2.7.0", "scheduler.deactivate_stale_dags_interval", "scheduler.parsing_cleanup_interval"},
}

// secretsBackendRenames are the class paths of secrets.backend that moved
// from airflow.contrib (Airflow 1) to the Amazon provider (Airflow 2).
var secretsBackendRenames = map[string]string{
	"airflow.contrib.secrets.aws_secrets_manager.SecretsManagerBackend":               "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend",
	"airflow.contrib.secrets.aws_systems_manager.SystemsManagerParameterStoreBackend": "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend",
}

// renameOptions applies the renames e.AirflowVersion implies to its
// configuration options; an option already set under its new name wins.
func renameOptions(e *Environment) {
	opts := e.AirflowConfigurationOptions
	for _, r := range optionRenames {
		v, ok := opts[r.Old]
		if !ok || compareVersions(e.AirflowVersion, r.Since) < 0 {
			continue
		}
		delete(opts, r.Old)
		if _, set := opts[r.New]; !set {
			opts[r.New] = v
		}
	}
	if compareVersions(e.AirflowVersion, "2.0.0") >= 0 {
		if v, ok := secretsBackendRenames[opts["secrets.backend"]]; ok {
			opts["secrets.backend"] = v
		}
	}
}

// compareVersions compares dotted numeric versions.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
