"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import speech

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def speech_dir() -> Path:
    """tests/data/speech (tests/support/speech.py); fails the test when the clips are missing."""
    return speech.speech_dir()


@pytest.fixture(scope="session")
def speech_manifest(speech_dir: Path) -> list[dict]:
    return speech.speech_manifest()


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
