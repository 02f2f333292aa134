from airflow.timetables.base import Timetable


class NullTimetable(Timetable):
    can_be_scheduled = False
    periodic = False

    def _ws_schedule_value(self):
        return None


class OnceTimetable(Timetable):
    periodic = False

    def _ws_schedule_value(self):
        return "@once"


class ContinuousTimetable(Timetable):
    active_runs_limit = 1

    def _ws_schedule_value(self):
        return "@continuous"


class DatasetTriggeredTimetable(Timetable):
    def __init__(self, datasets):
        self.dataset_condition = datasets

    def _ws_schedule_value(self):
        from windsock_rt.document import encode_dataset

        return {"datasets": encode_dataset(self.dataset_condition)}
