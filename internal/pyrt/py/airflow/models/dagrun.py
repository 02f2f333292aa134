"""DagRun: the type of context["dag_run"]; ORM queries are refused."""
from airflow.models._orm import _refuse


class DagRun:
    """Used in type hints; DagRun.find and other queries are refused."""

    def __init__(self, *args, **kwargs):
        _refuse("DagRun")

    @classmethod
    def find(cls, *args, **kwargs):
        _refuse("DagRun.find")

    @classmethod
    def active_runs_of_dags(cls, *args, **kwargs):
        _refuse("DagRun.active_runs_of_dags")

    @staticmethod
    def generate_run_id(run_type, execution_date):
        return "%s__%s" % (getattr(run_type, "value", run_type), execution_date.isoformat())


DagRunNote = DagRun
