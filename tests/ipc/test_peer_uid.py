"""Another user is kept out twice: by the 0700 folder, and (if that were loosened) by the SO_PEERCRED check.

The client runs as uid/gid 65534 (nobody) in a forked child, so these tests need root; elsewhere they skip.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
from pathlib import Path

import pytest

from onevox.ipc.server import IpcServer
from tests.ipc.doubles import FakeController
from tests.support.as_user import NOBODY, run_as

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another user")

def _request_as(uid: int, path: Path) -> tuple[str, bytes]:
    """Connect and send `status` as `uid` from a forked child: ("reply", line) or ("errno", code)."""
    kind, _, body = run_as(uid, lambda: _child_request(path)).partition(b" ")
    return kind.decode(), body


def _child_request(path: Path) -> bytes:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(os.fspath(path))
            # a refused peer is answered and hung up on at once; the answer is still there to read
            with contextlib.suppress(BrokenPipeError):
                sock.sendall(b'{"v":1,"id":1,"cmd":"status"}\n')
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        return b"reply " + data
    except OSError as exc:
        return b"errno " + str(exc.errno).encode()


def test_private_folder_keeps_other_users_out(server: IpcServer, controller: FakeController) -> None:
    kind, body = _request_as(NOBODY, server.socket_path)
    assert (kind, int(body)) == ("errno", errno.EACCES)
    assert controller.calls == []


def test_peer_of_another_uid_is_refused(server: IpcServer, controller: FakeController) -> None:
    # loosen the file system layer on purpose: the peer credential check alone must refuse
    for folder in (server.socket_path.parent, server.socket_path.parent.parent):
        os.chmod(folder, 0o711)
    os.chmod(server.socket_path, 0o666)
    kind, body = _request_as(NOBODY, server.socket_path)
    assert kind == "reply", body
    reply = json.loads(body)
    assert reply["ok"] is False and reply["error"]["code"] == "forbidden"
    assert controller.calls == []
    assert server.stats()["refused_forbidden"] == 1


def test_own_uid_is_served_through_the_same_path(server: IpcServer, controller: FakeController) -> None:
    kind, body = _request_as(os.getuid(), server.socket_path)
    assert kind == "reply" and json.loads(body)["result"]["state"] == "idle"
