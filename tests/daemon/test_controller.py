"""The controller's state machine: transitions, cancel in every state, double commands, toggles, errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from onevox.daemon.options import PipelineOptions
from onevox.errors import IpcError
from tests.daemon.conftest import WAIT_S, Harness, build_harness, close_harness
from tests.daemon.doubles import FakeInjector, FakeMic, FakeRecognizer, audio_error
from tests.support.waiting import wait_until


def test_a_dictation_goes_idle_recording_transcribing_injecting_idle(harness: Harness) -> None:
    harness.recognizer.texts = ["hello world"]
    assert harness.controller.state == "idle"
    event = harness.dictate()
    harness.log.wait_for("injected")
    harness.idle()
    assert event["text"].lower().startswith("hello world")
    assert harness.injector.texts == [event["text"]]
    assert harness.log.states() == ["recording", "transcribing", "injecting", "idle"]
    assert harness.status()["last_text"] == event["text"]
    assert harness.status()["dictations"] == 1


def test_second_start_while_recording_is_refused_and_harmless(harness: Harness) -> None:
    first = harness.start()
    again = harness.start()
    assert first["started"] and not again["started"]
    assert again["message"] == "already recording" and again["dictation"] == first["dictation"]
    assert harness.controller.state == "recording"
    harness.log.wait_for("recording_started")
    assert harness.controller.bus.published == 2  # one state change + one recording_started
    assert len(harness.log.kinds("recording_started")) == 1


def test_stop_when_idle_does_nothing(harness: Harness) -> None:
    result = harness.controller.stop()
    assert result == {"stopped": False, "state": "idle", "message": "not recording"}
    assert harness.controller.state == "idle"
    assert harness.log.kinds() == []


def test_cancel_when_idle_reports_nothing_to_cancel(harness: Harness) -> None:
    result = harness.controller.cancel()
    assert result["cancelled"] is False and result["state"] == "idle"
    assert result["message"] == "nothing to cancel"


def test_cancel_while_recording_discards_the_audio(harness: Harness) -> None:
    harness.start()
    harness.speak(0.3)
    result = harness.controller.cancel()
    assert result["cancelled"] and result["previous"] == "recording"
    assert harness.controller.state == "idle"
    harness.recognizer.texts = ["barrier"]
    harness.dictate()  # goes through every worker after the cancelled one
    harness.log.wait_for("injected")
    assert [c["prompt"] for c in harness.recognizer.calls] == [""]
    assert harness.injector.texts == [harness.log.kinds("transcribed")[0]["text"]]
    assert harness.mic.ends == 2


def test_cancel_while_transcribing_drops_queued_segments_and_the_decode_in_progress(harness: Harness) -> None:
    harness.recognizer.gate = threading.Event()
    harness.start()
    harness.speak(0.4)
    harness.pause(0.45)  # first segment closes and its decode starts (and blocks)
    assert harness.recognizer.entered.wait(WAIT_S)
    harness.speak(0.4)
    harness.controller.stop()  # the second segment is queued behind the blocked decode
    harness.log.wait_for("state", lambda e: e["state"] == "transcribing")
    wait_until(lambda: harness.mic.ends == 1)
    result = harness.controller.cancel()
    assert result["cancelled"] and result["previous"] == "transcribing"
    harness.recognizer.gate.set()  # the decode in progress finishes; its text must be thrown away
    harness.recognizer.texts = ["first", "barrier"]
    harness.dictate()
    harness.log.wait_for("injected")
    assert len(harness.recognizer.calls) == 2  # the queued second segment was never decoded
    assert len(harness.injector.texts) == 1 and "first" not in harness.injector.texts[0].lower()
    assert len(harness.log.kinds("transcribed")) == 1


def test_cancel_while_injecting_is_too_late_and_the_text_still_lands(harness: Harness) -> None:
    harness.injector.gate = threading.Event()
    harness.recognizer.texts = ["typed anyway"]
    started = harness.start()
    harness.speak(0.3)
    harness.pause(0.1)
    harness.controller.stop()
    assert harness.injector.entered.wait(WAIT_S)
    result = harness.controller.cancel()
    assert result["too_late"] == [started["dictation"]] and not result["cancelled"]
    assert harness.controller.state == "idle"
    harness.injector.gate.set()
    harness.log.wait_for("injected")
    harness.idle()
    assert harness.controller.state == "idle"
    assert harness.history is not None
    last = harness.history.last()
    assert last is not None and last.status == "injected"


def test_cancel_clears_the_error_state(tmp_path: Path) -> None:
    h = build_harness(tmp_path, injector=FakeInjector(error="no display"))
    try:
        h.dictate()
        h.log.wait_for("error")
        h.idle()
        assert h.controller.state == "error"
        h.controller.cancel()
        assert h.controller.state == "idle"
    finally:
        close_harness(h)


def test_repeated_toggles_alternate_start_and_stop_and_settle(harness: Harness) -> None:
    results = []
    for _ in range(6):
        results.append(harness.controller.toggle())
        harness.pause(0.05)
    assert [("started" in r and r["started"]) for r in results] == [True, False] * 3
    assert [r.get("stopped", False) for r in results] == [False, True] * 3
    harness.idle()
    assert harness.controller.state == "idle"
    assert harness.injector.texts == []  # only silence was recorded
    assert len(harness.log.kinds("transcribed")) == 3


def test_start_while_the_previous_dictation_is_transcribing(harness: Harness) -> None:
    harness.recognizer.gate = threading.Event()
    harness.recognizer.texts = ["one", "two"]
    harness.start()
    harness.speak(0.3)
    harness.pause(0.1)
    harness.controller.stop()
    assert harness.recognizer.entered.wait(WAIT_S)
    second = harness.start()
    assert second["started"] and harness.controller.state == "recording"
    harness.speak(0.3)
    harness.pause(0.1)
    harness.controller.stop()
    harness.recognizer.gate.set()
    harness.log.wait_for("injected", lambda e: e["dictation"] == second["dictation"])
    harness.idle()
    assert [t.lower().strip(" .") for t in harness.injector.texts] == ["one", "two"]
    assert harness.controller.state == "idle"


def test_a_dictation_longer_than_the_limit_stops_itself(tmp_path: Path) -> None:
    h = build_harness(tmp_path, options=PipelineOptions(pre_roll_ms=0, max_dictation_s=0.4))
    try:
        h.start()
        h.speak(0.6)  # the limit is reached on the way
        event = h.log.wait_for("recording_stopped")
        assert event["reason"] == "max_duration"
        h.log.wait_for("injected")
        assert h.status()["dictations"] == 1
    finally:
        close_harness(h)


def test_an_audio_device_error_puts_the_controller_in_error_then_recovers(tmp_path: Path) -> None:
    mic = FakeMic(begin_error=audio_error())
    h = build_harness(tmp_path, mic=mic)
    try:
        h.start()
        error = h.log.wait_for("error")
        assert error["stage"] == "capture" and "disappeared" in error["message"]
        h.idle()
        status = h.status()
        assert status["state"] == "error" and "disappeared" in status["last_error"]
        mic.begin_error = None
        h.recognizer.texts = ["back again"]
        h.dictate()
        h.log.wait_for("injected")
        assert h.idle()["state"] == "idle"
    finally:
        close_harness(h)


def test_inference_failure_is_reported_and_the_daemon_carries_on(tmp_path: Path) -> None:
    recognizer = FakeRecognizer()
    recognizer.error = RuntimeError("model exploded")
    h = build_harness(tmp_path, recognizer=recognizer)
    try:
        h.dictate()
        error = h.log.wait_for("error")
        assert error["stage"] == "inference" and "model exploded" in error["message"]
        recognizer.error = None
        # whichever call comes next (an early decode under load may add one) says "fine now"
        recognizer.texts = ["fine now"] * 10
        h.dictate()
        h.log.wait_for("injected")
        assert h.injector.texts and "fine now" in h.injector.texts[0].lower()
    finally:
        close_harness(h)


def test_dispatch_maps_every_ipc_command(harness: Harness) -> None:
    c = harness.commands
    assert c.dispatch("status", {})["state"] == "idle"
    assert c.dispatch("start_dictation", {})["started"] is True
    assert c.dispatch("stop_dictation", {})["stopped"] is True
    assert c.dispatch("toggle", {})["started"] is True
    assert c.dispatch("cancel", {})["cancelled"] is True
    assert c.dispatch("shutdown", {}) == {"shutting_down": True}
    assert harness.controller.shutdown_requested and harness.controller.wait_for_shutdown(0)
    with pytest.raises(IpcError) as info:
        c.dispatch("reload", {})  # this controller was built without a config file
    assert info.value.code == "unavailable" and "config file" in str(info.value)
    for unknown in ("format_disk", "ping", "subscribe"):  # ping and subscribe are the server's own
        with pytest.raises(IpcError) as info:
            c.dispatch(unknown, {})
        assert info.value.code == "unknown_command"


def test_the_command_table_answers_every_protocol_command_the_server_does_not() -> None:
    from onevox.daemon.commands import HOTKEY_COMMANDS
    from onevox.ipc.protocol import COMMANDS, DAEMON_COMMANDS, SERVER_COMMANDS, Command

    assert DAEMON_COMMANDS | SERVER_COMMANDS == COMMANDS == set(Command)
    assert set(HOTKEY_COMMANDS.values()) <= DAEMON_COMMANDS


def test_start_without_a_microphone_fails_at_once_with_the_reason(harness: Harness) -> None:
    harness.controller.on_audio_event("device_lost", "no audio input device found (default)")
    for command in ("start_dictation", "toggle"):
        with pytest.raises(IpcError) as info:
            harness.commands.dispatch(command, {})
        assert info.value.code == "unavailable"
        assert str(info.value) == "no microphone: no audio input device found (default)"
    assert harness.status()["state"] == "idle" and harness.status()["in_flight"] == 0
    harness.controller.on_audio_event("device_restored", "listening again on fake-mic at 16000 Hz")
    assert harness.status()["last_error"] == ""
    assert harness.start()["started"] is True


def test_an_error_leaves_status_once_its_stage_works_again(tmp_path: Path) -> None:
    injector = FakeInjector(error="the window went away")
    h = build_harness(tmp_path, injector=injector)
    try:
        h.recognizer.texts = ["first", "second"]
        h.dictate()
        h.idle()
        assert h.status()["last_error"].startswith("injection: the window went away")
        injector.error = ""
        h.dictate()
        h.log.wait_for("injected")
        status = h.idle()
        assert status["last_error"] == "" and status["state"] == "idle"
    finally:
        close_harness(h)


def test_hotkey_commands_drive_the_same_state_machine(harness: Harness) -> None:
    harness.commands.on_hotkey("start")
    assert harness.controller.state == "recording"
    harness.commands.on_hotkey("cancel")
    assert harness.controller.state == "idle"
    harness.commands.on_hotkey("toggle")
    assert harness.controller.state == "recording"
    harness.commands.on_hotkey("stop")
    assert harness.controller.state in ("transcribing", "idle")
    harness.commands.on_hotkey("bogus")  # ignored, no exception


def test_status_has_every_documented_field(harness: Harness) -> None:
    status = harness.status()
    for key in ("state", "model", "device", "uptime_s", "rss_mb", "dictations", "last_text", "last_error",
                "latencies", "pid", "version", "ready"):
        assert key in status
    assert status["model"] == "fake-model" and status["device"] == "fake-mic"
    assert status["rss_mb"] > 0
    harness.controller.mark_ready()
    assert harness.status()["ready"] is True
    assert harness.log.wait_for("ready")["model"] == "fake-model"


def test_status_answers_while_the_model_is_busy(harness: Harness) -> None:
    harness.recognizer.gate = threading.Event()
    harness.start()
    harness.speak(0.3)
    harness.pause(0.1)
    harness.controller.stop()
    assert harness.recognizer.entered.wait(WAIT_S)
    answers: list[dict] = []
    asker = threading.Thread(target=lambda: answers.append(harness.commands.dispatch("status", {})))
    asker.start()
    asker.join(WAIT_S)
    assert not asker.is_alive(), "status() waited on the blocked model"
    assert answers[0]["state"] == "transcribing"
    assert harness.recognizer.gate is not None
    harness.recognizer.gate.set()


def test_commands_after_close_are_refused(harness: Harness) -> None:
    harness.controller.close()
    assert harness.start()["started"] is False


def test_drain_finishes_a_recording_so_a_shutdown_loses_no_words(harness: Harness) -> None:
    harness.recognizer.texts = ["last words"]
    harness.start()
    harness.speak(0.3)
    harness.pause(0.1)
    assert harness.controller.drain(WAIT_S) is True
    assert len(harness.injector.texts) == 1 and "last words" in harness.injector.texts[0].lower()
    assert harness.log.wait_for("recording_stopped")["reason"] == "shutdown"
    assert harness.start()["message"] == "the daemon is stopping"
