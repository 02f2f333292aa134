"""SqliteHook over the standard library's sqlite3."""
import sqlite3

from airflow.providers.common.sql.hooks.sql import DbApiHook


class SqliteHook(DbApiHook):
    conn_name_attr = "sqlite_conn_id"
    default_conn_name = "sqlite_default"
    conn_type = "sqlite"
    hook_name = "Sqlite"
    placeholder = "?"

    def get_conn(self):
        c = self.connection
        path = c.host or c.schema or ":memory:"
        if c.host and c.schema and not c.host.endswith(".db"):
            path = c.host
        return sqlite3.connect(path)

    def get_uri(self):
        c = self.connection
        return "sqlite:///%s" % (c.host or "")
