"""Contract 1 (pyspec): import one DAG file the way Airflow's DagBag does
and return its DAGs as dag-factory-shaped documents, with import errors in
Airflow's traceback format, warnings, the Variables read and the duration."""
import inspect  # noqa: F401 - operators read signatures on first use
import os
import re
import sys
import time
import traceback
import warnings

# The authoring API DAG files use is imported with this module, once per
# warm process (a server preloading it, or a reused worker): a parse then
# costs the file's own code only.
import airflow  # noqa: F401
import airflow.datasets  # noqa: F401
import airflow.decorators  # noqa: F401
import airflow.models.mappedoperator  # noqa: F401
import airflow.models.param  # noqa: F401
import airflow.models.variable  # noqa: F401
import airflow.operators.bash  # noqa: F401
import airflow.operators.empty  # noqa: F401
import airflow.operators.python  # noqa: F401
import airflow.sensors.base  # noqa: F401
import airflow.utils.dates  # noqa: F401
import airflow.utils.edgemodifier  # noqa: F401
import airflow.utils.task_group  # noqa: F401
from windsock_rt import document, native  # noqa: F401

try:  # a third of DAG files import pendulum; optional, never required
    import pendulum  # noqa: F401
except ImportError:
    pass

# Frames shown in an import error (core.dagbag_import_error_traceback_depth).
TRACEBACK_DEPTH = 2


def module_name(path):
    """Airflow's rule: unusual_prefix_<sha1 of the path>_<stem>, so two files
    with one name never share a module."""
    stem = os.path.splitext(os.path.basename(path))[0]
    stem = re.sub(r"[.\-]", "_", stem)
    try:
        from _sha1 import sha1  # the builtin, without loading OpenSSL into every parse server
    except ImportError:
        from hashlib import sha1
    return "unusual_prefix_%s_%s" % (sha1(path.encode("utf-8")).hexdigest(), stem)


def _reset_contexts():
    from airflow.models.dag import DagContext
    from airflow.models.variable import reset_reads
    from airflow.utils.task_group import TaskGroupContext

    DagContext.autoregistered_dags = []
    DagContext._context_managed_dags = []
    TaskGroupContext._context_managed_task_groups = []
    reset_reads(parsing=True)


def _error_line(exc, path):
    """The line in path where exc happened: its SyntaxError line, else the
    last traceback frame inside the file."""
    if isinstance(exc, SyntaxError) and exc.filename == path and exc.lineno:
        return exc.lineno
    line = 0
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    if not line and isinstance(exc, SyntaxError) and exc.lineno:
        return exc.lineno
    return line


def format_import_error(exc, depth=TRACEBACK_DEPTH):
    """traceback.format_exc(limit=-depth) as Airflow stores it, without the
    frames of this module (Airflow's are importlib's own, hidden the same way)."""
    te = traceback.TracebackException.from_exception(exc)
    here = os.path.abspath(__file__)
    frames = [f for f in te.stack if os.path.abspath(f.filename) != here]
    text = ""
    if frames and not isinstance(exc, SyntaxError):
        text = "Traceback (most recent call last):\n" + "".join(traceback.StackSummary.from_list(frames[-depth:]).format())
    elif frames and isinstance(exc, SyntaxError):
        text = "Traceback (most recent call last):\n" + "".join(traceback.StackSummary.from_list(frames[-depth:]).format())
    return text + "".join(te.format_exception_only())


def _import(path, name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    with open(path, "rb") as f:
        source = f.read()
    code = compile(source, path, "exec", dont_inherit=True)
    exec(code, mod.__dict__)
    return mod


def _collect(mod):
    from airflow.models.dag import DAG, DagContext

    found = {}
    for v in list(vars(mod).values()):
        if isinstance(v, DAG):
            found[id(v)] = v
    for dag, _ in DagContext.autoregistered_dags:
        found[id(dag)] = dag
    return sorted(found.values(), key=lambda d: d._ws_seq)


def parse_file(path, opts=None):
    """Import path and return Contract 1's result dict."""
    opts = opts or {}
    started = time.monotonic()
    path = os.path.abspath(path)
    name = module_name(path)
    # "module": the sys.modules name of the import, so a file server can drop it again.
    result = {"dags": [], "import_errors": [], "warnings": [], "variables_read": [], "duration_s": 0.0,
              "module": name}

    import airflow  # noqa: F401
    import airflow.models.dag as dagmod
    from airflow.models.dag import DagContext
    from airflow.models.variable import reads

    sys.modules.pop(name, None)
    _reset_contexts()
    DagContext.current_autoregister_module_name = name
    dagmod.PARSE_FILE = path
    mod = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            mod = _import(path, name)
        except BaseException as e:  # noqa: B902 - any failure of the file is its import error
            if isinstance(e, KeyboardInterrupt):
                raise
            sys.modules.pop(name, None)
            DagContext.autoregistered_dags = []
            result["import_errors"].append({"line": _error_line(e, path), "message": format_import_error(e)})
        finally:
            DagContext.current_autoregister_module_name = None
            dagmod.PARSE_FILE = None
    for w in caught:
        result["warnings"].append("%s:%s: %s: %s" % (w.filename, w.lineno, w.category.__name__, w.message))
    result["variables_read"] = reads()
    from airflow.models.variable import reset_reads

    reset_reads()  # a task run later in this process asks the store every time
    if mod is not None:
        _bag(_collect(mod), path, opts, result)
    result["duration_s"] = time.monotonic() - started
    return result


def _bag(dags, path, opts, result):
    """Validate each DAG and build its document; a DAG id seen twice keeps
    the later DAG, as DagBag does within one file."""
    from windsock_rt.document import dag_document

    by_id = {}
    for dag in dags:
        if dag.dag_id in by_id:
            prev = by_id[dag.dag_id]
            result["warnings"].append(
                "%s:%d: DAG id %r is defined again (first at line %d); the later definition is kept"
                % (path, dag._ws_line, dag.dag_id, prev["line"])
            )
        try:
            dag.fileloc = path
            dag.check_cycle()
            dag.validate()
            doc = dag_document(dag, opts.get("dags_folder"))
        except Exception as e:
            result["import_errors"].append({"line": dag._ws_line, "message": "%s: %s" % (type(e).__name__, e)})
            by_id.pop(dag.dag_id, None)
            continue
        by_id.pop(dag.dag_id, None)
        by_id[dag.dag_id] = {"dag_id": dag.dag_id, "line": dag._ws_line, "doc": doc}
    result["dags"] = list(by_id.values())
