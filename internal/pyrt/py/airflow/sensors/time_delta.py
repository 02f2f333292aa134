"""TimeDeltaSensor: wait until delta after the data interval's end."""
import time

from airflow.sensors.base import BaseSensorOperator
from airflow.utils import timezone


class TimeDeltaSensor(BaseSensorOperator):
    def __init__(self, *, delta, **kwargs):
        super().__init__(**kwargs)
        self.delta = delta

    def poke(self, context):
        target = context["data_interval_end"] + self.delta
        print("Checking if the time (%s) has come" % target)
        return timezone.utcnow() > target


class TimeDeltaSensorAsync(TimeDeltaSensor):
    """Runs as TimeDeltaSensor (no triggerer in Windsock)."""

    def __init__(self, *, end_from_trigger=False, delta, **kwargs):
        super().__init__(delta=delta, **kwargs)


class WaitSensor(BaseSensorOperator):
    def __init__(self, *, time_to_wait, deferrable=False, **kwargs):
        super().__init__(**kwargs)
        self.time_to_wait = time_to_wait

    def execute(self, context):
        secs = self.time_to_wait.total_seconds() if hasattr(self.time_to_wait, "total_seconds") else float(self.time_to_wait) * 60
        time.sleep(secs)
