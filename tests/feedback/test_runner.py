"""The runner that feeds bus events to the feedback parts, and which parts a config and session get."""

from __future__ import annotations

import threading
from typing import Any

from onevox.config import FeedbackConfig
from onevox.daemon.events import EventBus
from onevox.feedback import choose_indicator, create_feedback, indicator_unavailable
from onevox.feedback.runner import FeedbackRunner
from tests.support.waiting import wait_until


class Recorder:
    name = "recorder"

    def __init__(self, fail: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self.started = self.closed = 0
        self.fail = fail

    @property
    def running(self) -> bool:
        return self.started > self.closed

    def start(self) -> None:
        self.started += 1

    def handle(self, event: dict[str, Any]) -> None:
        if self.fail:
            raise RuntimeError("broken part")
        self.events.append(event)

    def close(self) -> None:
        self.closed += 1


def test_every_part_gets_every_event_and_a_broken_part_hurts_no_other() -> None:
    bus = EventBus()
    good, broken = Recorder(), Recorder(fail=True)
    runner = FeedbackRunner(bus.subscribe, [broken, good])
    runner.start()
    bus.publish("recording_started", dictation=1)
    bus.publish("recording_stopped", dictation=1)
    wait_until(lambda: len(good.events) == 2)
    runner.stop()
    assert [e["event"] for e in good.events] == ["recording_started", "recording_stopped"]
    assert good.started == good.closed == 1 and bus.subscriber_count == 0


def test_a_dropped_subscription_is_renewed() -> None:
    bus = EventBus(queue_size=4)
    gate = threading.Event()
    part = Recorder()
    slow = Recorder()
    slow.handle = lambda event: (gate.wait(5.0), slow.events.append(event))  # type: ignore[method-assign]
    runner = FeedbackRunner(bus.subscribe, [slow, part])
    runner.start()
    for i in range(20):  # the runner is stuck in the slow part: its queue overflows, the bus drops it
        bus.publish("partial", dictation=1, text=str(i))
    gate.set()
    wait_until(lambda: bus.subscriber_count == 1)
    bus.publish("recording_stopped", dictation=1)
    wait_until(lambda: part.events and part.events[-1]["event"] == "recording_stopped")
    runner.stop()


def test_publishing_never_waits_on_feedback() -> None:
    bus = EventBus()
    gate = threading.Event()
    part = Recorder()
    part.handle = lambda event: gate.wait(5.0)  # type: ignore[method-assign]
    runner = FeedbackRunner(bus.subscribe, [part])
    runner.start()
    done = threading.Event()

    def publish() -> None:
        for _ in range(50):
            bus.publish("partial", text="x")
        done.set()

    threading.Thread(target=publish).start()
    assert done.wait(1.0)
    gate.set()
    runner.stop()


def _no_layer_shell(env: object) -> str:
    return "the compositor has no layer-shell"


def _layer_shell(env: object) -> None:
    return None


def test_which_parts_a_session_gets() -> None:
    x11 = {"DISPLAY": ":5"}

    def names(config: FeedbackConfig, env: dict[str, str], check=_no_layer_shell) -> list[str]:
        return [p.name for p in create_feedback(config, env, layer_shell=check)]

    assert names(FeedbackConfig(), x11) == ["sounds", "indicator-x11"]
    assert names(FeedbackConfig(sounds=False), x11) == ["indicator-x11"]
    assert names(FeedbackConfig(sound_volume=0.0), x11) == ["indicator-x11"]
    assert names(FeedbackConfig(indicator="off"), x11) == ["sounds"]
    assert names(FeedbackConfig(), {}) == ["sounds"]
    wayland = {"WAYLAND_DISPLAY": "wayland-1", "DISPLAY": ":1"}  # with XWayland
    assert names(FeedbackConfig(), wayland, _layer_shell) == ["sounds", "indicator-layer-shell"]
    assert names(FeedbackConfig(), wayland, _no_layer_shell) == ["sounds", "indicator-x11"]  # e.g. GNOME
    assert names(FeedbackConfig(), {"WAYLAND_DISPLAY": "wayland-1"}, _no_layer_shell) == ["sounds"]
    assert names(FeedbackConfig(indicator="x11"), wayland, _layer_shell) == ["sounds", "indicator-x11"]
    assert names(FeedbackConfig(indicator="layer-shell"), wayland, _no_layer_shell) == ["sounds"]
    assert names(FeedbackConfig(indicator="layer-shell"), x11, _layer_shell) == ["sounds"]


def test_why_there_is_no_indicator() -> None:
    def why(config: FeedbackConfig, env: dict[str, str], check=_no_layer_shell) -> str:
        kind, note = choose_indicator(config, env, layer_shell=check)
        assert indicator_unavailable(config, env, layer_shell=check) == (None if kind else note)
        return note

    assert why(FeedbackConfig(), {"DISPLAY": ":0"}) == "an X11 window on :0"
    assert why(FeedbackConfig(), {"DISPLAY": ":0", "WAYLAND_DISPLAY": "w"}) == (
        "an X11 window on :0; no layer-shell indicator: the compositor has no layer-shell")
    assert why(FeedbackConfig(), {"WAYLAND_DISPLAY": "w"}) == (
        "no layer-shell indicator: the compositor has no layer-shell; and no X display (XWayland) for the "
        "X11 one")
    assert "DISPLAY" in why(FeedbackConfig(), {})
    assert "off" in why(FeedbackConfig(indicator="off"), {"DISPLAY": ":0"})
