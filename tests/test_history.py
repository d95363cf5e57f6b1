"""History: SQLite storage of dictations, privacy of the file, search, export, pruning and failures."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from onevox.history import INTERRUPTED_NOTE, SCHEMA_VERSION, History, HistoryEntry, HistoryError


@pytest.fixture
def store(tmp_path: Path):
    h = History(tmp_path / "data" / "history.sqlite3", max_entries=100)
    yield h
    h.close()


def _entry(text: str, **kw) -> HistoryEntry:
    return HistoryEntry(text=text, raw_text=kw.pop("raw_text", text.lower()), audio_s=1.5, model="tiny.en",
                        timings={"inference": 42.0}, **kw)


def test_add_then_mark_injected(store: History) -> None:
    entry_id = store.add(_entry("Hello world."))
    pending = store.get(entry_id)
    assert pending is not None and pending.status == "pending" and pending.method == ""
    assert pending.text == "Hello world." and pending.raw_text == "hello world."
    assert pending.timings == {"inference": 42.0} and pending.model == "tiny.en" and pending.audio_s == 1.5
    store.mark_injected(entry_id, "paste")
    done = store.get(entry_id)
    assert done is not None and done.status == "injected" and done.method == "paste" and done.error == ""


def test_mark_failed_and_not_injected_keep_the_reason(store: History) -> None:
    a, b = store.add(_entry("a")), store.add(_entry("b"))
    store.mark_failed(a, "no display")
    store.mark_not_injected(b, "cancelled")
    first, second = store.get(a), store.get(b)
    assert first is not None and (first.status, first.error) == ("failed", "no display")
    assert second is not None and (second.status, second.error) == ("not_injected", "cancelled")


def test_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "history.sqlite3"
    with History(path) as h:
        h.add(_entry("secret"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    for extra in path.parent.iterdir():
        assert stat.S_IMODE(os.stat(extra).st_mode) & 0o077 == 0, extra


def test_list_is_newest_first_with_offset(store: History) -> None:
    for i in range(5):
        store.add(_entry(f"text {i}"))
    assert [e.text for e in store.list(3)] == ["text 4", "text 3", "text 2"]
    assert [e.text for e in store.list(3, offset=3)] == ["text 1", "text 0"]
    last = store.last()
    assert last is not None and last.text == "text 4"
    assert store.count() == 5


def test_prunes_the_oldest_beyond_max_entries(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3", max_entries=3) as h:
        for i in range(7):
            h.add(_entry(f"n{i}"))
        assert [e.text for e in h.list(10)] == ["n6", "n5", "n4"]
        assert h.search("n1") == []


def test_zero_max_entries_keeps_everything(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3", max_entries=0) as h:
        for i in range(20):
            h.add(_entry(f"n{i}"))
        assert h.count() == 20


@pytest.mark.parametrize("fts", [True, False])
def test_search_finds_every_word_case_insensitively(store: History, fts: bool) -> None:
    if not fts:
        store.has_fts = False  # the LIKE fallback used when SQLite lacks FTS5
    store.add(_entry("Send the quarterly report to Anna."))
    store.add(_entry("Naïve café meeting at noon"))
    store.add(_entry("100% sure_thing"))
    assert [e.text for e in store.search("REPORT anna")] == ["Send the quarterly report to Anna."]
    assert [e.text for e in store.search("café")] == ["Naïve café meeting at noon"]
    assert store.search("report noon") == []
    assert store.search("   ") == []
    assert [e.text for e in store.search("quart")] == ["Send the quarterly report to Anna."]
    assert [e.text for e in store.search("100%")] == ["100% sure_thing"]
    assert store.search('"') == []


def test_fts_index_follows_deletes(store: History) -> None:
    assert store.has_fts
    entry_id = store.add(_entry("ephemeral words"))
    assert store.delete(entry_id)
    assert store.search("ephemeral") == []
    assert not store.delete(entry_id)


def test_clear_removes_everything(store: History) -> None:
    for i in range(3):
        store.add(_entry(f"t{i}"))
    assert store.clear() == 3
    assert store.count() == 0 and store.list() == [] and store.search("t0") == []


def test_export_formats_round_trip(store: History) -> None:
    store.add(_entry("first, with a comma"))
    second = store.add(_entry('second "quoted"\nline 🙂'))
    store.mark_injected(second, "type")

    def export(fmt: str) -> str:
        out = io.StringIO()
        assert store.export(fmt, out) == 2
        return out.getvalue()

    as_json = json.loads(export("json"))
    assert [e["text"] for e in as_json] == ["first, with a comma", 'second "quoted"\nline 🙂']
    assert as_json[1]["method"] == "type" and as_json[1]["status"] == "injected" and "created" in as_json[1]
    lines = [json.loads(line) for line in export("jsonl").splitlines()]
    assert [e["id"] for e in lines] == [e["id"] for e in as_json]
    rows = list(csv.DictReader(io.StringIO(export("csv"))))
    assert rows[1]["text"] == 'second "quoted"\nline 🙂'
    assert json.loads(rows[0]["timings"]) == {"inference": 42.0}
    txt = export("txt")
    assert "first, with a comma" in txt and txt.count("[") == 2


def test_export_of_an_empty_history_is_valid(store: History) -> None:
    out = io.StringIO()
    assert store.export("json", out) == 0 and json.loads(out.getvalue()) == []


def test_unknown_export_format_is_a_clear_error(store: History) -> None:
    with pytest.raises(HistoryError, match="unknown export format 'xml'"):
        store.export("xml", io.StringIO())


def test_schema_version_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    History(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    History(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(HistoryError, match="newer onevox"):
        History(path)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(HistoryError, match="damaged"):
        History(path)


def test_a_folder_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(HistoryError, match="cannot create history database"):
        History(blocker / "h.sqlite3")


def test_a_locked_database_raises_history_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import onevox.history as history_module

    monkeypatch.setattr(history_module, "BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "h.sqlite3"
    with History(path) as h:
        blocker = sqlite3.connect(path)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(HistoryError, match="locked"):
                h.add(_entry("waits"))
        finally:
            blocker.rollback()
            blocker.close()
        assert h.add(_entry("works again")) > 0


def test_a_readonly_database_raises_history_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    History(path).close()
    with History(path) as h:
        h._conn.execute("PRAGMA query_only = ON")  # read-only, as a read-only mount would be (we are root)
        with pytest.raises(HistoryError, match="read-only"):
            h.add(_entry("nope"))


def test_two_handles_share_the_file(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with History(path) as writer, History(path) as reader:
        writer.add(_entry("from the daemon"))
        last = reader.last()
        assert last is not None and last.text == "from the daemon"


def test_concurrent_adds_from_threads(store: History) -> None:
    def add_many(t: int) -> None:
        for i in range(25):
            store.add(_entry(f"{t}-{i}"))

    threads = [threading.Thread(target=add_many, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count() == 100


def test_a_full_disk_raises_history_error(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        pages = h._conn.execute("PRAGMA page_count").fetchone()[0]
        h._conn.execute(f"PRAGMA max_page_count = {pages + 1}")  # what a full disk looks like to SQLite
        with pytest.raises(HistoryError, match="no space left"):
            for _ in range(50):
                h.add(_entry("x" * 20_000))


def test_resolve_interrupted_marks_what_an_earlier_process_left_pending(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with History(path) as killed:  # a daemon that died between add() and mark_*()
        done = killed.add(_entry("typed"))
        killed.mark_injected(done, "paste")
        lost = killed.add(_entry("Never typed because of the crash."))
    with History(path) as daemon:
        own = daemon.add(_entry("in flight in this daemon"))
        assert daemon.resolve_interrupted() == 1
        assert daemon.resolve_interrupted() == 0
        entry = daemon.get(lost)
        assert entry is not None and (entry.status, entry.error) == ("interrupted", INTERRUPTED_NOTE)
        assert [e.id for e in daemon.search("crash")] == [lost]
        assert [(e.id, e.status) for e in daemon.list()] == [
            (own, "pending"), (lost, "interrupted"), (done, "injected")]


def test_opening_the_history_leaves_a_running_daemons_entry_pending(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with History(path) as daemon:
        in_flight = daemon.add(_entry("being typed right now"))
        with History(path) as cli:  # `onevox history list` while the daemon injects
            assert [e.status for e in cli.list()] == ["pending"]
        assert daemon.resolve_interrupted() == 0  # its own entries are not from an earlier process
        daemon.mark_injected(in_flight, "paste")
        assert [e.status for e in daemon.list()] == ["injected"]


_SCHEMA_1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (1);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created_at REAL NOT NULL, text TEXT NOT NULL,
    raw_text TEXT NOT NULL DEFAULT '', audio_s REAL NOT NULL DEFAULT 0, model TEXT NOT NULL DEFAULT '',
    timings TEXT NOT NULL DEFAULT '{}', method TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'injected', 'failed', 'not_injected')),
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX entries_created ON entries (created_at);
CREATE VIRTUAL TABLE entries_fts USING fts5(text, content='entries', content_rowid='id');
CREATE TRIGGER entries_ai AFTER INSERT ON entries BEGIN
    INSERT INTO entries_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN
    INSERT INTO entries_fts (entries_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
INSERT INTO entries (created_at, text, status) VALUES (1.0, 'Old injected words', 'injected');
INSERT INTO entries (created_at, text) VALUES (2.0, 'Old words a killed daemon left pending');
INSERT INTO entries (created_at, text) VALUES (3.0, 'Deleted newest words');
DELETE FROM entries WHERE id = 3;
"""


def test_a_version_1_file_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(_SCHEMA_1)
    conn.close()
    with History(path) as h:
        assert [(e.id, e.text, e.status) for e in h.list()] == [
            (2, "Old words a killed daemon left pending", "pending"), (1, "Old injected words", "injected")]
        assert h.resolve_interrupted() == 1  # the old CHECK constraint would refuse this status
        assert [e.id for e in h.search("killed")] == [2]
        new = h.add(_entry("New words after the upgrade"))
        assert new == 4  # id 3 was used and deleted: never handed out again
        assert [e.id for e in h.search("upgrade")] == [new]
        assert h.delete(new) and h.search("upgrade") == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        table = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'entries'").fetchone()[0]
        assert "'interrupted'" in table
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO entries_fts (entries_fts) VALUES ('integrity-check')")
    conn.close()


def test_two_processes_opening_a_version_1_file_at_once_both_work(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(_SCHEMA_1)
    conn.close()
    handles: list[History] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            handles.append(History(path))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(handles) == 4
    assert all(h.count() == 2 for h in handles)
    for h in handles:
        h.close()


def test_the_language_is_kept_with_each_entry(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        detected = h.add(_entry("Die Werbung vermittelt einen falschen Eindruck.", language="de",
                                language_prob=0.998))
        given = h.add(_entry("Fixed language", language="en"))
        assert (h.get(detected).language, h.get(detected).language_prob) == ("de", 0.998)
        assert (h.get(given).language, h.get(given).language_prob) == ("en", None)
        assert h.get(detected).to_dict()["language"] == "de"


def test_a_version_2_file_gets_the_language_columns(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(_SCHEMA_1.replace("VALUES (1)", "VALUES (2)"))
    conn.close()
    with History(path) as h:
        old = h.list()
        assert [(e.id, e.language, e.language_prob) for e in old] == [(2, "", None), (1, "", None)]
        new = h.add(_entry("Neue Wörter", language="de", language_prob=0.9))
        assert h.get(new).language == "de" and [e.id for e in h.search("Wörter")] == [new]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    conn.close()
