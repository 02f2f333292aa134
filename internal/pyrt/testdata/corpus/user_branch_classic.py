from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import BranchPythonOperator, ShortCircuitOperator


def choose(**context):
    if context["logical_date"].weekday() < 5:
        return "weekday"
    return ["weekend", "report"]


with DAG("classic_branching", start_date=datetime(2023, 1, 1), schedule="@daily", catchup=False) as dag:
    gate = ShortCircuitOperator(task_id="gate", python_callable=lambda: True, ignore_downstream_trigger_rules=False)
    branch = BranchPythonOperator(task_id="branch", python_callable=choose)
    weekday = EmptyOperator(task_id="weekday")
    weekend = EmptyOperator(task_id="weekend")
    report = EmptyOperator(task_id="report", trigger_rule="none_failed_min_one_success")
    gate >> branch >> [weekday, weekend]
    [weekday, weekend] >> report
