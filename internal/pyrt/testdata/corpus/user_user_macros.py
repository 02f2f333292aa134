from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator


def region_for(day):
    return "eu" if day.endswith("1") else "us"


with DAG(
    "user_macros",
    start_date=datetime(2023, 1, 1),
    schedule="@daily",
    catchup=False,
    user_defined_macros={"region_for": region_for, "project": "acme"},
    user_defined_filters={"shout": lambda s: s.upper()},
) as dag:
    BashOperator(task_id="macro_use", bash_command="echo {{ project | shout }} {{ region_for(ds) }}")
