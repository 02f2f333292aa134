from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sensors.external_task import ExternalTaskSensor
from airflow.operators.empty import EmptyOperator

with DAG("downstream_of_ingest", start_date=datetime(2023, 1, 1), schedule="0 4 * * *", catchup=False) as dag:
    wait = ExternalTaskSensor(
        task_id="wait_ingest",
        external_dag_id="ingest_crm",
        external_task_id="done",
        execution_delta=timedelta(hours=1),
        mode="reschedule",
        timeout=7200,
    )
    work = EmptyOperator(task_id="work")
    kick = TriggerDagRunOperator(task_id="kick_reports", trigger_dag_id="reports", conf={"source": "ingest"},
                                 wait_for_completion=False)
    wait >> work >> kick
