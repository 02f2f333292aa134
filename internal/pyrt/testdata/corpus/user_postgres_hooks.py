from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.providers.postgres.operators.postgres import PostgresOperator


def count_rows():
    hook = PostgresHook(postgres_conn_id="warehouse")
    return hook.get_first("select count(*) from events")[0]


with DAG("postgres_pipeline", start_date=datetime(2023, 1, 1), schedule="@daily", catchup=False,
         template_searchpath="sql") as dag:
    create = PostgresOperator(task_id="create", postgres_conn_id="warehouse", sql="create_tables.sql")
    count = PythonOperator(task_id="count", python_callable=count_rows)
    create >> count
