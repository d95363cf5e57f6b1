"""The indicator's state machine, from daemon events alone: no X display needed."""

from __future__ import annotations

from typing import Any

from onevox.feedback.view import ERROR_SHOWN_S, MAX_WORDS_CHARS, IndicatorModel


def _feed(model: IndicatorModel, *events: dict[str, Any], now: float = 0.0) -> None:
    for event in events:
        model.apply(event, now)


def _dictation_starts(model: IndicatorModel, dictation: int = 1) -> None:
    # what the controller publishes, in its order: the state first, then the dictation
    _feed(model, {"event": "state", "state": "recording", "previous": "idle"},
          {"event": "recording_started", "dictation": dictation})


def test_hidden_until_a_dictation_starts() -> None:
    model = IndicatorModel()
    assert not model.view.visible and model.view.title == "onevox: idle"
    _dictation_starts(model)
    assert model.view.visible and model.view.state == "recording"
    assert model.view.title == "onevox: recording"


def test_live_words_then_transcribing_then_typing_then_hidden() -> None:
    model = IndicatorModel()
    _dictation_starts(model)
    _feed(model, {"event": "partial", "dictation": 1, "text": "hello"},
          {"event": "partial", "dictation": 1, "text": " hello  world "})
    assert model.view.title == "onevox: recording: hello world"
    _feed(model, {"event": "recording_stopped", "dictation": 1},
          {"event": "state", "state": "transcribing"})
    assert model.view.visible and model.view.title == "onevox: transcribing: hello world"
    _feed(model, {"event": "state", "state": "injecting"},
          {"event": "transcribed", "dictation": 1, "text": "Hello, world."})
    assert model.view.title == "onevox: typing: Hello, world."
    _feed(model, {"event": "injected", "dictation": 1}, {"event": "state", "state": "idle"})
    assert not model.view.visible and model.view.words == ""


def test_a_new_dictation_starts_with_no_words() -> None:
    model = IndicatorModel()
    _dictation_starts(model, 1)
    _feed(model, {"event": "partial", "dictation": 1, "text": "first"},
          {"event": "recording_stopped", "dictation": 1}, {"event": "state", "state": "transcribing"})
    _dictation_starts(model, 2)  # spoken again before the first was typed
    assert model.view.state == "recording" and model.view.words == ""
    _feed(model, {"event": "transcribed", "dictation": 1, "text": "first"})  # the old one's words
    assert model.view.words == ""
    _feed(model, {"event": "partial", "dictation": 2, "text": "second"})
    assert model.view.words == "second"


def test_a_partial_when_nothing_records_shows_nothing() -> None:
    model = IndicatorModel()
    assert not model.apply({"event": "partial", "dictation": 7, "text": "late"}, 0.0)
    assert not model.view.visible


def test_long_words_keep_their_end() -> None:
    model = IndicatorModel()
    _dictation_starts(model)
    text = " ".join(f"word{i}" for i in range(100))
    _feed(model, {"event": "partial", "dictation": 1, "text": text})
    words = model.view.words
    assert len(words) <= MAX_WORDS_CHARS + 3 and words.startswith("...") and words.endswith("word99")
    assert words[3:].split()[0].startswith("word")  # cut at a word boundary


def test_cancel_hides_at_once() -> None:
    model = IndicatorModel()
    _dictation_starts(model)
    _feed(model, {"event": "cancelled", "dictations": [1]})
    assert not model.view.visible


def test_an_error_shows_for_a_while_then_hides() -> None:
    model = IndicatorModel()
    _dictation_starts(model)
    assert model.apply({"event": "state", "state": "error", "message": "capture: device lost"}, 10.0)
    assert model.view.visible and model.view.title == "onevox: error: capture: device lost"
    assert not model.tick(10.0 + ERROR_SHOWN_S - 0.1)
    assert model.tick(10.0 + ERROR_SHOWN_S)
    assert not model.view.visible and model.hide_at is None


def test_unchanged_views_report_no_change() -> None:
    model = IndicatorModel()
    _dictation_starts(model)
    assert not model.apply({"event": "state", "state": "recording"}, 0.0)
    assert not model.apply({"event": "model_loaded", "model": "tiny.en"}, 0.0)
