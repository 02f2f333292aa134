from airflow import DAG
from airflow.hooks.base import BaseHook
from airflow.models import Variable
from airflow.operators.python import PythonOperator
from airflow.utils.dates import days_ago


def print_conn(**kwargs):
    conn = BaseHook.get_connection("my_api")
    print(conn.host, conn.port, conn.extra_dejson)


def set_var(**kwargs):
    Variable.set("last_run", kwargs["ds"])


with DAG("mwaa_vars_conns", default_args={"owner": "airflow"}, start_date=days_ago(1), schedule_interval=None) as dag:
    PythonOperator(task_id="print_conn", python_callable=print_conn, provide_context=True) >> PythonOperator(
        task_id="set_var", python_callable=set_var, provide_context=True
    )
