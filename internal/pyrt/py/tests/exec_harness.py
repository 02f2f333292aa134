"""A stand-in for the Go worker in tests of windsock_rt.execute: an
in-process store of XComs, Variables and Connections answering rpc calls,
and the JSON context Go builds (template.Context.JSON()) for a try."""

import contextlib
import io
import json
import os
import sys
import tempfile
import textwrap

PY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PY_DIR not in sys.path:
    sys.path.insert(0, PY_DIR)

from windsock_rt import rpc  # noqa: E402


class Worker:
    """XComs keyed (dag_id, run_id, task_id, map_index, key), Variables,
    Connections; the try running now (for xcom_push); the calls seen."""

    def __init__(self):
        self.xcoms = {}
        self.variables = {}
        self.connections = {}
        self.calls = []
        self.results = []
        self.current = None  # (dag_id, run_id, task_id, map_index)

    def handle(self, name, args):
        # Everything crossing the socket is JSON: prove it.
        args = json.loads(json.dumps(args, allow_nan=False))
        self.calls.append((name, args))
        if name == "result":
            self.results.append(args)
            return None
        if name == "variable_get":
            if args["key"] not in self.variables:
                raise rpc.NotFound("not_found", "variable %s not found" % args["key"])
            return self.variables[args["key"]]
        if name == "connection_get":
            if args["conn_id"] not in self.connections:
                raise rpc.NotFound("not_found", "connection not found")
            return self.connections[args["conn_id"]]
        if name == "xcom_push":
            dag_id, run_id, task_id, map_index = self.current
            self.xcoms[(dag_id, run_id, task_id, map_index, args["key"])] = args["value"]
            return None
        if name == "xcom_pull":
            rows = []
            task_ids = args["task_ids"]
            for (dag_id, run_id, task_id, map_index, key), value in self.xcoms.items():
                if dag_id != args["dag_id"] or run_id != args["run_id"]:
                    continue
                if task_ids is not None and task_id not in task_ids:
                    continue
                if args["map_indexes"] is not None and map_index not in args["map_indexes"]:
                    continue
                if args["key"] is not None and key != args["key"]:
                    continue
                rows.append({"task_id": task_id, "map_index": map_index, "value": value})
            order = {t: i for i, t in enumerate(task_ids or [])}
            rows.sort(key=lambda r: (order.get(r["task_id"], 0), r["map_index"]))
            return rows
        raise rpc.RPCError("unknown", "unknown call %s" % name)

    def store_outcome(self, out):
        """What the Go worker does with a try's outcome: the return value and
        the multiple_outputs keys become XComs of the task instance."""
        dag_id, run_id, task_id, map_index = self.current
        for k, v in (out.get("xcoms") or {}).items():
            self.xcoms[(dag_id, run_id, task_id, map_index, k)] = v
        if out.get("has_return"):
            self.xcoms[(dag_id, run_id, task_id, map_index, "return_value")] = out["return_value"]

    def xcom(self, dag_id, task_id, key="return_value", map_index=-1, run_id="manual__2024-01-02T00:00:00+00:00"):
        return self.xcoms.get((dag_id, run_id, task_id, map_index, key))


def context_json(dag_id, task_id, run_id, map_index=-1, try_number=1, max_tries=0, conf=None, params=None):
    """The JSON context the Go worker sends for a try on 2024-01-02."""
    logical = "2024-01-02T00:00:00+00:00"
    return {
        "ds": "2024-01-02", "ds_nodash": "20240102", "ts": logical, "ts_nodash": "20240102T000000",
        "ts_nodash_with_tz": "20240102T000000+0000", "logical_date": logical, "execution_date": logical,
        "data_interval_start": "2024-01-01T00:00:00+00:00", "data_interval_end": logical,
        "prev_ds": "2024-01-01", "next_ds": "2024-01-03", "yesterday_ds": "2024-01-01", "tomorrow_ds": "2024-01-03",
        "prev_execution_date": "2024-01-01T00:00:00+00:00", "next_execution_date": "2024-01-03T00:00:00+00:00",
        "prev_data_interval_start_success": None, "prev_start_date_success": None,
        "run_id": run_id, "task_instance_key_str": "%s__%s__20240102" % (dag_id, task_id),
        "params": dict(params or {}, **(conf or {})),
        "dag_run": {"dag_id": dag_id, "run_id": run_id, "run_type": "manual", "conf": conf or {},
                    "logical_date": logical, "data_interval_start": "2024-01-01T00:00:00+00:00",
                    "data_interval_end": logical, "external_trigger": True, "state": "running",
                    "start_date": "2024-01-02T00:00:05+00:00"},
        "ti": {"dag_id": dag_id, "task_id": task_id, "run_id": run_id, "map_index": map_index,
               "try_number": try_number, "max_tries": max_tries, "state": "running", "hostname": "h",
               "start_date": "2024-01-02T00:00:06+00:00"},
        "triggering_dataset_events": {}, "expanded_ti_count": None, "test_mode": False,
        "inlets": [], "outlets": [],
    }


class Harness:
    """DAG files in a temporary folder, run through run_task against a
    Worker."""

    run_id = "manual__2024-01-02T00:00:00+00:00"

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.folder = self.tmp.name
        self.worker = Worker()
        rpc.set_handler(self.worker.handle)

    def close(self):
        rpc.set_handler(None)
        self.tmp.cleanup()

    def write(self, name, source):
        path = os.path.join(self.folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(source))
        return path

    def run(self, path, dag_id, task_id, map_index=-1, try_number=1, max_tries=0, conf=None, kind="task",
            callback=None, expand=None, **extra):
        """Run one try and return (outcome, log text)."""
        from windsock_rt.execute import run_task
        req = {"kind": kind, "file": path, "dag_id": dag_id, "task_id": task_id, "run_id": self.run_id,
               "map_index": map_index, "try_number": try_number, "max_tries": max_tries,
               "context": context_json(dag_id, task_id, self.run_id, map_index, try_number, max_tries, conf)}
        if callback:
            req["callback"] = callback
        if expand is not None:
            req["expand"] = expand
        req.update(extra)
        req = json.loads(json.dumps(req))
        self.worker.current = (dag_id, self.run_id, task_id, map_index)
        buf = io.StringIO()
        n = len(self.worker.results)
        with contextlib.redirect_stdout(buf):
            out = run_task(req, rpc)
        # run_task's last message is the result, equal to what it returned
        assert len(self.worker.results) == n + 1, "run_task must send exactly one result"
        assert self.worker.calls[-1][0] == "result", "the result must be the last message"
        sent = self.worker.results[-1]
        assert sent == json.loads(json.dumps(out)), (sent, out)
        if kind == "task" and out["state"] == "success":
            self.worker.store_outcome(out)
        return out, buf.getvalue()
