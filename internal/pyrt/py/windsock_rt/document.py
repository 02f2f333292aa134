"""A DAG object as the dag-factory-shaped document of Contract 1 (pyspec):
DAG keys the author set, tasks by full id, task groups with full ids, and
for each task either its native operator and kwargs or a python_file_task."""
import datetime as dt
import math
import os

from airflow.models.baseoperator import BaseOperator
from airflow.models.mappedoperator import MappedOperator
from airflow.utils.types import ArgNotSet

# BaseOperator arguments the document carries (dagfile reads them).
TASK_FIELDS = (
    "trigger_rule", "owner", "retries", "retry_delay", "retry_exponential_backoff", "max_retry_delay",
    "execution_timeout", "depends_on_past", "wait_for_downstream", "pool", "pool_slots", "priority_weight",
    "weight_rule", "queue", "sla", "start_date", "end_date", "do_xcom_push", "email", "email_on_failure",
    "email_on_retry", "doc_md", "doc", "doc_json", "doc_yaml", "doc_rst", "params", "outlets", "inlets",
    "max_active_tis_per_dag", "max_active_tis_per_dagrun", "executor_config", "task_display_name",
    "run_as_user", "ignore_first_depends_on_past", "map_index_template",
)
TASK_CALLBACKS = ("on_execute_callback", "on_success_callback", "on_failure_callback", "on_retry_callback",
                  "on_skipped_callback")
DAG_CALLBACKS = ("on_success_callback", "on_failure_callback", "sla_miss_callback")

# Arguments every operator takes (BaseOperator's), never the operator's own.
_BASE_ARGS = None


def base_args():
    global _BASE_ARGS
    if _BASE_ARGS is None:
        from airflow.models.baseoperator import _sig_params

        _BASE_ARGS = frozenset(_sig_params(BaseOperator.__init__)[0]) | {
            "provide_context", "xcom_push", "_airflow_from_mapped", "task_concurrency"}
    return _BASE_ARGS


class NotPlain(Exception):
    """A value has no plain JSON form (a native task cannot carry it)."""


def callable_marker(fn):
    mod = getattr(fn, "__module__", None) or ""
    qual = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if qual is None:
        return {"__python__": repr(fn)}
    if mod.startswith("unusual_prefix_") or mod in ("__main__", ""):
        return {"__python__": qual}
    return {"__python__": mod + "." + qual}


def encode_datetime(v):
    return v.isoformat()


def encode(v, strict=False, xcomargs=False):
    """Tagged JSON for v. strict: raise NotPlain for what a native task
    cannot carry (callables, XComArgs, arbitrary objects); xcomargs: plain
    XComArgs are allowed even then (what a mapped task expands over)."""
    from airflow.models.xcom_arg import XComArg, PlainXComArg
    from airflow.models.param import Param, ParamsDict
    from airflow.datasets import BaseDataset

    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, str):
        return v if type(v) is str else str.__str__(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isfinite(v):
            return v
        if strict:
            raise NotPlain(repr(v))
        return {"__repr__": repr(v)}
    if isinstance(v, dt.timedelta):
        return {"__type__": "datetime.timedelta", "seconds": float(v.total_seconds())}
    if isinstance(v, dt.datetime):
        return encode_datetime(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        # BranchDateTimeOperator's targets: "10:00:00", "+02:00" when aware.
        return v.isoformat()
    if isinstance(v, (list, tuple, set, frozenset)):
        return [encode(x, strict, xcomargs) for x in v]
    if isinstance(v, ParamsDict):
        return {k: encode(p, strict) for k, p in v.items()}
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                if strict:
                    raise NotPlain("non-string key %r" % (k,))
                k = str(k)
            out[k] = encode(x, strict, xcomargs)
        return out
    if isinstance(v, Param):
        d = {"__type__": "airflow.models.param.Param"}
        if not isinstance(v.value, ArgNotSet):
            d["default"] = encode(v.value, strict)
        if v.description is not None:
            d["description"] = v.description
        if v.schema:
            d["schema"] = encode(v.schema, strict)
        return d
    if isinstance(v, BaseDataset):
        return encode_dataset(v)
    if strict and not (xcomargs and isinstance(v, PlainXComArg)):
        raise NotPlain(type(v).__name__)
    if isinstance(v, PlainXComArg):
        return {"__xcomarg__": {"task_id": v.operator.task_id, "key": v.key}}
    if isinstance(v, XComArg):
        refs = [{"task_id": op.task_id, "key": key} for op, key in v.iter_references()]
        d = {"__xcomarg__": dict(refs[0]) if refs else {}}
        d["__xcomarg__"]["kind"] = type(v).__name__
        if len(refs) > 1:
            d["__xcomarg__"]["references"] = refs
        if hasattr(v, "callables"):
            d["__xcomarg__"]["map"] = [callable_marker(f) for f in v.callables]
        # What the engine needs to know the expansion's length: map()'s
        # source, zip()'s inputs and whether a fillvalue was given.
        if hasattr(v, "arg") and hasattr(v, "callables"):
            d["__xcomarg__"]["arg"] = encode(v.arg, strict, xcomargs)
        elif type(v).__name__ == "ZipXComArg":
            d["__xcomarg__"]["args"] = [encode(a, strict, xcomargs) for a in v.args]
            if not isinstance(v.fillvalue, ArgNotSet):
                d["__xcomarg__"]["fillvalue"] = encode(v.fillvalue)
        return d
    if callable(v) and not isinstance(v, type):
        return callable_marker(v)
    try:
        r = repr(v)
    except Exception:
        r = "<%s>" % type(v).__name__
    return {"__repr__": r}


def encode_dataset(v):
    from airflow.datasets import Dataset, DatasetAlias, DatasetAll, DatasetAny

    if isinstance(v, Dataset):
        d = {"uri": v.uri}
        if v.extra:
            d["extra"] = encode(v.extra)
        return d
    if isinstance(v, DatasetAlias):
        return {"__repr__": repr(v), "alias": v.name}
    if isinstance(v, DatasetAll):
        return {"__and__": [encode_dataset(o) for o in v.objects]}
    if isinstance(v, DatasetAny):
        return {"__or__": [encode_dataset(o) for o in v.objects]}
    return {"__repr__": repr(v)}


def encode_callback(cb):
    if cb is None:
        return None
    if isinstance(cb, (list, tuple)):
        return [callable_marker(c) for c in cb]
    return callable_marker(cb)


def encode_schedule(dag):
    """The schedule as dagfile reads it (pyspec value encodings)."""
    from airflow.datasets import BaseDataset, Dataset, DatasetAll, DatasetAny
    from airflow.timetables.base import Timetable

    s = dag._ws_schedule
    if s is None:
        return None
    if isinstance(s, str):
        return s
    if isinstance(s, dt.timedelta):
        return encode(s)
    if isinstance(s, (list, tuple)):
        return [encode_dataset(x) for x in s]
    if isinstance(s, Dataset):
        return [encode_dataset(s)]
    if isinstance(s, (DatasetAll, DatasetAny)):
        return {"datasets": encode_dataset(s)}
    if isinstance(s, BaseDataset):
        return {"datasets": encode_dataset(s)}
    if isinstance(s, Timetable):
        return s._ws_schedule_value()
    if type(s).__name__ == "relativedelta":
        if not (getattr(s, "years", 0) or getattr(s, "months", 0)):
            return encode(dt.timedelta(days=s.days, hours=s.hours, minutes=s.minutes, seconds=s.seconds))
    return {"__repr__": repr(s)}


def _tz_name(dag):
    from airflow.utils.timezone import tz_name

    name = tz_name(dag.timezone)
    if name and name.upper() != "UTC":
        return name
    return None


def _doc_md(dag):
    """A doc_md naming a .md file is that file's text (looked up like a
    template: the DAG file's folder, then template_searchpath), as Airflow shows it."""
    text = dag.doc_md
    if isinstance(text, str) and text.strip().endswith(".md") and "\n" not in text.strip():
        folders = [os.path.dirname(dag.fileloc) or "."] + list(dag.template_searchpath or [])
        for folder in folders:
            path = os.path.join(folder, text.strip())
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    return f.read()
    return text


def dag_document(dag, dags_folder=None):
    """The document for one DAG."""
    given = dag._ws_given
    doc = {}
    if dag.description is not None:
        doc["description"] = dag.description
    if dag.doc_md:
        doc["doc_md"] = _doc_md(dag)
    doc["schedule"] = encode_schedule(dag)
    if dag.start_date is not None:
        doc["start_date"] = encode(dag.start_date)
    if dag.end_date is not None:
        doc["end_date"] = encode(dag.end_date)
    tz = _tz_name(dag)
    if tz:
        doc["timezone"] = tz
    for key in ("catchup", "max_active_runs", "dagrun_timeout", "is_paused_upon_creation", "default_view",
                "orientation", "render_template_as_native_obj", "access_control", "max_consecutive_failed_dag_runs"):
        if key in given and given[key] is not None:
            doc[key] = encode(getattr(dag, key))
    if given.get("max_active_tasks") is not None or given.get("concurrency") is not None:
        doc["max_active_tasks"] = dag.max_active_tasks
    if dag.tags:
        doc["tags"] = list(dag.tags)
    if dag.params:
        doc["params"] = encode(dag.params)
    if dag.template_searchpath:
        base = os.path.dirname(dag.fileloc) or "."
        doc["template_searchpath"] = [os.path.normpath(os.path.join(base, p)) for p in dag.template_searchpath]
    if given.get("dag_display_name"):
        doc["dag_display_name"] = given["dag_display_name"]
    if dag.default_args:
        doc["default_args"] = encode(dag.default_args)
    for cb in DAG_CALLBACKS:
        v = getattr(dag, cb, None)
        if v:
            doc[cb] = encode_callback(v)
    # Templating Go cannot reproduce: Python callables, another Undefined,
    # extra Jinja options.
    python_only = bool(dag.user_defined_macros or dag.user_defined_filters or dag.template_undefined
                       or dag.jinja_environment_kwargs)
    doc["tasks"] = {t.task_id: task_document(t, python_only) for t in dag.tasks}
    groups = {}
    for gid, g in dag.task_group_dict.items():
        gd = {"prefix_group_id": False}
        if g.tooltip:
            gd["tooltip"] = g.tooltip
        if g.parent_group is not None and g.parent_group.group_id:
            gd["parent_group_name"] = g.parent_group.group_id
        expand_input = getattr(g, "_expand_input", None)
        if expand_input is not None:
            # A mapped task group: its tasks take its map indexes.
            gd["expand" if isinstance(expand_input, dict) else "expand_kwargs"] = encode(expand_input)
        groups[gid] = gd
    if groups:
        doc["task_groups"] = groups
    return doc


def _written(task):
    """Arguments given explicitly or through default_args, in that order."""
    out = dict(getattr(task, "_ws_written", {}) or {})
    for k, v in (getattr(task, "_ws_defaulted", {}) or {}).items():
        out.setdefault(k, v)
    return out


def _base_fields(task, written):
    d = {}
    for key in TASK_FIELDS:
        src = key
        if key == "max_active_tis_per_dag" and key not in written and "task_concurrency" in written:
            src = "task_concurrency"
        if src not in written or key == "params":
            continue
        value = getattr(task, key, written[src]) if not isinstance(task, MappedOperator) else written[src]
        if key in ("trigger_rule", "weight_rule") and value is not None:
            value = str(value)
        if key in ("outlets", "inlets"):
            value = [encode_dataset(x) for x in value if _is_dataset(x)] if isinstance(value, (list, tuple)) else (
                [encode_dataset(value)] if _is_dataset(value) else [])
            if not value:
                continue
            d[key] = value
            continue
        d[key] = value
    for key in TASK_CALLBACKS:
        if written.get(key):
            d[key] = encode_callback(written[key])
    params = getattr(task, "_ws_task_params", None)
    if params:
        d["params"] = params
    return d


def _is_dataset(x):
    from airflow.datasets import Dataset

    return isinstance(x, Dataset)


def _native_path(cls):
    from windsock_rt.native import native_class_path

    return native_class_path(cls)


def _uses_template_file(task):
    """Whether a templated field names a template file (ends with one of
    template_ext): Airflow renders the file's text, which Windsock's Python
    side does (the Go operators take the field as the command itself)."""
    exts = tuple(getattr(task, "template_ext", ()) or ())
    if not exts:
        return False
    fields = task.template_fields or ()
    values = []
    if isinstance(task, MappedOperator):
        values = [task.partial_kwargs.get(f) for f in fields]
        if isinstance(task.expand_input, dict):
            values += [task.expand_input.get(f) for f in fields]
    else:
        values = [getattr(task, f, None) for f in fields]
    for v in values:
        items = v if isinstance(v, (list, tuple)) else [v]
        if any(isinstance(i, str) and i.endswith(exts) for i in items):
            return True
    return False


def doc_fields(task):
    """doc_md from a @task function's docstring (Airflow's default), when no doc* was given."""
    if getattr(task, "_ws_doc_from_docstring", False) and task.doc_md:
        return {"doc_md": task.doc_md}
    return {}


def task_document(task, python_only=False):
    mapped = isinstance(task, MappedOperator)
    cls = task.operator_class if mapped else type(task)
    written = _written(task)
    base = _base_fields(task, written)
    base.update(doc_fields(task))
    d = {}
    deps = list(task.upstream_task_ids)
    if deps:
        d["dependencies"] = deps
    tg = task.task_group
    if tg is not None and tg.group_id:
        d["task_group_name"] = tg.group_id
    own = {k: v for k, v in written.items() if k not in base_args()}
    native = None if python_only or _uses_template_file(task) else _native_path(cls)
    if native is not None:
        from windsock_rt.native import RENAMED, accepts

        if accepts(native, own):
            own = {RENAMED.get(k, k): v for k, v in own.items()}
        else:
            native = None
    if native is not None and getattr(task, "_ws_decorated", None) is None:
        try:
            fields = {k: encode(v, strict=True) for k, v in base.items() if k not in TASK_CALLBACKS}
            for k in TASK_CALLBACKS:
                if k in base:
                    fields[k] = base[k]
            own_enc = {k: encode(v, strict=True) for k, v in own.items()}
            if mapped:
                expand = encode(task.expand_input, strict=True, xcomargs=True)
                own_enc = {k: encode(v, strict=True, xcomargs=True) for k, v in own.items()}
        except NotPlain:
            native = None
    if native is not None and getattr(task, "_ws_decorated", None) is None:
        d["operator"] = native
        d.update(fields)
        if mapped:
            d["partial"] = own_enc
            d["expand_kwargs" if task.expand_kind == "list" else "expand"] = expand
        else:
            d.update(own_enc)
        return d
    d["operator"] = "python_file_task"
    d.update({k: encode(v) for k, v in base.items() if k not in TASK_CALLBACKS})
    for k in TASK_CALLBACKS:
        if k in base:
            d[k] = base[k]
    info = {
        "class_path": cls.__module__ + "." + cls.__qualname__,
        "class_name": cls.__name__,
    }
    op_name = getattr(cls, "custom_operator_name", None)
    if op_name:
        info["operator_name"] = op_name
    info["template_fields"] = list(task.template_fields or ())
    info["template_ext"] = list(task.template_ext or ())
    info["ui_color"] = getattr(task, "ui_color", "#fff")
    info["ui_fgcolor"] = getattr(task, "ui_fgcolor", "#000")
    info["multiple_outputs"] = bool(getattr(task, "multiple_outputs", False))
    ph = getattr(cls, "_ws_placeholder", None)
    info["placeholder"] = dict(ph) if ph else None
    if ph and not mapped:
        own = dict(getattr(task, "_ws_placeholder_kwargs", own))
    info["kwargs"] = encode(own)
    if mapped:
        if getattr(task, "_ws_decorated", None) is not None:
            d["partial"] = encode(getattr(task, "_ws_fn_partial", {}))
        else:
            d["partial"] = encode(own)
        d["expand_kwargs" if task.expand_kind == "list" else "expand"] = encode(task.expand_input)
    d["python_file_task"] = info
    return d
