"""Timetable: the base of schedules. Windsock's Go scheduler computes runs;
here a timetable only says how it is written in the document."""


class DataInterval:
    def __init__(self, start, end):
        self.start, self.end = start, end

    @classmethod
    def exact(cls, at):
        return cls(at, at)


class TimeRestriction:
    def __init__(self, earliest, latest, catchup):
        self.earliest, self.latest, self.catchup = earliest, latest, catchup


class DagRunInfo:
    def __init__(self, run_after, data_interval):
        self.run_after, self.data_interval = run_after, data_interval

    @classmethod
    def interval(cls, start, end):
        return cls(end, DataInterval(start, end))

    @classmethod
    def exact(cls, at):
        return cls(at, DataInterval.exact(at))


class Timetable:
    """Subclass for custom schedules (a plugin's timetable)."""

    periodic = True
    can_be_scheduled = True
    run_ordering = ("data_interval_end", "execution_date")
    active_runs_limit = None
    description = ""

    @property
    def summary(self):
        return type(self).__name__

    def validate(self):
        pass

    def serialize(self):
        return {}

    @classmethod
    def deserialize(cls, data):
        return cls()

    def _ws_schedule_value(self):
        return {"__repr__": "%s.%s" % (type(self).__module__, type(self).__qualname__)}
