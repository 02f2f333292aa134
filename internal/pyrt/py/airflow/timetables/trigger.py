"""CronTriggerTimetable: runs at the cron times (2.4+)."""
from airflow.timetables.base import Timetable


class CronTriggerTimetable(Timetable):
    def __init__(self, cron, *, timezone, interval=None, run_immediately=False):
        self._expression = cron
        self._timezone = timezone
        self._interval = interval
        self._run_immediately = run_immediately

    def _ws_schedule_value(self):
        return self._expression

    def _ws_timetable_doc(self):
        from airflow.utils.timezone import tz_name

        d = {"__type__": "airflow.timetables.trigger.CronTriggerTimetable", "cron": self._expression}
        tz = tz_name(self._timezone) if not isinstance(self._timezone, str) else self._timezone
        if tz:
            d["timezone"] = tz
        return d
