from airflow.timetables.base import Timetable


class EventsTimetable(Timetable):
    def __init__(self, event_dates, restrict_to_events=False, presorted=False, description=None):
        self.event_dates = sorted(event_dates) if not presorted else list(event_dates)
        self.restrict_to_events = restrict_to_events
