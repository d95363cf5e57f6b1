"""Edit commands through the pipeline (doubles for audio, model, injector and keys): a whole-utterance
command is carried out instead of typed, recorded in the history and published as an event."""

from __future__ import annotations

from pathlib import Path

from onevox.daemon.options import PipelineOptions
from onevox.inject.edits import Editor
from tests.daemon.conftest import build_harness, close_harness
from tests.inject.edit_doubles import FakeKeys, FakeWatcher


def _editor() -> tuple[Editor, FakeKeys, FakeWatcher]:
    watcher = FakeWatcher()
    keys = FakeKeys(watcher)
    return Editor(keys, watcher), keys, watcher


def test_scratch_that_takes_back_the_last_dictation_and_is_recorded(tmp_path: Path) -> None:
    editor, keys, _watcher = _editor()
    h = build_harness(tmp_path, editor=editor)
    try:
        h.recognizer.texts = ["Hello world.", "Scratch that.", "Scratch that."]
        h.dictate()
        h.idle()
        h.dictate()
        done = h.log.wait_for("command")
        h.idle()
        h.dictate()
        refused = h.log.wait_for("command", lambda e: e["dictation"] != done["dictation"])
        status = h.idle()
        assert h.injector.texts == ["Hello world."]  # the commands were never typed
        heard = [e for e in h.log.events if e["event"] == "transcribed"]
        assert [e.get("command") for e in heard] == [None, "scratch", "scratch"]
        assert keys.pressed == [("backspace", len("Hello world."))]
        assert done["command"] == "scratch" and done["done"] and "12 characters" in done["message"]
        assert not refused["done"] and "already taken back" in refused["message"]
        assert status["state"] == "idle" and "scratch: refused" in status["last_command"]
        assert h.history is not None
        last, first, text = h.history.list(3)
        assert (text.command, text.status) == ("", "injected")
        assert (first.command, first.status, first.method) == ("scratch", "injected", "fake-keys")
        assert (last.command, last.status) == ("scratch", "not_injected")
        assert "already taken back" in last.error and last.text == "Scratch that."
    finally:
        close_harness(h)


def test_press_enter_and_a_refusal_when_the_user_typed(tmp_path: Path) -> None:
    editor, keys, watcher = _editor()
    h = build_harness(tmp_path, editor=editor)
    try:
        h.recognizer.texts = ["Some text.", "Delete that!", "Press enter."]
        h.dictate()
        h.idle()
        watcher.presses += 1  # the user typed in the window
        h.dictate()
        refused = h.log.wait_for("command")
        h.idle()
        h.dictate()
        pressed = h.log.wait_for("command", lambda e: e["command"] == "enter")
        h.idle()
        assert not refused["done"] and "you pressed keys or clicked since" in refused["message"]
        assert pressed["done"] and keys.pressed == [("enter", 1)]
        assert h.injector.texts == ["Some text."]
    finally:
        close_harness(h)


def test_commands_inside_prose_or_turned_off_are_typed(tmp_path: Path) -> None:
    editor, keys, _watcher = _editor()
    options = PipelineOptions(pre_roll_ms=100, post_roll_ms=300, edit_commands=False,
                              recordings_dir=tmp_path / "rec")
    h = build_harness(tmp_path, editor=editor, options=options)
    try:
        h.recognizer.texts = ["Scratch that.", "I will scratch that itch."]
        h.dictate()
        h.idle()
        h.controller.pipeline.set_options(PipelineOptions(pre_roll_ms=100, post_roll_ms=300,
                                                          recordings_dir=tmp_path / "rec"))
        h.dictate()
        h.idle()
        assert h.injector.texts == ["Scratch that.", "I will scratch that itch."]
        assert keys.pressed == [] and not [e for e in h.log.events if e["event"] == "command"]
    finally:
        close_harness(h)


def test_without_an_editor_a_command_is_refused_not_typed(tmp_path: Path) -> None:
    h = build_harness(tmp_path)
    try:
        h.recognizer.texts = ["Press tab."]
        h.dictate()
        event = h.log.wait_for("command")
        h.idle()
        assert not event["done"] and "not available" in event["message"] and h.injector.texts == []
    finally:
        close_harness(h)
