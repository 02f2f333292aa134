"""SQLExecuteQueryOperator and SQL check operators over a connection's hook."""
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.models.baseoperator import BaseOperator
from airflow.operators.branch import BranchMixIn
from airflow.providers.common.sql.hooks.sql import fetch_all_handler, return_single_query_results


def _parse_boolean(val):
    val = str(val).lower()
    if val in ("y", "yes", "t", "true", "on", "1"):
        return True
    if val in ("n", "no", "f", "false", "off", "0"):
        return False
    raise ValueError("%r is not a boolean-like string value" % val)


class BaseSQLOperator(BaseOperator):
    conn_id_field = "conn_id"
    template_fields = ("conn_id", "database", "hook_params")

    def __init__(self, *, conn_id=None, database=None, hook_params=None, retry_on_failure=True, **kwargs):
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.database = database
        self.hook_params = hook_params or {}
        self.retry_on_failure = retry_on_failure

    def get_db_hook(self):
        from airflow.hooks.base import BaseHook

        conn = BaseHook.get_connection(self.conn_id)
        params = dict(self.hook_params)
        if self.database:
            params.setdefault("schema", self.database)
        return conn.get_hook(hook_params=params)

    def _raise_exception(self, msg):
        if self.retry_on_failure:
            raise AirflowException(msg)
        raise AirflowFailException(msg)


class SQLExecuteQueryOperator(BaseSQLOperator):
    template_fields = ("conn_id", "sql", "parameters", "hook_params")
    template_ext = (".sql", ".json")
    template_fields_renderers = {"sql": "sql", "parameters": "json"}
    ui_color = "#cdaaed"

    def __init__(self, *, sql, autocommit=False, parameters=None, handler=fetch_all_handler, output_processor=None,
                 conn_id=None, database=None, split_statements=None, return_last=True, show_return_value_in_logs=False,
                 **kwargs):
        super().__init__(conn_id=conn_id, database=database, **kwargs)
        self.sql = sql
        self.autocommit = autocommit
        self.parameters = parameters
        self.handler = handler
        self._output_processor = output_processor or (lambda results, descriptions: (descriptions, results))
        self.split_statements = split_statements
        self.return_last = return_last
        self.show_return_value_in_logs = show_return_value_in_logs

    def execute(self, context):
        print("Executing: %s" % (self.sql,))
        hook = self.get_db_hook()
        split = self.split_statements if self.split_statements is not None else False
        output = hook.run(sql=self.sql, autocommit=self.autocommit, parameters=self.parameters,
                          handler=self.handler if self.do_xcom_push else None, split_statements=split,
                          return_last=self.return_last)
        if not self.do_xcom_push:
            return None
        if return_single_query_results(self.sql, self.return_last, split):
            output = [self._make_common(output)]
            descriptions = [hook.descriptions[-1] if hook.descriptions else None]
            processed = self._output_processor(output, descriptions)
            return processed[1][-1] if isinstance(processed, tuple) else processed
        return [self._make_common(o) for o in output] if output is not None else None

    @staticmethod
    def _make_common(rows):
        if rows is None:
            return None
        if isinstance(rows, tuple):
            return list(rows)
        return [list(r) if isinstance(r, tuple) else r for r in rows]


class SQLCheckOperator(BaseSQLOperator):
    template_fields = ("sql", "parameters")
    template_ext = (".hql", ".sql")
    ui_color = "#fff7e6"

    def __init__(self, *, sql, conn_id=None, database=None, parameters=None, **kwargs):
        super().__init__(conn_id=conn_id, database=database, **kwargs)
        self.sql = sql
        self.parameters = parameters

    def execute(self, context):
        records = self.get_db_hook().get_first(self.sql, self.parameters)
        if not records:
            self._raise_exception("The following query returned zero rows: %s" % self.sql)
        if not all(records):
            self._raise_exception("Test failed.\nQuery:\n%s\nResults:\n%r" % (self.sql, records))
        print("Success.")


class SQLValueCheckOperator(BaseSQLOperator):
    template_fields = ("sql", "pass_value")
    template_ext = (".hql", ".sql")

    def __init__(self, *, sql, pass_value, tolerance=None, conn_id=None, database=None, **kwargs):
        super().__init__(conn_id=conn_id, database=database, **kwargs)
        self.sql = sql
        self.pass_value = str(pass_value)
        self.tol = tolerance

    def execute(self, context):
        records = self.get_db_hook().get_first(self.sql)
        if not records:
            self._raise_exception("The following query returned zero rows: %s" % self.sql)
        try:
            want = float(self.pass_value)
            ok = all(abs(float(r) - want) <= (abs(want) * self.tol if self.tol else 0) for r in records)
        except ValueError:
            ok = all(str(r) == self.pass_value for r in records)
        if not ok:
            self._raise_exception("Test failed.\nPass value:%s\nQuery:\n%s\nResults:\n%r" % (self.pass_value, self.sql, records))


class BranchSQLOperator(BaseSQLOperator, BranchMixIn):
    template_fields = ("sql",)
    template_ext = (".sql",)

    def __init__(self, *, sql, follow_task_ids_if_true, follow_task_ids_if_false, conn_id="default_conn_id",
                 database=None, parameters=None, **kwargs):
        super().__init__(conn_id=conn_id, database=database, **kwargs)
        self.sql = sql
        self.parameters = parameters
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false

    def execute(self, context):
        record = self.get_db_hook().get_first(self.sql, self.parameters)
        if not record:
            raise AirflowException("No rows returned from sql query. Operator expected True or False return value.")
        value = record[0] if isinstance(record, (list, tuple)) else record
        if isinstance(value, str):
            value = _parse_boolean(value)
        follow = self.follow_task_ids_if_true if value else self.follow_task_ids_if_false
        return self.do_branch(context, follow)


def __getattr__(name):
    from airflow._providers import placeholder

    if name.startswith("_"):
        raise AttributeError(name)
    return placeholder(__name__, name)
