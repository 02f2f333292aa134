"""DayOfWeekSensor: done on the given days."""
from airflow.sensors.base import BaseSensorOperator
from airflow.utils import timezone
from airflow.utils.weekday import WeekDay


class DayOfWeekSensor(BaseSensorOperator):
    def __init__(self, *, week_day, use_task_logical_date=False, use_task_execution_day=False, **kwargs):
        super().__init__(**kwargs)
        self.week_day = week_day
        self.use_task_logical_date = use_task_logical_date or use_task_execution_day
        self._week_day_num = WeekDay.validate_week_day(week_day)

    def poke(self, context):
        day = (context["logical_date"] if self.use_task_logical_date else timezone.utcnow()).isoweekday()
        return day in self._week_day_num
