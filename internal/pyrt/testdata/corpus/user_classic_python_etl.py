import json
import logging
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.python import PythonOperator

default_args = {
    "owner": "analytics",
    "depends_on_past": False,
    "start_date": datetime(2023, 5, 1),
    "email_on_failure": False,
    "email_on_retry": False,
    "retries": 1,
    "retry_delay": timedelta(minutes=5),
}


def extract(**context):
    data = [{"id": 1, "amount": 10}, {"id": 2, "amount": 20}]
    context["ti"].xcom_push(key="rows", value=json.dumps(data))


def transform(**context):
    rows = json.loads(context["ti"].xcom_pull(task_ids="extract", key="rows"))
    return sum(r["amount"] for r in rows)


def load(ti):
    total = ti.xcom_pull(task_ids="transform")
    logging.info("total=%s", total)


with DAG(
    "classic_python_etl",
    default_args=default_args,
    description="Extract, transform and load with PythonOperator",
    schedule_interval="@daily",
    catchup=False,
    max_active_runs=1,
    tags=["etl"],
) as dag:
    extract_task = PythonOperator(task_id="extract", python_callable=extract)
    transform_task = PythonOperator(task_id="transform", python_callable=transform)
    load_task = PythonOperator(task_id="load", python_callable=load)

    extract_task >> transform_task >> load_task
