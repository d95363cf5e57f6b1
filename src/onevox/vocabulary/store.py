"""The learned vocabulary's own SQLite file, beside the history database (whose schema is left alone).

Three tables: `corrections`, one per corrected history entry (the text onevox typed and the text the user
says was right: what `onevox history show` prints; deleted with the history entry), `rules`, one row per
substitution ever derived (its id is what `onevox vocabulary forget|accept` name), and `evidence`, which
correction showed which rule: a rule's support is its number of evidence rows, so correcting an entry again
replaces what its earlier correction taught, and what was learned outlives the words it was learned from.
A rule's row is never deleted: a forgotten rule keeps its row and so is never learned again.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from onevox.config import VocabularyConfig
from onevox.errors import OnevoxError
from onevox.private_db import prepare_private_file, use_wal
from onevox.text.learned import Rule, derive_rules

BUSY_TIMEOUT_MS = 5000
ACCEPTED = "accepted"
FORGOTTEN = "forgotten"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS corrections (history_id INTEGER PRIMARY KEY, original TEXT NOT NULL, "
    "corrected TEXT NOT NULL, created_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rules (id INTEGER PRIMARY KEY AUTOINCREMENT, wrong TEXT NOT NULL, "
    "right TEXT NOT NULL, decision TEXT NOT NULL DEFAULT '' "
    "CHECK (decision IN ('', 'accepted', 'forgotten')), created_at REAL NOT NULL, UNIQUE (wrong, right))",
    # which correction showed which rule: kept when a correction's text is deleted with its history entry
    "CREATE TABLE IF NOT EXISTS evidence (history_id INTEGER NOT NULL, rule_id INTEGER NOT NULL "
    "REFERENCES rules (id), PRIMARY KEY (history_id, rule_id))",
)


class VocabularyError(OnevoxError):
    """A correction or a rule that cannot be recorded or found."""


@dataclass(frozen=True)
class Correction:
    history_id: int
    original: str  # the text onevox typed
    corrected: str  # what the user says was right
    created_at: float


@dataclass(frozen=True)
class LearnedRule:
    id: int
    wrong: str  # the phrase as the model writes it (lower case)
    right: str  # the user's spelling
    support: int  # how many corrections show this substitution
    state: str  # "active" (applied), "proposed" (not yet), "off" ([vocabulary] learn = "off"), "forgotten"
    decision: str = ""  # "accepted" or "forgotten" when the user decided, else ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Learned:
    """What the daemon applies: substitutions for post-processing and spellings for the decoder."""

    replacements: dict[str, str] = field(default_factory=dict)  # wrong phrase -> right phrase
    words: tuple[str, ...] = ()  # right spellings, most supported first, at most `prompt_words`


def store_path(history_path: Path) -> Path:
    """The vocabulary file that goes with a history database: beside it, so that corrections of its entries
    and what they taught stay together."""
    return history_path.with_name("vocabulary.sqlite3")


class VocabularyStore:
    """A thread-safe handle on the vocabulary file (one connection, serialised by a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        _prepare_file(self.path)
        try:
            self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        except sqlite3.Error as exc:
            raise VocabularyError(f"cannot open vocabulary database {self.path}: {exc}") from exc
        with self._guard("open"), self._conn:
            if not use_wal(self._conn, BUSY_TIMEOUT_MS / 1000):
                self._conn.execute("PRAGMA journal_mode = DELETE")
            self._conn.execute("PRAGMA secure_delete = ON")  # a deleted correction's words are overwritten
            for statement in _SCHEMA:
                self._conn.execute(statement)
        self._version = self._data_version()

    def add_correction(self, history_id: int, original: str, corrected: str) -> list[Rule]:
        """Record (or replace) the correction of one history entry; returns the rules it shows."""
        rules = derive_rules(original, corrected)
        now = time.time()
        with self._guard("save a correction to"), self._conn:
            conn = self._conn
            conn.execute("INSERT OR REPLACE INTO corrections (history_id, original, corrected, created_at) "
                         "VALUES (?, ?, ?, ?)", (history_id, original, corrected, now))
            conn.execute("DELETE FROM evidence WHERE history_id = ?", (history_id,))
            for rule in rules:
                conn.execute("INSERT OR IGNORE INTO rules (wrong, right, created_at) VALUES (?, ?, ?)",
                             (rule.wrong, rule.right, now))
                conn.execute("INSERT OR IGNORE INTO evidence (history_id, rule_id) SELECT ?, id FROM rules "
                             "WHERE wrong = ? AND right = ?", (history_id, rule.wrong, rule.right))
        return rules

    def drop_texts(self, history_id: int | None = None) -> int:
        """Delete the text of one correction (None: of all), as its history entry is deleted; what it taught
        stays (`forget` is for that). Returns how many were deleted."""
        where, params = ("WHERE history_id = ?", (history_id,)) if history_id is not None else ("", ())
        with self._guard("delete corrections from"):
            with self._conn:
                count = self._conn.execute(f"DELETE FROM corrections {where}", params).rowcount
            # the old pages stay in the write-ahead log until a checkpoint; busy (a reader): the next one
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(count)

    def correction(self, history_id: int) -> Correction | None:
        with self._guard("read"):
            row = self._conn.execute("SELECT history_id, original, corrected, created_at FROM corrections "
                                     "WHERE history_id = ?", (history_id,)).fetchone()
        return None if row is None else Correction(*row)

    def corrections(self) -> list[Correction]:
        with self._guard("read"):
            rows = self._conn.execute("SELECT history_id, original, corrected, created_at FROM corrections "
                                      "ORDER BY history_id").fetchall()
        return [Correction(*row) for row in rows]

    def rules(self, cfg: VocabularyConfig, *, everything: bool = False) -> list[LearnedRule]:
        """Every rule some correction shows, or the user decided about (with `everything`: also those no
        correction shows any more), with its state under `cfg`; most supported first."""
        with self._guard("read"):
            rows = self._conn.execute(
                "SELECT rules.id, wrong, right, COUNT(evidence.rule_id), decision FROM rules "
                "LEFT JOIN evidence ON evidence.rule_id = rules.id GROUP BY rules.id").fetchall()
        found = [(int(rule_id), wrong, right, int(count), decision) for rule_id, wrong, right, count, decision
                 in rows]
        found = [row for row in found if everything or row[3] > 0 or row[4]]
        found.sort(key=lambda row: (row[4] == ACCEPTED, row[3], row[0]), reverse=True)
        taken: set[str] = set()  # a wrong phrase has one right side: the accepted or most supported one
        out = []
        for rule_id, wrong, right, count, decision in found:
            state = _state(cfg, count, decision)
            if state == "active":
                if wrong in taken:
                    state = "proposed"
                taken.add(wrong)
            out.append(LearnedRule(rule_id, wrong, right, count, state, decision))
        return out

    def decide(self, rule_id: int, decision: str) -> tuple[str, str]:
        """Mark a rule accepted or forgotten and return its (wrong, right); VocabularyError when there is no
        such rule."""
        with self._guard("update"), self._conn:
            row = self._conn.execute("SELECT wrong, right FROM rules WHERE id = ?", (rule_id,)).fetchone()
            if row is None:
                raise VocabularyError(f"no learned rule {rule_id} (see `onevox vocabulary list`)")
            self._conn.execute("UPDATE rules SET decision = ? WHERE id = ?", (decision, rule_id))
        return str(row[0]), str(row[1])

    def changed(self) -> bool:
        """True when another process wrote to the file since the last call (a cheap check: no file read)."""
        version = self._data_version()
        changed, self._version = version != self._version, version
        return changed

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _data_version(self) -> int:
        with self._guard("read"):
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise VocabularyError(f"cannot {action} vocabulary database {self.path}: {exc}") from exc


def learned(rules: list[LearnedRule], cfg: VocabularyConfig) -> Learned:
    """What the daemon applies: the active rules' substitutions; and as spellings for the decoder, the right
    side of every active rule and every spelling corrections introduced `min_count` times in all, whatever
    the model had heard instead ("Cubanites", then "Cuba neat": the user wants "Kubernetes" both times)."""
    active = [rule for rule in rules if rule.state == "active"]
    spelling: Counter[str] = Counter()
    for rule in rules:
        if rule.state in ("active", "proposed"):
            spelling[rule.right] += rule.support
    wanted = [rule.right for rule in active]
    if cfg.learn == "apply":
        wanted += [right for right, count in spelling.most_common() if count >= cfg.min_count]
    words = list(dict.fromkeys(wanted))[:cfg.prompt_words]
    return Learned({rule.wrong: rule.right for rule in active}, tuple(words))


def _state(cfg: VocabularyConfig, support: int, decision: str) -> str:
    if decision == FORGOTTEN:
        return FORGOTTEN
    if cfg.learn == "off":
        return "off"
    if decision == ACCEPTED or (cfg.learn == "apply" and support >= cfg.min_count):
        return "active"
    return "proposed"


def _prepare_file(path: Path) -> None:
    """The folder (0700) and the file (0600) made before SQLite does, so they are private from the start."""
    try:
        prepare_private_file(path)
    except OSError as exc:
        raise VocabularyError(f"cannot create vocabulary database {path}: {exc.strerror or exc}") from exc
