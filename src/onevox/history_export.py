"""Writing the history out: json, jsonl, csv or txt (`onevox history export`)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from onevox.history import HistoryEntry

EXPORT_FORMATS = ("json", "jsonl", "csv", "txt")


def export_entries(fmt: str, entries: Iterator[HistoryEntry], out: TextIO) -> int:
    """Write `entries` to `out` in `fmt` (one of EXPORT_FORMATS); returns how many were written."""
    return _EXPORTERS[fmt](entries, out)


def _export_json(entries: Iterator[HistoryEntry], out: TextIO) -> int:
    count = 0
    out.write("[")
    for entry in entries:
        out.write(("," if count else "") + "\n  " + json.dumps(entry.to_dict(), ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _export_jsonl(entries: Iterator[HistoryEntry], out: TextIO) -> int:
    count = 0
    for entry in entries:
        out.write(json.dumps(entry.to_dict(), ensure_ascii=False) + "\n")
        count += 1
    return count


def _export_csv(entries: Iterator[HistoryEntry], out: TextIO) -> int:
    names = ["id", "created", "text", "raw_text", "audio_s", "model", "language", "language_prob", "method",
             "status", "error", "command", "timings"]
    writer = csv.DictWriter(out, fieldnames=names, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    count = 0
    for entry in entries:
        row = entry.to_dict()
        row["timings"] = json.dumps(entry.timings)
        writer.writerow(row)
        count += 1
    return count


def _export_txt(entries: Iterator[HistoryEntry], out: TextIO) -> int:
    count = 0
    for entry in entries:
        out.write(f"[{entry.to_dict()['created'].replace('T', ' ')}] {entry.text.strip()}\n")
        count += 1
    return count


_EXPORTERS = {"json": _export_json, "jsonl": _export_jsonl, "csv": _export_csv, "txt": _export_txt}
