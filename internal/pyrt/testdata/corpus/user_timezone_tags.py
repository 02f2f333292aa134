import pendulum
from datetime import timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

local_tz = pendulum.timezone("Europe/Amsterdam")

with DAG(
    "timezone_dag",
    start_date=pendulum.datetime(2023, 3, 1, tz=local_tz),
    end_date=pendulum.datetime(2030, 1, 1, tz=local_tz),
    schedule="0 9 * * 1-5",
    catchup=False,
    max_active_runs=2,
    max_active_tasks=4,
    default_view="graph",
    orientation="TB",
    tags=["tz", "weekday"],
    is_paused_upon_creation=False,
) as dag:
    BashOperator(task_id="morning", bash_command="echo goedemorgen", pool="reports", priority_weight=5,
                 queue="fast", execution_timeout=timedelta(minutes=3))
