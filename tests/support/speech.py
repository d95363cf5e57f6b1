"""Where the real speech clips are: tests/data/speech (WAVs, manifest.jsonl, README.md, NOTICE).

Every test, benchmark and soak run finds them through SPEECH_DIR. The clips are part of the repository, so a
missing file means a broken checkout: the helpers fail the test (never skip it), naming tests/data/speech.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SPEECH_DIR = Path(__file__).resolve().parents[1] / "data" / "speech"
_WHERE = "tests/data/speech"


def _missing(path: Path) -> None:
    pytest.fail(f"speech clip data not found: {path} is missing ({_WHERE} is part of the repository; "
                "is the checkout complete?)")


def speech_dir() -> Path:
    """SPEECH_DIR, once it is known to hold the manifest."""
    if not (SPEECH_DIR / "manifest.jsonl").is_file():
        _missing(SPEECH_DIR / "manifest.jsonl")
    return SPEECH_DIR


def speech_file(name: str) -> Path:
    """The path of one file of SPEECH_DIR (e.g. "ps-goforward.wav"), which must exist."""
    path = SPEECH_DIR / name
    if not path.is_file():
        _missing(path)
    return path


def speech_manifest() -> list[dict]:
    """manifest.jsonl: one dict per clip (id, file, text, duration_s, license, ...)."""
    lines = (speech_dir() / "manifest.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]
