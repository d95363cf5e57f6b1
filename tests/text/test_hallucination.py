from __future__ import annotations

import pytest

from onevox.config import PostProcessingConfig
from onevox.text.hallucination import collapse_repetitions, is_hallucination, strip_annotations
from onevox.text.postprocess import postprocess


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
    ("1.5.0.0.0.0.0.0.0.0.0.0", "1.5.0"),  # a loop with no spaces in it
    ("我们我们我们我们我们我们", "我们"),
    ("1.000.000.000 euros", "1.000.000.000 euros"),  # a number, not a loop
    ("哈哈哈", "哈哈哈"),
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


# What Whisper base wrote for a Spanish clip it took for Hindi (detection 0.15, temperature fallback too)
SPANISH_AS_HINDI = ("1.5" + ".0" * 26 + ".00.00.0.00.00.00.00.000.000.000.0000.00.000000." + "0" * 120)


def test_a_letterless_loop_is_dropped_and_words_in_a_loop_are_kept() -> None:
    assert postprocess(SPANISH_AS_HINDI, PostProcessingConfig(), "hi") == ""
    looped = "I went home " * 30 + "and slept"
    assert postprocess(looped, PostProcessingConfig()) == "I went home and slept "
    number = "My number is 555 0100 0100."
    assert postprocess(number, PostProcessingConfig()) == number + " "


def test_without_the_filter_a_loop_is_typed_as_decoded() -> None:
    cfg = PostProcessingConfig(hallucination_filter=False)
    assert postprocess(SPANISH_AS_HINDI, cfg, "hi").strip() == SPANISH_AS_HINDI
