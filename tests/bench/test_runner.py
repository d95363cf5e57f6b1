"""`onevox bench`'s continuous-speech rows when the clips are not there: they say why, never a number."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from onevox.bench import runner
from onevox.bench.targets import BY_KEY


class _NoRig:
    """Fails the test if the runner tries to speak without clips."""

    def __init__(self) -> None:
        self.speaking: list[object] = []

    def speak(self, *args: object) -> None:
        raise AssertionError("spoke without speech clips")


@pytest.mark.parametrize("where", ["none", "empty"])
def test_rows_say_why_when_no_clips(tmp_path: Path, where: str) -> None:
    plan = runner.Plan(speech_dir=None if where == "none" else tmp_path)
    rows, longest = runner.measure_continuous(_NoRig(), plan)  # type: ignore[arg-type]
    assert longest is None
    assert set(rows) == set(runner.CONTINUOUS_KEYS)
    for row in rows.values():
        assert row.median is None and row.verdict == "n/a"
        assert "--speech" in row.note
        assert ("manifest.jsonl" in row.note) if where == "empty" else ("tests/data/speech" in row.note)


def test_every_continuous_key_is_a_metric() -> None:
    assert all(key in BY_KEY for key in runner.CONTINUOUS_KEYS)


def test_default_speech_dir_is_the_checkouts(speech_dir: Path) -> None:
    assert runner.default_speech_dir() == speech_dir


def test_cli_offers_speech_option() -> None:
    from onevox.cli.bench_cmd import bench

    out = CliRunner().invoke(bench, ["--help"])
    assert out.exit_code == 0 and "--speech" in out.output
