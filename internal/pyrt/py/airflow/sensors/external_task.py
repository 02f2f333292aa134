"""ExternalTaskSensor (Windsock runs it natively) and ExternalTaskMarker."""
from airflow.exceptions import AirflowException
from airflow.models.baseoperator import BaseOperator
from airflow.sensors.base import BaseSensorOperator


class ExternalDagLink:
    name = "External DAG"


class ExternalTaskSensor(BaseSensorOperator):
    template_fields = ("external_dag_id", "external_task_id", "external_task_ids", "external_task_group_id")
    ui_color = "#4db7db"

    def __init__(self, *, external_dag_id, external_task_id=None, external_task_ids=None,
                 external_task_group_id=None, allowed_states=None, skipped_states=None, failed_states=None,
                 execution_delta=None, execution_date_fn=None, check_existence=False, poll_interval=2.0,
                 deferrable=False, **kwargs):
        super().__init__(**kwargs)
        self.allowed_states = list(allowed_states) if allowed_states else ["success"]
        self.skipped_states = list(skipped_states) if skipped_states else []
        self.failed_states = list(failed_states) if failed_states else []
        if external_task_id is not None and external_task_ids is not None:
            raise ValueError("Only one of `external_task_id` or `external_task_ids` may be provided to "
                             "ExternalTaskSensor; use external_task_id or external_task_ids or external_task_group_id.")
        if external_task_group_id is not None and (external_task_id is not None or external_task_ids is not None):
            raise ValueError("Only one of `external_task_group_id` or `external_task_ids` may be provided to "
                             "ExternalTaskSensor; use external_task_id or external_task_ids or external_task_group_id.")
        if external_task_id is not None:
            external_task_ids = [external_task_id]
        if execution_delta is not None and execution_date_fn is not None:
            raise ValueError("Only one of `execution_delta` or `execution_date_fn` may be provided to ExternalTaskSensor; not both.")
        self.execution_delta = execution_delta
        self.execution_date_fn = execution_date_fn
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.external_task_ids = external_task_ids
        self.external_task_group_id = external_task_group_id
        self.check_existence = check_existence
        self.deferrable = deferrable
        self.poll_interval = poll_interval

    def poke(self, context):
        from windsock_rt import rpc

        if not rpc.connected():
            raise AirflowException("ExternalTaskSensor needs a running Windsock task")
        logical_date = context.get("logical_date")
        if self.execution_delta is not None:
            dates = [logical_date - self.execution_delta]
        elif self.execution_date_fn is not None:
            from airflow.operators.python import determine_kwargs

            kw = determine_kwargs(self.execution_date_fn, [logical_date], context)
            res = self.execution_date_fn(logical_date, **kw)
            dates = res if isinstance(res, list) else [res]
        else:
            dates = [logical_date]
        try:
            counts = rpc.call("external_task_states", dag_id=self.external_dag_id, task_ids=self.external_task_ids,
                              task_group_id=self.external_task_group_id, logical_dates=[d.isoformat() for d in dates],
                              allowed_states=self.allowed_states, failed_states=self.failed_states,
                              skipped_states=self.skipped_states)
        except rpc.RPCError as e:
            raise AirflowException("ExternalTaskSensor: %s" % e.message) from None
        if counts.get("failed"):
            raise AirflowException("The external DAG %s or tasks failed." % self.external_dag_id)
        return bool(counts.get("done"))


class ExternalTaskMarker(BaseOperator):
    template_fields = ("external_dag_id", "external_task_id", "execution_date")
    ui_color = "#4db7db"

    def __init__(self, *, external_dag_id, external_task_id, execution_date="{{ logical_date.isoformat() }}",
                 recursion_depth=10, **kwargs):
        super().__init__(**kwargs)
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.execution_date = execution_date
        if recursion_depth <= 0:
            raise ValueError("recursion_depth should be a positive integer")
        self.recursion_depth = recursion_depth

    def execute(self, context):
        pass
