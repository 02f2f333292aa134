"""EmptyOperator: does nothing (the scheduler may not even run it)."""
from airflow.models.baseoperator import BaseOperator


class EmptyOperator(BaseOperator):
    ui_color = "#e8f7e4"
    inherits_from_empty_operator = True

    def execute(self, context):
        pass
