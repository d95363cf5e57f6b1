"""The history database locked by another process, on a file system gone read-only, or on a full disk: every
dictation is still delivered, the failure is reported (error event, status.last_error), and the database is
usable again once the fault is gone. Real History on real file systems; mic, model and window are doubles."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from onevox.history import History
from tests.daemon.doubles import FakeInjector
from tests.faults.conftest import fault_config, start_daemon

HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
"""


def _entries(path: Path) -> list[tuple[str, str]]:
    history = History(path, 100)
    try:
        return [(e.text, e.status) for e in reversed(history.list(limit=10))]
    finally:
        history.close()


def _fill(path: Path) -> None:
    """Write zeros to `path` until the file system has no block left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(fd)


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_a_locked_history_still_delivers_the_text(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    injector = FakeInjector()
    run = start_daemon(fault_config(tmp_path, db), ["first", "second", "third"], injector=injector)
    holder = None
    try:
        run.dictate(1)
        holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        run.dictate(2)
        error = run.log.wait_for("error", lambda e: e.get("stage") == "history")
        assert "locked" in error["message"] and error["fatal"] is False
        assert injector.texts[-1] == "Second"  # delivered all the same
        status = run.daemon.commands.status()
        assert status["last_error"].startswith("history:") and status["state"] == "idle"
        holder.communicate("", timeout=10)  # the other program lets go
        run.dictate(3)
        assert run.daemon.commands.status()["last_error"] == ""  # the history works again
    finally:
        if holder is not None and holder.poll() is None:
            holder.kill()
            holder.wait()
        run.close()
    assert injector.texts == ["First", "Second", "Third"]
    assert _entries(db) == [("First", "injected"), ("Third", "injected")]
    assert _integrity(db) == "ok"


def test_a_read_only_file_system_still_delivers_the_text(tmp_path: Path, small_fs: Path) -> None:
    # Linux refuses to remount a file system read-only while a file on it is open for writing, so the
    # database goes read-only between two runs (a full disk mid-run is the test below)
    db = small_fs / "history.sqlite3"
    run = start_daemon(fault_config(tmp_path, db), ["first"], injector=FakeInjector())
    try:
        run.dictate(1)
    finally:
        run.close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    injector = FakeInjector()
    run = start_daemon(fault_config(tmp_path, db), ["second", "third"], injector=injector)
    try:
        status = run.daemon.commands.status()
        assert status["history"] is False
        assert status["last_error"].startswith("history:") and "Read-only" in status["last_error"]
        run.dictate(1)
        run.dictate(2)
    finally:
        run.close()
        subprocess.run(["mount", "-o", "remount,rw", str(small_fs)], check=True)
    assert injector.texts == ["Second", "Third"]
    assert _entries(db) == [("First", "injected")]
    assert _integrity(db) == "ok"


def test_a_full_disk_still_delivers_the_text(tmp_path: Path, small_fs: Path) -> None:
    db = small_fs / "history.sqlite3"
    injector = FakeInjector()
    long_text = "a sentence that fills the page " * 200  # several database pages
    run = start_daemon(fault_config(tmp_path, db), ["first", long_text, "third"], injector=injector)
    filler = small_fs / "filler"
    try:
        run.dictate(1)
        _fill(filler)
        run.dictate(2)
        error = run.log.wait_for("error", lambda e: e.get("stage") == "history")
        assert "full" in error["message"] or "space" in error["message"]
        assert injector.texts[-1].startswith("A sentence that fills the page")
        filler.unlink()
        run.dictate(3)
        assert run.daemon.commands.status()["last_error"] == ""  # room again, and the entry was stored
    finally:
        filler.unlink(missing_ok=True)
        run.close()
    assert len(injector.texts) == 3
    texts = [text for text, _status in _entries(db)]
    assert texts[0] == "First" and texts[-1] == "Third"
    assert _integrity(db) == "ok"
