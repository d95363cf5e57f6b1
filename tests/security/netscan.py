"""What a process has open, read from /proc: its socket inodes, and which of them are network sockets.

/proc/<pid>/net/{tcp,tcp6,udp,udp6,raw,raw6} list every socket of the process's network namespace with its
inode; /proc/<pid>/fd links name the process's own ones ("socket:[inode]"). A process with no inode in the
network tables has no TCP/UDP/raw socket at all: not listening, not connected.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

NET_TABLES = ("tcp", "tcp6", "udp", "udp6", "raw", "raw6")
_SOCKET = re.compile(r"socket:\[(\d+)\]")


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            match = _SOCKET.fullmatch(os.readlink(fd))
        except FileNotFoundError:  # closed while we looked
            continue
        if match:
            inodes.add(int(match.group(1)))
    return inodes


def network_sockets(pid: int) -> dict[int, str]:
    """inode -> "table local_address state" for every network socket in the process's namespace."""
    found: dict[int, str] = {}
    for table in NET_TABLES:
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            cols = line.split()
            if len(cols) > 9:
                found[int(cols[9])] = f"{table} {cols[1]} state {cols[3]}"
    return found


def unix_socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for line in Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 7:
            inodes.add(int(cols[6]))
    return inodes


def network_sockets_of(pid: int) -> list[str]:
    """The process's own TCP/UDP/raw sockets (empty when it has none)."""
    table = network_sockets(pid)
    return [table[inode] for inode in socket_inodes(pid) if inode in table]
