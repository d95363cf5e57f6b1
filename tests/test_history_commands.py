"""History schema 4: the edit command a dictation was. Older files gain the column in place."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from onevox.history import SCHEMA_VERSION, History, HistoryEntry

_SCHEMA_3 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (3);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created_at REAL NOT NULL, text TEXT NOT NULL,
    raw_text TEXT NOT NULL DEFAULT '', audio_s REAL NOT NULL DEFAULT 0, model TEXT NOT NULL DEFAULT '',
    timings TEXT NOT NULL DEFAULT '{}', method TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending', error TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '', language_prob REAL);
INSERT INTO entries (created_at, text, status, method, language)
    VALUES (1.0, 'old text ', 'injected', 'paste', 'en');
"""


def test_a_schema_3_file_gains_the_command_column(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(_SCHEMA_3)
    with History(path) as store:
        old = store.last()
        assert old is not None and old.command == "" and old.text == "old text "
        new_id = store.add(HistoryEntry(text="Scratch that. ", raw_text="Scratch that.", command="scratch"))
        store.mark_not_injected(new_id, "you pressed keys or clicked since (1 times)")
        entry = store.get(new_id)
        assert entry is not None and (entry.command, entry.status) == ("scratch", "not_injected")
        out = io.StringIO()
        store.export("jsonl", out)
        rows = [json.loads(line) for line in out.getvalue().splitlines()]
        assert [row["command"] for row in rows] == ["", "scratch"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    assert SCHEMA_VERSION == 4
