import pendulum

from airflow import DAG
from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator
from airflow.providers.google.cloud.transfers.gcs_to_bigquery import GCSToBigQueryOperator

with DAG("gcs_to_bq", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), schedule="@daily", catchup=False) as dag:
    load = GCSToBigQueryOperator(
        task_id="load",
        bucket="landing",
        source_objects=["events/{{ ds }}/*.json"],
        destination_project_dataset_table="proj.ds.events",
        source_format="NEWLINE_DELIMITED_JSON",
        write_disposition="WRITE_APPEND",
    )
    agg = BigQueryInsertJobOperator(
        task_id="aggregate",
        configuration={"query": {"query": "select count(*) from proj.ds.events", "useLegacySql": False}},
        location="EU",
    )
    load >> agg
