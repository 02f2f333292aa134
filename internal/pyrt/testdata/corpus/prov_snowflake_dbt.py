from datetime import datetime

from airflow import DAG
from airflow.providers.snowflake.operators.snowflake import SnowflakeOperator
from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook
from airflow.providers.dbt.cloud.operators.dbt import DbtCloudRunJobOperator
from airflow.operators.python import PythonOperator


def row_count():
    return SnowflakeHook(snowflake_conn_id="sf").get_first("select count(*) from t")


with DAG("snowflake_dbt", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False, tags=["sf"]) as dag:
    load = SnowflakeOperator(task_id="load", snowflake_conn_id="sf", sql="copy into t from @stage", warehouse="wh")
    dbt = DbtCloudRunJobOperator(task_id="dbt_run", job_id=42, check_interval=30, timeout=3600)
    count = PythonOperator(task_id="count", python_callable=row_count)
    load >> dbt >> count
