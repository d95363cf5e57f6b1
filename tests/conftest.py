"""Fixtures shared by the whole suite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEECH_DIR = REPO_ROOT.parent / "shared" / "speech"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def speech_dir() -> Path:
    if not (SPEECH_DIR / "manifest.jsonl").exists():
        pytest.fail(f"speech clips not found at {SPEECH_DIR} (the repo expects ../shared/speech beside it)")
    return SPEECH_DIR


@pytest.fixture(scope="session")
def speech_manifest(speech_dir: Path) -> list[dict]:
    lines = (speech_dir / "manifest.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def isolated_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points every XDG folder (and ONEVOX_CONFIG) into a temporary home."""
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        path = tmp_path / var.lower()
        path.mkdir()
        monkeypatch.setenv(var, str(path))
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("ONEVOX_CONFIG", raising=False)
    return tmp_path
