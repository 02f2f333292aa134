import pendulum

from airflow import DAG
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.common.sql.sensors.sql import SqlSensor

with DAG(
    dag_id="sql_execute_query",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    schedule="@daily",
    catchup=False,
    template_searchpath=["sql"],
):
    wait = SqlSensor(task_id="wait_for_rows", conn_id="warehouse", sql="select count(*) from events", poke_interval=60,
                     timeout=3600, mode="reschedule")
    summarize = SQLExecuteQueryOperator(task_id="summarize", conn_id="warehouse", sql="daily_summary.sql")
    wait >> summarize
