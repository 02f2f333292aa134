"""FSHook: a base path from an fs connection's extra {"path": ...}."""
from airflow.hooks.base import BaseHook


class FSHook(BaseHook):
    conn_name_attr = "fs_conn_id"
    default_conn_name = "fs_default"
    conn_type = "fs"
    hook_name = "File (path)"

    def __init__(self, fs_conn_id=default_conn_name, **kwargs):
        super().__init__(**kwargs)
        conn = self.get_connection(fs_conn_id)
        self.basepath = conn.extra_dejson.get("path", "")
        self.conn = conn

    def get_conn(self):
        return None

    def get_path(self):
        return self.basepath
