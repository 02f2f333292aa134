"""Airflow's task context, built in the task's Python child from the JSON
context the Go worker sends (template.Context.JSON()) plus the live objects
only Python has: the DAG and task objects, ti/task_instance whose
xcom_pull/xcom_push reach the worker through rpc, var and conn accessors
that read Variables and Connections through rpc, and airflow.macros.

Dates become pendulum DateTimes in UTC when pendulum is importable (as in
Airflow), timezone-aware datetimes otherwise.
"""

import contextlib
import datetime
import functools
import logging

from windsock_rt import rpc, xcom

try:
    import pendulum
except ImportError:  # pragma: no cover - exercised only without pendulum
    pendulum = None

__all__ = [
    "Context", "RuntimeTaskInstance", "DagRun", "build_context", "to_datetime",
    "current_context", "set_current_context", "VariableAccessor", "ConnectionAccessor",
]

# Top-level context keys that hold dates.
DATE_KEYS = (
    "logical_date", "execution_date", "data_interval_start", "data_interval_end",
    "prev_data_interval_start_success", "prev_data_interval_end_success",
    "prev_start_date_success", "prev_end_date_success",
    "prev_execution_date", "prev_execution_date_success", "next_execution_date",
)
_DAG_RUN_DATES = ("logical_date", "execution_date", "data_interval_start", "data_interval_end",
                  "start_date", "end_date", "queued_at", "last_scheduling_decision")
_TI_DATES = ("start_date", "end_date", "queued_dttm", "logical_date", "execution_date")


def to_datetime(v):
    """An ISO-8601 string from Go as Airflow's datetime (pendulum, UTC);
    None and non-strings pass through."""
    if not isinstance(v, str):
        return v
    return _parse_datetime(v)


@functools.lru_cache(maxsize=64)
def _parse_datetime(v):
    # Cached: a context repeats its dates (logical_date is execution_date,
    # data_interval_end, dag_run.logical_date...), and datetimes are
    # immutable, so one object serves them all, as in Airflow.
    try:
        dt = datetime.datetime.fromisoformat(v)
    except ValueError:
        return v
    if dt.tzinfo is not None:
        dt = dt.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    if pendulum is not None:
        return pendulum.instance(dt, tz=pendulum.UTC)
    return dt.replace(tzinfo=datetime.timezone.utc)


class Context(dict):
    """The context mapping handed to execute(), callables and templates
    (Airflow's airflow.utils.context.Context is a mapping as well)."""


# --- current context (get_current_context) ----------------------------------

_CURRENT = []


def current_context():
    """The context of the task running in this process
    (airflow.operators.python.get_current_context)."""
    if not _CURRENT:
        from airflow.exceptions import AirflowException
        raise AirflowException(
            "Current context was requested but no context was found! Are you running within an airflow task?")
    return _CURRENT[-1]


@contextlib.contextmanager
def set_current_context(ctx):
    _CURRENT.append(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.pop()


# --- attribute objects --------------------------------------------------------

class _Attrs:
    """An object whose attributes come from a JSON mapping (dag_run, dataset
    events)."""

    _repr = None

    def __init__(self, attrs):
        self.__dict__.update(attrs)

    def __repr__(self):
        return self._repr or "<%s %r>" % (type(self).__name__, self.__dict__)


class DagRun(_Attrs):
    """context["dag_run"]: the run's attributes (conf, run_id, run_type,
    logical_date, ...) and get_dag()."""

    def __init__(self, attrs, dag):
        attrs = dict(attrs or {})
        for k in _DAG_RUN_DATES:
            if k in attrs:
                attrs[k] = to_datetime(attrs[k])
        if attrs.get("conf") is None:
            attrs["conf"] = {}
        super().__init__(attrs)
        self._dag = dag

    def get_dag(self):
        return self._dag

    @property
    def dag(self):
        return self._dag

    def get_task_instance(self, task_id, map_index=-1, session=None):
        raise NotImplementedError("dag_run.get_task_instance is not available in a Windsock task; use ti.xcom_pull")

    get_task_instances = get_task_instance

    def __repr__(self):
        return "<DagRun %s @ %s: %s, state:%s, externally triggered: %s>" % (
            getattr(self, "dag_id", "?"), getattr(self, "logical_date", "?"), getattr(self, "run_id", "?"),
            getattr(self, "state", "running"), getattr(self, "external_trigger", False))


class DatasetEvent(_Attrs):
    """One element of triggering_dataset_events[uri] / inlet_events[x]."""

    def __init__(self, attrs):
        attrs = dict(attrs)
        attrs["timestamp"] = to_datetime(attrs.get("timestamp"))
        ds = attrs.get("dataset")
        if isinstance(ds, dict):
            attrs["dataset"] = _Attrs(ds)
        super().__init__(attrs)

    @property
    def uri(self):
        return self.dataset.uri


_NOTSET = object()


def _as_list(value, single):
    """None, one value of type single as a one-element list, or a list."""
    if value is None:
        return None
    if isinstance(value, single):
        return [value]
    return list(value)


class RuntimeTaskInstance:
    """ti / task_instance: the try's attributes as the worker sent them, the
    task object, and xcom_pull/xcom_push answered live by the worker."""

    def __init__(self, attrs, task, dag_run, context_json):
        attrs = dict(attrs or {})
        for k in _TI_DATES:
            if k in attrs:
                attrs[k] = to_datetime(attrs[k])
        self.__dict__.update(attrs)
        self.dag_id = attrs.get("dag_id") or getattr(getattr(task, "dag", None), "dag_id", None)
        self.task_id = attrs.get("task_id") or getattr(task, "task_id", None)
        self.run_id = attrs.get("run_id") or context_json.get("run_id")
        self.map_index = attrs.get("map_index", -1) if attrs.get("map_index") is not None else -1
        self.try_number = attrs.get("try_number", 1)
        self.task = task
        self.dag_run = dag_run
        self.execution_date = self.logical_date = to_datetime(context_json.get("logical_date"))
        self.log = logging.getLogger("airflow.task")
        self._context = None

    def __repr__(self):
        state = getattr(self, "state", None) or "running"
        extra = "map_index=%d " % self.map_index if self.map_index >= 0 else ""
        return "<TaskInstance: %s.%s %s %s[%s]>" % (self.dag_id, self.task_id, self.run_id, extra, state)

    @property
    def key(self):
        return (self.dag_id, self.task_id, self.run_id, self.try_number, self.map_index)

    def get_dagrun(self, session=None):
        return self.dag_run

    def get_template_context(self, session=None, ignore_param_exceptions=True):
        return self._context

    def xcom_push(self, key, value, execution_date=None, session=None):
        """Store value under key for this task instance (overwrites)."""
        if execution_date is not None:
            raise ValueError("xcom_push with an execution_date is not supported (Airflow 2 deprecated it too)")
        if not isinstance(key, str) or not key:
            raise ValueError("XCom key must be a non-empty string, got %r" % (key,))
        rpc.call("xcom_push", key=key, value=xcom.encode(value))

    def xcom_pull(self, task_ids=None, dag_id=None, key="return_value", include_prior_dates=False, session=None,
                  *, map_indexes=None, default=None, run_id=None):
        """Airflow 2.10's TaskInstance.xcom_pull: one task id (or None) and
        at most one map index give one value (the default when there is
        none; every map index's value in order when the task is mapped and
        no index was asked for); a list of task ids or map indexes gives
        the list of the values found, in the order asked."""
        single_task = task_ids is None or isinstance(task_ids, str)
        single_index = map_indexes is None or isinstance(map_indexes, int)
        want_tasks = _as_list(task_ids, str)
        want_indexes = _as_list(map_indexes, int)
        rows = rpc.call(
            "xcom_pull", dag_id=dag_id or self.dag_id, task_ids=want_tasks, run_id=run_id or self.run_id,
            key=key, map_indexes=want_indexes, include_prior_dates=bool(include_prior_dates),
        ) or []
        if single_task and single_index:
            if not rows:
                return default
            first = rows[0]
            if map_indexes is not None or (first.get("map_index") if first.get("map_index") is not None else -1) < 0:
                return xcom.decode(first.get("value"))
            same = [r for r in rows if r.get("task_id") == first.get("task_id")]
            same.sort(key=lambda r: r.get("map_index", -1))
            return [xcom.decode(r.get("value")) for r in same]
        task_order = {t: i for i, t in enumerate(want_tasks or [])}
        index_order = {m: i for i, m in enumerate(want_indexes or [])}
        rows = sorted(rows, key=lambda r: (task_order.get(r.get("task_id"), 0),
                                           index_order.get(r.get("map_index"), r.get("map_index", -1))))
        return [xcom.decode(r.get("value")) for r in rows]


# --- var and conn accessors -----------------------------------------------------

def variable_get(key, default_var=_NOTSET, deserialize_json=False):
    """Variable.get through the worker."""
    try:
        value = rpc.call("variable_get", key=key)
    except rpc.NotFound:
        if default_var is not _NOTSET:
            return default_var
        raise KeyError("Variable %s does not exist" % key) from None
    if deserialize_json:
        import json
        return json.loads(value)
    return value


class VariableAccessor:
    """var.value / var.json: attribute or item access reads a Variable;
    get(key, default_var) returns default_var when it does not exist."""

    def __init__(self, deserialize_json):
        self._json = deserialize_json

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        return variable_get(key, deserialize_json=self._json)

    def __getitem__(self, key):
        return variable_get(key, deserialize_json=self._json)

    def __repr__(self):
        return "<VariableAccessor (%s)>" % ("json" if self._json else "value")

    def get(self, item, default_var=_NOTSET):
        return variable_get(item, default_var=default_var, deserialize_json=self._json)


class _Connection(_Attrs):
    """A connection when the airflow package has no Connection class."""

    @property
    def extra_dejson(self):
        import json
        try:
            return json.loads(self.extra) if self.extra else {}
        except ValueError:
            return {}


def connection_get(conn_id):
    """BaseHook.get_connection through the worker, as Airflow's Connection."""
    try:
        c = rpc.call("connection_get", conn_id=conn_id)
    except rpc.NotFound:
        from airflow.exceptions import AirflowNotFoundException
        raise AirflowNotFoundException("The conn_id `%s` isn't defined" % conn_id) from None
    fields = {k: c.get(k) for k in ("conn_id", "conn_type", "host", "schema", "login", "password", "port",
                                    "extra", "description")}
    try:
        from airflow.models.connection import Connection
        return Connection(**fields)
    except (ImportError, TypeError):
        return _Connection(fields)


class ConnectionAccessor:
    """conn: conn.<conn_id> (or conn['id']) is the Connection;
    conn.get(conn_id, default_conn=None)."""

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        return connection_get(key)

    def __getitem__(self, key):
        return connection_get(key)

    def __repr__(self):
        return "<ConnectionAccessor>"

    def get(self, key, default_conn=None):
        from airflow.exceptions import AirflowNotFoundException
        try:
            return connection_get(key)
        except AirflowNotFoundException:
            return default_conn


# --- dataset events -------------------------------------------------------------

def _dataset_key(key):
    """The URI (or alias name) a Dataset, DatasetAlias or string stands for."""
    if isinstance(key, str):
        return key
    for attr in ("uri", "name"):
        v = getattr(key, attr, None)
        if isinstance(v, str):
            return v
    raise TypeError("expected a Dataset, a DatasetAlias or a URI, got %r" % (key,))


class OutletEventAccessor:
    """outlet_events[dataset]: .extra to attach to the dataset event the task
    emits, .add(dataset, extra) for a DatasetAlias."""

    def __init__(self, key):
        self.raw_key = key
        self.extra = {}
        self.dataset_alias_events = []

    def add(self, dataset, extra=None):
        self.dataset_alias_events.append({"uri": _dataset_key(dataset), "extra": dict(extra or {})})


class OutletEventAccessors:
    """context["outlet_events"]."""

    def __init__(self):
        self._by_key = {}

    def __getitem__(self, key):
        k = _dataset_key(key)
        if k not in self._by_key:
            self._by_key[k] = OutletEventAccessor(key)
        return self._by_key[k]

    def __iter__(self):
        return iter(self._by_key)

    def __len__(self):
        return len(self._by_key)

    def outcome(self):
        """The extras and alias events set during the try, for the worker."""
        out = []
        for k, acc in self._by_key.items():
            if acc.extra or acc.dataset_alias_events:
                out.append({"key": k, "extra": xcom.encode(acc.extra),
                            "alias_events": xcom.encode(acc.dataset_alias_events)})
        return out


class InletEventsAccessors:
    """context["inlet_events"]: inlet_events[dataset] lists the dataset's
    events, oldest first. The worker answers when it implements the
    "dataset_events" call; otherwise the events that triggered this run are
    what the task sees."""

    def __init__(self, triggering):
        self._triggering = triggering
        self._cache = {}

    def __getitem__(self, key):
        uri = _dataset_key(key)
        if uri not in self._cache:
            try:
                events = [DatasetEvent(e) for e in (rpc.call("dataset_events", uri=uri) or [])]
            except rpc.RPCError:
                events = list(self._triggering.get(uri, []))
            self._cache[uri] = events
        return self._cache[uri]


# --- the context ------------------------------------------------------------------

def _params(raw, dag, task, dag_run):
    """params as Airflow's process_params gives them: the DAG's Params, the
    task's on top, validated and resolved to values. The worker's merged
    params (raw) override where they differ from the DAG's, that is where
    dag_run.conf overrides a param (when [core] dag_run_conf_overrides_params
    allows it, which the worker knows) or a param only the worker has."""
    json_params = {}
    for k, v in (raw or {}).items():
        if isinstance(v, dict) and v.get("__type__") == "airflow.models.param.Param":
            v = v.get("default")
        json_params[k] = v
    try:
        from airflow.models.param import ParamsDict
    except ImportError:
        ParamsDict = None
    if ParamsDict is None or dag is None:
        return json_params
    params = ParamsDict()
    params.update(getattr(dag, "params", None) or {})
    params.update(getattr(task, "params", None) or {})
    conf = getattr(dag_run, "conf", None) or {}
    for k, v in json_params.items():
        if k not in params or (k in conf and conf[k] == v):
            params[k] = v
    return params.validate()


def _macros():
    import airflow.macros
    return airflow.macros


def _airflow_conf():
    try:
        from airflow.configuration import conf
        return conf
    except ImportError:
        return None


def build_context(cj, dag, task, map_index=None):
    """The Airflow context for task of dag from the JSON context cj."""
    cj = cj or {}
    ctx = Context()
    for k, v in cj.items():
        if k in ("dag", "task", "ti", "task_instance", "dag_run", "var", "conn", "macros"):
            continue
        ctx[k] = to_datetime(v) if k in DATE_KEYS else v
    dag_run = DagRun(cj.get("dag_run") or {"run_id": cj.get("run_id"), "conf": {}}, dag)
    if getattr(dag_run, "dag_id", None) is None:
        dag_run.dag_id = getattr(dag, "dag_id", None)
    ti_attrs = dict(cj.get("ti") or cj.get("task_instance") or {})
    if map_index is not None:
        ti_attrs["map_index"] = map_index
    ti = RuntimeTaskInstance(ti_attrs, task, dag_run, cj)
    triggering = {uri: [DatasetEvent(e) for e in evs or []]
                  for uri, evs in (cj.get("triggering_dataset_events") or {}).items()}
    ctx.update({
        "dag": dag,
        "task": task,
        "ti": ti,
        "task_instance": ti,
        "dag_run": dag_run,
        "run_id": cj.get("run_id") or dag_run.run_id,
        "params": _params(cj.get("params"), dag, task, dag_run),
        "var": {"value": VariableAccessor(False), "json": VariableAccessor(True)},
        "conn": ConnectionAccessor(),
        "macros": _macros(),
        "conf": _airflow_conf(),
        "inlets": list(getattr(task, "inlets", None) or []),
        "outlets": list(getattr(task, "outlets", None) or []),
        "triggering_dataset_events": triggering,
        "inlet_events": InletEventsAccessors(triggering),
        "outlet_events": OutletEventAccessors(),
        "map_index_template": cj.get("map_index_template"),
        "expanded_ti_count": cj.get("expanded_ti_count"),
        "test_mode": bool(cj.get("test_mode", False)),
    })
    ti._context = ctx
    return ctx
