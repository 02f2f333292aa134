"""run_task in the real Python server (windsock_rt.forkserver, started as Go
starts it: control socket on fd 3), in its reused workers: a worker imports
a DAG file once and keeps it while unchanged, a try talks to the worker over
the RPC socket, writes its log to the log pipe and ends with the result
message."""
import json
import os
import socket
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exec_harness import PY_DIR, Harness, context_json  # noqa: E402

from windsock_rt import rpc  # noqa: E402

BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from windsock_rt import forkserver; forkserver.main(sys.argv[2:])"


class ForkServer:
    def __init__(self, opts):
        self.ctrl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        fd = theirs.fileno()

        def on_fd3():
            os.dup2(fd, 3)
        self.proc = subprocess.Popen([sys.executable, "-c", BOOT, PY_DIR, json.dumps(opts)],
                                     preexec_fn=on_fd3, close_fds=False)
        theirs.close()
        self.ready = rpc.recv_frame(self.ctrl)
        self.next_id = 0

    def close(self):
        self.ctrl.close()  # EOF: the server kills its children and exits
        self.proc.wait()

    def request(self, req, handle):
        """Send req with a log pipe and an RPC socket; answer the child's
        calls with handle until its result; return (result, log, exit)."""
        self.next_id += 1
        req = dict(req, id=self.next_id)
        log_r, log_w = os.pipe()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        data = json.dumps(req).encode()
        self.ctrl.sendmsg([struct.pack(">I", len(data)) + data],
                          [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("2i", log_w, theirs.fileno()))])
        os.close(log_w)
        theirs.close()
        # As the Go side does: answer until the child closes the channel; the
        # first result message is the result.
        result = None
        while True:
            try:
                msg = rpc.recv_frame(ours)
            except EOFError:
                break
            if msg["call"] == "result":
                if result is None:
                    result = msg["args"]
                continue
            try:
                rpc.send_frame(ours, {"ok": handle(msg["call"], msg["args"])})
            except rpc.RPCError as e:
                rpc.send_frame(ours, {"error": {"code": e.code, "message": e.message}})
        ours.close()
        exit_status = None
        while exit_status is None:
            reply = rpc.recv_frame(self.ctrl)
            if reply.get("id") != self.next_id:
                continue
            if "pid" in reply:
                self.last_pid = reply["pid"]
            if "done" in reply or "exit" in reply or "error" in reply:
                exit_status = reply.get("done", reply.get("exit", reply.get("error")))
        with os.fdopen(log_r) as f:
            log = f.read()
        return result, log, exit_status


class ForkServerTest(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.addCleanup(self.h.close)

    def test_tries_in_reused_workers(self):
        path = self.h.write("fs.py", '''
            import pendulum
            from airflow.decorators import dag, task
            from airflow.operators.bash import BashOperator

            print("IMPORTING THE DAG FILE")

            @dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None, user_defined_macros={"m": "macro"})
            def fs():
                @task
                def first():
                    return {"n": 41}

                @task
                def second(d, ti=None):
                    ti.xcom_push(key="extra", value="x")
                    print("second got", d)
                    return d["n"] + 1

                second(first()) >> BashOperator(task_id="sh", bash_command="echo {{ m }}-{{ ds }}")

            fs()
        ''')
        server = ForkServer({"dags_folder": self.h.folder, "max_idle": 4})
        self.addCleanup(server.close)
        self.assertTrue(server.ready.get("ready"))
        worker = self.h.worker

        def run(task_id):
            req = {"kind": "task", "file": path, "dag_id": "fs", "task_id": task_id, "run_id": self.h.run_id,
                   "map_index": -1, "try_number": 1, "max_tries": 0,
                   "context": context_json("fs", task_id, self.h.run_id), "env": {"WINDSOCK_TRY": task_id}}
            worker.current = ("fs", self.h.run_id, task_id, -1)
            out, log, status = server.request({"op": "run", "req": req}, worker.handle)
            self.assertEqual(status, 0, log)
            self.assertEqual(out["state"], "success", log)
            worker.store_outcome(out)
            imports.append((server.last_pid, "IMPORTING THE DAG FILE" in log))
            return out, log

        imports = []

        out, _ = run("first")
        self.assertEqual(out["return_value"], {"n": 41})
        out, log = run("second")
        self.assertEqual(out["return_value"], 42)
        self.assertIn("second got {'n': 41}", log)
        self.assertIn("Done. Returned value was: 42", log)
        self.assertEqual(worker.xcom("fs", "second", key="extra"), "x")
        out, log = run("sh")
        self.assertEqual(out["return_value"], "macro-2024-01-02")
        self.assertEqual(out["rendered_fields"]["bash_command"], "echo macro-2024-01-02")
        # a worker imported the file for its first try only
        first = {}
        for pid, imported in imports:
            self.assertEqual(imported, pid not in first, imports)
            first.setdefault(pid, True)
        self.assertLess(len(first), len(imports), "the server never reused a worker: %s" % imports)


if __name__ == "__main__":
    unittest.main()
