"""PostgresHook over psycopg2 (when the environment has it)."""
from airflow.exceptions import AirflowException
from airflow.providers.common.sql.hooks.sql import DbApiHook


class PostgresHook(DbApiHook):
    conn_name_attr = "postgres_conn_id"
    default_conn_name = "postgres_default"
    conn_type = "postgres"
    hook_name = "Postgres"
    supports_autocommit = True

    def __init__(self, *args, options=None, enable_log_db_messages=False, **kwargs):
        schema = kwargs.pop("schema", None) or kwargs.pop("database", None)
        super().__init__(*args, **kwargs)
        self.schema = schema
        self.options = options

    def get_conn(self):
        try:
            import psycopg2
        except ImportError:
            raise AirflowException(
                "PostgresHook needs the psycopg2 module (apache-airflow-providers-postgres installs it), "
                "which this environment lacks: add psycopg2-binary to requirements.txt"
            ) from None
        c = self.connection
        args = {"host": c.host, "user": c.login, "password": c.password, "dbname": self.schema or c.schema, "port": c.port}
        args = {k: v for k, v in args.items() if v is not None}
        for k, v in c.extra_dejson.items():
            if k not in ("iam", "redshift", "cursor", "cluster-identifier", "aws_conn_id"):
                args[k] = v
        if self.options:
            args["options"] = self.options
        return psycopg2.connect(**args)

    def get_uri(self):
        return self.connection.get_uri().replace("postgres://", "postgresql://", 1)

    def copy_expert(self, sql, filename):
        with open(filename, "a+") as f:
            conn = self.get_conn()
            with conn.cursor() as cur:
                cur.copy_expert(sql, f)
            conn.commit()
