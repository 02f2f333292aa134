from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator


def produce():
    return "payload"


def consume(value):
    print(value)


with DAG("xcom_output_deps", start_date=datetime(2023, 1, 1), schedule=None) as dag:
    p = PythonOperator(task_id="produce", python_callable=produce)
    c = PythonOperator(task_id="consume", python_callable=consume, op_args=[p.output])
    echo = BashOperator(task_id="echo", bash_command=f"echo {p.output}")
