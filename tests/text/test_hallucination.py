from __future__ import annotations

import pytest

from onevox.text.hallucination import collapse_repetitions, is_hallucination, strip_annotations


@pytest.mark.parametrize("text", [
    "you", " You", "you.", "Thank you.", "THANK YOU!", "thank you very much", "Thanks for watching!",
    "Thank you for watching.", "[BLANK_AUDIO]", "(music)", "[Music]", "Subtitles by the Amara.org community",
    "Subtitles by Jane Doe", "Transcription by CastingWords", "Please subscribe.", "Bye.", "", "   ", "...",
    "♪", "Thank you. Thank you.", "You you", "Bye. Bye. Bye.",
])
def test_silence_phrases_are_hallucinations(text: str) -> None:
    assert is_hallucination(text)


@pytest.mark.parametrize("text", [
    "Thank you for coming", "you are right", "Thanks, Bob, that works.", "Watching the subtitles by myself",
    "Music is my life.", "The subtitles were wrong", "Go forward ten meters.", "No.", "Yes",
])
def test_real_speech_is_not(text: str) -> None:
    assert not is_hallucination(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("in 1813, in 1813, in 1813", "in 1813,"),
    ("In 1813, in 1813, in 1813, in 1813.", "In 1813,"),
    ("I went home I went home I went home and slept", "I went home and slept"),
    ("the the the the end", "the end"),
    ("no, no, no", "no, no, no"),  # three times is speech, not a loop
    ("very very good", "very very good"),
    ("so I said so I said", "so I said so I said"),  # a phrase twice is allowed
    ("", ""),
])
def test_collapse_repetitions(text: str, expected: str) -> None:
    assert collapse_repetitions(text) == expected


def test_collapse_handles_long_loops_quickly() -> None:
    loop = "and then we went to the store " * 200
    assert collapse_repetitions(loop + "finally") == "and then we went to the store finally"


@pytest.mark.parametrize(("text", "expected"), [
    ("Hello [BLANK_AUDIO] world", "Hello   world"),
    ("(laughs) That's funny", "  That's funny"),
    ("*upbeat music* Hi", "  Hi"),
    ("♪ la la ♪", "  la la  "),
    ("Read it (see page 4) now", "Read it (see page 4) now"),
    ("(John) said", "(John) said"),
])
def test_strip_annotations(text: str, expected: str) -> None:
    assert strip_annotations(text) == expected
