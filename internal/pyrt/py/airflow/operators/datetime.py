"""BranchDateTimeOperator: follow one branch inside a time window, the other outside."""
import datetime as dt

from airflow.exceptions import AirflowException
from airflow.operators.branch import BaseBranchOperator
from airflow.utils import timezone


def target_times_as_dates(base_date, lower, upper):
    if isinstance(lower, dt.time):
        lower = dt.datetime.combine(base_date.date(), lower, tzinfo=base_date.tzinfo)
    if isinstance(upper, dt.time):
        upper = dt.datetime.combine(base_date.date(), upper, tzinfo=base_date.tzinfo)
    if lower is not None and upper is not None and lower > upper:
        upper = upper + dt.timedelta(days=1)
    return lower, upper


class BranchDateTimeOperator(BaseBranchOperator):
    def __init__(self, *, follow_task_ids_if_true, follow_task_ids_if_false, target_lower=None, target_upper=None,
                 use_task_logical_date=False, use_task_execution_date=False, **kwargs):
        super().__init__(**kwargs)
        if target_lower is None and target_upper is None:
            raise AirflowException("Both target_upper and target_lower are None. At least one must be defined to be compared to the current datetime")
        self.target_lower = target_lower
        self.target_upper = target_upper
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.use_task_logical_date = use_task_logical_date or use_task_execution_date

    def choose_branch(self, context):
        now = context["logical_date"] if self.use_task_logical_date else timezone.utcnow()
        lower, upper = target_times_as_dates(now, self.target_lower, self.target_upper)
        if upper is not None and upper.tzinfo is None:
            upper = upper.replace(tzinfo=now.tzinfo)
        if lower is not None and lower.tzinfo is None:
            lower = lower.replace(tzinfo=now.tzinfo)
        if upper is not None and upper < now:
            return self.follow_task_ids_if_false
        if lower is not None and lower > now:
            return self.follow_task_ids_if_false
        return self.follow_task_ids_if_true
