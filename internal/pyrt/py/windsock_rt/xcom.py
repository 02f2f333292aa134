"""XCom values as Airflow 2.10 stores them: JSON, with the values JSON lacks
(tuples, sets, datetimes, dates, timedeltas, Decimals, dataclasses) written
in airflow.serialization.serde's typed form

    {"__classname__": "datetime.datetime", "__version__": 2,
     "__data__": {"timestamp": 1704067200.0, "tz": {...}}}

so that a value pushed by a Windsock Python task reads the same as one
pushed by Airflow, and a pulled value comes back as the Python type that
was pushed. Anything else cannot be stored and fails the push with
Airflow's message ("cannot serialize object of type ...").
"""

import dataclasses
import datetime
import decimal
import json
import math

CLASSNAME = "__classname__"
VERSION = "__version__"
DATA = "__data__"

__all__ = ["encode", "decode", "dumps", "NotSerializable"]


class NotSerializable(TypeError):
    """A value XCom cannot hold."""


def _qualname(o):
    cls = o if isinstance(o, type) else type(o)
    return "%s.%s" % (cls.__module__, cls.__qualname__)


def _typed(classname, version, data):
    return {CLASSNAME: classname, VERSION: version, DATA: data}


def _timezone(tz, when):
    """serde's timezone serializer: (data, classname, version, True) as a
    serialized tuple."""
    name = None
    for attr in ("key", "name", "zone"):  # zoneinfo, pendulum, pytz
        v = getattr(tz, attr, None)
        if isinstance(v, str) and v:
            name = v
            break
    offset = tz.utcoffset(when)
    fixed = type(tz).__name__ == "FixedTimezone"
    if fixed or name is None or name.startswith(("+", "-")):
        if offset == datetime.timedelta(0):
            data = "UTC"
        else:
            data = int(offset.total_seconds())
        classname = "pendulum.tz.timezone.FixedTimezone"
    else:
        data, classname = name, _qualname(tz)
    return _typed("builtins.tuple", 1, [data, classname, 1, True])


def encode(o, _depth=0):
    """o as JSON-able values, Airflow's typed form where JSON has none;
    NotSerializable when there is none."""
    if _depth > 10:
        raise NotSerializable("value nested too deeply to serialize")
    if o is None or isinstance(o, (bool, str)):
        return o
    if isinstance(o, int):
        return int(o)
    if isinstance(o, float):
        if math.isnan(o) or math.isinf(o):
            raise NotSerializable("cannot serialize the float %r: JSON has no NaN or infinity" % o)
        return float(o)
    if isinstance(o, list):
        return [encode(v, _depth + 1) for v in o]
    if isinstance(o, dict):
        out = {}
        for k, v in o.items():
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise NotSerializable("cannot serialize a dict key of type %s" % type(k))
            out[k if isinstance(k, str) else json.dumps(k)] = encode(v, _depth + 1)
        return out
    if type(o) is tuple or isinstance(o, (set, frozenset)):
        return _typed("builtins." + type(o).__name__, 1, [encode(v, _depth + 1) for v in o])
    if isinstance(o, tuple):  # a namedtuple: serde writes it as a tuple too
        return _typed("builtins.tuple", 1, [encode(v, _depth + 1) for v in o])
    if isinstance(o, datetime.datetime):
        tz = _timezone(o.tzinfo, o) if o.tzinfo is not None else None
        return _typed(_qualname(o), 2, {"timestamp": o.timestamp(), "tz": tz})
    if isinstance(o, datetime.date):
        return _typed(_qualname(o), 2, o.isoformat())
    if isinstance(o, datetime.timedelta):
        return _typed("datetime.timedelta", 2, o.total_seconds())
    if isinstance(o, decimal.Decimal):
        _, den = o.as_integer_ratio()
        return _typed("decimal.Decimal", 1, int(o) if den == 1 else float(o))
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        data = {f.name: getattr(o, f.name) for f in dataclasses.fields(o)}
        return _typed(_qualname(o), getattr(type(o), "__version__", 0), encode(data, _depth + 1))
    raise NotSerializable("cannot serialize object of type %s" % type(o))


def dumps(o):
    """o encoded as JSON text."""
    return json.dumps(encode(o), allow_nan=False)


def _tz_from(data):
    if not data:
        return None
    name, classname = data[0], data[1]
    try:
        import pendulum
    except ImportError:
        pendulum = None
    if isinstance(name, int):
        if pendulum is not None:
            return pendulum.tz.fixed_timezone(name)
        return datetime.timezone(datetime.timedelta(seconds=name))
    if classname in ("zoneinfo.ZoneInfo", "backports.zoneinfo.ZoneInfo"):
        import zoneinfo
        return zoneinfo.ZoneInfo(name)
    if pendulum is not None:
        return pendulum.timezone(name)
    if name == "UTC":
        return datetime.timezone.utc
    import zoneinfo
    return zoneinfo.ZoneInfo(name)


def _decode_typed(o):
    classname, data = o[CLASSNAME], decode(o.get(DATA))
    if classname == "builtins.tuple":
        return tuple(data)
    if classname == "builtins.set":
        return set(data)
    if classname == "builtins.frozenset":
        return frozenset(data)
    if classname in ("datetime.datetime", "pendulum.datetime.DateTime") and isinstance(data, dict):
        tz = _tz_from(data.get("tz"))
        if classname == "pendulum.datetime.DateTime":
            try:
                import pendulum
                return pendulum.DateTime.fromtimestamp(float(data["timestamp"]), tz=tz)
            except ImportError:
                pass
        return datetime.datetime.fromtimestamp(float(data["timestamp"]), tz=tz)
    if classname in ("datetime.date", "pendulum.date.Date") and isinstance(data, str):
        return datetime.date.fromisoformat(data)
    if classname == "datetime.timedelta":
        return datetime.timedelta(seconds=float(data))
    if classname == "decimal.Decimal":
        return decimal.Decimal(str(data))
    # Airflow refuses to rebuild classes outside its allow list; the data is
    # the most useful thing to hand back.
    return data


def decode(o):
    """A stored XCom value back as the Python value that was pushed."""
    if isinstance(o, list):
        return [decode(v) for v in o]
    if isinstance(o, dict):
        if CLASSNAME in o and DATA in o:
            return _decode_typed(o)
        return {k: decode(v) for k, v in o.items()}
    return o
