"""Unix socket file handling shared by the server, the client and the daemon lifecycle: a private bind,
stale-socket detection and the peer's user id."""

from __future__ import annotations

import logging
import os
import socket
import stat
import struct
from pathlib import Path

from onevox import paths
from onevox.errors import IpcError

log = logging.getLogger(__name__)

# sun_path is 108 bytes on Linux, including the terminating NUL
MAX_SOCKET_PATH_BYTES = 107
_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


def check_socket_path(path: Path) -> None:
    size = len(os.fsencode(path))
    if size > MAX_SOCKET_PATH_BYTES:
        raise IpcError(f"socket path is {size} bytes, longer than the {MAX_SOCKET_PATH_BYTES} Unix sockets "
                       f"allow: {path}; set [daemon] socket to a shorter path", code="bad_socket_path")


def prepare_socket_dir(folder: Path) -> None:
    """Make the socket's folder private (0700). A folder that already exists and is shared (sticky, like /tmp)
    or belongs to someone else is left alone: the socket's own 0600 mode and the peer check still hold."""
    if folder.exists():
        info = folder.stat()
        if info.st_uid != os.getuid() or info.st_mode & stat.S_ISVTX:
            log.warning("socket folder %s is shared; relying on the socket's mode and peer checks", folder)
            return
    try:
        paths.ensure_private_dir(folder)
    except OSError as exc:
        raise IpcError(f"cannot create the socket folder {folder}: {exc.strerror or exc}",
                       code="bad_socket_path") from exc


def socket_is_live(path: Path, timeout: float = 1.0) -> bool:
    """True when something accepts connections at `path`; False when nothing listens there any more."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(timeout)
    try:
        probe.connect(os.fspath(path))
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except TimeoutError:
        return True  # a listener whose backlog is full is still alive
    except OSError as exc:
        message = f"cannot check the socket {path}: {exc.strerror or exc}"
        raise IpcError(message, code="bad_socket_path") from exc
    finally:
        probe.close()
    return True


def remove_stale_socket(path: Path) -> bool:
    """Remove a socket file nobody listens on (left by a killed daemon). True when one was removed. Raises
    IpcError when a live daemon owns it or the path is not a socket (never delete a user's file)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISSOCK(info.st_mode):
        raise IpcError(f"{path} exists and is not a socket; remove it or set [daemon] socket to another path",
                       code="bad_socket_path")
    if socket_is_live(path):
        raise IpcError(f"another onevox daemon is already listening on {path}; stop it with `onevox stop`",
                       code="in_use")
    path.unlink(missing_ok=True)
    log.info("removed stale socket %s", path)
    return True


def bind_private_socket(path: Path, backlog: int = 64) -> tuple[socket.socket, int]:
    """A listening, non-blocking Unix socket at `path`, mode 0600 from the moment it exists.
    Returns the socket and the inode of its file (so only our own file is removed on stop)."""
    check_socket_path(path)
    prepare_socket_dir(path.parent)
    remove_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # the umask makes bind() create the file 0600, so there is no moment in which another user could connect
    old_umask = os.umask(0o177)
    try:
        sock.bind(os.fspath(path))
    except OSError as exc:
        sock.close()
        raise IpcError(f"cannot listen on {path}: {exc.strerror or exc}", code="bad_socket_path") from exc
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    sock.listen(backlog)
    sock.setblocking(False)
    return sock, os.stat(path).st_ino


def remove_own_socket(path: Path, inode: int) -> None:
    """Unlink `path` only if it is still the socket we bound (a newer daemon may have replaced it)."""
    try:
        if os.lstat(path).st_ino == inode:
            path.unlink()
    except FileNotFoundError:
        pass


def peer_uid(sock: socket.socket) -> int:
    """The user id of the process at the other end of a connected Unix socket (SO_PEERCRED)."""
    return peer_credentials(sock)[1]


def peer_credentials(sock: socket.socket) -> tuple[int, int]:
    """(pid, uid) of the process that connected a Unix socket (SO_PEERCRED)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    pid, uid, _gid = _UCRED.unpack(raw)
    return int(pid), int(uid)

