"""Variable: read and written through the Windsock process (never the
metadata database). Keys read while a DAG file is parsed are recorded."""
import json
import os

from airflow.exceptions import AirflowException
from airflow.utils.types import NOTSET, ArgNotSet

# Keys read since parse.py last reset it (variables_read of Contract 1).
_reads = []

# While a DAG file is imported, each key is fetched once (files often read
# one Variable many times; a value cannot change within one import). None
# outside a parse: a running task always asks.
_parse_cache = None


def _rpc():
    from windsock_rt import rpc

    return rpc


class Variable:
    """Airflow Variables: Variable.get(key, default_var=..., deserialize_json=...)."""

    __NO_DEFAULT_SENTINEL = object()

    def __init__(self, key=None, val=None, description=None):
        self.key = key
        self._val = val
        self.description = description
        self.is_encrypted = False

    @property
    def val(self):
        return self._val

    def get_val(self):
        return self._val

    def __repr__(self):
        return "%s : %s" % (self.key, self._val)

    @classmethod
    def get(cls, key, default_var=__NO_DEFAULT_SENTINEL, deserialize_json=False):
        if key not in _reads:
            _reads.append(key)
        value = cls._lookup(key)
        if value is None:
            if default_var is not cls.__NO_DEFAULT_SENTINEL:
                return default_var
            raise KeyError("Variable %s does not exist" % key)
        if deserialize_json:
            return json.loads(value)
        return value

    @staticmethod
    def _lookup(key):
        """The stored string, or None when there is none."""
        if _parse_cache is not None:
            if key not in _parse_cache:
                _parse_cache[key] = Variable._fetch(key)
            return _parse_cache[key]
        return Variable._fetch(key)

    @staticmethod
    def _fetch(key):
        rpc = _rpc()
        if not rpc.connected():
            # Outside Windsock only the environment can answer, as Airflow's
            # environment-variables backend does.
            return os.environ.get("AIRFLOW_VAR_" + key.upper())
        try:
            value = rpc.call("variable_get", key=key)
        except rpc.NotFound:
            return None
        if value is not None and not isinstance(value, str):
            value = json.dumps(value)
        return value

    @classmethod
    def setdefault(cls, key, default, description=None, deserialize_json=False):
        obj = cls.get(key, default_var=None, deserialize_json=deserialize_json)
        if obj is None:
            if default is None:
                raise ValueError("Default Value must be set")
            cls.set(key, default, description=description, serialize_json=deserialize_json)
            return default
        return obj

    @classmethod
    def set(cls, key, value, description=None, serialize_json=False, session=None):
        stored = json.dumps(value, indent=2) if serialize_json else str(value)
        args = {"key": key, "value": stored}
        if description is not None:
            args["description"] = description
        _call_write("variable_set", "Variable.set", **args)

    @classmethod
    def update(cls, key, value, serialize_json=False, session=None):
        cls.set(key, value, serialize_json=serialize_json)

    @classmethod
    def delete(cls, key, session=None):
        _call_write("variable_delete", "Variable.delete", key=key)
        return 1

    @staticmethod
    def check_for_write_conflict(key):
        return None


def _call_write(name, what, **args):
    if _parse_cache is not None:
        _parse_cache.pop(args.get("key"), None)
    rpc = _rpc()
    if not rpc.connected():
        raise AirflowException("%s needs a running Windsock task: not running under Windsock" % what)
    try:
        return rpc.call(name, **args)
    except rpc.RPCError as e:
        raise AirflowException("%s failed: %s" % (what, e.message)) from None


def reset_reads(parsing=False):
    """Start (parsing=True) or end the record of one file's reads."""
    global _parse_cache
    del _reads[:]
    _parse_cache = {} if parsing else None


def reads():
    return list(_reads)


__all__ = ["Variable", "NOTSET", "ArgNotSet"]
