"""LatestOnlyOperator: skip the downstream tasks unless this is the latest run."""
from airflow.models.skipmixin import _outcome
from airflow.operators.branch import BaseBranchOperator
from airflow.utils import timezone


class LatestOnlyOperator(BaseBranchOperator):
    ui_color = "#e9ffdb"

    def choose_branch(self, context):
        dag_run = context.get("dag_run")
        if dag_run is not None and getattr(dag_run, "external_trigger", False):
            return list(self.downstream_task_ids)
        start = context.get("data_interval_start")
        end = context.get("data_interval_end")
        now = timezone.utcnow()
        if start is None or end is None:
            return list(self.downstream_task_ids)
        # The latest run is the one whose next interval has not ended yet.
        nxt = end + (end - start) if end > start else end
        if not (end < now <= nxt) and end != start:
            print("Not latest execution, skipping downstream.")
            return []
        return list(self.downstream_task_ids)
