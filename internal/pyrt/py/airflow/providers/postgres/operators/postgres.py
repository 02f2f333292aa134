"""PostgresOperator: SQLExecuteQueryOperator on a postgres connection."""
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator


class PostgresOperator(SQLExecuteQueryOperator):
    template_fields = ("sql",)
    template_fields_renderers = {"sql": "postgresql"}
    template_ext = (".sql",)
    ui_color = "#ededed"

    def __init__(self, *, postgres_conn_id="postgres_default", database=None, runtime_parameters=None, **kwargs):
        if database is not None:
            hook_params = kwargs.pop("hook_params", {})
            kwargs["hook_params"] = {"schema": database, **hook_params}
        super().__init__(conn_id=postgres_conn_id, **kwargs)
        self.postgres_conn_id = postgres_conn_id
        self.runtime_parameters = runtime_parameters
