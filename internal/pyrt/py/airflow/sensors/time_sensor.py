"""TimeSensor: wait until a time of day (in the DAG's time zone)."""
import datetime as dt

from airflow.sensors.base import BaseSensorOperator
from airflow.utils import timezone


class TimeSensor(BaseSensorOperator):
    def __init__(self, *, target_time, **kwargs):
        super().__init__(**kwargs)
        self.target_time = target_time

    def poke(self, context):
        tz = self.dag.timezone if self.dag is not None else timezone.utc
        now = timezone.utcnow().astimezone(tz)
        return now.time() > self.target_time


TimeSensorAsync = TimeSensor
