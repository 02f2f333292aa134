"""FileSensor: wait for a file or folder (glob patterns allowed)."""
import datetime as dt
import glob
import os

from airflow.sensors.base import BaseSensorOperator


class FileSensor(BaseSensorOperator):
    template_fields = ("filepath",)
    ui_color = "#91818a"

    def __init__(self, *, filepath, fs_conn_id="fs_default", recursive=False, deferrable=False, start_from_trigger=False,
                 trigger_kwargs=None, **kwargs):
        super().__init__(**kwargs)
        self.filepath = filepath
        self.fs_conn_id = fs_conn_id
        self.recursive = recursive
        self.deferrable = deferrable

    @property
    def path(self):
        base = ""
        if self.fs_conn_id:
            try:
                from airflow.hooks.filesystem import FSHook

                base = FSHook(self.fs_conn_id).get_path()
            except Exception:
                base = ""
        return os.path.join(base, self.filepath)

    def poke(self, context):
        full = self.path
        print("Poking for file %s" % full)
        for path in glob.glob(full, recursive=self.recursive):
            if os.path.isfile(path):
                mod_time = dt.datetime.fromtimestamp(os.path.getmtime(path)).strftime("%Y%m%d%H%M%S")
                print("Found File %s last modified: %s" % (path, mod_time))
                return True
            for _, _, files in os.walk(path):
                if files:
                    return True
        return False
