"""The operators Windsock runs in Go (the native table of pyspec). A task
is native only when its class is one of these (or a subclass that keeps
their execute, pre_execute, post_execute and __init__) and every argument
is plain JSON; document.py checks the rest."""

# Class paths, as the classes define them in this package, that Go's
# operator catalog runs (internal/operator/catalog.go).
NATIVE = frozenset((
    "airflow.operators.empty.EmptyOperator",
    "airflow.operators.bash.BashOperator",
    "airflow.operators.email.EmailOperator",
    "airflow.providers.http.operators.http.HttpOperator",
    "airflow.providers.http.operators.http.SimpleHttpOperator",
    "airflow.providers.http.sensors.http.HttpSensor",
    "airflow.sensors.filesystem.FileSensor",
    "airflow.providers.common.sql.sensors.sql.SqlSensor",
    "airflow.sensors.time_delta.TimeDeltaSensor",
    "airflow.sensors.date_time.DateTimeSensor",
    "airflow.sensors.external_task.ExternalTaskSensor",
    "airflow.sensors.bash.BashSensor",
))

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
