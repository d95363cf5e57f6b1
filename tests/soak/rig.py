"""The real daemon in-process for long runs: FileAudioSource in fast mode (realtime=False) as the microphone,
the real Silero VAD and segmenter, the real bundled model, the real controller/pipeline/history, and the
stdout injector writing into memory. Only time is compressed: audio flows as fast as the daemon reads it.

Events are consumed as they come and nothing is kept per dictation, so the rig itself does not grow.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import io
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from onevox.audio import SAMPLE_RATE
from onevox.audio.filesource import FileAudioSource
from onevox.config import AudioConfig, Config, HistoryConfig, HotkeyConfig, InjectionConfig
from onevox.daemon.app import Daemon
from onevox.daemon.stages import StageFactory
from onevox.inject.stdout import StdoutInjector

TAIL_S = 0.8  # silence after each clip: longer than the VAD's min_silence, so speech has ended at release


def rss_kb() -> int:
    """This process's resident memory (VmRSS) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def settled_rss_kb() -> int:
    """VmRSS after a garbage collection and glibc's malloc_trim: memory still held, not heap pages that were
    freed but not yet handed back (they make raw RSS swing by several MB between dictations)."""
    gc.collect()
    _libc().malloc_trim(0)
    return rss_kb()


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def soak_config(folder: Path, *, mode: str = "push-to-talk", max_dictation_s: int = 600) -> Config:
    return Config(hotkey=HotkeyConfig(backend="none", mode=mode),
                  audio=AudioConfig(max_dictation_s=max_dictation_s),
                  injection=InjectionConfig(method="stdout"),
                  history=HistoryConfig(path=str(folder / "history.sqlite3")))


class _Sink(io.StringIO):
    """The stdout injector's stream; thread-safe enough for one writer (the delivery worker)."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def write(self, s: str) -> int:
        with self.lock:
            return super().write(s)

    def take(self) -> str:
        """Everything written since the last take(), and forget it (keeps the sink from growing)."""
        with self.lock:
            text = self.getvalue()
            self.seek(0)
            self.truncate(0)
            return text


class SoakRig:
    """Drives the Daemon through its controller, as the hotkey or IPC commands would."""

    def __init__(self, config: Config, recognizer: Any) -> None:
        self.source = FileAudioSource(np.zeros(0, dtype=np.float32), SAMPLE_RATE, realtime=False)
        self.sink = _Sink()
        factory = StageFactory(source=self.source, injector=StdoutInjector(self.sink), recognizer=recognizer)
        self.daemon = Daemon(config, factory=factory, ipc=False, hotkey=False)
        self.daemon.start()
        self._events = self.daemon.bus.subscribe()
        self.errors: list[dict[str, Any]] = []

    def dictate(self, audio: np.ndarray, timeout: float = 120.0) -> tuple[dict[str, Any], str]:
        """Press, 'say' `audio` (plus a short silence), release; returns the `transcribed` event and the text
        the injector delivered ("" when nothing was injected)."""
        self.source.feed(np.concatenate([audio, np.zeros(int(TAIL_S * SAMPLE_RATE), np.float32)]))
        started = self.daemon.controller.start()
        if not started.get("started"):
            raise RuntimeError(f"dictation did not start: {started}")
        self._wait_fed(timeout)
        self.daemon.controller.stop()
        return self._finish(started["dictation"], timeout)

    def hands_free(self, audio: np.ndarray, timeout: float) -> tuple[dict[str, Any], str]:
        """One long toggle-mode dictation: toggle on, the whole `audio`, toggle off."""
        started = self.daemon.controller.toggle()
        if not started.get("started"):
            raise RuntimeError(f"hands-free dictation did not start: {started}")
        self.source.feed(np.concatenate([audio, np.zeros(int(TAIL_S * SAMPLE_RATE), np.float32)]))
        self._wait_fed(timeout)
        stopped = self.daemon.controller.toggle()
        if not stopped.get("stopped"):
            raise RuntimeError(f"hands-free dictation did not stop: {stopped}")
        return self._finish(started["dictation"], timeout)

    def _wait_fed(self, timeout: float) -> None:
        """Until every queued sample has gone through the capture ring (draining events meanwhile)."""
        deadline = time.monotonic() + timeout
        while not self.source.exhausted:
            if time.monotonic() > deadline:
                raise TimeoutError(f"audio not consumed within {timeout:g} s: {self.source.status()}")
            self._next_event(0.005)
        time.sleep(0.02)  # the reader takes the last block out of the ring

    def _finish(self, dictation: int, timeout: float) -> tuple[dict[str, Any], str]:
        deadline = time.monotonic() + timeout
        transcribed: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            event = self._next_event(max(0.0, deadline - time.monotonic()))
            if event is None or event.get("dictation") != dictation:
                continue
            kind = event["event"]
            if kind == "transcribed":
                transcribed = event
                if event["empty"]:
                    return event, self.sink.take()
            elif kind == "injected" and transcribed is not None:
                return transcribed, self.sink.take()
            elif kind == "error" and event.get("fatal"):
                raise RuntimeError(f"dictation {dictation} failed: {event}")
        raise TimeoutError(f"dictation {dictation}: no text {timeout:g} s after release")

    def _next_event(self, timeout: float) -> dict[str, Any] | None:
        event = self._events.get(timeout=timeout)
        if event is not None and event["event"] == "error":
            self.errors.append(event)
        if event is not None and event["event"] == "dropped":
            raise RuntimeError("the soak rig fell behind the event bus")
        return event

    def status(self) -> dict[str, Any]:
        return self.daemon.commands.status()

    def close(self) -> None:
        self._events.close()
        self.daemon.stop()

    def __enter__(self) -> SoakRig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
