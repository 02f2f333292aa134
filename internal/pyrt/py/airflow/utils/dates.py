"""airflow.utils.dates: cron presets and the deprecated days_ago."""
import datetime as dt
import warnings

from airflow.utils import timezone

cron_presets = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}


def days_ago(n, hour=0, minute=0, second=0, microsecond=0):
    """Today's UTC midnight (at the given time of day) minus n days."""
    warnings.warn(
        "Function `days_ago` is deprecated and will be removed in Airflow 3.0. "
        "You can achieve equivalent behavior with `pendulum.today('UTC').add(days=-N, ...)`",
        DeprecationWarning,
        stacklevel=2,
    )
    today = timezone.utcnow().replace(hour=hour, minute=minute, second=second, microsecond=microsecond)
    return today - dt.timedelta(days=n)


def date_range(start_date, end_date=None, num=None, delta=None):
    if not delta:
        return []
    if end_date and num:
        raise Exception("Wait. Either specify end_date OR num")
    if not end_date and not num:
        end_date = timezone.utcnow()
    if isinstance(delta, str):
        raise NotImplementedError("date_range with a cron delta needs croniter")
    out = []
    if end_date:
        d = start_date
        while d <= end_date:
            out.append(d)
            d = d + delta
    else:
        d = start_date
        for _ in range(abs(num)):
            out.append(d)
            d = d + delta if num > 0 else d - delta
        out.sort()
    return out


def infer_time_unit(time_seconds_arr):
    if not time_seconds_arr:
        return "hours"
    m = max(time_seconds_arr)
    if m <= 60 * 2:
        return "seconds"
    if m <= 60 * 60 * 2:
        return "minutes"
    if m <= 24 * 60 * 60 * 2:
        return "hours"
    return "days"


def scale_time_units(time_seconds_arr, unit):
    div = {"minutes": 60, "hours": 3600, "days": 86400}.get(unit, 1)
    return [x / div for x in time_seconds_arr]


def round_time(dt_value, delta, start_date=None):
    start_date = start_date or timezone.datetime(2011, 1, 1)
    if isinstance(delta, dt.timedelta):
        n = (dt_value - start_date) // delta
        return start_date + n * delta
    return dt_value
