"""Live microphone capture on sounddevice (PortAudio): a warm input stream feeding a ring buffer, read out
per dictation at 16 kHz, kept alive by a supervisor thread that reopens a lost device.

Recovery: the supervisor looks at the stream every `watch_s`. A stream that PortAudio reports inactive
(its host API failed, e.g. the sound server went away) or whose ring stops growing for `stall_s` is closed
and reported once as ("device_lost", why). It then re-scans PortAudio's devices and reopens the configured
device (or the default) with doubling delays; when the new stream delivers its first block it reports
("device_restored", ...). A dictation in progress carries on across the gap on the new stream; a device that
comes back at another rate gets its own resampler.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from onevox.audio.devices import PORTAUDIO_LOCK, DeviceInfo, find_device, refresh_devices, sounddevice
from onevox.audio.reader import DictationReader, Feed, make_input_callback
from onevox.audio.watchdog import Backoff, StallWatch
from onevox.config import AudioConfig
from onevox.errors import AudioError

log = logging.getLogger(__name__)

EventHandler = Callable[[str, str], None]


@dataclass(frozen=True)
class CaptureOptions:
    """Tuning that is not user configuration (tests shorten the timings)."""

    block_ms: int = 30  # PortAudio block size: 10 ms cost 2.5 % of a core idle, 30 ms 1.4 % (measured)
    ring_s: float = 10.0  # audio kept beyond the pre-roll: how far the worker may fall behind
    watch_s: float = 0.1  # how often the supervisor checks the stream
    stall_s: float = 1.0  # an open stream that delivers nothing for this long is lost
    first_audio_s: float = 3.0  # a freshly opened stream may take this long to deliver its first block
    retry_first_s: float = 0.25  # first reopen delay after a loss; doubles each failure ...
    retry_cap_s: float = 5.0  # ... up to this


class AudioCapture:
    """`AudioSource` on the system's microphone. Events reach `on_event(kind, message)` from the supervisor
    thread: device_lost, device_restored, device_fallback."""

    def __init__(self, cfg: AudioConfig, on_event: EventHandler | None = None,
                 options: CaptureOptions | None = None) -> None:
        self.cfg = cfg
        self.options = options or CaptureOptions()
        self.device_name = cfg.device
        self._on_event = on_event
        self._reader = DictationReader()
        self._lock = threading.RLock()  # guards the stream/feed/state below
        self._stream: Any = None
        self._feed: Feed | None = None
        self._error: str | None = None
        self._lost = False  # device_lost was reported and device_restored not yet
        self._lost_reason = ""
        self._watch = StallWatch(self.options.stall_s, self.options.first_audio_s)
        self._backoff = Backoff(self.options.retry_first_s, self.options.retry_cap_s)
        self._retry_at = 0.0
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self.restarts = 0  # successful reopens after a loss

    # --- AudioSource -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._supervisor is not None:
            return
        self._stop.clear()
        if self.cfg.keep_warm:
            try:
                self._emit_fallback(self._open())
            except AudioError as exc:
                self._mark_lost(str(exc))
        self._supervisor = threading.Thread(target=self._supervise, name="onevox-audio-supervisor",
                                            daemon=True)
        self._supervisor.start()

    def close(self) -> None:
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
            self._supervisor = None
        self._reader.discard()
        with self._lock:
            self._close_stream()

    def begin(self, pre_roll_ms: int) -> None:
        if self._supervisor is None:
            self.start()
        note = ""
        with self._lock:
            if self._feed is None or self._stream is None:
                if self.cfg.keep_warm:
                    raise AudioError(f"the microphone is unavailable ({self._error}); onevox keeps retrying")
                try:
                    note = self._open()
                except AudioError as exc:
                    self._error = str(exc)
                    raise
            assert self._feed is not None
            self._reader.begin(self._feed, pre_roll_ms)
        self._emit_fallback(note)

    def read(self, timeout: float) -> np.ndarray:
        return self._reader.read(timeout)

    def end(self) -> None:
        self._reader.end()
        if not self.cfg.keep_warm:
            with self._lock:
                self._close_stream()

    def status(self) -> dict[str, Any]:
        feed, stream = self._feed, self._stream  # a snapshot without locking: status never waits
        return {
            "device": self.device_name,
            "rate": feed.rate if feed else 0,
            "open": stream is not None and not self._lost,
            "error": self._error,
            "keep_warm": self.cfg.keep_warm,
            "recording": self._reader.active,
            "restarts": self.restarts,
            "overruns": self._reader.overruns,
            "lost_audio_s": round(self._reader.lost_s, 3),
            "status_flags": int(feed.status_counts.sum()) if feed else 0,
            "latency_ms": round(float(stream.latency) * 1000, 1) if stream is not None else None,
        }

    # --- opening and closing -----------------------------------------------------------------------
    def _open(self) -> str:
        """Open the device as configured and return a note when it fell back to the default device;
        AudioError when nothing can be opened. Callers report the note once they hold no lock."""
        sd = sounddevice()
        with self._lock, PORTAUDIO_LOCK:
            device, fallback_note = self._resolve_device()
            rate = self.cfg.sample_rate or device.default_rate
            feed = Feed(rate, self.cfg.pre_roll_ms / 1000 + self.options.ring_s)
            stream = None
            try:
                stream = sd.InputStream(device=device.index, channels=1, dtype="float32", samplerate=rate,
                                        blocksize=max(1, round(rate * self.options.block_ms / 1000)),
                                        latency="low", callback=make_input_callback(feed))
                stream.start()
            except (sd.PortAudioError, ValueError) as exc:
                if stream is not None:
                    _quietly_close(stream)
                raise AudioError(f"cannot open input device {device.name!r} at {rate} Hz: {exc}") from exc
            self._stream, self._feed = stream, feed
            self.device_name = device.name
            self._error = None
            self._watch.restart(time.monotonic())
            self._reader.switch(feed)
        return fallback_note

    def _emit_fallback(self, note: str) -> None:
        if note:
            log.warning("%s", note)
            self._emit("device_fallback", note)

    def _resolve_device(self) -> tuple[DeviceInfo, str]:
        wanted = self.cfg.device
        device = find_device(wanted)
        note = ""
        if device is None and wanted.strip().lower() not in ("", "default"):
            device = find_device("default")
            if device is not None:
                note = f"input device {wanted!r} not found; using {device.name!r} instead"
        if device is None:
            raise AudioError("no audio input device found (is PulseAudio or PipeWire running?); "
                             "`onevox devices list` shows what is available")
        return device, note

    def _close_stream(self) -> None:
        if self._stream is not None:
            _quietly_close(self._stream)
            self._stream = None

    # --- supervision -------------------------------------------------------------------------------
    def _supervise(self) -> None:
        while not self._stop.wait(self.options.watch_s):
            try:
                self._supervise_once(time.monotonic())
            except Exception:  # the supervisor must outlive any surprise; it is a bug, so keep the trace
                log.exception("audio supervisor check failed")

    def _supervise_once(self, now: float) -> None:
        with self._lock:
            stream, feed = self._stream, self._feed
            wanted = self.cfg.keep_warm or self._reader.active
        if stream is None or feed is None:
            if wanted and now >= self._retry_at:
                self._try_reopen(now)
            return
        problem = self._stream_problem(stream, feed, now)
        if problem:
            self._mark_lost(f"{self.device_name}: {problem}")
        elif self._lost and self._watch.delivered:
            self._lost = False
            self._backoff.reset()
            log.info("audio input restored on %s at %d Hz", self.device_name, feed.rate)
            self._emit("device_restored", f"listening again on {self.device_name} at {feed.rate} Hz")

    def _stream_problem(self, stream: Any, feed: Feed, now: float) -> str | None:
        sd = sounddevice()
        try:
            active = stream.active
        except sd.PortAudioError as exc:  # e.g. PortAudio was re-initialised under it
            return f"the input stream failed: {exc}"
        if not active:
            return "the input stream stopped"
        return self._watch.check(feed.ring.written, now)

    def _mark_lost(self, reason: str) -> None:
        with self._lock:
            self._close_stream()
            self._error = self._lost_reason = reason
            first = not self._lost
            self._lost = True
            self._retry_at = time.monotonic() + self._backoff.next_delay()
        if first:
            log.warning("audio input lost: %s", reason)
            self._emit("device_lost", reason)

    def _try_reopen(self, now: float) -> None:
        try:
            with self._lock:
                refresh_devices()  # PortAudio only sees devices (or a restarted server) after a rescan
                note = self._open()
        except AudioError as exc:
            # the same cause twice reads as noise ("no device (x); reopening failed: no device (x)")
            failure = str(exc)
            lost = self._lost_reason
            self._error = failure if not lost or lost == failure else f"{lost}; reopening failed: {failure}"
            self._retry_at = now + self._backoff.next_delay()
            return
        self.restarts += 1
        self._emit_fallback(note)

    def _emit(self, kind: str, message: str) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(kind, message)
        except Exception:  # a broken listener must not stop capture
            log.exception("audio event handler failed for %s", kind)


def _quietly_close(stream: Any) -> None:
    """Close a stream that may already be broken; its errors no longer matter."""
    sd = sounddevice()
    with PORTAUDIO_LOCK:
        try:
            stream.close(ignore_errors=True)
        except sd.PortAudioError as exc:
            log.debug("closing a broken input stream: %s", exc)
