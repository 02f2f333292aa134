"""DatasetOrTimeSchedule: run on a timetable or when datasets update (2.9+)."""
from airflow.timetables.base import Timetable


class DatasetOrTimeSchedule(Timetable):
    def __init__(self, *, timetable, datasets):
        self.timetable = timetable
        self.datasets = datasets

    def _ws_schedule_value(self):
        from windsock_rt.document import encode_dataset

        if hasattr(self.timetable, "_ws_timetable_doc"):
            tt = self.timetable._ws_timetable_doc()
        else:
            tt = {"cron": self.timetable._ws_schedule_value()}
        ds = self.datasets
        if isinstance(ds, (list, tuple)):
            enc = [encode_dataset(d) for d in ds]
        else:
            enc = encode_dataset(ds)
            if "uri" in enc:
                enc = [enc]
        return {"timetable": tt, "datasets": enc}
