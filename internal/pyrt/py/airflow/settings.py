"""airflow.settings: paths and the time zone. Session, engine and the ORM
are refused on purpose: Windsock tasks never open the metadata database."""
import os

from airflow.utils.timezone import TIMEZONE, utc  # noqa: F401

AIRFLOW_HOME = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
DAGS_FOLDER = os.environ.get("AIRFLOW__CORE__DAGS_FOLDER") or os.environ.get("WINDSOCK_DAGS_FOLDER", "")
PLUGINS_FOLDER = os.environ.get("AIRFLOW__CORE__PLUGINS_FOLDER", "")
LOGGING_LEVEL = "INFO"
CAN_FORK = hasattr(os, "fork")
MASK_SECRETS_IN_LOGS = True
HEADER = "Windsock"
SIMPLE_LOG_FORMAT = "%(asctime)s %(levelname)s - %(message)s"
LOG_FORMAT = "[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s"

_REFUSED = {"Session", "engine", "SQL_ALCHEMY_CONN", "SASession", "NonScopedSession", "async_engine",
            "AsyncSession", "configure_orm", "initialize", "prepare_engine_args"}


def __getattr__(name):
    if name in _REFUSED:
        from windsock_rt import Unsupported

        raise Unsupported(
            "airflow.settings.%s (direct metadata-database access with Airflow's ORM)" % name,
            "use the REST API, Variables, Connections or XComs instead",
        )
    raise AttributeError("module 'airflow.settings' has no attribute %r" % name)


def policy(task):
    pass


def task_policy(task):
    pass


def dag_policy(dag):
    pass
