from datetime import datetime, timedelta

import airflow
from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from airflow.operators.dummy_operator import DummyOperator
from airflow.operators.python_operator import PythonOperator

default_args = {
    "owner": "airflow",
    "depends_on_past": False,
    "start_date": airflow.utils.dates.days_ago(2),
    "email": ["airflow@example.com"],
    "email_on_failure": False,
    "email_on_retry": False,
    "retries": 1,
    "retry_delay": timedelta(minutes=5),
}

dag = DAG("legacy_python_operator", default_args=default_args, schedule_interval=timedelta(days=1))


def print_context(ds, **kwargs):
    print(kwargs)
    print(ds)
    return "Whatever you return gets printed in the logs"


run_this = PythonOperator(task_id="print_the_context", provide_context=True, python_callable=print_context, dag=dag)
start = DummyOperator(task_id="start", dag=dag)
templated = BashOperator(
    task_id="templated",
    bash_command="""{% for i in range(3) %}echo "{{ ds }}" "{{ params.my_param }}"{% endfor %}""",
    params={"my_param": "Parameter I passed in"},
    xcom_push=True,
    dag=dag,
)
start >> run_this >> templated
