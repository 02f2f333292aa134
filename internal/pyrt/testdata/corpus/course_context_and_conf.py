from datetime import datetime

from airflow.configuration import conf
from airflow.decorators import dag, task
from airflow.operators.python import get_current_context
from airflow.utils.dag_parsing_context import get_parsing_context

DAGS_HOME = conf.get("core", "dags_folder", fallback="/opt/airflow/dags")
CATCHUP = conf.getboolean("scheduler", "catchup_by_default")
current = get_parsing_context()


@dag(start_date=datetime(2024, 1, 1), schedule=None, catchup=False, tags=["course"])
def context_and_conf():
    @task
    def show():
        ctx = get_current_context()
        print(ctx["ds"], DAGS_HOME)

    @task.virtualenv(system_site_packages=True)
    def in_venv():
        import sys
        return sys.version

    show() >> in_venv()


context_and_conf()
