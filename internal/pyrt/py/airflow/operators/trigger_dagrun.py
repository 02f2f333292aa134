"""TriggerDagRunOperator: start a run of another DAG (through Windsock)."""
import datetime as dt

from airflow.exceptions import AirflowException
from airflow.models.baseoperator import BaseOperator


class TriggerDagRunLink:
    name = "Triggered DAG"


class TriggerDagRunOperator(BaseOperator):
    template_fields = ("trigger_dag_id", "trigger_run_id", "logical_date", "conf", "wait_for_completion")
    template_fields_renderers = {"conf": "py"}
    ui_color = "#ffefeb"

    def __init__(self, *, trigger_dag_id, trigger_run_id=None, conf=None, logical_date=None, reset_dag_run=False,
                 wait_for_completion=False, poke_interval=60, allowed_states=None, failed_states=None,
                 skip_when_already_exists=False, deferrable=False, execution_date=None, **kwargs):
        super().__init__(**kwargs)
        self.trigger_dag_id = trigger_dag_id
        self.trigger_run_id = trigger_run_id
        self.conf = conf
        self.reset_dag_run = reset_dag_run
        self.wait_for_completion = wait_for_completion
        self.poke_interval = poke_interval
        self.allowed_states = [str(s) for s in (allowed_states or ["success"])]
        self.failed_states = [str(s) for s in (failed_states or ["failed"])]
        self.skip_when_already_exists = skip_when_already_exists
        self.deferrable = deferrable
        if execution_date is not None and logical_date is None:
            logical_date = execution_date
        if logical_date is not None and not isinstance(logical_date, (str, dt.datetime)):
            raise TypeError("Expected str or datetime.datetime type for logical_date. Got %s" % type(logical_date).__name__)
        self.logical_date = logical_date

    def execute(self, context):
        from windsock_rt import rpc

        if not rpc.connected():
            raise AirflowException("TriggerDagRunOperator needs a running Windsock task")
        args = {"dag_id": self.trigger_dag_id, "conf": self.conf, "run_id": self.trigger_run_id,
                "logical_date": self.logical_date.isoformat() if isinstance(self.logical_date, dt.datetime) else self.logical_date,
                "reset_dag_run": self.reset_dag_run, "wait_for_completion": self.wait_for_completion,
                "poke_interval": self.poke_interval, "allowed_states": self.allowed_states,
                "failed_states": self.failed_states, "skip_when_already_exists": self.skip_when_already_exists}
        try:
            return rpc.call("trigger_dag", **args)
        except rpc.RPCError as e:
            raise AirflowException("triggering %s failed: %s" % (self.trigger_dag_id, e.message)) from None
