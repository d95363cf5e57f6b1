"""AudioCapture against a real (virtual) microphone: a private PulseAudio server whose default source hears
whatever `paplay` plays into its null sink. Needs pulseaudio/pulseaudio-utils."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from onevox.audio.capture import AudioCapture, CaptureOptions
from onevox.audio.devices import find_device, list_input_devices, refresh_devices
from onevox.cli import cli
from onevox.config import AudioConfig
from onevox.errors import AudioError
from tests.support.pulse import VirtualMic
from tests.support.requirements import require_pulse
from tests.support.speech import SPEECH_DIR, speech_file

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _pulse() -> None:
    require_pulse()

CLIP = SPEECH_DIR / "ps-goforward.wav"  # 2.8 s


class Events:
    """Collects (kind, message) from AudioCapture's supervisor thread."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self._cond = threading.Condition()

    def __call__(self, kind: str, message: str) -> None:
        with self._cond:
            self.items.append((kind, message))
            self._cond.notify_all()

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.items]

    def wait_for(self, kind: str, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: kind in self.kinds(), timeout)


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    audio, rate = sf.read(speech_file(CLIP.name), dtype="float32")
    assert rate == 16000
    return audio


def _activated_mic(root: Path) -> Iterator[VirtualMic]:
    with VirtualMic(root) as mic, mic.activated():
        refresh_devices()  # PortAudio only sees a sound server that was running when it initialised
        yield mic
    refresh_devices()  # leave PortAudio consistent with the restored environment


@pytest.fixture(scope="module")
def mic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualMic]:
    yield from _activated_mic(tmp_path_factory.mktemp("vmic"))


@pytest.fixture
def own_mic(tmp_path: Path) -> Iterator[VirtualMic]:
    """A server of its own, for a test that crashes it."""
    yield from _activated_mic(tmp_path)


def best_match(captured: np.ndarray, reference: np.ndarray) -> tuple[int, float]:
    """Where `reference` sits in `captured` (by cross-correlation) and how well it correlates there."""
    n = 1 << int(np.ceil(np.log2(len(captured) + len(reference))))
    xcorr = np.fft.irfft(np.fft.rfft(captured, n) * np.conj(np.fft.rfft(reference, n)), n)
    lag = int(np.argmax(xcorr[: len(captured)]))
    segment = captured[lag:lag + len(reference)]
    if len(segment) < len(reference) // 2:
        return lag, 0.0
    return lag, float(np.corrcoef(segment, reference[: len(segment)])[0, 1])


def drain(capture: AudioCapture) -> np.ndarray:
    parts = []
    while (chunk := capture.read(0.5)).size:
        parts.append(chunk)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def record_while_playing(capture: AudioCapture, mic: VirtualMic, path: Path,
                         tail_s: float = 0.3) -> np.ndarray:
    parts = []
    player = mic.play(path, wait=False)
    while player.poll() is None:
        parts.append(capture.read(0.05))
    until = time.monotonic() + tail_s
    while time.monotonic() < until:
        parts.append(capture.read(0.05))
    assert player.returncode == 0
    return np.concatenate(parts)


def test_the_virtual_mic_is_listed(mic: VirtualMic) -> None:
    names = [d.name for d in list_input_devices()]
    assert "default" in names
    default = find_device("default")
    assert default is not None and default.is_default
    result = CliRunner().invoke(cli, ["devices", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert "default" in result.output


@pytest.mark.parametrize("rate", [0, 48000])  # 0: the device's default (44.1 kHz through ALSA's pulse)
def test_captured_audio_matches_the_played_clip(mic: VirtualMic, clip: np.ndarray, rate: int) -> None:
    capture = AudioCapture(AudioConfig(sample_rate=rate))
    capture.start()
    try:
        assert capture.status()["open"]
        capture.begin(0)
        audio = record_while_playing(capture, mic, CLIP)
        capture.end()
        audio = np.concatenate([audio, drain(capture)])
        status = capture.status()
    finally:
        capture.close()
    _, corr = best_match(audio, clip)
    assert corr > 0.9
    assert status["rate"] == (rate or find_device("default").default_rate)
    assert status["overruns"] == 0


def test_pre_roll_holds_audio_played_before_begin(mic: VirtualMic, clip: np.ndarray) -> None:
    capture = AudioCapture(AudioConfig(pre_roll_ms=5000))
    capture.start()
    try:
        time.sleep(0.2)
        mic.play(CLIP)  # played completely before the dictation begins
        capture.begin(4500)
        capture.end()
        audio = drain(capture)
    finally:
        capture.close()
    assert len(clip) < len(audio) <= 4.5 * 16000 + 160  # all the stream had, up to 4.5 s
    _, corr = best_match(audio, clip)
    assert corr > 0.9


def test_cold_stream_opens_on_begin_without_pre_roll(mic: VirtualMic, clip: np.ndarray) -> None:
    capture = AudioCapture(AudioConfig(keep_warm=False, pre_roll_ms=3000))
    capture.start()
    try:
        assert not capture.status()["open"]
        mic.play(CLIP)  # nobody is listening yet
        capture.begin(3000)
        assert capture.status()["open"]
        audio = record_while_playing(capture, mic, CLIP)
        capture.end()
        assert not capture.status()["open"]
        audio = np.concatenate([audio, drain(capture)])
    finally:
        capture.close()
    lag, corr = best_match(audio, clip)
    assert corr > 0.9
    assert lag < 0.3 * 16000  # the dictation starts when the stream opened: no earlier playback in it


def test_unknown_device_falls_back_to_the_default(mic: VirtualMic, clip: np.ndarray) -> None:
    events = Events()
    capture = AudioCapture(AudioConfig(device="Blue Yeti USB"), on_event=events)
    capture.start()
    try:
        assert events.kinds() == ["device_fallback"]
        assert "Blue Yeti USB" in events.items[0][1]
        assert capture.status()["device"] == "default"
        capture.begin(0)
        audio = record_while_playing(capture, mic, CLIP)
        capture.end()
    finally:
        capture.close()
    assert best_match(audio, clip)[1] > 0.9


def test_sound_server_crash_is_survived(own_mic: VirtualMic, clip: np.ndarray) -> None:
    events = Events()
    options = CaptureOptions(retry_first_s=0.1, retry_cap_s=0.5)
    capture = AudioCapture(AudioConfig(), on_event=events, options=options)
    capture.start()
    try:
        capture.begin(0)
        assert capture.read(2.0).size > 0
        own_mic.kill_server()
        assert events.wait_for("device_lost", timeout=5)
        assert not capture.status()["open"]
        assert capture.status()["error"]
        own_mic.start_server()
        assert events.wait_for("device_restored", timeout=20)
        assert capture.status()["open"] and capture.status()["restarts"] >= 1
        # the dictation that was going on continues on the reopened stream
        audio = record_while_playing(capture, own_mic, CLIP)
        capture.end()
        audio = np.concatenate([audio, drain(capture)])
    finally:
        capture.close()
    assert events.kinds() == ["device_lost", "device_restored"]
    assert best_match(audio, clip)[1] > 0.9


def test_capture_started_before_the_sound_server_waits_for_it(own_mic: VirtualMic, clip: np.ndarray) -> None:
    own_mic.kill_server()
    refresh_devices()
    events = Events()
    options = CaptureOptions(retry_first_s=0.1, retry_cap_s=0.5)
    capture = AudioCapture(AudioConfig(), on_event=events, options=options)
    capture.start()  # does not raise: the supervisor keeps trying
    try:
        assert events.kinds() == ["device_lost"]
        assert "no audio input device" in capture.status()["error"]
        with pytest.raises(AudioError, match="unavailable"):
            capture.begin(0)
        own_mic.start_server()
        assert events.wait_for("device_restored", timeout=20)
        capture.begin(0)
        audio = record_while_playing(capture, own_mic, CLIP)
        capture.end()
    finally:
        capture.close()
    assert best_match(audio, clip)[1] > 0.9
