from datetime import datetime

from airflow import DAG
from airflow.models import BaseOperator
from airflow.utils.context import Context


class RunSqlFileOperator(BaseOperator):
    """Runs a SQL file against a warehouse (the file is a template)."""

    template_fields = ("sql", "target_table")
    template_ext = (".sql",)
    ui_color = "#ededed"

    def __init__(self, *, sql, target_table, conn_id="warehouse", **kwargs):
        super().__init__(**kwargs)
        self.sql = sql
        self.target_table = target_table
        self.conn_id = conn_id

    def execute(self, context: Context):
        self.log.info("running on %s: %s", self.conn_id, self.sql)
        return self.target_table


with DAG(
    "custom_operator_sql",
    start_date=datetime(2023, 1, 1),
    schedule="@daily",
    catchup=False,
    template_searchpath=["sql"],
    default_args={"conn_id": "warehouse_prod"},
) as dag:
    summary = RunSqlFileOperator(task_id="summary", sql="daily_summary.sql", target_table="daily_summary_{{ ds_nodash }}")
