"""The operators Windsock runs in Go (the native table of pyspec), with the
arguments Go's catalog knows for each (internal/operator/catalog.go; a Go
test checks the two agree). A task is native only when its class is one of
these (or a subclass that keeps their __init__, execute, pre_execute,
post_execute, poke and choose_branch), every argument it was given is one the catalog
knows, and every value is plain JSON; document.py checks the values."""

_SENSOR = frozenset(("poke_interval", "timeout", "mode", "soft_fail", "exponential_backoff", "max_wait", "silent_fail"))

_BRANCH = frozenset(("follow_task_ids_if_true", "follow_task_ids_if_false", "use_task_logical_date"))

_AWS = frozenset(("aws_conn_id", "verify", "region_name"))
_SQL = frozenset(("sql", "parameters", "autocommit", "split_statements", "return_last", "database",
                  "show_return_value_in_logs"))

# class path (as this package defines the class) -> its own arguments Go accepts.
NATIVE = {
    "airflow.operators.empty.EmptyOperator": frozenset(),
    "airflow.operators.bash.BashOperator": frozenset(
        ("bash_command", "env", "append_env", "output_encoding", "skip_on_exit_code", "cwd")),
    "airflow.operators.email.EmailOperator": frozenset(
        ("to", "subject", "html_content", "from_email", "files", "cc", "bcc", "mime_subtype", "mime_charset",
         "conn_id")),
    "airflow.providers.http.operators.http.HttpOperator": frozenset(
        ("http_conn_id", "endpoint", "method", "data", "headers", "extra_options", "log_response")),
    "airflow.providers.http.operators.http.SimpleHttpOperator": frozenset(
        ("http_conn_id", "endpoint", "method", "data", "headers", "extra_options", "log_response")),
    "airflow.providers.http.sensors.http.HttpSensor": _SENSOR | frozenset(
        ("endpoint", "http_conn_id", "method", "request_params", "headers", "extra_options")),
    "airflow.sensors.filesystem.FileSensor": _SENSOR | frozenset(("filepath", "fs_conn_id", "recursive")),
    "airflow.providers.common.sql.sensors.sql.SqlSensor": _SENSOR | frozenset(
        ("conn_id", "sql", "parameters", "fail_on_empty", "hook_params")),
    "airflow.sensors.time_delta.TimeDeltaSensor": _SENSOR | frozenset(("delta",)),
    "airflow.sensors.date_time.DateTimeSensor": _SENSOR | frozenset(("target_time",)),
    "airflow.sensors.external_task.ExternalTaskSensor": _SENSOR | frozenset(
        ("external_dag_id", "external_task_id", "external_task_ids", "external_task_group_id", "allowed_states",
         "skipped_states", "failed_states", "execution_delta", "check_existence")),
    "airflow.sensors.bash.BashSensor": _SENSOR | frozenset(("bash_command", "env", "output_encoding", "retry_exit_code")),
    # Go creates the run through the scheduler's own path (Python has no database to do it).
    "airflow.operators.trigger_dagrun.TriggerDagRunOperator": frozenset(
        ("trigger_dag_id", "trigger_run_id", "conf", "logical_date", "execution_date", "reset_dag_run",
         "wait_for_completion", "poke_interval", "allowed_states", "failed_states", "skip_when_already_exists",
         "deferrable")),
    "airflow.operators.latest_only.LatestOnlyOperator": frozenset(),
    # SQL over PostgreSQL and SQLite connections, and S3, run in Go (no
    # psycopg2 or boto3 needed in the environment's Python).
    "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator": _SQL | frozenset(("conn_id",)),
    "airflow.providers.postgres.operators.postgres.PostgresOperator": _SQL | frozenset(("postgres_conn_id",)),
    "airflow.providers.sqlite.operators.sqlite.SqliteOperator": _SQL | frozenset(("sqlite_conn_id",)),
    "airflow.providers.amazon.aws.sensors.s3.S3KeySensor": _SENSOR | _AWS | frozenset(
        ("bucket_key", "bucket_name", "wildcard_match", "use_regex", "deferrable", "metadata_keys")),
    "airflow.providers.amazon.aws.operators.s3.S3CreateObjectOperator": _AWS | frozenset(
        ("s3_key", "data", "s3_bucket", "replace", "encrypt", "acl_policy", "encoding", "compression")),
    "airflow.providers.amazon.aws.operators.s3.S3CopyObjectOperator": _AWS | frozenset(
        ("source_bucket_key", "dest_bucket_key", "source_bucket_name", "dest_bucket_name", "source_version_id",
         "acl_policy", "meta_data_directive")),
    "airflow.providers.amazon.aws.operators.s3.S3DeleteObjectsOperator": _AWS | frozenset(
        ("bucket", "keys", "prefix", "from_datetime", "to_datetime")),
    "airflow.providers.amazon.aws.operators.s3.S3ListOperator": _AWS | frozenset(
        ("bucket", "prefix", "delimiter", "apply_wildcard")),
    "airflow.operators.weekday.BranchDayOfWeekOperator": _BRANCH | frozenset(("week_day", "use_task_execution_day")),
    "airflow.operators.datetime.BranchDateTimeOperator": _BRANCH | frozenset(
        ("target_lower", "target_upper", "use_task_execution_date")),
}

# Older spellings of an argument, renamed in the document.
RENAMED = {"skip_exit_code": "skip_on_exit_code"}

_OVERRIDES = ("execute", "pre_execute", "post_execute", "__init__", "poke", "choose_branch")


def _path(cls):
    return cls.__module__ + "." + cls.__qualname__


def native_class_path(cls):
    """The native class path cls runs as, or None when it must run in Python."""
    for klass in cls.__mro__:
        path = _path(klass)
        if path in NATIVE:
            if klass is not cls:
                for name in _OVERRIDES:
                    if getattr(cls, name, None) is not getattr(klass, name, None):
                        return None
            return path
    return None


def accepts(path, args):
    """Whether Go's catalog takes every one of args for the native class path."""
    allowed = NATIVE[path]
    return all(RENAMED.get(a, a) in allowed for a in args)
