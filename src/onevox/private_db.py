"""What onevox's own SQLite files (the history, the learned vocabulary) share: made private before SQLite
creates them, and switched to WAL in a way that survives two processes opening the same file at once."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from onevox import paths


def prepare_private_file(path: Path) -> None:
    """Create the folder (0700) and the file (0600) before SQLite does, so they are private from the start;
    an existing file others may read is made private. OSError for the caller to word."""
    parent = path.parent
    if not parent.exists() or parent == paths.data_dir():
        paths.ensure_private_dir(parent)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)


def use_wal(conn: sqlite3.Connection, timeout_s: float) -> bool:
    """Switch the file to WAL (once per file; a no-op after); False where it cannot (e.g. a filesystem
    without shared memory). SQLite does not wait for the busy timeout on this switch: with another process
    opening the same file at that moment it fails at once with "database is locked", so it is retried here
    for as long as the busy timeout would have waited."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower() == "wal"
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)
