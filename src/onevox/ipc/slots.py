"""The IPC server's connection slots (server.py): how many connections are open, and who makes way.

Connections are a fixed number of slots, and a new client is never turned away for want of one: a client
connects to send a command at once, so a connection that owes us a request (none sent yet, or idle between
requests) is the one to go. The server accepts only when a slot is free or can be freed by closing the
connection that has owed a request longest; when every slot is running a command, the oldest is asked to close
after its reply and the newcomer waits in the listen backlog meanwhile. Event subscribers are not evicted and
have no idle timeout; their own cap keeps slots free for commands.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from dataclasses import dataclass

# where a connection is; the first two owe us a request and may be evicted for a newcomer
NEW, IDLE, RUNNING, STREAMING, CLOSING = "new", "idle", "running", "streaming", "closing"
EVICTABLE = (NEW, IDLE)


@dataclass(eq=False)
class Conn:
    writer: asyncio.StreamWriter
    since: float  # loop time it entered `state`: the longest-idle connection is evicted first
    state: str = NEW
    last_call: bool = False  # a newcomer needs this slot: close after the reply in flight
    task: asyncio.Task[None] | None = None
    pid: int | None = None  # the peer's process (SO_PEERCRED), once checked


class Slots:
    """The open connections, at most `limit` of them; used on the server's event loop (stats() reads the
    count from any thread). Evictions are counted in `stats`."""

    def __init__(self, limit: int, stats: Counter[str]) -> None:
        self.limit = limit
        self.conns: set[Conn] = set()  # the slots in use
        self._stats = stats
        self._room: asyncio.Event | None = None  # set when a slot frees or a connection becomes evictable

    def open(self) -> None:
        """Start on the running loop (the server's _main)."""
        self._room = asyncio.Event()

    def add(self, conn: Conn) -> None:
        self.conns.add(conn)

    def streaming(self) -> int:
        return sum(conn.state == STREAMING for conn in self.conns)

    async def make_room(self) -> None:
        """Free a slot for the client waiting to connect: close the connection that has owed us a request
        longest; when every slot runs a command, ask the oldest to close after its reply and wait for it."""
        assert self._room is not None
        while len(self.conns) >= self.limit:
            self._room.clear()
            if not any(conn.state == CLOSING for conn in self.conns):  # else a slot is about to free
                owing = [conn for conn in self.conns if conn.state in EVICTABLE]
                running = [conn for conn in self.conns if conn.state == RUNNING and not conn.last_call]
                if owing:
                    self.evict(min(owing, key=lambda conn: conn.since))
                elif running:
                    min(running, key=lambda conn: conn.since).last_call = True
            await self._room.wait()

    def evict(self, conn: Conn) -> None:
        self._stats["evicted"] += 1
        conn.writer.transport.abort()  # at once: its unread output must not keep the socket open
        self.release_when_closed(conn)
        if conn.task is not None:
            conn.task.cancel()

    def release_when_closed(self, conn: Conn) -> None:
        # the transport closes its socket in a callback it has just scheduled; freeing the slot in one
        # scheduled after it means a newcomer's socket never coexists with it, so the cap holds for fds
        conn.state = CLOSING
        asyncio.get_running_loop().call_soon(self._release, conn)

    def _release(self, conn: Conn) -> None:
        self.conns.discard(conn)
        assert self._room is not None
        self._room.set()

    def enter(self, conn: Conn, state: str) -> None:
        conn.state, conn.since = state, asyncio.get_running_loop().time()
        if state in EVICTABLE:
            assert self._room is not None
            self._room.set()


async def wait_for_client(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    """Wait for a client to connect without accepting it yet."""
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(sock.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())
