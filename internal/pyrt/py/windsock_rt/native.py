"""The operators Windsock runs in Go (the native table of pyspec), with the
arguments Go's catalog knows for each (internal/operator/catalog.go; a Go
test checks the two agree). A task is native only when its class is one of
these (or a subclass that keeps their __init__, execute, pre_execute,
post_execute and poke), every argument it was given is one the catalog
knows, and every value is plain JSON; document.py checks the values."""

_SENSOR = frozenset(("poke_interval", "timeout", "mode", "soft_fail", "exponential_backoff", "max_wait", "silent_fail"))

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
}

# Older spellings of an argument, renamed in the document.
RENAMED = {"skip_exit_code": "skip_on_exit_code"}

_OVERRIDES = ("execute", "pre_execute", "post_execute", "__init__", "poke")


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
