"""Running one Airflow task try (Contract 3 of the Python DAG design) inside a
Python child the Go worker started, the way Airflow 2.10's raw task process
does it (_run_raw_task / _execute_task_with_callbacks):

  find the DAG and the task in the imported DAG file; unmap a mapped task for
  its map index; build the context; render the templated fields; export the
  AIRFLOW_CTX_* variables; pre_execute, on_execute_callback, execute(context)
  (under execution_timeout), the XCom of the return value, post_execute; map
  an exception to the try's state and call on_success / on_failure /
  on_retry / on_skipped callbacks.

The outcome goes back as the last rpc message ("result"). XComs that
ti.xcom_push wrote during the try already reached the worker; the return
value and the multiple_outputs keys are in the outcome for the worker to
store ("return_value" with "has_return", and "xcoms").

req["kind"] "task_callback" and "dag_callback" call a task's or a DAG's
callbacks for the worker (a native task's Python callback, a DAG's
on_success/on_failure_callback, a try killed from outside) with a rebuilt
context; "render" renders the templated fields without running anything.

The Python server readies itself with warm() (importing windsock_rt.warm)
before it forks its workers. A worker serves many requests: it keeps the
imports of the last DAG files it ran while their content is unchanged
(unless the import read Variables or Connections), and every try runs on a
copy of its task.
"""

import collections
import copy
import hashlib
import importlib
import logging
import os
import signal
import sys
import threading
import traceback

from windsock_rt import rpc as _rpc
from windsock_rt import templating, xcom
from windsock_rt.context import build_context, set_current_context

__all__ = ["run_task", "module_name", "load_dag", "import_dag_file", "warm"]

SUCCESS, SKIPPED, FAILED, FAILED_NO_RETRY = "success", "skipped", "failed", "failed_no_retry"
UP_FOR_RESCHEDULE = "up_for_reschedule"

# Exceptions that fail the try without retrying (force_fail in Airflow).
# TaskDeferred too: Windsock runs no triggerer, and a retry would defer again.
_NO_RETRY = ("AirflowFailException", "AirflowSensorTimeout", "TaskDeferred")

# Operator classes whose return value names the branch to follow.
_BRANCH_CLASSES = {"BaseBranchOperator", "BranchMixIn", "BranchPythonOperator", "BranchExternalPythonOperator",
                   "BranchPythonVirtualenvOperator"}
# Operator classes whose falsy return skips the downstream tasks.
_SHORT_CIRCUIT_CLASSES = {"ShortCircuitOperator"}


def log(msg):
    """A task-log line of the runtime: the bare message, since the worker
    prefixes every line of the try's output with its time and level."""
    sys.stdout.write(msg + "\n")


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is when a record is emitted (the task
    log: the fork server points fd 1 at it)."""

    def __init__(self):
        super().__init__(sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):
        pass


def _setup_logging():
    """Let logging calls in DAG code (logging.info, self.log.info, ti.log)
    reach the task log at INFO, as Airflow's task handler does, unless the
    DAG file configured logging itself; make prints reach the log line by
    line, so a killed try loses none."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except (AttributeError, ValueError):
            pass
    root = logging.getLogger()
    if not root.handlers:
        handler = _StdoutHandler()
        # Airflow's task log format without the time, which the worker
        # puts in front of every line of the output.
        handler.setFormatter(logging.Formatter("{%(filename)s:%(lineno)d} %(levelname)s - %(message)s"))
        root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


# --- finding the DAG and the task --------------------------------------------

def module_name(path):
    """The module name Airflow (and parse.py) imports a DAG file under:
    unusual_prefix_<sha1 of the path>_<file stem with . and - as _>."""
    from windsock_rt import parse
    return parse.module_name(os.path.abspath(path))


def import_dag_file(path):
    """Import the DAG file at path as parse.py does (same module name, DAG
    locations pointing into the file). Returns the module and the DAGs
    registered while importing it (with DAG(...) / @dag, whether or not a
    global holds them)."""
    from windsock_rt import parse
    import airflow.models.dag as dagmod

    path = os.path.abspath(path)
    name = module_name(path)
    ctx = dagmod.DagContext
    # Registrations of an earlier import of this file (a reused worker).
    ctx.autoregistered_dags = [(d, m) for d, m in ctx.autoregistered_dags if m != name]
    previous = ctx.current_autoregister_module_name, dagmod.PARSE_FILE
    ctx.current_autoregister_module_name, dagmod.PARSE_FILE = name, path
    try:
        module = parse._import(path, name)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        ctx.current_autoregister_module_name, dagmod.PARSE_FILE = previous
    registered = [d for d, m in ctx.autoregistered_dags if m == name]
    ctx.autoregistered_dags = [(d, m) for d, m in ctx.autoregistered_dags if m != name]
    return module, registered


def _import_noting_calls(path):
    """import_dag_file, and whether the import called the worker (read a
    Variable or a Connection): such a file must be imported afresh for
    every try, as Airflow does, since what it read may have changed."""
    real = _rpc.call
    calls = []

    def noting(name, **args):
        calls.append(name)
        return real(name, **args)

    _rpc.call = noting
    try:
        module, registered = import_dag_file(path)
    finally:
        _rpc.call = real
    return module, registered, bool(calls)


# Imported DAG files kept by this (reused) worker for later tries: path ->
# (sha1 of the content, module, DAGs registered by the import), least
# recently used first. Only files whose import read nothing from the worker.
_CACHE = collections.OrderedDict()
CACHE_FILES = 16


def _dag_file(path):
    """The module of the DAG file at path and the DAGs its import
    registered: the cached import while the file's content is unchanged,
    else a fresh import (cached when it read no Variable or Connection).
    Tries run on copies of the tasks, so a cached DAG stays as written."""
    name = module_name(path)
    with open(path, "rb") as f:
        digest = hashlib.sha1(f.read()).hexdigest()
    hit = _CACHE.get(path)
    if hit is not None and hit[0] == digest:
        _CACHE.move_to_end(path)
        sys.modules[name] = hit[1]
        return hit[1], hit[2]
    _CACHE.pop(path, None)
    module, registered, called = _import_noting_calls(path)
    if not called:
        _CACHE[path] = (digest, module, registered)
        while len(_CACHE) > CACHE_FILES:
            old_path, _ = _CACHE.popitem(last=False)
            sys.modules.pop(module_name(old_path), None)
    return module, registered


def _is_dag(obj):
    return any(c.__name__ == "DAG" for c in type(obj).__mro__) and hasattr(obj, "dag_id")


def load_dag(path, dag_id):
    """The DAG dag_id defined by the DAG file at path."""
    module, registered = _dag_file(os.path.abspath(path))
    for obj in list(vars(module).values()) + registered:
        if _is_dag(obj) and obj.dag_id == dag_id:
            return obj
    raise LookupError("Dag %r could not be found; either it does not exist or it failed to parse." % dag_id)


def _get_task(dag, task_id):
    task_dict = getattr(dag, "task_dict", None)
    if task_dict is not None and task_id in task_dict:
        return task_dict[task_id]
    raise LookupError("Task %s not found in DAG %s" % (task_id, dag.dag_id))


# --- mapped tasks -------------------------------------------------------------

def _class_names(obj):
    return {c.__name__ for c in type(obj).__mro__}


def _is_mapped(task):
    return "MappedOperator" in _class_names(task)


def _expand_input(task):
    """(kind, value) of a mapped operator's expand input: "dict" for
    expand(**lists) (name -> list, dict or XComArg), "list" for
    expand_kwargs(list of dicts or XComArg). Reads the airflow package's
    expand_input/expand_kind, or Airflow's DictOfListsExpandInput /
    ListOfDictsExpandInput objects."""
    expand_input = getattr(task, "expand_input", None)
    kind = getattr(task, "expand_kind", None)
    if kind is None and expand_input is not None and hasattr(expand_input, "value"):
        kind = "list" if "ListOfDictsExpandInput" in _class_names(expand_input) else "dict"
        expand_input = expand_input.value
    if expand_input is None:
        raise RuntimeError("mapped task %s has no expand input" % task.task_id)
    return kind or "dict", expand_input


def _unmap(task, req, context, resolved_oids):
    """The concrete operator of map index req["map_index"] of a mapped task.
    Its arguments are computed here from the task's own expand input, as
    Airflow does (the Python values as written, XCom values pulled and left
    unrendered); req["expand"], the worker's copy of them, serves only a
    task whose expand input this runtime cannot read."""
    try:
        kind, value = _expand_input(task)
    except RuntimeError:
        kwargs = req.get("expand")
        if not isinstance(kwargs, dict):
            raise
        return task.unmap({k: xcom.decode(v) for k, v in kwargs.items()})
    kwargs = templating.expanded_arguments(kind, value, req.get("map_index", -1), context, resolved_oids)
    return task.unmap(kwargs)


# --- branching and short-circuit ------------------------------------------------

def _decisions(task):
    """What the operator decided during the try through SkipMixin
    (skip_all_except, skip) or ShortCircuitOperator: the airflow package
    records it in the operator's _ws_outcome."""
    return getattr(task, "__dict__", {}).get("_ws_outcome") or {}


def _branch_ids(task, dag, result):
    """The task ids a branch operator follows, task group ids expanded to
    their root tasks; None when task is not a branch operator."""
    decided = _decisions(task)
    if "branch" in decided:
        return list(decided["branch"] or [])
    if _class_names(task) & _BRANCH_CLASSES:
        chosen = result
    else:
        return None
    if chosen is None:
        chosen = []
    elif isinstance(chosen, str):
        chosen = [chosen]
    else:
        try:
            chosen = list(chosen)
        except TypeError:
            from airflow.exceptions import AirflowException
            raise AirflowException("'branch_task_ids' must be either None, a task ID, or an Iterable of IDs, but got %r."
                                   % type(chosen).__name__) from None
    bad_types = {(b, type(b).__name__) for b in chosen if not isinstance(b, str)}
    if bad_types:
        from airflow.exceptions import AirflowException
        raise AirflowException("'branch_task_ids' expected all task IDs are strings. Invalid tasks found: %s." % bad_types)
    groups = getattr(dag, "task_group_dict", None) or {}
    expanded = []
    for b in chosen:
        if b in groups:
            expanded.extend(t.task_id for t in groups[b].roots)
        else:
            expanded.append(b)
    task_ids = getattr(dag, "task_ids", None)
    if task_ids is not None:
        invalid = set(expanded) - set(task_ids)
        if invalid:
            from airflow.exceptions import AirflowException
            raise AirflowException("'branch_task_ids' must contain only valid task_ids. Invalid tasks found: %s." % invalid)
    return expanded


# --- callbacks -----------------------------------------------------------------

def _callbacks(owner, name):
    cbs = getattr(owner, name, None)
    if not cbs:
        return []
    return list(cbs) if isinstance(cbs, (list, tuple)) else [cbs]


def _callback_repr(cb):
    return getattr(cb, "__name__", None) or type(cb).__name__


def _run_callbacks(owner, name, *args):
    """Call owner's callbacks called name with args (the context; an
    sla_miss_callback's five arguments), as Airflow's
    _run_finished_callback: each one's exception is logged, not raised.
    Returns the tracebacks of the ones that failed."""
    failures = []
    for i, cb in enumerate(_callbacks(owner, name)):
        log("Executing callback at index %d: %s" % (i, _callback_repr(cb)))
        try:
            cb(*args)
        except Exception:
            tb = traceback.format_exc()
            log("Error in callback at index %d: %s\n%s" % (i, _callback_repr(cb), tb.rstrip()))
            failures.append(tb)
    return failures


# --- the try ---------------------------------------------------------------------

def _error(exc, tb=None):
    """The outcome's error: the exception's class names (most derived
    first), its message, the traceback."""
    types = [c.__name__ for c in type(exc).__mro__ if c is not object]
    message = str(exc)
    if isinstance(exc, SystemExit):
        message = "Task failed due to SystemExit(%s)" % (exc.code,)
    elif "TaskDeferred" in types:
        message = ("The task deferred itself to a trigger (%s), but Windsock runs no triggerer: "
                   "run the operator with deferrable=False" % (getattr(exc, "trigger", None),))
    return {"types": types, "message": message, "traceback": tb or ""}


def _state_for(exc):
    names = {c.__name__ for c in type(exc).__mro__}
    if "AirflowSkipException" in names:
        return SKIPPED
    if "AirflowRescheduleException" in names:
        return UP_FOR_RESCHEDULE
    if names & set(_NO_RETRY):
        return FAILED_NO_RETRY
    return FAILED


def _export_env(dag, task, context):
    """Airflow's AIRFLOW_CTX_* variables (operator_helpers.context_to_airflow_vars)."""
    ti = context["ti"]
    logical = context.get("logical_date")
    owner = getattr(task, "owner", None)
    email = getattr(task, "email", None)
    pairs = [
        ("AIRFLOW_CTX_DAG_OWNER", owner if isinstance(owner, str) else None),
        ("AIRFLOW_CTX_DAG_EMAIL", email if isinstance(email, str) else (",".join(email) if email else None)),
        ("AIRFLOW_CTX_DAG_ID", getattr(dag, "dag_id", None)),
        ("AIRFLOW_CTX_TASK_ID", ti.task_id),
        ("AIRFLOW_CTX_EXECUTION_DATE", logical.isoformat() if logical is not None else None),
        ("AIRFLOW_CTX_TRY_NUMBER", str(ti.try_number) if ti.try_number is not None else None),
        ("AIRFLOW_CTX_DAG_RUN_ID", ti.run_id),
    ]
    shown = []
    for k, v in pairs:
        if v:
            os.environ[k] = str(v)
            shown.append("%s='%s'" % (k, v))
    log("Exporting env vars: " + " ".join(shown))


class _Alarm:
    """execution_timeout inside the try, as Airflow's timeout(): SIGALRM
    raises AirflowTaskTimeout in the task. Only in the main thread (signals
    cannot be handled elsewhere)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.active = seconds is not None and threading.current_thread() is threading.main_thread()

    def _fire(self, signum, frame):
        from airflow.exceptions import AirflowTaskTimeout
        raise AirflowTaskTimeout("Timeout, PID: %d" % os.getpid())

    def __enter__(self):
        if self.active:
            if self.seconds <= 0:
                self._fire(None, None)
            self.previous = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


# terminated is set when a try of this process got SIGTERM: Windsock was
# stopping it, so the worker must not serve another request (the fork
# server reads and resets it around each request).
terminated = False


class _TermHandler:
    """SIGTERM during the try (the worker killing it): call the task's
    on_kill and fail the try with AirflowTaskTerminated, as Airflow does."""

    def __init__(self, task):
        self.task = task
        self.pid = os.getpid()
        self.active = threading.current_thread() is threading.main_thread()

    def _handle(self, signum, frame):
        global terminated
        if os.getpid() != self.pid:  # a process the task forked
            os._exit(1)
        terminated = True
        log("Received SIGTERM. Terminating subprocesses.")
        _call_on_kill(self.task)
        from airflow.exceptions import AirflowTaskTerminated
        raise AirflowTaskTerminated("Task received SIGTERM signal")

    def __enter__(self):
        if self.active:
            self.previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *exc):
        if self.active:
            signal.signal(signal.SIGTERM, self.previous)
        return False


def _call_on_kill(task):
    on_kill = getattr(task, "on_kill", None)
    if on_kill is None:
        return
    try:
        on_kill()
    except Exception:
        log("on_kill failed:\n" + traceback.format_exc().rstrip())


def _timeout_seconds(task):
    t = getattr(task, "execution_timeout", None)
    if t is None:
        return None
    return t.total_seconds() if hasattr(t, "total_seconds") else float(t)


def _execute(task, context):
    """task.execute(context) under its execution_timeout; SystemExit(0) or
    sys.exit() with no code is a success returning None."""
    from airflow.exceptions import AirflowTaskTimeout
    try:
        with _Alarm(_timeout_seconds(task)):
            return task.execute(context)
    except SystemExit as e:
        if e.code is None or e.code == 0:
            return None
        raise
    except AirflowTaskTimeout:
        _call_on_kill(task)
        raise


def _render(task, context, env, resolved_oids):
    """Render task's templated fields in place: the task class's own
    render_template_fields when a DAG author overrides it, Windsock's
    otherwise."""
    for cls in type(task).__mro__:
        if "render_template_fields" in vars(cls):
            if cls.__module__ != "airflow" and not cls.__module__.startswith("airflow."):
                task.render_template_fields(context, jinja_env=env)
                return
            break
    templating.render_template_fields(task, context, env, resolved_oids)


def _placeholder_error(task):
    """The error of a provider class Windsock does not implement (the
    airflow package's placeholder operators carry _ws_placeholder =
    {"provider", "class_path"}), or None. Checked before anything runs: in
    Airflow such a class would not even import."""
    info = getattr(task, "_ws_placeholder", None)
    if not info:
        return None
    from airflow._providers import missing_message
    return missing_message(info.get("provider"), info.get("class_path"))


def _push_outcome(task, result, outcome):
    """The XComs of the return value (Airflow's _execute_task): nothing when
    it is None or do_xcom_push is off; with multiple_outputs every key of the
    returned dict, then return_value."""
    if result is None or not getattr(task, "do_xcom_push", True):
        return
    from airflow.exceptions import AirflowException
    if getattr(task, "multiple_outputs", False):
        if not isinstance(result, dict):
            raise AirflowException("Returned output was type %s expected dictionary for multiple_outputs" % type(result))
        for key in result:
            if not isinstance(key, str):
                raise AirflowException("Returned dictionary keys must be strings when using multiple_outputs, "
                                       "found %s (%s) instead" % (key, type(key)))
        try:
            outcome["xcoms"] = {k: xcom.encode(v) for k, v in result.items()}
        except xcom.NotSerializable as e:
            raise TypeError("The return value of task %s cannot be stored as an XCom: %s" % (task.task_id, e)) from None
    try:
        outcome["return_value"] = xcom.encode(result)
    except xcom.NotSerializable as e:
        raise TypeError("The return value of task %s cannot be stored as an XCom: %s" % (task.task_id, e)) from None
    outcome["has_return"] = True


def _new_outcome():
    return {"state": SUCCESS, "return_value": None, "has_return": False, "xcoms": {}, "branch": None,
            "skip_downstream": False, "ignore_downstream_trigger_rules": True, "rendered_fields": {}, "error": None}


def _eligible_to_retry(task, req):
    try_number = req.get("try_number") or 1
    max_tries = req.get("max_tries")
    if max_tries is None:
        max_tries = getattr(task, "retries", 0) or 0
    retries = getattr(task, "retries", max_tries)
    return bool(retries) and try_number <= max_tries


def _run_try(req):
    dag = load_dag(req["file"], req["dag_id"])
    task = _get_task(dag, req["task_id"])
    map_index = req.get("map_index", -1)
    outcome = _new_outcome()
    context = build_context(req.get("context"), dag, task, map_index)
    with set_current_context(context), _TermHandler(task) as term:
        try:
            placeholder = _placeholder_error(task)
            if placeholder:
                # No retry: the provider package cannot appear between tries.
                from airflow.exceptions import AirflowFailException
                raise AirflowFailException(placeholder)
            task = term.task = _rendered_task(req, dag, task, context)
            outcome["rendered_fields"] = templating.rendered_fields(task)
            _export_env(dag, task, context)
            task.pre_execute(context=context)
            _run_callbacks(task, "on_execute_callback", context)
            try:
                result = _execute(task, context)
            except BaseException:
                # Airflow renders the name even for a failed try, but a
                # rendering error must not hide the task's own.
                _render_map_index(task, context, req, dag, outcome, quiet=True)
                raise
            _render_map_index(task, context, req, dag, outcome, quiet=False)
            _push_outcome(task, result, outcome)
            task.post_execute(context=context, result=result)
            _decide_downstream(task, dag, result, outcome)
        except BaseException as exc:  # every failure becomes the try's state
            _fail(exc, task, req, context, outcome)
            return outcome
    _set_outlet_events(outcome, context)
    _run_callbacks(task, "on_success_callback", context)
    return outcome


def _rendered_task(req, dag, task, context):
    """The task as it runs: unmapped for its map index when mapped, with
    the context's params, its templated fields rendered."""
    resolved_oids = set()
    if _is_mapped(task):
        task = _unmap(task, req, context, resolved_oids)
    else:
        # Rendering assigns the fields: on a copy, as Airflow's
        # prepare_for_execution, so the DAG's own task stays as written.
        prepare = getattr(task, "prepare_for_execution", None)
        task = prepare() if prepare is not None else copy.copy(task)
    context["task"] = context["ti"].task = task
    try:
        task.params = context["params"]
    except Exception:  # a read-only params property
        pass
    _render(task, context, templating.get_template_env(dag), resolved_oids)
    return task


def _render_map_index(task, context, req, dag, outcome, quiet):
    """map_index_template (2.9+) rendered after execute, with what the task
    added to the context: the display name of a mapped task instance
    ("rendered_map_index")."""
    template = getattr(task, "map_index_template", None)
    if not template or context["ti"].map_index < 0:
        return
    context["map_index_template"] = template
    try:
        outcome["rendered_map_index"] = str(templating.get_template_env(dag).from_string(template).render(context))
    except Exception:
        if not quiet:
            raise


def _render_only(req):
    """kind "render" (windsock tasks render, the Rendered Template view):
    the task's templated fields rendered for the run, nothing executed."""
    dag = load_dag(req["file"], req["dag_id"])
    task = _get_task(dag, req["task_id"])
    context = build_context(req.get("context"), dag, task, req.get("map_index", -1))
    with set_current_context(context):
        task = _rendered_task(req, dag, task, context)
    return {"state": SUCCESS, "rendered_fields": templating.rendered_fields(task), "error": None}


def _decide_downstream(task, dag, result, outcome):
    """The branch to follow, or the short-circuit, for the worker to skip
    the other downstream tasks."""
    outcome["branch"] = _branch_ids(task, dag, result)
    decided = _decisions(task)
    if "skip_downstream" in decided:
        outcome["skip_downstream"] = bool(decided["skip_downstream"])
    elif _class_names(task) & _SHORT_CIRCUIT_CLASSES:
        outcome["skip_downstream"] = not result
    outcome["ignore_downstream_trigger_rules"] = bool(
        decided.get("ignore_downstream_trigger_rules", getattr(task, "ignore_downstream_trigger_rules", True)))
    if decided.get("skip"):
        # SkipMixin.skip(tasks=...) called by the operator itself.
        outcome["skip_tasks"] = list(decided["skip"])


def _fail(exc, task, req, context, outcome):
    state = _state_for(exc)
    outcome["state"] = state
    outcome["has_return"], outcome["return_value"], outcome["xcoms"] = False, None, {}
    outcome["branch"], outcome["skip_downstream"] = None, False
    tb = traceback.format_exc()
    outcome["error"] = _error(exc, tb)
    if state == SKIPPED:
        if exc.args:
            log(str(exc))
        _run_callbacks(task, "on_skipped_callback", context)
        outcome["error"] = None
        return
    if state == UP_FOR_RESCHEDULE:
        # A sensor in reschedule mode: the worker runs it again at
        # reschedule_date, callbacks wait for the final state.
        when = getattr(exc, "reschedule_date", None)
        outcome["reschedule_date"] = when.isoformat() if hasattr(when, "isoformat") else when
        outcome["error"] = None
        return
    log("Task failed with exception\n" + tb.rstrip())
    context["exception"] = outcome["error"]["message"] if isinstance(exc, SystemExit) else exc
    if state == FAILED and _eligible_to_retry(task, req):
        _run_callbacks(task, "on_retry_callback", context)
    else:
        _run_callbacks(task, "on_failure_callback", context)


def _set_outlet_events(outcome, context):
    events = context["outlet_events"].outcome()
    if events:
        outcome["outlet_events"] = events


# --- callbacks for the worker -----------------------------------------------------

def _callback_context(req, dag, task):
    context = build_context(req.get("context"), dag, task, req.get("map_index"))
    if req.get("exception") is not None:
        context["exception"] = req["exception"]
    if req.get("reason") is not None:
        context["reason"] = req["reason"]
    return context


def _run_callback_request(req):
    """kind "task_callback": the task's callbacks named req["callback"];
    kind "dag_callback": the DAG's, with the context of req["task_id"] (the
    run's last task instance, as Airflow passes) when given."""
    dag = load_dag(req["file"], req["dag_id"])
    task = _get_task(dag, req["task_id"]) if req.get("task_id") else None
    owner = task if req["kind"] == "task_callback" else dag
    if owner is None:
        raise ValueError("a task_callback request needs a task_id")
    context = _callback_context(req, dag, task)
    with set_current_context(context):
        failures = _run_callbacks(owner, req["callback"], context)
    return _callback_outcome(failures)


class _SlaMiss:
    """A row of sla_miss as an sla_miss_callback sees it (Airflow passes
    its SlaMiss model objects)."""

    def __init__(self, row):
        from windsock_rt.context import to_datetime

        self.task_id = row.get("task_id")
        self.dag_id = row.get("dag_id")
        self.execution_date = to_datetime(row.get("execution_date"))
        self.timestamp = to_datetime(row.get("timestamp"))
        self.email_sent = bool(row.get("email_sent"))
        self.notification_sent = bool(row.get("notification_sent"))
        self.description = row.get("description")

    def __repr__(self):
        return "<SlaMiss: %s.%s %s>" % (self.dag_id, self.task_id, self.execution_date)


def _run_sla_callback_request(req):
    """kind "sla_callback": the DAG's sla_miss_callback, called as Airflow
    calls it: (dag, task_list, blocking_task_list, slas, blocking_tis),
    task_list being one "task_id on execution_date" line per miss.
    Windsock does not compute the blocking tasks: they come empty."""
    dag = load_dag(req["file"], req["dag_id"])
    slas = [_SlaMiss(row) for row in req.get("slas") or ()]
    task_list = "\n".join("%s on %s" % (m.task_id, m.execution_date.isoformat()) for m in slas)
    return _callback_outcome(_run_callbacks(dag, "sla_miss_callback", dag, task_list, "", slas, []))


def _callback_outcome(failures):
    out = {"state": SUCCESS, "error": None}
    if failures:
        out["state"] = FAILED
        out["error"] = {"types": ["Exception"], "message": "%d callback(s) failed" % len(failures),
                        "traceback": "\n".join(failures)}
    return out


# --- entry point -----------------------------------------------------------------

def run_task(req, rpc=_rpc):
    """Run req (kind "task", "render", "task_callback" or "dag_callback"),
    send the outcome as the last rpc message and return it."""
    kind = req.get("kind") or "task"
    _setup_logging()
    try:
        # The worker's variables for the try (AIRFLOW_CTX_*, its mark on the
        # processes of the try), inherited by whatever the task starts.
        os.environ.update({str(k): str(v) for k, v in (req.get("env") or {}).items()})
        if kind == "task":
            outcome = _run_try(req)
        elif kind == "render":
            outcome = _render_only(req)
        elif kind in ("task_callback", "dag_callback"):
            outcome = _run_callback_request(dict(req, kind=kind))
        elif kind == "sla_callback":
            outcome = _run_sla_callback_request(req)
        else:
            raise ValueError("unknown request kind %r" % kind)
    except BaseException as exc:  # the DAG or task could not even be found
        tb = traceback.format_exc()
        log("Task failed with exception\n" + tb.rstrip())
        outcome = _new_outcome() if kind == "task" else {}
        outcome["state"] = FAILED
        outcome["error"] = _error(exc, tb)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    try:
        rpc.call("result", **outcome)
    except (TypeError, ValueError) as exc:  # a value JSON cannot hold slipped into the outcome
        outcome = {"state": FAILED, "error": _error(exc, "could not send the outcome: %s" % exc)}
        rpc.call("result", **outcome)
    return outcome


def warm():
    """Import what a try needs (jinja2, pendulum, airflow.macros and its
    dateutil, the exceptions, Params, the operators' modules) so that a fork
    server that calls this once before forking gives each try a child with
    them loaded: a try then costs well under a millisecond of runtime
    overhead instead of tens for the imports."""
    import airflow.macros  # noqa: F401
    for mod in ("airflow.exceptions", "airflow.models.param", "airflow.models.xcom_arg",
                "airflow.operators.python", "airflow.decorators", "airflow.models.connection"):
        try:
            importlib.import_module(mod)
        except ImportError:
            pass
    try:
        _rehearse()
    except Exception:  # only an optimisation: a server that cannot rehearse still serves
        traceback.print_exc()
    _setup_logging()
    saved = sys.stdout
    try:
        with open(os.devnull, "w") as sys.stdout:
            # logging's first record initialises its internals, for the
            # DAG code that logs.
            logging.getLogger("airflow.task").info("warm")
    finally:
        sys.stdout = saved
    if templating.jinja2 is not None:
        # The first environment pulls in jinja2's extensions, lexer and
        # compiler modules.
        import jinja2.ext  # noqa: F401
        for native in (False, True):
            env = templating.NativeEnvironment if native else templating.SandboxedEnvironment
            env(extensions=["jinja2.ext.do"], cache_size=0).from_string("{{ x | ds }}{% if y %}{% endif %}").render(x=None, y=1)


_REHEARSAL_DAG = """
import datetime
from airflow import DAG
from airflow.decorators import task
from airflow.operators.python import PythonOperator

with DAG("windsock_rehearsal", start_date=datetime.datetime(2024, 1, 1), schedule=None) as dag:
    @task
    def first():
        return {"n": 1}

    @task
    def second(d, ds=None):
        return d["n"] + 1

    second(first()) >> PythonOperator(task_id="third", python_callable=lambda v: v, op_args=["{{ ds }}"])
"""


def _rehearse():
    """Run a few tries of a small DAG in this process, so the code a try runs
    has been executed (and specialised by the interpreter) and its lazy
    caches filled before the fork server forks: a forked try then writes to
    fewer shared pages, each of which costs a copy."""
    import tempfile
    from windsock_rt import rpc as rpc_mod

    pushed = {}

    def answer(name, args):
        if name == "xcom_pull":
            return [{"task_id": t, "map_index": -1, "value": pushed[t]} for t in args["task_ids"] or [] if t in pushed]
        return None

    logical = "2024-01-02T00:00:00+00:00"
    previous_handler = rpc_mod._handler
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "windsock_rehearsal.py")
        with open(path, "w") as f:
            f.write(_REHEARSAL_DAG)
        rpc_mod.set_handler(answer)
        saved = sys.stdout, sys.stderr
        try:
            with open(os.devnull, "w") as devnull:
                sys.stdout = sys.stderr = devnull
                for _ in range(10):
                    for task_id in ("first", "second", "third"):
                        req = {"kind": "task", "file": path, "dag_id": "windsock_rehearsal", "task_id": task_id,
                               "run_id": "rehearsal", "map_index": -1, "try_number": 1, "max_tries": 0,
                               "context": {"ds": "2024-01-02", "logical_date": logical, "data_interval_start": logical,
                                           "data_interval_end": logical, "run_id": "rehearsal", "params": {},
                                           "dag_run": {"run_id": "rehearsal", "conf": {}, "logical_date": logical},
                                           "ti": {"task_id": task_id, "try_number": 1, "map_index": -1}}}
                        out = run_task(req, rpc_mod)
                        if out.get("has_return"):
                            pushed[task_id] = out["return_value"]
        finally:
            sys.stdout, sys.stderr = saved
            rpc_mod.set_handler(previous_handler)
            sys.modules.pop(module_name(path), None)
            _CACHE.pop(path, None)
            for k in [k for k in os.environ if k.startswith("AIRFLOW_CTX_")]:
                del os.environ[k]
