"""The channel a Windsock Python child uses to reach the Go process that
started it: variables, connections and XComs are read and written through
it, never by opening the metadata database.

Frames are a 4-byte big-endian length followed by UTF-8 JSON. The child
sends {"call": name, "args": {...}} and reads {"ok": value} or
{"error": {"code": ..., "message": ...}}.
"""

import json
import socket
import struct
import threading

__all__ = ["RPCError", "NotFound", "call", "connect", "set_handler", "connected", "send_frame", "recv_frame"]


class RPCError(Exception):
    """An error the Go side answered with."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(RPCError):
    """The variable, connection or XCom asked for does not exist."""


_lock = threading.Lock()
_sock = None
_handler = None


def connect(sock):
    """Use sock (a connected socket) for every later call."""
    global _sock
    _sock = sock


def set_handler(fn):
    """Answer calls in-process with fn(name, args) -> value (raise RPCError
    for an error). For tests of the Python side alone; None removes it."""
    global _handler
    _handler = fn


def connected():
    """Whether calls can be answered at all."""
    return _sock is not None or _handler is not None


def send_frame(sock, obj):
    data = json.dumps(obj, separators=(",", ":"), allow_nan=False).encode("utf-8")
    sock.sendall(struct.pack(">I", len(data)) + data)


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("the Windsock process closed the channel")
        buf += chunk
    return bytes(buf)


def recv_frame(sock):
    (n,) = struct.unpack(">I", _recv_exact(sock, 4))
    return json.loads(_recv_exact(sock, n).decode("utf-8"))


def call(name, **args):
    """Call name on the Go side and return its answer."""
    if _handler is not None:
        return _handler(name, args)
    if _sock is None:
        raise RPCError("unavailable", "not running under Windsock: %s is not available" % name)
    with _lock:
        send_frame(_sock, {"call": name, "args": args})
        if name == "result":
            return None
        reply = recv_frame(_sock)
    if "error" in reply:
        err = reply["error"] or {}
        code, message = err.get("code", "error"), err.get("message", "")
        if code == "not_found":
            raise NotFound(code, message)
        raise RPCError(code, message)
    return reply.get("ok")
