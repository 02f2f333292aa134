"""Windsock's runner for PythonOperator callables.

Run as: python3 -u -c <this file> <input.json> <output.json>

The input names the callable and holds op_args, op_kwargs, templates_dict
and the Airflow template context. The callable's prints go to stdout and
stderr (the task log); the outcome goes to the output file as JSON, either
{"ok": true, "value": ..., "truthy": ..., "text": ...} or
{"ok": false, "error": {"types": [class names, most derived first],
"message": ...}}.
"""

import importlib
import importlib.util
import inspect
import json
import os
import re
import sys
import traceback
import types
from datetime import date, datetime

# Context entries Airflow hands over as datetimes; the context arrives as
# JSON, so they are turned back into datetimes.
DATE_KEYS = (
    "logical_date", "execution_date", "data_interval_start", "data_interval_end",
    "prev_data_interval_start_success", "prev_data_interval_end_success",
    "prev_start_date_success", "prev_end_date_success",
    "prev_execution_date", "prev_execution_date_success", "next_execution_date",
)


class Attrs(dict):
    """A dict whose keys are attributes too, so context objects read like
    Airflow's (ti.task_id, dag_run.conf)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def attrs(v):
    if isinstance(v, dict):
        return Attrs((k, attrs(x)) for k, x in v.items())
    if isinstance(v, list):
        return [attrs(x) for x in v]
    return v


def to_datetime(v):
    if not isinstance(v, str):
        return v
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return v


def install_airflow_shim():
    """Without Airflow installed, make `from airflow.exceptions import
    AirflowSkipException` work so DAG code written for Airflow runs."""
    if importlib.util.find_spec("airflow") is not None:
        return
    airflow = types.ModuleType("airflow")
    airflow.__path__ = []
    exceptions = types.ModuleType("airflow.exceptions")

    class AirflowException(Exception):
        pass

    class AirflowSkipException(AirflowException):
        pass

    class AirflowFailException(AirflowException):
        pass

    for cls in (AirflowException, AirflowSkipException, AirflowFailException):
        cls.__module__ = "airflow.exceptions"
        setattr(exceptions, cls.__name__, cls)
    airflow.exceptions = exceptions
    airflow.AirflowException = AirflowException
    sys.modules["airflow"] = airflow
    sys.modules["airflow.exceptions"] = exceptions


def load(spec):
    kind = spec["kind"]
    if kind == "lambda":
        fn = eval(spec["source"], {"__builtins__": __builtins__})
        if not callable(fn):
            raise TypeError("python_callable lambda does not evaluate to a callable")
        return fn
    if kind == "file":
        path = spec["file"]
        stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
        name = "windsock_callable_" + stem
        mspec = importlib.util.spec_from_file_location(name, path)
        if mspec is None or mspec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(mspec)
        sys.modules[name] = module
        mspec.loader.exec_module(module)
    else:
        module = importlib.import_module(spec["module"])
    obj = module
    for part in spec["function"].split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"python_callable {spec['function']} is not callable")
    return obj


def call(fn, args, kwargs):
    """Airflow's KeywordParameters.determine: pass every context entry when
    the callable takes **kwargs, else only those it names."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return fn(*args)
    params = sig.parameters
    for name in list(params)[: len(args)]:
        if name in kwargs:
            raise ValueError(f"The key {name!r} in args is a part of kwargs and therefore reserved.")
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        kwargs = {k: kwargs[k] for k in params if k in kwargs}
    return fn(*args, **kwargs)


def encode_default(o):
    if isinstance(o, (datetime, date)):
        return o.isoformat()
    if isinstance(o, (set, frozenset)):
        try:
            return sorted(o)
        except TypeError:
            return list(o)
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def write(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        f.write(obj)


def error(types_, message):
    return json.dumps({"ok": False, "error": {"types": types_, "message": message}})


def main():
    in_path, out_path = sys.argv[1], sys.argv[2]
    sys.argv = [sys.argv[0]]
    try:
        with open(in_path, encoding="utf-8") as f:
            payload = json.load(f)
        dags = payload.get("dags_folder")
        if dags and dags not in sys.path:
            sys.path.insert(0, dags)
        install_airflow_shim()
        fn = load(payload["callable"])
        context = attrs(payload.get("context") or {})
        for key in DATE_KEYS:
            if key in context:
                context[key] = to_datetime(context[key])
        context.update(payload.get("op_kwargs") or {})
        context["templates_dict"] = payload.get("templates_dict")
        result = call(fn, payload.get("op_args") or [], context)
    except BaseException as e:  # noqa: B902 - every failure must be reported
        traceback.print_exc()
        write(out_path, error([c.__name__ for c in type(e).__mro__], str(e)))
        sys.exit(1)
    try:
        truthy = bool(result)
    except Exception:
        truthy = True
    try:
        out = json.dumps(
            {"ok": True, "truthy": truthy, "text": str(result), "value": result},
            default=encode_default, allow_nan=False,
        )
    except (TypeError, ValueError) as e:
        msg = f"The return value of type {type(result).__name__} cannot be stored as an XCom: {e}"
        print(msg, file=sys.stderr)
        write(out_path, error(["TypeError"], msg))
        sys.exit(1)
    write(out_path, out)


main()
