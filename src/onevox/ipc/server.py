"""The daemon's IPC server: asyncio on a Unix stream socket, on a thread of its own.

Commands run in worker threads, so a slow one never holds up another client; `ping` is answered by the
server itself and `status` has its own workers, so both answer at once even while every other worker is busy.
Every connection's peer must be our own user (SO_PEERCRED). Bad input gets an error line and the server
carries on.

Connections are a fixed number of slots, and a new client is never turned away for want of one (slots.py says
who makes way for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onevox import __version__
from onevox.errors import IpcError, OnevoxError
from onevox.ipc import protocol as proto
from onevox.ipc.slots import IDLE, RUNNING, STREAMING, Conn, Slots, wait_for_client
from onevox.ipc.sockets import bind_private_socket, peer_credentials, remove_own_socket
from onevox.ipc.streaming import Subscription, stream_events

log = logging.getLogger(__name__)

Dispatch = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class ServerLimits:
    max_line_bytes: int = proto.MAX_LINE_BYTES  # longer request lines get too_large, connection closes
    max_connections: int = 64  # hard cap on open connections (see above for how a newcomer gets a slot)
    max_subscribers: int = 16  # event streams at once; one more `subscribe` gets busy
    line_timeout_s: float = 5.0  # for a new connection's first request line, and for a reply to be taken
    idle_timeout_s: float = 10.0  # a connection silent this long after a reply is closed (not subscribers)
    dispatch_workers: int = 8  # threads running commands other than status
    event_backlog_bytes: int = 1 << 20  # a subscriber with this much unread output is dropped
    stop_grace_s: float = 2.0  # stop() lets commands in flight finish for this long

    def __post_init__(self) -> None:
        if not 0 <= self.max_subscribers < self.max_connections:
            raise ValueError("max_subscribers must leave at least one of max_connections for commands")


_FAST_COMMANDS = frozenset({"status"})
_STAT_KEYS = ("connections", "requests", "errors", "subscribers", "refused_forbidden", "refused_busy",
              "dropped_subscribers", "evicted", "timed_out", "peak_connections")
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
        self._tasks: set[asyncio.Task[Any]] = set()  # every connection's task, evicted ones until they end
        # every key exists from the start, so stats() can copy it from another thread while counts change
        self._stats: Counter[str] = Counter(dict.fromkeys(_STAT_KEYS, 0))
        self._slots = Slots(self.limits.max_connections, self._stats)

    # ---- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind the socket (0600, folder 0700) and start answering; returns once connections are accepted."""
        if self._thread is not None:
            raise RuntimeError("IpcServer.start() called twice")
        # clients wait in the backlog while every slot runs a command; a deep one is not filled by a flood
        # before the accept loop has evicted its way through it
        sock, self._inode = bind_private_socket(self.socket_path, backlog=socket.SOMAXCONN)
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
        return {**self._stats, "open_connections": len(self._slots.conns)}

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

    async def _main(self, sock: socket.socket) -> None:
        self._stop_requested = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._slots.open()
        accepting = asyncio.create_task(self._accept(sock))
        stop = asyncio.create_task(self._stop_requested.wait())
        self._ready.set()
        try:
            await asyncio.wait({accepting, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            accepting.cancel()
            await asyncio.gather(accepting, stop, return_exceptions=True)
            sock.close()  # from now on a client is refused at connect instead of waiting in the backlog
            await self._shutdown()
        if not accepting.cancelled():
            accepting.result()  # the accept loop failed: say why

    async def _shutdown(self) -> None:
        self._closing = True
        assert self._idle is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), self.limits.stop_grace_s)
        for conn in list(self._slots.conns):
            conn.writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        remove_own_socket(self.socket_path, self._inode)
        log.info("IPC server stopped")

    # ---- connections -----------------------------------------------------------------------------------

    async def _accept(self, listener: socket.socket) -> None:
        """Take a waiting client only once it has a slot, so the number open never passes max_connections."""
        loop = asyncio.get_running_loop()
        failing = False
        while True:
            await wait_for_client(loop, listener)
            await self._slots.make_room()
            try:
                client, _ = await loop.sock_accept(listener)
            except OSError as exc:  # out of file descriptors: the client stays queued until some close
                if not failing:
                    log.warning("cannot accept IPC connections: %s", exc)
                failing = True
                await asyncio.sleep(0.1)
                continue
            failing = False
            try:
                reader, writer = await asyncio.open_unix_connection(sock=client,
                                                                    limit=self.limits.max_line_bytes)
            except OSError:
                client.close()
                continue
            conn = Conn(writer, since=loop.time())
            self._slots.add(conn)
            conn.task = asyncio.create_task(self._on_connection(conn, reader))
            self._tasks.add(conn.task)
            conn.task.add_done_callback(self._tasks.discard)
            self._stats["connections"] += 1
            self._stats["peak_connections"] = max(self._stats["peak_connections"], len(self._slots.conns))

    async def _on_connection(self, conn: Conn, reader: asyncio.StreamReader) -> None:
        writer = conn.writer
        try:
            refusal = self._refusal(conn)
            if refusal is not None:
                writer.write(refusal)
                await asyncio.wait_for(writer.drain(), 1.0)
                return
            await self._serve(conn, reader, writer)
        except TimeoutError:
            self._stats["timed_out"] += 1
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:
            log.exception("IPC connection failed")
        finally:
            if writer.transport.get_write_buffer_size():
                writer.transport.abort()  # the peer is not reading: close() would wait for it forever
            else:
                writer.close()
            self._slots.release_when_closed(conn)

    def _refusal(self, conn: Conn) -> bytes | None:
        conn.pid, uid = peer_credentials(conn.writer.get_extra_info("socket"))
        if uid != os.getuid():
            self._stats["refused_forbidden"] += 1
            log.warning("refused an IPC connection from uid %d", uid)
            return proto.encode_error(None, proto.FORBIDDEN, "this daemon only answers its own user")
        if self._closing:
            return proto.encode_error(None, proto.SHUTTING_DOWN, "the daemon is shutting down")
        return None

    async def _serve(self, conn: Conn, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # a client that connects to send a command sends it at once; blank lines do not buy more time
        deadline = conn.since + self.limits.line_timeout_s
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    line = await reader.readuntil(b"\n")
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
            subscription = await self._answer_line(conn, line.rstrip(b"\r\n"), writer)
            if subscription is not None:
                if await stream_events(subscription, reader, writer, self.limits.event_backlog_bytes):
                    self._stats["dropped_subscribers"] += 1
                    log.warning("dropped an event subscriber that stopped reading")
                return
            if reader.at_eof() or conn.last_call:
                return
            deadline = conn.since + self.limits.idle_timeout_s

    async def _answer_line(self, conn: Conn, line: bytes,
                           writer: asyncio.StreamWriter) -> Subscription | None:
        """Write the response to one request line; returns the subscription when it was `subscribe`."""
        self._busy += 1
        assert self._idle is not None
        self._idle.clear()
        self._slots.enter(conn, RUNNING)
        subscription: Subscription | None = None
        try:
            self._stats["requests"] += 1
            response, subscription = await self._respond(line, conn)
            writer.write(response)
            if subscription is None:
                self._slots.enter(conn, IDLE)  # the reply is out; a peer that does not take it may be evicted
            await asyncio.wait_for(writer.drain(), self.limits.line_timeout_s)
        except BaseException:
            if subscription is not None:
                subscription.close()
            raise
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()
        return subscription

    async def _respond(self, line: bytes, conn: Conn) -> tuple[bytes, Subscription | None]:
        try:
            request = proto.parse_request(line)
        except proto.ProtocolError as exc:
            return self._error(exc.request_id, exc.code, exc.message), None
        if request.cmd == "ping":
            return proto.encode_result(request.id, {"pong": True, "pid": os.getpid(), "version": __version__,
                                                    "protocol": proto.VERSION}), None
        if request.cmd == "subscribe":
            return self._open_subscription(request, conn)
        executor = self._fast if request.cmd in _FAST_COMMANDS else self._slow
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(executor, self._call_dispatch, request, conn.pid)
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

    def _call_dispatch(self, request: proto.Request, pid: int | None) -> dict[str, Any]:
        _local.server, _local.pid = self, pid
        try:
            return self._dispatch(request.cmd, request.args)
        finally:
            _local.server = _local.pid = None

    def _open_subscription(self, request: proto.Request, conn: Conn) -> tuple[bytes, Subscription | None]:
        if self._subscribe is None:
            return self._error(request.id, proto.FAILED, "this server does not stream events"), None
        limit = self.limits.max_subscribers
        if self._slots.streaming() >= limit:
            self._stats["refused_busy"] += 1
            return self._error(request.id, proto.BUSY, f"too many event subscribers (limit {limit}); "
                                                       "try again"), None
        try:
            subscription = self._subscribe()
        except Exception as exc:
            log.exception("subscribe failed")
            return self._error(request.id, proto.INTERNAL, f"cannot subscribe: {exc}"), None
        self._stats["subscribers"] += 1
        self._slots.enter(conn, STREAMING)
        return proto.encode_result(request.id, {"subscribed": True}), subscription


def requester_pid() -> int | None:
    """The process whose request the calling thread is running (None outside a command, or not known)."""
    pid = getattr(_local, "pid", None)
    return pid if isinstance(pid, int) else None


def _encode_result(request: proto.Request, result: Any) -> bytes:
    if not isinstance(result, dict):
        raise TypeError(f"dispatch returned {type(result).__name__} for {request.cmd}, not a dict")
    return proto.encode_result(request.id, result)
