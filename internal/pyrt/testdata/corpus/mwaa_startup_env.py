"""Checks the MWAA environment: python version and installed packages."""
import sys

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.utils.dates import days_ago


def py_version():
    return sys.version


with DAG("mwaa_env_check", start_date=days_ago(1), schedule_interval=None, catchup=False, doc_md=__doc__) as dag:
    v = PythonOperator(task_id="python_version", python_callable=py_version)
    pip = BashOperator(task_id="pip_freeze", bash_command="python3 -m pip freeze | head -20")
    v >> pip
