"""DateTimeSensor: wait until target_time (a datetime or a templated string)."""
import datetime as dt

from airflow.sensors.base import BaseSensorOperator
from airflow.utils import timezone


class DateTimeSensor(BaseSensorOperator):
    template_fields = ("target_time",)

    def __init__(self, *, target_time, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_time, dt.datetime):
            self.target_time = target_time.isoformat()
        elif isinstance(target_time, str):
            self.target_time = target_time
        else:
            raise TypeError("Expected str or datetime.datetime type for target_time. Got %s" % type(target_time))

    def poke(self, context):
        print("Checking if the time (%s) has come" % self.target_time)
        return timezone.utcnow() > timezone.parse(self.target_time)


class DateTimeSensorAsync(DateTimeSensor):
    def __init__(self, *, start_from_trigger=False, end_from_trigger=False, trigger_kwargs=None, **kwargs):
        super().__init__(**kwargs)
