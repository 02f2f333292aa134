"""A warm Python process that forks one child per request.

Windsock starts this once per purpose: a parse server (the `airflow`
package imported) and file servers (a DAG file imported too), so that a
parse or a try costs a fork, not an interpreter start and the imports.

The control channel is fd 3, a unix stream socket. Frames are a 4-byte
big-endian length and UTF-8 JSON; a request carries two fds in SCM_RIGHTS:
the child's stdout/stderr and its RPC socket. The server answers
{"id", "pid"} once forked (or {"id", "error"}) and {"id", "exit"} with the
raw wait status once the child is reaped. EOF on fd 3 means Windsock went
away: the server kills its children's process groups and exits.
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
import time
import traceback

from windsock_rt import rpc

CONTROL_FD = 3
PR_SET_PDEATHSIG = 1

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


class Server:
    def __init__(self, opts):
        self.opts = opts
        self.ctrl = socket.socket(fileno=CONTROL_FD)
        self.children = {}  # pid -> request id
        self.rfd, self.wfd = os.pipe()
        os.set_blocking(self.wfd, False)
        os.set_blocking(self.rfd, False)
        signal.set_wakeup_fd(self.wfd)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self._terminate)
        self.module_name = None
        self.spare = None

    def _terminate(self, *_):
        self.shutdown()
        os._exit(0)

    def shutdown(self):
        for pid in list(self.children):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass

    def drop_spare(self):
        if self.spare is not None:
            self.spare[1].close()  # EOF: the spare exits
            self.spare = None

    def preload(self, req, fds):
        """Import the server's DAG file in the server itself, so children
        start with it imported. Variables read at import time make the
        module stale for later tries, so then children import afresh."""
        self.drop_spare()
        log_fd, rpc_fd = fds
        saved = os.dup(1), os.dup(2)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        sock = socket.socket(fileno=rpc_fd)
        rpc.connect(sock)
        result = {"dags": [], "import_errors": [], "warnings": []}
        try:
            from windsock_rt import parse

            result = parse.parse_file(req["file"], req.get("opts") or {})
            self.module_name = result.get("module")
            if result.get("variables_read") and self.module_name:
                sys.modules.pop(self.module_name, None)
                self.module_name = None
        except BaseException:  # noqa: BLE001 - any failure is reported, the server lives on
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            try:
                rpc.call("result", **result)
            except OSError:
                pass
            rpc.connect(None)
            sock.close()
            gc.freeze()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            os.close(log_fd)

    def spawn_spare(self):
        """Fork the child that will serve the next request, so that a
        request waits for a hand-off rather than for a fork (a fork of a
        process holding the imports costs milliseconds)."""
        if self.spare is not None:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            ours.close()
            self._child_setup()
            code = 1
            try:
                req, fds = _recv(theirs)
                theirs.close()
                if req is None or len(fds) != 2:
                    os._exit(0)
                code = self._child_run(req, fds[0], fds[1])
            finally:
                os._exit(code)
        theirs.close()
        self.spare = (pid, ours)
        self.children[pid] = None

    def fork(self, req, fds):
        """Hand req to the spare child and return its pid."""
        self.spawn_spare()
        pid, sock = self.spare
        self.spare = None
        data = json.dumps(req).encode("utf-8")
        try:
            sock.sendmsg([struct.pack(">I", len(data)) + data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("2i", *fds))])
        finally:
            sock.close()
            for fd in fds:
                os.close(fd)
        self.children[pid] = req["id"]
        return pid

    def _child_setup(self):
        """What every child does first: its own process group (so a kill
        reaches what it starts), death with the server, default signals."""
        os.setsid()
        _prctl_deathsig(signal.SIGKILL)
        if os.getppid() == 1:
            os._exit(1)
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.close(self.rfd)
        os.close(self.wfd)
        self.ctrl.close()
        if self.spare is not None:
            self.spare[1].close()

    def _child_run(self, req, log_fd, rpc_fd):
        code = 1
        try:
            os.dup2(log_fd, 1)
            os.dup2(log_fd, 2)
            os.close(log_fd)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.close(devnull)
            os.set_inheritable(rpc_fd, False)
            sock = socket.socket(fileno=rpc_fd)
            rpc.connect(sock)
            code = self._serve(req)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:  # noqa: BLE001 - a child reports every failure in its log
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return code

    def _serve(self, req):
        op = req.get("op")
        opts = dict(self.opts)
        opts.update(req.get("opts") or {})
        if op == "parse":
            from windsock_rt import parse

            result = parse.parse_file(req["file"], opts)
            rpc.call("result", **result)
            return 0
        if op == "run":
            from windsock_rt import execute

            outcome = execute.run_task(req["req"], rpc)
            if outcome is not None:
                rpc.call("result", **outcome)
            return 0
        if op == "eval":  # the runtime's own tests: run a snippet in a child
            scope = {"rpc": rpc}
            exec(compile(req["code"], "<eval>", "exec"), scope)
            return 0
        raise ValueError("unknown request %r" % (op,))

    def reap(self):
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            rid = self.children.pop(pid, None)
            if self.spare is not None and self.spare[0] == pid:
                self.spare[1].close()
                self.spare = None
            if rid is not None:
                _send(self.ctrl, {"id": rid, "exit": status})

    def serve(self):
        if not self.opts.get("file"):
            self.spawn_spare()
        _send(self.ctrl, {"ready": True, "pid": os.getpid(), "python": sys.version.split()[0]})
        while True:
            try:
                readable, _, _ = select.select([self.ctrl, self.rfd], [], [])
            except InterruptedError:
                continue
            if self.rfd in readable:
                try:
                    while os.read(self.rfd, 512):
                        pass
                except BlockingIOError:
                    pass
                self.reap()
            if self.ctrl not in readable:
                continue
            req, fds = _recv(self.ctrl)
            if req is None:
                self.shutdown()
                return
            rid = req.get("id")
            if len(fds) != 2:
                for fd in fds:
                    os.close(fd)
                _send(self.ctrl, {"id": rid, "error": "request %s came with %d fds, want 2" % (rid, len(fds))})
                continue
            if req.get("op") == "preload":
                self.preload(req, fds)
                _send(self.ctrl, {"id": rid, "pid": 0})
                _send(self.ctrl, {"id": rid, "exit": 0})
                self.spawn_spare()
                continue
            try:
                pid = self.fork(req, fds)
            except OSError as e:
                for fd in fds:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
                _send(self.ctrl, {"id": rid, "error": "fork: %s" % e})
                continue
            _send(self.ctrl, {"id": rid, "pid": pid})
            self.reap()
            try:
                self.spawn_spare()
            except OSError:
                pass  # the next request forks it


def main(argv):
    opts = json.loads(argv[0]) if argv else {}
    for path in reversed([p for p in (opts.get("dags_folder"), opts.get("plugins_folder")) if p]):
        if path not in sys.path:
            sys.path.insert(1, path)
    # Preload what every child needs, so that each pays for a fork only.
    for name in ["airflow"] + list(opts.get("preload") or []):
        try:
            __import__(name)
        except ImportError:
            pass
    # Objects that exist now are never collected in the children: freezing
    # them keeps a child's collections from touching (and so copying) the
    # pages it shares with the server.
    gc.freeze()
    Server(opts).serve()


if __name__ == "__main__":
    main(sys.argv[1:])
