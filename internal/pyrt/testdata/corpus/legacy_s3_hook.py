from datetime import datetime

from airflow import DAG
from airflow.hooks.S3_hook import S3Hook
from airflow.hooks.base_hook import BaseHook
from airflow.hooks.postgres_hook import PostgresHook
from airflow.operators.python_operator import PythonOperator


def upload(**context):
    S3Hook(aws_conn_id="aws").load_string("x", key="k", bucket_name="b")


def query(**context):
    PostgresHook(postgres_conn_id="pg").get_records("select 1")


dag = DAG("legacy_s3_hook", start_date=datetime(2020, 6, 1), schedule_interval="0 0 * * *")
t1 = PythonOperator(task_id="upload", python_callable=upload, provide_context=True, dag=dag)
t2 = PythonOperator(task_id="query", python_callable=query, provide_context=True, dag=dag)
t1 >> t2
