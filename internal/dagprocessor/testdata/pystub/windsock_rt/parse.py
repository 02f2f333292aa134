"""Test stand-in for windsock_rt.parse (pyspec Contract 1)."""
import hashlib
import importlib.util
import os
import sys
import time
import traceback


def parse_file(path, opts):
    import airflow

    start = time.monotonic()
    stem = os.path.splitext(os.path.basename(path))[0].replace(".", "_").replace("-", "_")
    name = "unusual_prefix_%s_%s" % (hashlib.sha1(path.encode()).hexdigest(), stem)
    del airflow._registry[:]
    airflow._variables_read.clear()
    out = {"dags": [], "import_errors": [], "warnings": [], "module": name}
    try:
        sys.modules.pop(name, None)
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    except BaseException as e:  # noqa: BLE001
        line = e.lineno if isinstance(e, SyntaxError) else None
        if line is None:
            for fr in traceback.extract_tb(e.__traceback__):
                if fr.filename == path:
                    line = fr.lineno
        out["import_errors"].append({"line": line or 0, "message": traceback.format_exc(limit=-2)})
    else:
        for d in airflow._registry:
            out["dags"].append({"dag_id": d.dag_id, "line": d.line, "doc": d.doc()})
    out["variables_read"] = sorted(airflow._variables_read)
    out["duration_s"] = time.monotonic() - start
    return out
