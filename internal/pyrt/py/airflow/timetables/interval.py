import datetime as dt

from airflow.timetables.base import Timetable


class CronDataIntervalTimetable(Timetable):
    def __init__(self, cron, timezone):
        self._expression = cron
        self._timezone = timezone

    def _ws_schedule_value(self):
        return self._expression

    def serialize(self):
        return {"expression": self._expression, "timezone": str(self._timezone)}


class DeltaDataIntervalTimetable(Timetable):
    def __init__(self, delta):
        self._delta = delta

    def _ws_schedule_value(self):
        if isinstance(self._delta, dt.timedelta):
            return {"__type__": "datetime.timedelta", "seconds": float(self._delta.total_seconds())}
        return {"__repr__": repr(self._delta)}
