"""The control commands a Wayland key binding runs (`onevox toggle`, `status --json`, ...): process start to
answer, through the slim path (onevox.cli.fast) and through the full click CLI, against a running IpcServer.
Goal: the slim path under 30 ms wall on a desktop; the regression check holds it below half the click path."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onevox.ipc.server import IpcServer
from tests.ipc.doubles import FakeController, short_tmp_dir

FULL = "from onevox.cli import cli; cli(prog_name='onevox')"  # the click CLI, no slim path


@pytest.fixture(scope="module")
def config_file() -> Iterator[Path]:
    with short_tmp_dir() as folder:
        socket_path = folder / "run" / "onevox.sock"
        config = folder / "onevox.toml"
        config.write_text(f'[daemon]\nsocket = "{socket_path}"\n')
        server = IpcServer(socket_path, FakeController().dispatch)
        server.start()
        try:
            yield config
        finally:
            server.stop()


def _fast(config: Path, *args: str) -> list[str]:
    """The `onevox` command a key binding runs: the console script pip installed beside this python."""
    script = Path(sys.executable).with_name("onevox")
    assert script.is_file(), f"{script} is missing: install onevox into this environment (pip install -e .)"
    return [str(script), *args, "--config", str(config)]


def _full(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", FULL, *args, "--config", str(config)]


def _call(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, timeout=60)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    return elapsed


@pytest.mark.parametrize("command", [("status", "--json"), ("stop-dictation",)], ids=" ".join)
def test_control_command_wall(benchmark, config_file: Path, command: tuple[str, ...]) -> None:
    argv = _fast(config_file, *command)
    benchmark.pedantic(lambda: subprocess.run(argv, capture_output=True, check=True, timeout=60),
                       rounds=50, iterations=1, warmup_rounds=2)


def interleaved_medians(config: Path, command: tuple[str, ...], rounds: int) -> tuple[float, float]:
    fast, full = [], []
    for _ in range(rounds):
        fast.append(_call(_fast(config, *command)))
        full.append(_call(_full(config, *command)))
    return statistics.median(fast), statistics.median(full)


@pytest.mark.regression
def test_slim_control_path_is_at_least_twice_as_fast_as_click(config_file: Path) -> None:
    _call(_fast(config_file, "status", "--json"))  # warm the page cache for both
    _call(_full(config_file, "status", "--json"))
    fast, full = interleaved_medians(config_file, ("status", "--json"), rounds=25)
    print(f"status --json: slim path {fast * 1e3:.1f} ms, click CLI {full * 1e3:.1f} ms (median wall)")
    assert fast * 2 < full, f"slim path {fast * 1e3:.1f} ms vs click CLI {full * 1e3:.1f} ms"
