from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.bash import BashOperator
from airflow.utils.task_group import TaskGroup

with DAG("classic_task_groups", start_date=datetime(2023, 1, 1), schedule=None) as dag:
    start = EmptyOperator(task_id="start")
    with TaskGroup("extract", tooltip="Extract sources") as extract:
        for s in ["a", "b"]:
            BashOperator(task_id=f"pull_{s}", bash_command=f"echo {s}")
    with TaskGroup("transform", default_args={"retries": 4}) as transform:
        clean = EmptyOperator(task_id="clean")
        with TaskGroup("nested") as nested:
            EmptyOperator(task_id="deep")
        clean >> nested
    end = EmptyOperator(task_id="end")
    start >> extract >> transform >> end
