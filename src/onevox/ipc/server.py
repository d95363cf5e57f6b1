"""The daemon's IPC server: asyncio on a Unix stream socket, on a thread of its own.

Commands run in worker threads, so a slow one never holds up another client; `ping` is answered by the
server itself and `status` has its own workers, so both answer at once even while every other worker is busy.
Every connection's peer must be our own user (SO_PEERCRED). Bad input gets an error line and the server
carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from onevox import __version__
from onevox.errors import IpcError, OnevoxError
from onevox.ipc import protocol as proto
from onevox.ipc.sockets import bind_private_socket, peer_uid, remove_own_socket

log = logging.getLogger(__name__)

Dispatch = Callable[[str, dict[str, Any]], dict[str, Any]]


class Subscription(Protocol):
    """What `subscribe()` returns (daemon/events.py): events as dicts {"event": kind, ...fields}."""

    def get(self, timeout: float | None = None) -> dict[str, Any] | None: ...  # raises once closed

    def close(self) -> None: ...


@dataclass(frozen=True)
class ServerLimits:
    max_line_bytes: int = proto.MAX_LINE_BYTES  # longer request lines get too_large, connection closes
    max_connections: int = 64  # connections beyond this at once get busy and are closed
    idle_timeout_s: float = 300.0  # a (non-subscriber) connection silent this long is closed
    dispatch_workers: int = 8  # threads running commands other than status
    event_backlog_bytes: int = 1 << 20  # a subscriber with this much unread output is dropped
    stop_grace_s: float = 2.0  # stop() lets commands in flight finish for this long


_FAST_COMMANDS = frozenset({"status"})
_STAT_KEYS = ("connections", "requests", "errors", "subscribers", "refused_forbidden", "refused_busy",
              "dropped_subscribers")
_END = object()  # end of an event stream
_local = threading.local()  # marks worker threads while they run a command of this server


class IpcServer:
    """Serves `dispatch(cmd, args) -> result dict` and `subscribe()` event streams on `socket_path`."""

    def __init__(self, socket_path: Path, dispatch: Dispatch,
                 subscribe: Callable[[], Subscription] | None = None,
                 limits: ServerLimits | None = None) -> None:
        self.socket_path = Path(socket_path)
        self.limits = limits or ServerLimits()
        self._dispatch = dispatch
        self._subscribe = subscribe
        self._fast = ThreadPoolExecutor(2, thread_name_prefix="onevox-ipc-status")
        self._slow = ThreadPoolExecutor(self.limits.dispatch_workers, thread_name_prefix="onevox-ipc")
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._stop_lock = threading.Lock()
        self._inode = 0
        self._closing = False
        self._stop_requested: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None  # set while no request is being answered
        self._busy = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        # every key exists from the start, so stats() can copy it from another thread while counts change
        self._stats: Counter[str] = Counter(dict.fromkeys(_STAT_KEYS, 0))

    # ---- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind the socket (0600, folder 0700) and start answering; returns once connections are accepted."""
        if self._thread is not None:
            raise RuntimeError("IpcServer.start() called twice")
        sock, self._inode = bind_private_socket(self.socket_path, backlog=self.limits.max_connections)
        self._thread = threading.Thread(target=self._run, args=(sock,), name="onevox-ipc", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._start_error is not None:
            self._thread.join()
            remove_own_socket(self.socket_path, self._inode)
            raise IpcError(f"the IPC server could not start: {self._start_error}") from self._start_error
        log.info("listening on %s", self.socket_path)

    def stop(self) -> None:
        """Stop accepting, let commands in flight answer (up to stop_grace_s), close every connection and
        remove the socket. Safe to call more than once and from any thread, including from a command."""
        if getattr(_local, "server", None) is self:
            # called by a command (e.g. shutdown): its reply must still go out, so stop from another thread
            threading.Thread(target=self.stop, name="onevox-ipc-stop", daemon=True).start()
            return
        with self._stop_lock:
            thread, loop, requested = self._thread, self._loop, self._stop_requested
            if thread is not None and thread.is_alive() and loop is not None and requested is not None:
                with contextlib.suppress(RuntimeError):  # the loop already closed on its own
                    loop.call_soon_threadsafe(requested.set)
                thread.join()
            self._fast.shutdown(wait=False, cancel_futures=True)
            self._slow.shutdown(wait=False, cancel_futures=True)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._closing

    def stats(self) -> dict[str, int]:
        """Counters since start: connections, requests, errors, refused and dropped peers."""
        return {**self._stats, "open_connections": len(self._writers)}

    def __enter__(self) -> IpcServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, sock: Any) -> None:
        # the Runner cancels whatever tasks are left when it closes, so none outlives the loop
        with asyncio.Runner() as runner:
            self._loop = runner.get_loop()
            try:
                runner.run(self._main(sock))
            except BaseException as exc:
                if not self._ready.is_set():
                    self._start_error = exc
                else:
                    log.exception("IPC server stopped unexpectedly")
            finally:
                self._ready.set()
                sock.close()

    async def _main(self, sock: Any) -> None:
        self._stop_requested = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        server = await asyncio.start_unix_server(self._on_connection, sock=sock,
                                                 limit=self.limits.max_line_bytes)
        self._ready.set()
        try:
            await self._stop_requested.wait()
        finally:
            await self._shutdown(server)

    async def _shutdown(self, server: asyncio.AbstractServer) -> None:
        self._closing = True
        server.close()
        assert self._idle is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), self.limits.stop_grace_s)
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        remove_own_socket(self.socket_path, self._inode)
        log.info("IPC server stopped")

    # ---- connections -----------------------------------------------------------------------------------

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self._stats["connections"] += 1
        try:
            refusal = self._refusal(writer)
            if refusal is not None:
                writer.write(refusal)
                await asyncio.wait_for(writer.drain(), 1.0)
                return
            await self._serve(reader, writer)
        except (ConnectionError, TimeoutError, asyncio.CancelledError):
            pass
        except Exception:
            log.exception("IPC connection failed")
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()

    def _refusal(self, writer: asyncio.StreamWriter) -> bytes | None:
        uid = peer_uid(writer.get_extra_info("socket"))
        if uid != os.getuid():
            self._stats["refused_forbidden"] += 1
            log.warning("refused an IPC connection from uid %d", uid)
            return proto.encode_error(None, proto.FORBIDDEN, "this daemon only answers its own user")
        if len(self._writers) > self.limits.max_connections:
            self._stats["refused_busy"] += 1
            limit = self.limits.max_connections
            return proto.encode_error(None, proto.BUSY, f"too many connections (limit {limit}); try again")
        if self._closing:
            return proto.encode_error(None, proto.SHUTTING_DOWN, "the daemon is shutting down")
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                line = await asyncio.wait_for(reader.readuntil(b"\n"), self.limits.idle_timeout_s)
            except asyncio.IncompleteReadError as exc:
                line = exc.partial  # the client closed without a final newline: still answer it
                if not line.strip():
                    return
            except asyncio.LimitOverrunError:
                limit = self.limits.max_line_bytes
                writer.write(self._error(None, proto.TOO_LARGE, f"request line longer than {limit} bytes"))
                await writer.drain()
                return
            if not line.strip():
                continue
            if self._closing:
                writer.write(proto.encode_error(None, proto.SHUTTING_DOWN, "the daemon is shutting down"))
                await writer.drain()
                return
            subscription = await self._answer_line(line.rstrip(b"\r\n"), writer)
            if subscription is not None:
                await self._stream_events(subscription, reader, writer)
                return
            if reader.at_eof():
                return

    async def _answer_line(self, line: bytes, writer: asyncio.StreamWriter) -> Subscription | None:
        """Write the response to one request line; returns the subscription when it was `subscribe`."""
        self._busy += 1
        assert self._idle is not None
        self._idle.clear()
        subscription: Subscription | None = None
        try:
            self._stats["requests"] += 1
            response, subscription = await self._respond(line)
            writer.write(response)
            await writer.drain()
        except BaseException:
            if subscription is not None:
                subscription.close()
            raise
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()
        return subscription

    async def _respond(self, line: bytes) -> tuple[bytes, Subscription | None]:
        try:
            request = proto.parse_request(line)
        except proto.ProtocolError as exc:
            return self._error(exc.request_id, exc.code, exc.message), None
        if request.cmd == "ping":
            return proto.encode_result(request.id, {"pong": True, "pid": os.getpid(), "version": __version__,
                                                    "protocol": proto.VERSION}), None
        if request.cmd == "subscribe":
            return self._open_subscription(request)
        executor = self._fast if request.cmd in _FAST_COMMANDS else self._slow
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(executor, self._call_dispatch, request)
            return _encode_result(request, result), None
        except OnevoxError as exc:
            code = exc.code if isinstance(exc, IpcError) and exc.code != "ipc_error" else proto.FAILED
            return self._error(request.id, code, str(exc)), None
        except Exception as exc:
            log.exception("command %s failed", request.cmd)
            return self._error(request.id, proto.INTERNAL,
                                      f"internal error in {request.cmd}: {type(exc).__name__}: {exc}"), None

    def _error(self, request_id: int | None, code: str, message: str) -> bytes:
        self._stats["errors"] += 1
        return proto.encode_error(request_id, code, message)

    def _call_dispatch(self, request: proto.Request) -> dict[str, Any]:
        _local.server = self
        try:
            return self._dispatch(request.cmd, request.args)
        finally:
            _local.server = None

    def _open_subscription(self, request: proto.Request) -> tuple[bytes, Subscription | None]:
        if self._subscribe is None:
            return self._error(request.id, proto.FAILED, "this server does not stream events"), None
        try:
            subscription = self._subscribe()
        except Exception as exc:
            log.exception("subscribe failed")
            return self._error(request.id, proto.INTERNAL, f"cannot subscribe: {exc}"), None
        self._stats["subscribers"] += 1
        return proto.encode_result(request.id, {"subscribed": True}), subscription

    # ---- event streams ---------------------------------------------------------------------------------

    async def _stream_events(self, sub: Subscription, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
        """Copy events to the client until it goes away, the bus closes the subscription, or the client
        reads so slowly that its unread output passes event_backlog_bytes (then it is dropped)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()
        pump = threading.Thread(target=_pump_events, args=(sub, loop, queue, stop),
                                name="onevox-ipc-events", daemon=True)
        pump.start()
        gone = asyncio.ensure_future(_discard_until_eof(reader))
        getter: asyncio.Future[Any] | None = None
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, gone}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    return
                event = getter.result()
                if event is _END:
                    return
                line = _event_line(event)
                if line is not None:
                    writer.write(line)
                if writer.transport.get_write_buffer_size() > self.limits.event_backlog_bytes:
                    self._stats["dropped_subscribers"] += 1
                    log.warning("dropped an event subscriber that stopped reading")
                    return
        finally:
            stop.set()
            gone.cancel()
            if getter is not None:
                getter.cancel()
            sub.close()


def _encode_result(request: proto.Request, result: Any) -> bytes:
    if not isinstance(result, dict):
        raise TypeError(f"dispatch returned {type(result).__name__} for {request.cmd}, not a dict")
    return proto.encode_result(request.id, result)


def _pump_events(sub: Subscription, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any],
                 stop: threading.Event) -> None:
    """Moves events from the (blocking) subscription to the event loop; runs on its own thread."""
    try:
        while not stop.is_set():
            try:
                event = sub.get(timeout=0.2)
            except Exception:  # the subscription was closed or dropped by the bus
                return
            if event is not None:
                loop.call_soon_threadsafe(queue.put_nowait, event)
    except RuntimeError:  # the loop closed under us: the server is stopping
        return
    finally:
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(queue.put_nowait, _END)


async def _discard_until_eof(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(ConnectionError):
        while await reader.read(4096):
            pass


def _event_line(event: Any) -> bytes | None:
    if isinstance(event, dict):
        fields = dict(event)
        kind = str(fields.pop("event", "event"))
    else:
        kind, fields = "event", {"data": str(event)}
    try:
        return proto.encode_event(kind, fields)
    except TypeError:
        log.exception("cannot send event %s", kind)
        return None
