"""A dictation keeps one language: the first decode with text and enough audio settles it, every later decode
of that dictation is given it, and the event and the history entry say which it was."""

from __future__ import annotations

from onevox.daemon.record import DETECT_MIN_S
from tests.daemon.conftest import Harness
from tests.support.waiting import wait_until


def test_the_language_of_the_first_speech_is_kept_for_the_whole_dictation(harness: Harness) -> None:
    harness.recognizer.texts = ["Guten Morgen, wie geht es dir heute?", "Très bien."]
    harness.recognizer.detects = ["de", "fr"]  # what detection would say on each segment alone
    harness.start()
    harness.speak(DETECT_MIN_S + 0.3)
    harness.pause(0.5)  # closes the first segment
    harness.speak(0.5)
    harness.controller.stop()
    event = harness.log.wait_for("transcribed")
    calls = harness.recognizer.calls
    assert [c["language"] for c in calls] == [None, "de"]  # detected once, then given
    assert (event["language"], event["language_prob"]) == ("de", 0.9)
    harness.log.wait_for("injected")
    assert harness.history is not None
    entry = harness.history.last()
    assert entry is not None and (entry.language, entry.language_prob) == ("de", 0.9)


def test_a_short_first_segment_does_not_settle_the_language(harness: Harness) -> None:
    harness.recognizer.detects = ["ja", "de"]  # a second of speech is too little to trust
    harness.start()
    harness.speak(0.5)
    harness.pause(0.5)
    harness.speak(DETECT_MIN_S + 0.3)
    harness.pause(0.5)
    harness.speak(0.5)
    harness.controller.stop()
    event = harness.log.wait_for("transcribed")
    assert [c["language"] for c in harness.recognizer.calls] == [None, None, "de"]
    assert event["language"] == "de"


def test_a_new_dictation_detects_again(harness: Harness) -> None:
    harness.recognizer.detects = ["de", "fr"]
    for number, expected in enumerate(("de", "fr")):
        harness.start()
        harness.speak(DETECT_MIN_S + 0.3)
        harness.controller.stop()
        harness.idle()
        # the event may reach the log just after the state went idle
        wait_until(lambda n=number: len(harness.log.kinds("transcribed")) > n)
        assert harness.log.kinds("transcribed")[number]["language"] == expected
