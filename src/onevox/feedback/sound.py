"""The start and stop tones: two short WAVs shipped in onevox/feedback/data/ (scripts/make-feedback-sounds.py
writes them), played on an output stream on the player's own thread.

`handle` only queues the tone: the controller has already started the capture when "recording_started" is
published, so the tone never delays recording (the pre-roll covers the key press anyway). A machine without an
output device logs one line, once, and dictation carries on in silence.
"""

from __future__ import annotations

import logging
import queue
import threading
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from onevox.audio.devices import PORTAUDIO_LOCK, sounddevice
from onevox.feedback.base import Event

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).with_name("data")
TONES = {"start": (660.0, 880.0), "stop": (880.0, 660.0)}  # Hz of each tone's two notes
TAIL_S = 0.03  # silence after each tone, so a stream stopped right after the last write loses nothing
EVENT_TONES = {"recording_started": "start", "recording_stopped": "stop"}

Play = Callable[[np.ndarray, int], None]  # (mono float32 samples, rate) -> returns once played


def tone_path(name: str) -> Path:
    return DATA_DIR / f"{name}.wav"


def load_tone(name: str, volume: float = 1.0) -> tuple[np.ndarray, int]:
    """A shipped tone as mono float32 samples scaled by `volume`, and its sample rate."""
    with wave.open(str(tone_path(name)), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError(f"{tone_path(name)}: expected 16-bit mono")
        rate = wav.getframerate()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    samples = pcm.astype(np.float32) / 32768.0 * np.float32(volume)
    return np.concatenate([samples, np.zeros(int(rate * TAIL_S), np.float32)]), rate


def play_sounddevice(samples: np.ndarray, rate: int) -> None:
    """Play on the default output device; returns once played.

    It holds the PortAudio lock throughout (about 150 ms): the capture rescans devices (which terminates
    PortAudio, freeing every stream) only under that lock, so a rescan never pulls the stream out from under
    a write. The warm capture stream takes no lock to start a dictation, so this never delays one."""
    sd = sounddevice()
    with PORTAUDIO_LOCK:
        try:
            stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32")
        except sd.PortAudioError as exc:
            if "device -1" in str(exc):  # PortAudio's way of saying there is no default output
                raise OSError("no audio output device") from exc
            raise
        with stream:
            # PortAudio's stop drops what is still in the device's buffer: silence as long as its latency
            # pushes the whole tone out first
            pad = np.zeros(int(rate * (float(stream.latency) + TAIL_S)), np.float32)
            stream.write(np.concatenate([samples, pad]).reshape(-1, 1))


class SoundPlayer:
    """Plays the start tone on "recording_started" and the stop tone on "recording_stopped"."""

    name = "sounds"

    def __init__(self, volume: float, play: Play | None = None) -> None:
        self.volume = volume
        self._play = play or play_sounddevice
        self._tones: dict[str, tuple[np.ndarray, int]] = {}
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="onevox-sounds", daemon=True)
        self._warned = False
        self.played: list[str] = []  # names of the tones played, in order (status and tests)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        try:
            self._tones = {name: load_tone(name, self.volume) for name in TONES}
        except (OSError, ValueError, EOFError) as exc:
            log.warning("start/stop sounds are off: cannot read the shipped tones (%s)", exc)
            return
        self._thread.start()

    def handle(self, event: Event) -> None:
        tone = EVENT_TONES.get(event.get("event", ""))
        if tone is not None and self._thread.is_alive() and self.volume > 0:
            self._queue.put(tone)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(2.0)

    def _run(self) -> None:
        while True:
            name = self._queue.get()
            if name is None:
                return
            samples, rate = self._tones[name]
            try:
                self._play(samples, rate)
            except Exception as exc:  # no output device, no sound server, PortAudio missing ...
                self._failed(exc)
                continue
            self.played.append(name)

    def _failed(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            reason = str(exc).strip() or type(exc).__name__
            log.warning("cannot play the start/stop sounds (%s): dictation works without them; "
                        "set [feedback] sounds = false to stop trying", reason)
        else:
            log.debug("start/stop sound not played: %s", exc)
