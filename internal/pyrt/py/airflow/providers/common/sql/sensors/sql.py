"""SqlSensor: poke a query until its first cell passes (Windsock runs it
natively unless success/failure are Python callables)."""
from airflow.exceptions import AirflowException
from airflow.sensors.base import BaseSensorOperator


class SqlSensor(BaseSensorOperator):
    template_fields = ("sql", "hook_params", "parameters")
    template_ext = (".hql", ".sql")
    ui_color = "#7c7287"

    def __init__(self, *, conn_id, sql, parameters=None, success=None, failure=None, selector=None,
                 fail_on_empty=False, hook_params=None, **kwargs):
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.sql = sql
        self.parameters = parameters
        self.success = success
        self.failure = failure
        self.selector = selector or (lambda row: row[0])
        self.fail_on_empty = fail_on_empty
        self.hook_params = hook_params

    def poke(self, context):
        from airflow.hooks.base import BaseHook

        hook = BaseHook.get_connection(self.conn_id).get_hook(hook_params=self.hook_params)
        records = hook.get_records(self.sql, self.parameters)
        if not records:
            if self.fail_on_empty:
                raise AirflowException("No rows returned, raising as per fail_on_empty flag")
            return False
        value = self.selector(records[0])
        if self.failure is not None:
            if not callable(self.failure):
                raise AirflowException("self.failure is present, but not callable -> %s" % self.failure)
            if self.failure(value):
                raise AirflowException("Failure criteria met. self.failure(%s) returned True" % value)
        if self.success is not None:
            if not callable(self.success):
                raise AirflowException("self.success is present, but not callable -> %s" % self.success)
            return bool(self.success(value))
        return bool(value)
