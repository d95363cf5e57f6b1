"""A controller wired to test doubles, plus helpers to wait for its events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from onevox.config import Config, PostProcessingConfig
from onevox.daemon.commands import CommandTable
from onevox.daemon.controller import Controller
from onevox.daemon.events import EventBus, SubscriptionClosed
from onevox.daemon.options import PipelineOptions
from onevox.daemon.stages import Stages
from onevox.history import History
from onevox.inject.edits import Editor
from onevox.metrics import Metrics
from tests.daemon.doubles import (
    SPEECH_LEVEL,
    FakeClock,
    FakeInjector,
    FakeMic,
    FakeRecognizer,
    make_segmenter,
    play,
)

WAIT_S = 10.0  # generous deadline for things that should happen (a hang fails instead of blocking)


class EventLog:
    """Collects every event of a bus on a thread, and waits for the ones a test expects."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._sub = bus.subscribe()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while True:
            try:
                event = self._sub.get(timeout=0.5)
            except SubscriptionClosed:
                return
            if event is not None:
                with self._cond:
                    self.events.append(event)
                    self._cond.notify_all()

    def wait_for(self, kind: str, where: Callable[[dict[str, Any]], bool] = lambda e: True,
                 timeout: float = WAIT_S) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((e for e in self.events if e["event"] == kind and where(e)), None)

        with self._cond:
            if not self._cond.wait_for(lambda: found() is not None, timeout):
                kinds = [e["event"] for e in self.events]
                raise AssertionError(f"no {kind!r} event within {timeout} s; saw {kinds}")
            event = found()
            assert event is not None
            return event

    def kinds(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self.events if kind is None or e["event"] == kind]

    def states(self) -> list[str]:
        return [e["state"] for e in self.kinds("state")]

    def close(self) -> None:
        self._sub.close()


@dataclass
class Harness:
    """A controller on doubles, in virtual time: `speak`/`pause` move the clock and wait until the pipeline
    has read what the mic heard, so a test never sleeps and never races the wall clock."""

    controller: Controller
    commands: CommandTable
    clock: FakeClock
    mic: FakeMic
    recognizer: FakeRecognizer
    injector: FakeInjector
    history: History | None
    log: EventLog
    metrics: Metrics
    extra: dict[str, Any] = field(default_factory=dict)

    def status(self) -> dict[str, Any]:
        return self.commands.status()

    def idle(self, timeout: float = WAIT_S) -> dict[str, Any]:
        """Wait until nothing is in flight and the controller is idle (or in error); returns the status."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            if status["in_flight"] == 0 and status["state"] in ("idle", "error"):
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"controller never settled: {status}")
            time.sleep(0.005)

    def start(self) -> dict[str, Any]:
        """The start command, returning once the pipeline listens (as a key press would)."""
        began = self.mic.attempts
        result = self.controller.start()
        if result.get("started"):
            self.mic.wait_begun(began + 1)
        return result

    def speak(self, seconds: float) -> None:
        play(self.mic, self.clock, SPEECH_LEVEL, seconds)

    def pause(self, seconds: float) -> None:
        play(self.mic, self.clock, 0.0, seconds)

    def dictate(self, seconds: float = 0.4) -> dict[str, Any]:
        """One whole dictation (speak, then a pause, then stop); returns its `transcribed` event."""
        started = self.start()
        assert started["started"], started
        self.speak(seconds)
        self.pause(0.1)
        self.controller.stop()
        return self.log.wait_for("transcribed", lambda e: e["dictation"] == started["dictation"])


def build_harness(tmp_path: Path, *, options: PipelineOptions | None = None, history: bool = True,
                  mic: FakeMic | None = None, recognizer: FakeRecognizer | None = None,
                  injector: FakeInjector | None = None, history_store: History | None = None,
                  text_cfg: PostProcessingConfig | None = None, editor: Editor | None = None) -> Harness:
    config = Config(post_processing=text_cfg or PostProcessingConfig(trailing_space=False))
    clock = FakeClock()
    if mic is None:
        mic = FakeMic(clock=clock)
    else:
        mic.attach(clock)
    recognizer = recognizer or FakeRecognizer()
    injector = injector or FakeInjector()
    store = history_store
    if store is None and history:
        store = History(tmp_path / "history.sqlite3", 100)
    metrics = Metrics()
    bus = EventBus()
    log = EventLog(bus)
    opts = options or PipelineOptions(pre_roll_ms=100, post_roll_ms=300, recordings_dir=tmp_path / "rec")
    stages = Stages(source=mic, segmenter=make_segmenter(), recognizer=recognizer, injector=injector,
                    history=store, metrics=metrics, editor=editor)
    controller = Controller(config, stages, bus, opts, clock=clock)
    commands = CommandTable(controller, controller.diagnostics)
    mic.start()
    controller.open()
    return Harness(controller, commands, clock, mic, recognizer, injector, store, log, metrics)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = build_harness(tmp_path)
    yield h
    close_harness(h)


def close_harness(h: Harness) -> None:
    if h.recognizer.gate is not None:
        h.recognizer.gate.set()
    if h.injector.gate is not None:
        h.injector.gate.set()
    h.controller.close()
    h.log.close()
    if h.history is not None:
        h.history.close()
