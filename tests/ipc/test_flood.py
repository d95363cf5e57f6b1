"""Connection floods from the user's own processes: `status` and the dictation commands must still answer,
and the number of open connections must never pass max_connections.

The flooding servers get long line and idle timeouts, so only eviction (not a timeout) can make room.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from onevox.daemon.events import EventBus
from onevox.errors import IpcError
from onevox.ipc import protocol as proto
from onevox.ipc.client import IpcClient
from onevox.ipc.server import IpcServer, ServerLimits
from tests.ipc.doubles import WAIT_S, FakeController, connect, request_line
from tests.support.waiting import wait_until

CONTROL = ("status", "toggle", "start_dictation", "stop_dictation", "cancel", "ping")
PATIENT = {"line_timeout_s": 60.0, "idle_timeout_s": 60.0}
HALF_A_REQUEST = b'{"v":1,"id":1,"cmd":"sta'


def _answer(path: Path, cmd: str) -> str:
    """The daemon's answer to `cmd`: "ok", or the error code it answered with."""
    try:
        IpcClient(path, timeout=WAIT_S).request(cmd)
    except IpcError as exc:
        return exc.code
    return "ok"


def _control_answers(path: Path) -> dict[str, str]:
    # the fake controller's cancel reports "nothing to cancel": an answer, as from the real one when idle
    return {cmd: _answer(path, cmd) for cmd in CONTROL}


ALL_ANSWERED = {**dict.fromkeys(CONTROL, "ok"), "cancel": proto.FAILED}


def _open(path: Path, kind: str) -> socket.socket:
    sock = connect(path)
    if kind == "partial":
        sock.sendall(HALF_A_REQUEST)
    elif kind == "subscribe":  # and never read: subscribed, or told busy
        sock.sendall(request_line(1, "subscribe"))
    elif kind == "served":  # one request answered, then idle
        sock.sendall(request_line(1, "ping"))
        assert sock.recv(4096).endswith(b"\n")
    return sock


@contextmanager
def _flood(path: Path, count: int, kind: str) -> Iterator[list[socket.socket]]:
    socks: list[socket.socket] = []
    try:
        socks.extend(_open(path, kind) for _ in range(count))
        yield socks
    finally:
        for sock in socks:
            sock.close()


def _kernel_sockets(path: Path) -> int:
    """Server-side sockets of `path` open in the kernel (state 03; 02 waits in the backlog), by inode: rows
    can repeat in a table that changes while it is read."""
    with open("/proc/net/unix") as table:
        rows = [row.split() for row in table]
    return len({row[6] for row in rows if row[-1] == str(path) and row[5] == "03"})


@pytest.mark.parametrize("kind", ["silent", "partial", "served"])
def test_commands_answer_while_more_than_max_connections_are_held(sock_dir: Path, controller: FakeController,
                                                                  kind: str) -> None:
    limits = ServerLimits(**PATIENT)
    flood = limits.max_connections + 16
    with IpcServer(sock_dir / "s.sock", controller.dispatch, limits=limits) as srv, \
            _flood(srv.socket_path, flood, kind):
        wait_until(lambda: srv.stats()["connections"] == flood)
        assert srv.stats()["open_connections"] == limits.max_connections
        assert _control_answers(srv.socket_path) == ALL_ANSWERED
        stats = srv.stats()
        assert stats["timed_out"] == 0 and stats["refused_busy"] == 0
        assert stats["evicted"] >= flood - limits.max_connections
        assert stats["peak_connections"] == limits.max_connections


def test_half_sent_request_is_closed_at_the_line_deadline(sock_dir: Path, controller: FakeController) -> None:
    limits = ServerLimits(line_timeout_s=0.2, idle_timeout_s=60.0)
    with IpcServer(sock_dir / "s.sock", controller.dispatch, limits=limits) as srv, \
            _flood(srv.socket_path, 3, "partial") as socks:
        for sock in socks:
            assert sock.recv(1) == b""  # hung up on, without an answer to the half line
        wait_until(lambda: srv.stats()["open_connections"] == 0)
        assert srv.stats()["timed_out"] == 3 and srv.stats()["requests"] == 0


def test_blank_lines_do_not_extend_the_line_deadline(sock_dir: Path, controller: FakeController) -> None:
    limits = ServerLimits(line_timeout_s=0.2, idle_timeout_s=60.0)
    with IpcServer(sock_dir / "s.sock", controller.dispatch, limits=limits) as srv, \
            connect(srv.socket_path, timeout=0.05) as sock:
        def hung_up() -> bool:
            try:
                sock.sendall(b"\n")
                return sock.recv(1) == b""
            except TimeoutError:
                return False
            except OSError:
                return True

        wait_until(hung_up, timeout=WAIT_S)
        assert srv.stats()["timed_out"] == 1


def test_subscriber_flood_leaves_room_for_commands(sock_dir: Path, controller: FakeController,
                                                   bus: EventBus) -> None:
    limits = ServerLimits(max_connections=8, max_subscribers=3, **PATIENT)
    with IpcServer(sock_dir / "s.sock", controller.dispatch, bus.subscribe, limits) as srv, \
            ExitStack() as held:
        subscribed = []
        for n in range(20):
            sock = held.enter_context(connect(srv.socket_path))
            sock.sendall(request_line(n, "subscribe"))
            reply = json.loads(sock.makefile("rb").readline())
            if reply["ok"]:
                subscribed.append(sock)
            else:  # told busy, and left idle: later newcomers may evict it
                assert reply["error"]["code"] == proto.BUSY
        assert len(subscribed) == 3
        assert srv.stats()["refused_busy"] == 17
        assert _control_answers(srv.socket_path) == ALL_ANSWERED
        assert srv.stats()["peak_connections"] == limits.max_connections
        wait_until(lambda: bus.subscriber_count == 3)
        bus.publish("state", state="recording")  # every subscriber is still there: none was evicted
        for sock in subscribed:
            assert json.loads(sock.makefile("rb").readline())["event"] == "state"


def test_newcomer_waits_for_a_slot_while_every_slot_runs_a_command(sock_dir: Path,
                                                                   controller: FakeController) -> None:
    limits = ServerLimits(max_connections=2, max_subscribers=0, **PATIENT)
    controller.gate.clear()
    with IpcServer(sock_dir / "s.sock", controller.dispatch, limits=limits) as srv, \
            ThreadPoolExecutor(3) as pool:
        toggles = [pool.submit(_answer, srv.socket_path, "toggle") for _ in range(2)]
        wait_until(lambda: controller.commands().count("toggle") == 2)
        status = pool.submit(_answer, srv.socket_path, "status")  # no slot: waits in the backlog
        controller.gate.set()
        assert status.result(WAIT_S) == "ok"  # never refused for want of a slot
        assert [t.result(WAIT_S) for t in toggles] == ["ok", "ok"]  # the slot was handed over after the reply
        assert srv.stats()["peak_connections"] == 2


def test_open_sockets_never_pass_the_cap(sock_dir: Path, controller: FakeController, bus: EventBus,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    limits = ServerLimits(max_connections=4, max_subscribers=1, **PATIENT)
    accepted: list[socket.socket] = []
    most_open = 0
    wrap = asyncio.open_unix_connection

    async def counting_wrap(*args: Any, sock: socket.socket, **kwargs: Any) -> Any:
        # runs for every accepted socket, right after accept(): the only moment the count can grow
        nonlocal most_open
        accepted.append(sock)
        most_open = max(most_open, sum(1 for each in accepted if each.fileno() != -1))
        return await wrap(*args, sock=sock, **kwargs)

    monkeypatch.setattr(asyncio, "open_unix_connection", counting_wrap)
    with IpcServer(sock_dir / "s.sock", controller.dispatch, bus.subscribe, limits) as srv, \
            _flood(srv.socket_path, 10, "partial"), _flood(srv.socket_path, 10, "served"), \
            _flood(srv.socket_path, 10, "subscribe"), _flood(srv.socket_path, 10, "silent"):
        assert _control_answers(srv.socket_path) == ALL_ANSWERED
        assert _kernel_sockets(srv.socket_path) <= limits.max_connections
    assert len(accepted) == 40 + len(CONTROL)
    assert most_open == limits.max_connections == srv.stats()["peak_connections"]


def test_peer_that_never_reads_its_replies_is_closed(sock_dir: Path, controller: FakeController) -> None:
    limits = ServerLimits(line_timeout_s=0.3, idle_timeout_s=60.0)
    with IpcServer(sock_dir / "s.sock", controller.dispatch, limits=limits) as srv, \
            connect(srv.socket_path, timeout=0.5) as sock:
        # far more replies than the socket buffers hold, so the server cannot hand them all over
        pipelined = b"".join(request_line(n, "ping") for n in range(20_000))
        with suppress(TimeoutError, OSError):
            sock.sendall(pipelined)
        wait_until(lambda: srv.stats()["open_connections"] == 0)
        assert srv.stats()["timed_out"] == 1
