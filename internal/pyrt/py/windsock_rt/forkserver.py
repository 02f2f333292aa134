"""A warm Python process that serves Windsock's parses and tries through a
pool of worker processes forked from it.

The server imports the `airflow` package and warms up once; each worker is
forked from it and serves requests one at a time, many in its life. A
request imports its DAG file afresh (as Airflow re-parses the file in every
try), so a worker keeps only what every request shares: the imports.
Forking per request would be simpler, but on virtual machines a page that a
child writes costs tens of microseconds to copy, and a parse or a try
writes thousands of them: a reused worker has them copied once.

The control channel is fd 3, a unix stream socket. Frames are a 4-byte
big-endian length and UTF-8 JSON; a request carries two fds in SCM_RIGHTS:
the output (stdout and stderr) and the RPC socket for that request. The
server answers {"id", "pid"} with the pid of the worker serving it (its
process group: killing it kills the request), {"id", "done": code} when the
worker finished it, or {"id", "exit": wait status} when the worker died
first, or {"id", "error"}. EOF on fd 3 means Windsock went away: the server
kills its workers and exits.
"""

import ctypes
import gc
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import traceback

from windsock_rt import rpc

CONTROL_FD = 3
PR_SET_PDEATHSIG = 1
# A worker is replaced after this many requests, bounding what requests may
# leave behind in it.
MAX_SERVED = 500

_libc = None


def _prctl_deathsig(sig):
    """Ask the kernel to send sig when our parent dies (Linux only)."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        _libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _send(sock, obj):
    rpc.send_frame(sock, obj)


def _recv(sock):
    """One frame and the fds that came with it; None at EOF."""
    fds = []
    header = b""
    while len(header) < 4:
        data, anc, _flags, _addr = sock.recvmsg(4 - len(header), socket.CMSG_SPACE(8 * 4))
        fds += _fds(anc)
        if not data:
            return None, fds
        header += data
    (n,) = struct.unpack(">I", header)
    body = bytearray()
    while len(body) < n:
        data, anc, _flags, _addr = sock.recvmsg(n - len(body), socket.CMSG_SPACE(8 * 4))
        fds += _fds(anc)
        if not data:
            return None, fds
        body += data
    return json.loads(body.decode("utf-8")), fds


def _fds(anc):
    out = []
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(data) - len(data) % 4
            out += list(struct.unpack("%di" % (usable // 4), data[:usable]))
    return out


def _close(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


class Worker:
    def __init__(self, pid, sock):
        self.pid = pid
        self.sock = sock
        self.rid = None  # the request being served


class Server:
    def __init__(self, opts):
        self.opts = opts
        self.base_modules = None  # a worker's modules before its first request
        self.max_idle = int(opts.get("max_idle") or 32)
        self.ctrl = socket.socket(fileno=CONTROL_FD)
        self.workers = {}  # pid -> Worker
        self.idle = []
        self.rfd, self.wfd = os.pipe()
        os.set_blocking(self.wfd, False)
        os.set_blocking(self.rfd, False)
        signal.set_wakeup_fd(self.wfd)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self._terminate)

    def _terminate(self, *_):
        self.shutdown()
        os._exit(0)

    def shutdown(self):
        for pid in list(self.workers):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass

    # -- the server side --------------------------------------------------

    def spawn(self):
        """Fork a worker; it warms up (copying the pages a request writes)
        before it first reads a request."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            ours.close()
            code = 1
            try:
                code = self._worker(theirs)
            except BaseException:  # noqa: BLE001 - a worker must never return into the server's loop
                traceback.print_exc()
            finally:
                os._exit(code)
        theirs.close()
        w = Worker(pid, ours)
        self.workers[pid] = w
        self.idle.append(w)
        return w

    def dispatch(self, req, fds):
        rid = req.get("id")
        w = self.idle.pop() if self.idle else None
        if w is None:
            w = self.spawn()
            self.idle.remove(w)
        data = json.dumps(req).encode("utf-8")
        try:
            w.sock.sendmsg([struct.pack(">I", len(data)) + data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("2i", *fds))])
        except OSError as e:
            _close(fds)
            _send(self.ctrl, {"id": rid, "error": "hand request to worker %d: %s" % (w.pid, e)})
            return
        _close(fds)
        w.rid = rid
        _send(self.ctrl, {"id": rid, "pid": w.pid})
        if not self.idle:
            # The next request should find a worker ready.
            try:
                self.spawn()
            except OSError:
                pass

    def worker_message(self, w):
        try:
            msg, fds = _recv(w.sock)
        except OSError:
            msg, fds = None, []
        _close(fds)
        if msg is None:
            return  # the worker is gone: reap reports it
        rid, w.rid = w.rid, None
        if rid is not None:
            _send(self.ctrl, {"id": rid, "done": msg.get("done", 0)})
        if msg.get("retire") or len(self.idle) >= self.max_idle:
            w.sock.close()  # EOF: the worker exits
            w.sock = None
            return
        self.idle.append(w)

    def reap(self):
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            w = self.workers.pop(pid, None)
            if w is None:
                continue
            if w in self.idle:
                self.idle.remove(w)
            if w.sock is not None:
                w.sock.close()
                w.sock = None
            if w.rid is not None:
                _send(self.ctrl, {"id": w.rid, "exit": status})

    def serve(self):
        self.spawn()
        _send(self.ctrl, {"ready": True, "pid": os.getpid(), "python": sys.version.split()[0]})
        while True:
            socks = [w.sock for w in self.workers.values() if w.sock is not None]
            try:
                readable, _, _ = select.select([self.ctrl, self.rfd] + socks, [], [])
            except InterruptedError:
                continue
            if self.rfd in readable:
                try:
                    while os.read(self.rfd, 512):
                        pass
                except BlockingIOError:
                    pass
            for w in list(self.workers.values()):
                if w.sock is not None and w.sock in readable:
                    self.worker_message(w)
            self.reap()
            if self.ctrl not in readable:
                continue
            req, fds = _recv(self.ctrl)
            if req is None:
                self.shutdown()
                return
            if len(fds) != 2:
                _close(fds)
                _send(self.ctrl, {"id": req.get("id"), "error": "request came with %d fds, want 2" % len(fds)})
                continue
            self.dispatch(req, fds)

    # -- the worker side --------------------------------------------------

    def _worker(self, sock):
        """A worker's life: its own process group (a kill of the request
        reaches whatever it started), death with the server, then requests
        one at a time until told to stop."""
        os.setsid()
        _prctl_deathsig(signal.SIGKILL)
        if os.getppid() == 1:
            return 1
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.close(self.rfd)
        os.close(self.wfd)
        self.ctrl.close()
        for w in self.workers.values():
            if w.sock is not None:
                w.sock.close()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        _warm_parse()
        self.base_modules = set(sys.modules)
        base_env = dict(os.environ)
        base_cwd = os.getcwd()
        served = 0
        while True:
            req, fds = _recv(sock)
            if req is None:
                return 0
            if len(fds) != 2:
                _close(fds)
                return 1
            execute = sys.modules.get("windsock_rt.execute")
            if execute is not None:
                execute.terminated = False
            code = self._one(req, fds[0], fds[1])
            served += 1
            # A try that caught SIGTERM was being stopped: Windsock kills its
            # worker once the request is done, so the worker must not take
            # the next request first.
            execute = sys.modules.get("windsock_rt.execute")
            stopped = execute is not None and execute.terminated
            # What a request changed for the process is put back; what
            # cannot be (threads it left running) retires the worker.
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            if dict(os.environ) != base_env:
                os.environ.clear()
                os.environ.update(base_env)
            try:
                os.chdir(base_cwd)
            except OSError:
                pass
            if req.get("op") != "run":
                # A parse always imports afresh; tries keep their module
                # while its file is unchanged (windsock_rt.execute decides).
                for name in [m for m in sys.modules if m.startswith("unusual_prefix_")]:
                    sys.modules.pop(name, None)
            retire = code != 0 or stopped or served >= MAX_SERVED or threading.active_count() > 1
            _send(sock, {"done": code, "retire": retire})
            if retire:
                return code

    def _one(self, req, log_fd, rpc_fd):
        code = 1
        sock = None
        try:
            os.dup2(log_fd, 1)
            os.dup2(log_fd, 2)
            os.close(log_fd)
            os.set_inheritable(rpc_fd, False)
            sock = socket.socket(fileno=rpc_fd)
            rpc.connect(sock)
            code = self._serve(req)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:  # noqa: BLE001 - a request reports every failure in its log
            traceback.print_exc()
            code = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except OSError:
                pass
            rpc.connect(None)
            if sock is not None:
                sock.close()
        return code

    def _serve(self, req):
        op = req.get("op")
        opts = dict(self.opts)
        opts.update(req.get("opts") or {})
        if op in ("parse", "parse_batch"):
            # Modules imported from the DAG or plugins folder by earlier
            # requests (a try keeps its DAG module, and so its helpers) may
            # have changed since: a parse sees them as a fresh process would.
            _drop_user_modules(self.base_modules, self.opts)
        if op == "parse":
            from windsock_rt import parse

            result = parse.parse_file(req["file"], opts)
            rpc.call("result", **result)
            return 0
        if op == "parse_batch":
            from windsock_rt import batch, parse

            results = batch.parse_batch(parse, req["files"], opts, req.get("timeout"))
            rpc.call("result", results=results)
            return 0
        if op == "run":
            from windsock_rt import execute

            # run_task sends its outcome as the request's result itself.
            execute.run_task(req["req"], rpc)
            return 0
        if op == "eval":  # the runtime's own tests: run a snippet in a worker
            scope = {"rpc": rpc}
            exec(compile(req["code"], "<eval>", "exec"), scope)
            return 0
        raise ValueError("unknown request %r" % (op,))


def _drop_user_modules(base, opts):
    """Forget the modules imported since base from the user's folders,
    except DAG modules (unusual_prefix_*), whose keeping the tries decide."""
    folders = tuple(os.path.join(os.path.realpath(f), "") for f in (opts.get("dags_folder"), opts.get("plugins_folder")) if f)
    if not folders or base is None:
        return
    for name in [m for m in sys.modules if m not in base and not m.startswith("unusual_prefix_")]:
        mod = sys.modules.get(name)
        paths = [getattr(mod, "__file__", None)] + list(getattr(mod, "__path__", None) or [])
        if any(p and os.path.realpath(p).startswith(folders) for p in paths):
            sys.modules.pop(name, None)


# A DAG file using the common parts of the authoring API: parsing it once in
# the server imports, in the server, every module a parse imports lazily, so
# that children do not each import (and compile) them again.
_WARMUP_DAG = '''
from datetime import datetime, timedelta
from airflow import DAG
from airflow.decorators import dag, task, task_group
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator, BranchPythonOperator
from airflow.utils.task_group import TaskGroup
from airflow.datasets import Dataset
from airflow.models import Variable, Param

with DAG("windsock_warmup_classic", schedule="@daily", start_date=datetime(2024, 1, 1),
         default_args={"retries": 1, "retry_delay": timedelta(minutes=5)}, params={"p": Param(1, type="integer")}) as d:
    with TaskGroup("g"):
        a = BashOperator(task_id="a", bash_command="true", outlets=[Dataset("s3://warm/up")])
    b = PythonOperator(task_id="b", python_callable=print)
    c = BranchPythonOperator(task_id="c", python_callable=lambda: "e")
    e = EmptyOperator(task_id="e")
    a >> b >> c >> e

@dag(schedule=None, start_date=datetime(2024, 1, 1))
def windsock_warmup_taskflow():
    @task
    def one():
        return 1

    @task(multiple_outputs=True)
    def two(x):
        return {"x": x}

    @task_group
    def grp(v):
        return two(v)

    grp.expand(v=[one()]) if False else grp(one())

windsock_warmup_taskflow()
'''


def _warm_parse():
    import tempfile

    try:
        from windsock_rt import parse
    except ImportError:
        return
    with tempfile.TemporaryDirectory(prefix="windsock-warmup-") as d:
        path = os.path.join(d, "windsock_warmup.py")
        with open(path, "w") as f:
            f.write(_WARMUP_DAG)
        try:
            parse.parse_file(path, {})
        except Exception:  # noqa: BLE001 - warming is an optimisation only
            pass
    for name in [m for m in sys.modules if m.startswith("unusual_prefix_")]:
        sys.modules.pop(name, None)


def main(argv):
    opts = json.loads(argv[0]) if argv else {}
    for path in reversed([p for p in (opts.get("dags_folder"), opts.get("plugins_folder")) if p]):
        if path not in sys.path:
            sys.path.insert(1, path)
    # Import what every request needs once, before the workers are forked.
    for name in ["airflow"] + list(opts.get("preload") or []):
        try:
            __import__(name)
        except ImportError:
            pass
    try:
        __import__("windsock_rt.warm")
    except Exception:  # noqa: BLE001 - warming is an optimisation only
        pass
    _warm_parse()
    # Objects that exist now are never collected in the workers: freezing
    # them keeps the collector from touching (and so copying) the pages a
    # worker shares with the server.
    gc.freeze()
    Server(opts).serve()


if __name__ == "__main__":
    main(sys.argv[1:])
