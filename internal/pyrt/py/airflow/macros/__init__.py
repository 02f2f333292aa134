"""Airflow's macros: what templates reach as {{ macros.x }} and DAG code
imports from airflow.macros. The module attributes mirror Airflow 2.10's:
the helper functions below plus the modules and classes Airflow exposes
(datetime, timedelta, dateutil, time, uuid, random, json, yaml)."""

import json  # noqa: F401 - part of the macros namespace
import random as _random
import time  # noqa: F401
import uuid  # noqa: F401
from datetime import datetime, timedelta

try:
    # Airflow exposes the dateutil package; its submodules are imported so
    # that macros.dateutil.relativedelta.relativedelta and
    # macros.dateutil.parser.parse resolve as they do under Airflow.
    import dateutil
    import dateutil.parser  # noqa: F401
    import dateutil.relativedelta  # noqa: F401
    import dateutil.tz  # noqa: F401
except ImportError:  # pragma: no cover - dateutil is optional
    dateutil = None

try:
    import yaml  # noqa: F401
except ImportError:  # pragma: no cover - PyYAML is optional
    yaml = None

# Airflow's macros.random is the function random.random, not the module.
random = _random.random

__all__ = [
    "datetime", "timedelta", "dateutil", "time", "uuid", "random", "json", "yaml",
    "ds_add", "ds_format", "ds_format_locale", "datetime_diff_for_humans",
]


def ds_add(ds, days):
    """Add (or subtract, with negative days) days to a YYYY-MM-DD date.

    >>> ds_add('2015-01-01', 5)
    '2015-01-06'
    """
    if not days:
        return str(ds)
    return (datetime.strptime(str(ds), "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")


def ds_format(ds, input_format, output_format):
    """Re-format a date string: parse it with input_format, write it with
    output_format.

    >>> ds_format('2015-01-01', "%Y-%m-%d", "%m-%d-%y")
    '01-01-15'
    """
    return datetime.strptime(str(ds), input_format).strftime(output_format)


def ds_format_locale(ds, input_format, output_format, locale=None):
    """Re-format a date string with a Babel (CLDR) output format in a locale,
    as Airflow 2.10's macro does. Needs the babel package."""
    try:
        from babel.dates import LC_TIME, format_datetime
    except ImportError as e:  # pragma: no cover - babel is optional
        raise ImportError("macros.ds_format_locale needs the babel package, which this environment lacks") from e
    return format_datetime(datetime.strptime(str(ds), input_format), format=output_format, locale=locale or LC_TIME)


def datetime_diff_for_humans(dt, since=None):
    """A human-readable difference between dt and since (default: now),
    such as '2 days ago'. Uses pendulum, as Airflow does, when it is
    installed."""
    try:
        import pendulum
    except ImportError:
        return _diff_for_humans(dt, since)
    return pendulum.instance(dt).diff_for_humans(pendulum.instance(since) if since is not None else None)


_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400), ("day", 86400),
          ("hour", 3600), ("minute", 60), ("second", 1))


def _diff_for_humans(dt, since):
    """pendulum's wording ('2 days ago', 'in 3 hours', '1 week before'),
    for interpreters without pendulum."""
    relative_to_now = since is None
    if relative_to_now:
        since = datetime.now(dt.tzinfo) if dt.tzinfo else datetime.now()
    seconds = (dt - since).total_seconds()
    n, unit = 0, "second"
    for unit, size in _UNITS:
        n = int(abs(seconds) // size)
        if n:
            break
    if n == 0:
        phrase = "a few seconds"
    else:
        phrase = "%d %s%s" % (n, unit, "" if n == 1 else "s")
    if relative_to_now:
        return "in " + phrase if seconds > 0 else phrase + " ago"
    return phrase + (" after" if seconds > 0 else " before")
