"""An IPC connection turned into an event stream: events from a (blocking) subscription of the daemon's
event bus, copied to the client by the server's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any, Protocol

from onevox.ipc import protocol as proto

log = logging.getLogger(__name__)

_END = object()  # end of an event stream


class Subscription(Protocol):
    """What `subscribe()` returns (daemon/events.py): events as dicts {"event": kind, ...fields}."""

    def get(self, timeout: float | None = None) -> dict[str, Any] | None: ...  # raises once closed

    def close(self) -> None: ...


async def stream_events(sub: Subscription, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        backlog_bytes: int) -> bool:
    """Copy events to the client until it goes away, the bus closes the subscription, or the client
    reads so slowly that its unread output passes `backlog_bytes`; True in that last case (drop it)."""
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
                return False
            event = getter.result()
            if event is _END:
                return False
            line = _event_line(event)
            if line is not None:
                writer.write(line)
            if writer.transport.get_write_buffer_size() > backlog_bytes:
                return True
    finally:
        stop.set()
        gone.cancel()
        if getter is not None:
            getter.cancel()
        sub.close()


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
