from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.python import PythonOperator
from airflow.operators.bash import BashOperator


def on_failure(context):
    print("failed", context["task_instance"].task_id)


def on_success(context):
    print("succeeded")


def sla_missed(dag, task_list, blocking_task_list, slas, blocking_tis):
    print("SLA missed", task_list)


def work():
    return 42


with DAG(
    dag_id="callbacks_and_sla",
    start_date=datetime(2023, 1, 1),
    schedule="*/30 * * * *",
    catchup=False,
    on_failure_callback=on_failure,
    on_success_callback=on_success,
    sla_miss_callback=sla_missed,
    default_args={"on_failure_callback": on_failure, "sla": timedelta(minutes=20)},
) as dag:
    a = PythonOperator(task_id="work", python_callable=work, execution_timeout=timedelta(minutes=10))
    b = BashOperator(task_id="report", bash_command="echo done", on_success_callback=[on_success])
    a >> b
