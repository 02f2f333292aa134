"""BranchDayOfWeekOperator: follow one branch on the given days."""
from airflow.operators.branch import BaseBranchOperator
from airflow.utils import timezone
from airflow.utils.weekday import WeekDay


class BranchDayOfWeekOperator(BaseBranchOperator):
    def __init__(self, *, follow_task_ids_if_true, follow_task_ids_if_false, week_day,
                 use_task_logical_date=False, use_task_execution_day=False, **kwargs):
        super().__init__(**kwargs)
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.week_day = week_day
        self.use_task_logical_date = use_task_logical_date or use_task_execution_day
        self._week_day_num = WeekDay.validate_week_day(week_day)

    def choose_branch(self, context):
        now = context["logical_date"] if self.use_task_logical_date else timezone.utcnow()
        if now.isoweekday() in self._week_day_num:
            return self.follow_task_ids_if_true
        return self.follow_task_ids_if_false
