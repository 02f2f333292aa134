import pendulum

from airflow.models import DAG
from airflow.operators.latest_only import LatestOnlyOperator
from airflow.operators.python import ShortCircuitOperator
from airflow.operators.empty import EmptyOperator
from airflow.utils.trigger_rule import TriggerRule

with DAG("short_circuit_latest", schedule="@hourly", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
         catchup=False, max_consecutive_failed_dag_runs=3, dag_display_name="Short circuit & latest") as dag:
    latest = LatestOnlyOperator(task_id="latest_only")
    cond = ShortCircuitOperator(task_id="condition", python_callable=lambda: False)
    after = EmptyOperator(task_id="after")
    always = EmptyOperator(task_id="always", trigger_rule=TriggerRule.ALL_DONE)
    latest >> cond >> after >> always
