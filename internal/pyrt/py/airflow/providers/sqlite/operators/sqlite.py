"""SqliteOperator: SQLExecuteQueryOperator on a sqlite connection."""
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator


class SqliteOperator(SQLExecuteQueryOperator):
    template_fields = ("sql",)
    template_ext = (".sql",)
    ui_color = "#cdaaed"

    def __init__(self, *, sqlite_conn_id="sqlite_default", parameters=None, **kwargs):
        super().__init__(conn_id=sqlite_conn_id, parameters=parameters, **kwargs)
        self.sqlite_conn_id = sqlite_conn_id
