"""airflow.configuration.conf: reads only (AIRFLOW__SECTION__KEY variables,
then Airflow's defaults); writes are refused on purpose."""
import os

# The defaults DAG files read most ([section] -> {key: value}).
DEFAULTS = {
    "core": {
        "dags_folder": "", "plugins_folder": "", "default_timezone": "utc", "executor": "LocalExecutor",
        "parallelism": "32", "max_active_tasks_per_dag": "16", "max_active_runs_per_dag": "16",
        "dags_are_paused_at_creation": "True", "load_examples": "False", "default_task_retries": "0",
        "default_task_retry_delay": "300", "dagbag_import_timeout": "30.0", "dag_file_processor_timeout": "50",
        "max_map_length": "1024", "dag_run_conf_overrides_params": "True", "fernet_key": "",
        "dagbag_import_error_tracebacks": "True", "dagbag_import_error_traceback_depth": "2",
        "default_pool_task_slot_count": "128", "killed_task_cleanup_time": "60",
        "max_consecutive_failed_dag_runs_per_dag": "0", "allowed_deserialization_classes": "airflow.*",
    },
    "scheduler": {"catchup_by_default": "True", "min_file_process_interval": "30", "dag_dir_list_interval": "300",
                  "create_cron_data_intervals": "True", "max_tis_per_query": "16"},
    "operators": {"default_owner": "airflow", "default_queue": "default", "allow_illegal_arguments": "False",
                  "default_cpus": "1", "default_ram": "512", "default_disk": "512", "default_gpus": "0"},
    "webserver": {"base_url": "http://localhost:8080", "dag_default_view": "grid", "dag_orientation": "LR",
                  "default_ui_timezone": "UTC"},
    "smtp": {"smtp_host": "localhost", "smtp_starttls": "True", "smtp_ssl": "False", "smtp_port": "25",
             "smtp_mail_from": "airflow@example.com", "smtp_timeout": "30", "smtp_retry_limit": "5"},
    "email": {"email_backend": "airflow.utils.email.send_email_smtp", "default_email_on_retry": "True",
              "default_email_on_failure": "True"},
    "logging": {"base_log_folder": "", "remote_logging": "False", "logging_level": "INFO"},
    "sensors": {"default_timeout": "604800"},
    "database": {},
    "secrets": {"backend": "", "backend_kwargs": ""},
}

_SENTINEL = object()


class AirflowConfigParser:
    """The reading half of Airflow's config parser."""

    def _env(self, section, key):
        return os.environ.get("AIRFLOW__%s__%s" % (section.upper(), key.upper()))

    def get(self, section, key, fallback=_SENTINEL, **kwargs):
        if "vars" in kwargs:
            kwargs.pop("vars")
        section, key = str(section).lower(), str(key).lower()
        v = self._env(section, key)
        if v is not None:
            return v
        cmd = os.environ.get("AIRFLOW__%s__%s_CMD" % (section.upper(), key.upper()))
        if cmd:
            import subprocess

            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        if section == "core" and key == "dags_folder":
            folder = os.environ.get("WINDSOCK_DAGS_FOLDER")
            if folder:
                return folder
        if section in DEFAULTS and key in DEFAULTS[section] and DEFAULTS[section][key] != "":
            return DEFAULTS[section][key]
        if fallback is not _SENTINEL:
            return fallback
        from airflow.exceptions import AirflowConfigException

        raise AirflowConfigException("section/key [%s/%s] not found in config" % (section, key))

    def getboolean(self, section, key, fallback=_SENTINEL, **kwargs):
        v = self.get(section, key, fallback=fallback, **kwargs)
        if isinstance(v, bool) or v is None:
            return v
        s = str(v).strip().lower().split("#")[0].strip()
        if s in ("t", "true", "1", "yes", "on"):
            return True
        if s in ("f", "false", "0", "no", "off", ""):
            return False
        from airflow.exceptions import AirflowConfigException

        raise AirflowConfigException('Failed to convert value to bool. Please check "%s" key in "%s" section. Current value: "%s".' % (key, section, v))

    def getint(self, section, key, fallback=_SENTINEL, **kwargs):
        v = self.get(section, key, fallback=fallback, **kwargs)
        return v if v is None else int(v)

    def getfloat(self, section, key, fallback=_SENTINEL, **kwargs):
        v = self.get(section, key, fallback=fallback, **kwargs)
        return v if v is None else float(v)

    def getlist(self, section, key, delimiter=",", **kwargs):
        v = self.get(section, key, **kwargs)
        return [x.strip() for x in str(v).split(delimiter) if x.strip()]

    def getjson(self, section, key, fallback=_SENTINEL, **kwargs):
        import json

        v = self.get(section, key, fallback=None)
        if v is None:
            if fallback is _SENTINEL:
                return None
            return fallback
        return json.loads(v)

    def gettimedelta(self, section, key, fallback=None, **kwargs):
        import datetime as dt

        v = self.get(section, key, fallback=fallback)
        return None if v is None else dt.timedelta(seconds=int(v))

    def has_option(self, section, option, **kwargs):
        try:
            self.get(section, option)
            return True
        except Exception:
            return False

    def has_section(self, section):
        return section.lower() in DEFAULTS

    def getsection(self, section):
        return dict(DEFAULTS.get(section.lower(), {}))

    def as_dict(self, *args, **kwargs):
        return {s: dict(v) for s, v in DEFAULTS.items()}

    def set(self, section, option, value=None):
        from windsock_rt import Unsupported

        raise Unsupported("airflow.configuration.conf.set (configuration writes)",
                          "set Windsock configuration in its config file or AIRFLOW__ variables")

    def remove_option(self, *args, **kwargs):
        self.set(*args)

    def read(self, *args, **kwargs):
        return []

    def read_dict(self, *args, **kwargs):
        self.set("", "")

    def write(self, *args, **kwargs):
        self.set("", "")

    def load_test_config(self):
        pass


conf = AirflowConfigParser()
AIRFLOW_HOME = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
AIRFLOW_CONFIG = os.path.join(AIRFLOW_HOME, "airflow.cfg")


def get(*args, **kwargs):
    return conf.get(*args, **kwargs)


def getboolean(*args, **kwargs):
    return conf.getboolean(*args, **kwargs)


def getint(*args, **kwargs):
    return conf.getint(*args, **kwargs)


def has_option(*args, **kwargs):
    return conf.has_option(*args, **kwargs)


def set(*args, **kwargs):  # noqa: A001 - Airflow's module-level name
    return conf.set(*args, **kwargs)


def as_dict(*args, **kwargs):
    return conf.as_dict(*args, **kwargs)
