from airflow.triggers.base import BaseTrigger


class DateTimeTrigger(BaseTrigger):
    def __init__(self, moment, *, end_from_trigger=False):
        super().__init__()
        self.moment = moment


class TimeDeltaTrigger(DateTimeTrigger):
    def __init__(self, delta, *, end_from_trigger=False):
        from airflow.utils import timezone

        super().__init__(moment=timezone.utcnow() + delta)
