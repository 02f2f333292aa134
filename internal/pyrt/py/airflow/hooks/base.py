"""BaseHook: get_connection through Windsock."""
from airflow.exceptions import AirflowException


class BaseHook:
    """The base of hooks: get_connection(conn_id) and get_hook(conn_id)."""

    conn_name_attr = None
    default_conn_name = None
    conn_type = None
    hook_name = None

    def __init__(self, logger_name=None, *args, **kwargs):
        self._log_config_logger_name = "airflow.task.hooks"
        self._logger_name = logger_name

    @classmethod
    def get_connection(cls, conn_id):
        from airflow.models.connection import Connection

        return Connection.get_connection_from_secrets(conn_id)

    @classmethod
    def get_connections(cls, conn_id):
        return [cls.get_connection(conn_id)]

    @classmethod
    def get_hook(cls, conn_id, hook_params=None):
        return cls.get_connection(conn_id).get_hook(hook_params=hook_params)

    def get_conn(self):
        raise NotImplementedError()

    @classmethod
    def get_connection_form_widgets(cls):
        return {}

    @classmethod
    def get_ui_field_behaviour(cls):
        return {}

    @property
    def log(self):
        import logging

        return logging.getLogger("airflow.task.hooks." + type(self).__module__ + "." + type(self).__name__)


# conn_type -> (hook class path, the name of its connection-id argument)
_HOOKS = {
    "postgres": ("airflow.providers.postgres.hooks.postgres.PostgresHook", "postgres_conn_id"),
    "sqlite": ("airflow.providers.sqlite.hooks.sqlite.SqliteHook", "sqlite_conn_id"),
    "http": ("airflow.providers.http.hooks.http.HttpHook", "http_conn_id"),
    "https": ("airflow.providers.http.hooks.http.HttpHook", "http_conn_id"),
    "fs": ("airflow.hooks.filesystem.FSHook", "fs_conn_id"),
    "mysql": ("airflow.providers.mysql.hooks.mysql.MySqlHook", "mysql_conn_id"),
    "aws": ("airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook", "aws_conn_id"),
    "snowflake": ("airflow.providers.snowflake.hooks.snowflake.SnowflakeHook", "snowflake_conn_id"),
}


def hook_for_conn_type(conn_type):
    from airflow._aliases import resolve

    if conn_type not in _HOOKS:
        raise AirflowException("Unknown hook type \"%s\"" % conn_type)
    path, arg = _HOOKS[conn_type]
    return resolve(path), arg
