"""airflow.utils.timezone on the standard library (pendulum is used when
the DAG file already imported it, never imported here: parsing stays fast
and works without it)."""
import datetime as dt
import sys

utc = dt.timezone.utc
TIMEZONE = utc


def _pendulum():
    return sys.modules.get("pendulum")


def is_localized(value):
    return value.utcoffset() is not None


def is_naive(value):
    return value.utcoffset() is None


def utcnow():
    return dt.datetime.now(utc)


def utc_epoch():
    return dt.datetime(1970, 1, 1, tzinfo=utc)


def convert_to_utc(value):
    if value is None:
        return value
    if not is_localized(value):
        value = value.replace(tzinfo=TIMEZONE)
    return value.astimezone(utc)


def make_aware(value, timezone=None):
    if timezone is None:
        timezone = TIMEZONE
    if value is None:
        return None
    if is_localized(value):
        raise ValueError("make_aware expects a naive datetime, got %s" % value)
    if isinstance(timezone, str):
        timezone = parse_timezone(timezone)
    return value.replace(tzinfo=timezone)


def make_naive(value, timezone=None):
    if timezone is None:
        timezone = TIMEZONE
    if is_naive(value):
        raise ValueError("make_naive() cannot be applied to a naive datetime")
    return value.astimezone(timezone).replace(tzinfo=None)


def datetime(*args, **kwargs):
    """A datetime in the default time zone when none is given."""
    if "tzinfo" not in kwargs:
        kwargs["tzinfo"] = TIMEZONE
    return dt.datetime(*args, **kwargs)


def parse_timezone(name):
    if not isinstance(name, str):
        return name
    if name.upper() == "UTC":
        return utc
    p = _pendulum()
    if p is not None:
        return p.timezone(name)
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def parse(string, timezone=None, strict=False):
    """Parse an ISO-8601 date or datetime; naive results get timezone (or
    the default time zone)."""
    p = _pendulum()
    if p is not None:
        return p.parse(string, tz=timezone or TIMEZONE, strict=strict)
    s = string.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(s)
    except ValueError:
        value = dt.datetime.combine(dt.date.fromisoformat(s), dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=parse_timezone(timezone) if timezone else TIMEZONE)
    return value


def coerce_datetime(v, tz=None):
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else make_aware(v, tz)
    return v


def td_format(td_object):
    if td_object is None:
        return None
    if isinstance(td_object, dt.timedelta):
        seconds = int(td_object.total_seconds())
    else:
        seconds = int(td_object)
    parts = []
    for name, n in (("year", 31536000), ("month", 2592000), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= n:
            v, seconds = divmod(seconds, n)
            parts.append("%d %s%s" % (v, name, "s" if v != 1 else ""))
    return ", ".join(parts) if parts else "< 1 second"


def tz_name(tz):
    """The IANA name of a tzinfo when it has one (pendulum, zoneinfo, UTC)."""
    if tz is None:
        return None
    for attr in ("name", "key", "zone"):
        v = getattr(tz, attr, None)
        if isinstance(v, str) and v:
            return v
    if tz is utc or (hasattr(tz, "utcoffset") and tz.utcoffset(None) == dt.timedelta(0) and str(tz) in ("UTC", "UTC+00:00")):
        return "UTC"
    return None
