from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("doc_from_file", start_date=datetime(2023, 1, 1), schedule=None, doc_md="README_doc_from_file.md") as dag:
    EmptyOperator(task_id="noop")
