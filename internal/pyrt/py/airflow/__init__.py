"""Windsock's `airflow` package: the Airflow 2.10 authoring API DAG files
import, written for Windsock (no Apache Airflow inside). Importing it is
kept cheap: a warm server imports it once and forks a child per file."""

__version__ = "2.10.3"
version = __version__

from airflow import _aliases  # noqa: E402

_aliases.install()

from airflow.models.dag import DAG  # noqa: E402

_LAZY = {
    "Dataset": "airflow.datasets.Dataset",
    "XComArg": "airflow.models.xcom_arg.XComArg",
    "AirflowException": "airflow.exceptions.AirflowException",
    "PY36": None, "PY37": None, "PY38": None, "PY39": None, "PY310": None, "PY311": None, "PY312": None,
}

__all__ = ["__version__", "DAG", "Dataset", "XComArg"]


def __getattr__(name):
    if name in _LAZY:
        path = _LAZY[name]
        if path is None:
            return True
        value = _aliases.resolve(path)
        globals()[name] = value
        return value
    import importlib

    if name in ("settings", "configuration", "models", "operators", "sensors", "hooks", "utils", "decorators",
                "exceptions", "datasets", "timetables", "macros", "providers", "io", "api", "secrets", "plugins_manager",
                "contrib", "template", "serialization", "listeners", "security", "www", "triggers", "executors",
                "version", "example_dags", "kubernetes", "lineage", "notifications", "callbacks", "jobs"):
        return importlib.import_module("airflow." + name)
    raise AttributeError("module 'airflow' has no attribute %r" % name)
