"""Every dictation, kept in a local SQLite database so that no text is ever lost.

The daemon adds an entry BEFORE it injects the text (status "pending"), then marks it injected or failed: if
the paste goes wrong, or the machine dies half-way, the words are still here (`onevox history last --copy`).
An entry a killed daemon left "pending" becomes "interrupted" when the next daemon starts
(`History.resolve_interrupted`). The file is private (0600, in a 0700 folder) and never leaves the machine.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from onevox.errors import OnevoxError
from onevox.history_export import EXPORT_FORMATS, export_entries
from onevox.private_db import prepare_private_file, use_wal

# 2: status may be "interrupted" (the CHECK constraint of version 1 refuses it)
# 3: the language the dictation was decoded in and the detection's probability (added columns)
# 4: the edit command a dictation was ("scratch", "enter", "tab"; '' for text)
SCHEMA_VERSION = 4
STATUSES = ("pending", "injected", "failed", "not_injected", "interrupted")
INTERRUPTED_NOTE = "the daemon stopped before this text was injected"
BUSY_TIMEOUT_MS = 2000

_V2_COLUMNS = "id, created_at, text, raw_text, audio_s, model, timings, method, status, error"
_COLUMNS = _V2_COLUMNS + ", language, language_prob, command"
_ADDED_COLUMNS = (("language", "TEXT NOT NULL DEFAULT ''"), ("language_prob", "REAL"),
                  ("command", "TEXT NOT NULL DEFAULT ''"))
_FTS_COLUMNS = ", ".join("e." + c.strip() for c in _COLUMNS.split(","))
_CREATE_ENTRIES = f"""
CREATE TABLE entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    text TEXT NOT NULL,
    raw_text TEXT NOT NULL DEFAULT '',
    audio_s REAL NOT NULL DEFAULT 0,
    model TEXT NOT NULL DEFAULT '',
    timings TEXT NOT NULL DEFAULT '{{}}',
    method TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ({", ".join(repr(s) for s in STATUSES)})),
    error TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    language_prob REAL,
    command TEXT NOT NULL DEFAULT ''
)"""
_CREATE_INDEX = "CREATE INDEX IF NOT EXISTS entries_created ON entries (created_at)"
# Full-text index kept in step with `entries` by triggers (only when this SQLite has FTS5).
_FTS_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS entries_ai AFTER INSERT ON entries BEGIN
    INSERT INTO entries_fts (rowid, text) VALUES (new.id, new.text);
END""",
    """CREATE TRIGGER IF NOT EXISTS entries_ad AFTER DELETE ON entries BEGIN
    INSERT INTO entries_fts (entries_fts, rowid, text) VALUES ('delete', old.id, old.text);
END""",
)
_FTS_TABLE = ("CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts "
              "USING fts5(text, content='entries', content_rowid='id')")


class HistoryError(OnevoxError):
    """The history database cannot be read or written (locked, read-only, disk full, corrupt)."""


@dataclass(frozen=True)
class HistoryEntry:
    text: str  # the text as typed into the window (after post-processing)
    raw_text: str = ""  # what the model said, before post-processing
    audio_s: float = 0.0  # seconds of audio in the dictation
    model: str = ""  # model name or path that produced the text
    timings: dict[str, float] = field(default_factory=dict)  # per-stage milliseconds
    created_at: float = field(default_factory=time.time)  # Unix time the dictation ended
    id: int = 0  # assigned by History.add
    method: str = ""  # injection method that delivered it ('' until injected)
    status: str = "pending"  # pending | injected | failed | not_injected | interrupted
    error: str = ""  # why it was not injected
    language: str = ""  # Whisper code the text was decoded in ('' for entries older than schema 3)
    language_prob: float | None = None  # the detection's probability; None when the language was given
    command: str = ""  # an edit command ("scratch", "enter", "tab"): status injected = done, not_injected =
    # refused (error says why); '' for a dictation of text

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created"] = datetime.fromtimestamp(self.created_at).isoformat(timespec="seconds")
        return data


class History:
    """A thread-safe handle on the history database (one connection, serialised by a lock)."""

    def __init__(self, path: Path, max_entries: int = 10000) -> None:
        self.path = Path(path)
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._conn = self._connect()
        self.has_fts = False
        with self._guard("open"):
            self._init_schema()
            # every entry up to here was written before this handle existed (AUTOINCREMENT never reuses an id)
            self._last_id_at_open = int(self._conn.execute("SELECT MAX(id) FROM entries").fetchone()[0] or 0)

    # -- writing ------------------------------------------------------------------------------------------

    def add(self, entry: HistoryEntry) -> int:
        """Store a dictation (status "pending") and return its id; prunes beyond max_entries."""
        with self._guard("save the dictation to"), self._conn:
            cur = self._conn.execute(
                "INSERT INTO entries (created_at, text, raw_text, audio_s, model, timings, status, language, "
                "language_prob, command) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                (entry.created_at, entry.text, entry.raw_text, entry.audio_s, entry.model,
                 json.dumps(entry.timings), entry.language, entry.language_prob, entry.command),
            )
            entry_id = int(cur.lastrowid or 0)
            if self.max_entries > 0:
                self._conn.execute(
                    "DELETE FROM entries WHERE id <= "
                    "(SELECT id FROM entries ORDER BY id DESC LIMIT 1 OFFSET ?)", (self.max_entries,))
        return entry_id

    def mark_injected(self, entry_id: int, method: str) -> None:
        self._set_status(entry_id, "injected", method=method, error="")

    def mark_failed(self, entry_id: int, error: str) -> None:
        self._set_status(entry_id, "failed", error=error)

    def mark_not_injected(self, entry_id: int, reason: str = "") -> None:
        self._set_status(entry_id, "not_injected", error=reason)

    def resolve_interrupted(self) -> int:
        """Mark the entries still "pending" from before this handle was opened as "interrupted" (with
        INTERRUPTED_NOTE as the error) and return how many. For the daemon, once at start: it is then the
        only writer (the instance lock), so a pending entry belongs to a daemon that died before it could
        mark it. Never called by the CLI, which would also catch the running daemon's dictation in flight."""
        with self._guard("update"), self._conn:
            return self._conn.execute(
                "UPDATE entries SET status = 'interrupted', error = ? WHERE status = 'pending' AND id <= ?",
                (INTERRUPTED_NOTE, self._last_id_at_open)).rowcount

    def delete(self, entry_id: int) -> bool:
        with self._guard("delete from"), self._conn:
            return self._conn.execute("DELETE FROM entries WHERE id = ?", (entry_id,)).rowcount > 0

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        with self._guard("clear"), self._conn:
            count = self._conn.execute("DELETE FROM entries").rowcount
        with self._guard("clear"):
            self._conn.execute("VACUUM")  # really remove the text from the file (and the WAL below)
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count

    # -- reading ------------------------------------------------------------------------------------------

    def list(self, limit: int = 20, offset: int = 0) -> builtins.list[HistoryEntry]:
        """Newest first."""
        return self._query(f"SELECT {_COLUMNS} FROM entries ORDER BY id DESC LIMIT ? OFFSET ?",
                           (limit, offset))

    def get(self, entry_id: int) -> HistoryEntry | None:
        rows = self._query(f"SELECT {_COLUMNS} FROM entries WHERE id = ?", (entry_id,))
        return rows[0] if rows else None

    def last(self) -> HistoryEntry | None:
        rows = self.list(limit=1)
        return rows[0] if rows else None

    def count(self) -> int:
        with self._guard("read"):
            return int(self._conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def search(self, query: str, limit: int = 50) -> builtins.list[HistoryEntry]:
        """Entries whose text contains every word of `query` (word prefixes with FTS5), newest first."""
        words = query.split()
        if not words:
            return []
        if self.has_fts and all(any(ch.isalnum() for ch in w) for w in words):
            match = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
            sql = (f"SELECT {_FTS_COLUMNS} FROM entries e JOIN entries_fts f ON f.rowid = e.id "
                   "WHERE entries_fts MATCH ? ORDER BY e.id DESC LIMIT ?")
            return self._query(sql, (match, limit))
        where = " AND ".join("text LIKE ? ESCAPE '\\'" for _ in words)
        like = [f"%{_escape_like(w)}%" for w in words]
        return self._query(f"SELECT {_COLUMNS} FROM entries WHERE {where} ORDER BY id DESC LIMIT ?",
                           (*like, limit))

    def iter_all(self) -> Iterator[HistoryEntry]:
        """Oldest first, read in pages so a large history does not sit in memory."""
        last_id = 0
        while True:
            page = self._query(f"SELECT {_COLUMNS} FROM entries WHERE id > ? ORDER BY id LIMIT 500",
                               (last_id,))
            if not page:
                return
            yield from page
            last_id = page[-1].id

    def export(self, fmt: str, out: TextIO) -> int:
        """Write every entry to `out` as json, jsonl, csv or txt; returns how many were written."""
        if fmt not in EXPORT_FORMATS:
            raise HistoryError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
        return export_entries(fmt, self.iter_all(), out)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        _prepare_file(self.path)
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
                                   isolation_level="DEFERRED")
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open history database {self.path}: {exc}") from exc
        return conn

    def _init_schema(self) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not use_wal(conn, BUSY_TIMEOUT_MS / 1000):
            conn.execute("PRAGMA journal_mode = DELETE")  # e.g. a filesystem without shared memory
        conn.execute("PRAGMA synchronous = NORMAL")
        version = self._schema_version()
        self._check_version(version)
        if version < SCHEMA_VERSION or not self._table_exists("entries"):
            self._upgrade()
        self.has_fts = self._try_fts()

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise HistoryError(f"history database {self.path} was written by a newer onevox (schema "
                               f"{version}, this one reads {SCHEMA_VERSION}); upgrade onevox or set "
                               "[history] path")

    def _upgrade(self) -> None:
        """Create the tables, or bring an older file to SCHEMA_VERSION, in one transaction. IMMEDIATE takes
        the write lock first, so of two processes opening an old file at once one upgrades, the other waits
        and then finds nothing left to do."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = self._schema_version()
            self._check_version(version)
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            if not self._table_exists("entries"):
                conn.execute(_CREATE_ENTRIES)
            elif version < 2:
                self._rebuild_entries()
            else:
                self._add_missing_columns()
            conn.execute(_CREATE_INDEX)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise

    def _rebuild_entries(self) -> None:
        """Re-create `entries` with this version's definition (SQLite cannot alter a CHECK constraint). The
        ids stay the same, so the full-text index, which refers to them, stays valid; its triggers went with
        the old table and come back in this transaction: no insert from another process misses the index."""
        conn = self._conn
        seq = conn.execute("SELECT MAX(seq) FROM sqlite_sequence WHERE name = 'entries'").fetchone()[0]
        conn.execute(f"CREATE TEMP TABLE entries_old AS SELECT {_V2_COLUMNS} FROM entries")
        conn.execute("DROP TABLE entries")
        conn.execute(_CREATE_ENTRIES)
        conn.execute(f"INSERT INTO entries ({_V2_COLUMNS}) SELECT {_V2_COLUMNS} FROM entries_old")
        conn.execute("DROP TABLE temp.entries_old")
        if seq is not None:  # the ids of deleted newest entries must not be handed out again
            conn.execute("DELETE FROM sqlite_sequence WHERE name = 'entries'")
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('entries', ?)", (seq,))
        if self._table_exists("entries_fts"):
            for trigger in _FTS_TRIGGERS:
                conn.execute(trigger)

    def _add_missing_columns(self) -> None:
        """Schema 2 to 3 and 4: new columns only, so ALTER TABLE does it in place (old entries get their
        defaults: '' and NULL)."""
        have = {row[1] for row in self._conn.execute("PRAGMA table_info(entries)")}
        for name, definition in _ADDED_COLUMNS:
            if name not in have:
                self._conn.execute(f"ALTER TABLE entries ADD COLUMN {name} {definition}")

    def _table_exists(self, name: str) -> bool:
        return self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None

    def _schema_version(self) -> int:
        if not self._table_exists("schema_version"):
            return 0
        row = self._conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def _try_fts(self) -> bool:
        had_index = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'entries_fts'").fetchone() is not None
        try:
            with self._conn:
                for statement in (_FTS_TABLE, *_FTS_TRIGGERS):
                    self._conn.execute(statement)
                if not had_index:  # an older file without the index: fill it once
                    self._conn.execute("INSERT INTO entries_fts (entries_fts) VALUES ('rebuild')")
        except sqlite3.OperationalError:
            return False  # this SQLite was built without FTS5: search falls back to LIKE
        return True

    def _set_status(self, entry_id: int, status: str, *, method: str | None = None, error: str) -> None:
        with self._guard("update"), self._conn:
            if method is None:
                self._conn.execute("UPDATE entries SET status = ?, error = ? WHERE id = ?",
                                   (status, error, entry_id))
            else:
                self._conn.execute("UPDATE entries SET status = ?, method = ?, error = ? WHERE id = ?",
                                   (status, method, error, entry_id))

    def _query(self, sql: str, params: tuple[Any, ...]) -> builtins.list[HistoryEntry]:
        with self._guard("read"):
            rows = self._conn.execute(sql, params).fetchall()
        return [_row_to_entry(row) for row in rows]

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Serialise access and turn SQLite failures into a HistoryError a user can act on."""
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise HistoryError(f"cannot {action} history database {self.path}: {_explain(exc)}") from exc


def _prepare_file(path: Path) -> None:
    try:
        prepare_private_file(path)
    except OSError as exc:
        raise HistoryError(f"cannot create history database {path}: {exc.strerror or exc}") from exc


def _explain(exc: sqlite3.Error) -> str:
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return f"{text} (another program holds it; try again, or close it)"
    if "readonly" in low or "read-only" in low:
        return f"{text} (the file or its folder is read-only; fix permissions or set [history] path)"
    if "full" in low:
        return f"{text} (no space left on the disk; free some or set [history] max_entries lower)"
    if "not a database" in low or "malformed" in low:
        return f"{text} (the file is damaged; move it away and onevox starts a new one)"
    return text


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _row_to_entry(row: tuple[Any, ...]) -> HistoryEntry:
    entry_id, created_at, text, raw_text, audio_s, model, timings, method, status, error, lang, prob, cmd = (
        row)
    try:
        parsed = json.loads(timings) if timings else {}
    except ValueError:
        parsed = {}
    return HistoryEntry(id=entry_id, created_at=created_at, text=text, raw_text=raw_text, audio_s=audio_s,
                        model=model, timings=parsed, method=method or "", status=status, error=error or "",
                        language=lang or "", language_prob=prob, command=cmd or "")
