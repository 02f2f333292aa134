"""Example DAG demonstrating the usage of the BashOperator."""
from __future__ import annotations

import datetime

import pendulum

from airflow.models.dag import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator

with DAG(
    dag_id="example_bash_like",
    schedule="0 0 * * *",
    start_date=pendulum.datetime(2021, 1, 1, tz="UTC"),
    catchup=False,
    dagrun_timeout=datetime.timedelta(minutes=60),
    tags=["example", "example2"],
    params={"example_key": "example_value"},
) as dag:
    run_this_last = EmptyOperator(task_id="run_this_last")
    run_this = BashOperator(task_id="run_after_loop", bash_command="echo 1")
    run_this >> run_this_last
    for i in range(3):
        task = BashOperator(task_id=f"runme_{i}", bash_command='echo "{{ task_instance_key_str }}" && sleep 1')
        task >> run_this
    also_run_this = BashOperator(task_id="also_run_this", bash_command='echo "ti_key={{ task_instance_key_str }}"')
    also_run_this >> run_this_last
    this_will_skip = BashOperator(task_id="this_will_skip", bash_command='echo "hello world"; exit 99;', dag=dag)
    this_will_skip >> run_this_last

if __name__ == "__main__":
    dag.test()
