"""Edit commands through the pipeline (doubles for audio, model, injector and keys): a whole-utterance
command is carried out instead of typed, recorded in the history and published as an event."""

from __future__ import annotations

from pathlib import Path

import pytest

from onevox.clock import SYSTEM_CLOCK
from onevox.config import PostProcessingConfig
from onevox.daemon.delivery import Delivery
from onevox.daemon.options import PipelineOptions
from onevox.daemon.record import Dictation
from onevox.daemon.stages import Stages
from onevox.errors import InjectionError
from onevox.inject.edits import Editor, EditRefused
from tests.daemon.conftest import build_harness, close_harness, make_segmenter
from tests.daemon.doubles import FakeInjector, FakeMic, FakeRecognizer
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


class _Listener:
    """What the controller does with the delivery worker's reports, minus the event bus."""

    def on_transcribed(self, d: Dictation) -> None:
        return None

    def on_done(self, d: Dictation) -> None:
        return None

    def on_error(self, d: Dictation, stage: str, message: str, *, fatal: bool) -> None:
        d.errors.append(f"{stage}: {message}")


def _delivery(editor: Editor, injector: FakeInjector) -> Delivery:
    listener = _Listener()
    stages = Stages(source=FakeMic(), segmenter=make_segmenter(), recognizer=FakeRecognizer(),
                    injector=injector, history=None, editor=editor)

    def report(d: Dictation, stage: str, exc: BaseException, *, fatal: bool) -> None:
        listener.on_error(d, stage, str(exc), fatal=fatal)

    return Delivery(stages, listener, SYSTEM_CLOCK, lambda *args: None, report)


def _live_dictation(delivery: Delivery, dictation: int, pieces: list[str]) -> Dictation:
    d = Dictation(dictation)
    cfg = PostProcessingConfig()
    options = PipelineOptions()
    delivery.edit_commands = options.edit_commands
    for end in range(1, len(pieces) + 1):
        delivery.live(d, " ".join(pieces[:end]), cfg)
    d.texts = [" ".join(pieces)]
    delivery.final(d, cfg, options)
    return d


def test_live_pieces_are_taken_back_as_one_dictation() -> None:
    editor, keys, _watcher = _editor()
    injector = FakeInjector()
    delivery = _delivery(editor, injector)
    _live_dictation(delivery, 1, ["Hello", "world."])
    assert "".join(injector.texts) == "Hello world. "
    assert len(injector.texts) == 3  # two live pieces and the trailing space at the end
    editor.scratch()
    assert keys.pressed == [("backspace", len("Hello world. "))]


def test_a_live_piece_that_failed_makes_scratch_refuse() -> None:
    editor, keys, _watcher = _editor()
    injector = FakeInjector()
    delivery = _delivery(editor, injector)
    injector.check = _fail_once()
    d = _live_dictation(delivery, 1, ["Hello", "world."])
    assert d.errors and d.errors[0].startswith("injection:")
    with pytest.raises(EditRefused, match="not delivered"):
        editor.scratch()
    assert keys.pressed == []


def _fail_once():
    calls = []

    def check(text: str) -> None:
        calls.append(text)
        if len(calls) == 1:
            raise InjectionError("wtype failed (exit 1)")

    return check
