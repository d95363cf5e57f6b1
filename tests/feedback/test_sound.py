"""The shipped start/stop tones and the player that plays them off the daemon's threads."""

from __future__ import annotations

import threading
import tomllib
import wave
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pytest

from onevox.feedback.sound import DATA_DIR, TONES, SoundPlayer, load_tone, tone_path
from tests.support.waiting import wait_until


@pytest.mark.parametrize("name", sorted(TONES))
def test_each_tone_ships_short_and_soft(name: str) -> None:
    path = tone_path(name)
    assert path.is_file() and path.parent == DATA_DIR
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        duration_ms = wav.getnframes() / wav.getframerate() * 1000
    assert 60 <= duration_ms <= 120
    samples, rate = load_tone(name)
    assert samples.dtype == np.float32 and 0.2 < np.abs(samples).max() <= 0.6
    fade = int(rate * 0.001)
    assert np.abs(samples[:fade]).max() < 0.03  # a soft attack: no click
    assert np.abs(samples[-int(rate * 0.03) - fade:]).max() < 0.03  # a soft release, then the silent tail


@pytest.mark.parametrize("name", sorted(TONES))
def test_each_tone_is_its_two_notes_in_order(name: str) -> None:
    samples, rate = load_tone(name)
    half = len(samples) // 2
    for part, freq in zip((samples[:half], samples[half:]), TONES[name], strict=True):
        spectrum = np.abs(np.fft.rfft(part))
        assert abs(np.fft.rfftfreq(len(part), 1 / rate)[spectrum.argmax()] - freq) < 25


def test_the_tones_ship_in_the_wheel() -> None:
    """pyproject's package-data names them, so an installed onevox (not only a checkout) has its sounds."""
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    patterns = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]["onevox"]
    package = DATA_DIR.parent.parent
    for name in TONES:
        relative = tone_path(name).relative_to(package).as_posix()
        assert any(fnmatch(relative, pattern) for pattern in patterns), (relative, patterns)


def test_volume_scales_the_tone() -> None:
    loud, _ = load_tone("start", 1.0)
    soft, _ = load_tone("start", 0.25)
    assert np.allclose(soft, loud * 0.25, atol=1e-6)


def test_start_and_stop_events_play_their_tones_in_order() -> None:
    played: list[tuple[int, int]] = []
    player = SoundPlayer(0.5, play=lambda samples, rate: played.append((len(samples), rate)))
    player.start()
    for kind in ("state", "recording_started", "partial", "recording_stopped", "injected"):
        player.handle({"event": kind})
    wait_until(lambda: len(player.played) == 2)
    player.close()
    assert player.played == ["start", "stop"] and played[0][1] == 48000


def test_handle_never_waits_for_a_slow_output() -> None:
    """The controller's events reach handle() through the runner: a device that takes its time (or hangs)
    must not hold the caller up."""
    release = threading.Event()
    player = SoundPlayer(0.5, play=lambda samples, rate: release.wait(5.0))
    player.start()
    waited = []

    def press(returned: threading.Event) -> None:
        player.handle({"event": "recording_started"})
        returned.set()

    for _ in range(5):
        returned = threading.Event()
        threading.Thread(target=press, args=(returned,)).start()
        waited.append(returned.wait(0.5))
    release.set()
    player.close()
    assert all(waited)


def test_no_output_device_is_said_once_and_dictation_carries_on(caplog: pytest.LogCaptureFixture) -> None:
    def no_device(samples: np.ndarray, rate: int) -> None:
        raise OSError("no audio output device")

    player = SoundPlayer(0.5, play=no_device)
    player.start()
    for _ in range(3):
        player.handle({"event": "recording_started"})
        player.handle({"event": "recording_stopped"})
    player.close()
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "no audio output device" in warnings[0].getMessage()
    assert "[feedback] sounds = false" in warnings[0].getMessage()
