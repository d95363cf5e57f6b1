"""Talking to the running daemon: one request per connection, or a connection turned into an event stream."""

from __future__ import annotations

import errno
import itertools
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from onevox.errors import IpcError
from onevox.ipc import protocol as proto
from onevox.ipc.sockets import check_socket_path

DEFAULT_TIMEOUT_S = 10.0
# responses are small (status is a few KiB); anything this long is not our daemon
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


class DaemonNotRunning(IpcError):
    """No daemon listens on the socket; the CLI exits with code 3."""

    exit_code = 3

    def __init__(self, message: str) -> None:
        super().__init__(message, code="not_running")


class IpcClient:
    """Sends commands to the daemon at `socket_path`. Every failure is an IpcError with a clear message."""

    def __init__(self, socket_path: Path, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.socket_path = Path(socket_path)
        self.timeout = timeout
        self._ids = itertools.count(1)

    def request(self, cmd: str, /, **args: Any) -> dict[str, Any]:
        """Send one command and return its result; IpcError with the daemon's code when it refuses."""
        request_id = next(self._ids)
        with self._connect() as sock:
            stream = sock.makefile("rb")
            try:
                self._send(sock, proto.encode_request(request_id, cmd, **args), cmd)
            except IpcError as exc:
                refusal = refusal_after_send(stream)
                if refusal is not None:
                    raise refusal from exc
                raise
            line = self._read_line(stream, cmd)
        return proto.result_of(proto.decode_message(line), request_id)

    def events(self) -> Iterator[dict[str, Any]]:
        """Subscribe and yield each event ({"v":1,"event":kind,...}) until the daemon closes the stream."""
        request_id = next(self._ids)
        sock = self._connect()
        try:
            self._send(sock, proto.encode_request(request_id, "subscribe"), "subscribe")
            stream = sock.makefile("rb")
            proto.result_of(proto.decode_message(self._read_line(stream, "subscribe")), request_id)
            sock.settimeout(None)  # events come whenever the user dictates
            for line in stream:
                message = proto.decode_message(line)
                if "event" in message:
                    yield message
        finally:
            sock.close()

    def _connect(self) -> socket.socket:
        check_socket_path(self.socket_path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(os.fspath(self.socket_path))
        except TimeoutError as exc:
            sock.close()
            raise IpcError(f"the onevox daemon at {self.socket_path} did not accept a connection within "
                           f"{self.timeout:g} s", code="timeout") from exc
        except OSError as exc:
            sock.close()
            raise connect_error(self.socket_path, exc) from exc
        return sock

    def _send(self, sock: socket.socket, data: bytes, cmd: str) -> None:
        try:
            sock.sendall(data)
        except OSError as exc:
            raise send_error(cmd, exc) from exc

    def _read_line(self, stream: Any, cmd: str) -> bytes:
        try:
            line = stream.readline(MAX_RESPONSE_BYTES)
        except OSError as exc:
            raise read_error(cmd, exc, self.timeout) from exc
        if not line.endswith(b"\n"):
            raise no_answer_error(cmd)
        return bytes(line)


# The messages below are shared with the slim control path (onevox.cli.fast), which talks to the daemon
# without importing this module and comes here only when something went wrong.


def send_error(cmd: str, exc: OSError) -> IpcError:
    return IpcError(f"lost the connection to the onevox daemon while sending `{cmd}`: "
                    f"{exc.strerror or exc}", code="disconnected")


def read_error(cmd: str, exc: OSError, timeout: float) -> IpcError:
    if isinstance(exc, TimeoutError):
        return IpcError(f"the onevox daemon did not answer `{cmd}` within {timeout:g} s; "
                        "see its log", code="timeout")
    return IpcError(f"lost the connection to the onevox daemon during `{cmd}`: {exc.strerror or exc}",
                    code="disconnected")


def no_answer_error(cmd: str) -> IpcError:
    return IpcError(f"the onevox daemon closed the connection without answering `{cmd}`; "
                    "see its log", code="disconnected")


def refusal_after_send(stream: Any) -> IpcError | None:
    """A refused client (busy, forbidden) is answered and hung up on before it can send: that answer
    explains the broken connection better than the broken pipe does."""
    try:
        message = proto.decode_message(stream.readline(MAX_RESPONSE_BYTES))
        if message.get("ok") is False and message.get("id") is None:
            proto.result_of(message, 0)
    except IpcError as refusal:
        return refusal if refusal.code != "bad_response" else None
    except OSError:
        return None
    return None


def connect_error(path: Path, exc: OSError) -> IpcError:
    """The IpcError a client shows when it cannot connect to the daemon's socket."""
    if exc.errno in (errno.ENOENT, errno.ECONNREFUSED):
        where = "no socket at" if exc.errno == errno.ENOENT else "nothing listening on"
        return DaemonNotRunning(
            f"onevox daemon is not running ({where} {path}); start it with `onevox daemon`")
    if exc.errno == errno.EACCES:
        return IpcError(f"permission denied on {path}: the daemon there belongs to another user",
                        code="forbidden")
    return IpcError(f"cannot reach the onevox daemon at {path}: {exc.strerror or exc}", code="unreachable")
