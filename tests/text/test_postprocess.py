from __future__ import annotations

import dataclasses

import pytest

from onevox.config import LanguagePostConfig, PostProcessingConfig
from onevox.errors import ConfigError
from onevox.text.postprocess import capitalize_first, join_segments, postprocess, strip_punctuation

PLAIN = PostProcessingConfig(trailing_space=False)


def pp(text: str, **cfg) -> str:
    return postprocess(text, PostProcessingConfig(**{"trailing_space": False, **cfg}))


def test_defaults_trim_collapse_capitalise_and_add_a_space() -> None:
    assert postprocess("  hello   there\tworld ", PostProcessingConfig()) == "Hello there world "


def test_nothing_to_type_is_empty_without_trailing_space() -> None:
    assert postprocess("   ", PostProcessingConfig()) == ""
    assert postprocess(" Thank you. ", PostProcessingConfig()) == ""


def test_capitalize_off_keeps_case() -> None:
    assert pp("hello", capitalize=False) == "hello"


@pytest.mark.parametrize(("text", "expected"), [
    ("¿qué tal?", "¿Qué tal?"), ('"quoted" words', '"Quoted" words'), ("3 apples", "3 apples"),
    ("ß", "ß"), ("élan", "Élan"), ("", ""),
])
def test_capitalize_first(text: str, expected: str) -> None:
    assert capitalize_first(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Hello, world. It's 3.5 km; well-known!", "Hello world It's 3.5 km well-known"),
    ("Wait... what?!", "Wait what"),
    ("At 10:30, (roughly) «ok»", "At 10:30 roughly ok"),
])
def test_punctuation_off_strips_it(text: str, expected: str) -> None:
    assert strip_punctuation(text) == expected
    assert pp(text, punctuation=False) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("So, um, I think, uh, we should.", "So I think we should."),
    ("Um, hello there.", "Hello there."),
    ("Hello. Um, how are you?", "Hello. How are you?"),
    ("I think, um.", "I think."),
    ("UM uh Er hmm", ""),
    ("Uh-huh, the umbrella is on the drum.", "Uh-huh, the umbrella is on the drum."),
])
def test_fillers_go_with_their_commas_when_enabled(text: str, expected: str) -> None:
    assert pp(text, remove_fillers=True) == expected


def test_fillers_stay_by_default_and_custom_lists_work() -> None:
    assert pp("um, yes") == "Um, yes"
    assert pp("Well, you know, it works", remove_fillers=True, fillers=["you know"]) == "Well it works"


def test_replacements_are_whole_words_case_insensitive_and_unicode_safe() -> None:
    reps = {"smiley face": "🙂", "new line": "\n", "café": "coffee shop", "C plus plus": "C++"}
    assert pp("I'm happy Smiley   Face", replacements=reps) == "I'm happy 🙂"
    assert pp("First line. New line. Second line.", replacements=reps) == "First line.\nSecond line."
    assert pp("meet at the CAFÉ, ok", replacements=reps) == "Meet at the coffee shop, ok"
    assert pp("cafés stay", replacements=reps) == "Cafés stay"
    assert pp("I write c plus plus", replacements=reps) == "I write C++"
    assert pp(r"path \1 here", replacements={"path": r"C:\new"}) == r"C:\new \1 here"


def test_replacements_do_not_chain() -> None:
    assert pp("a b", replacements={"a": "b", "b": "c"}) == "B c"


def test_replacement_longest_phrase_wins() -> None:
    assert pp("new line please", replacements={"new": "NEW", "new line": "|"}) == "| Please"


def test_empty_replacement_phrase_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="phrase to replace is empty"):
        pp("hello", replacements={" ": "x"})


def test_hallucination_filter_can_be_turned_off() -> None:
    assert pp("Thank you.", hallucination_filter=False) == "Thank you."
    assert pp("[BLANK_AUDIO]", hallucination_filter=False) == "[BLANK_AUDIO]"


def test_loops_and_annotations_are_cleaned() -> None:
    assert pp("in 1813, in 1813, in 1813") == "In 1813"
    assert pp("Hello [BLANK_AUDIO] world (laughs).") == "Hello world."
    assert pp("you you you you") == ""


def test_real_thanks_survive() -> None:
    assert pp("thank you for coming") == "Thank you for coming"


def test_join_segments() -> None:
    assert join_segments([" Hello. ", "", "  ", "world "]) == "Hello. world"
    assert join_segments(["line\n", "next"]) == "line\nnext"
    assert join_segments([]) == ""


# --- [post_processing.languages.CODE] ---------------------------------------------------------------------

PER_LANGUAGE = PostProcessingConfig(
    trailing_space=False, remove_fillers=True,
    replacements={"smiley face": "🙂", "punkt punkt": "(global)"},
    languages={"de": LanguagePostConfig(fillers=["also"], replacements={"Punkt  Punkt": "…", "Mfg": "MfG"}),
               "it": LanguagePostConfig(fillers=["cioè"], replacements={"faccina": "🙂"})})


def test_language_replacements_apply_to_that_language_only_and_win_over_the_global_ones() -> None:
    assert postprocess("Bis morgen, punkt punkt mfg", PER_LANGUAGE, "de") == "Bis morgen, … MfG"
    assert postprocess("Bis morgen, punkt punkt mfg", PER_LANGUAGE, "de-AT") == "Bis morgen, … MfG"
    assert postprocess("see you punkt punkt mfg", PER_LANGUAGE, "en") == "See you (global) mfg"
    assert postprocess("smiley face", PER_LANGUAGE, "de") == "🙂"  # the global ones still apply
    assert postprocess("una faccina", PER_LANGUAGE, "it") == "Una 🙂"  # a language without built-in rules
    assert postprocess("una faccina", PER_LANGUAGE, "es") == "Una faccina"
    assert postprocess("una faccina", PER_LANGUAGE, "auto") == "Una faccina"  # not known: the global ones


def test_language_fillers_are_added_to_that_languages_list() -> None:
    assert postprocess("Also, äh, das geht", PER_LANGUAGE, "de") == "Das geht"  # built-in "äh" stays on
    assert postprocess("Also, um, that works", PER_LANGUAGE, "en") == "Also that works"
    assert postprocess("Cioè, funziona", PER_LANGUAGE, "it") == "Funziona"
    mine = dataclasses.replace(PER_LANGUAGE, fillers=["halt"])  # the user's list for every language
    assert postprocess("Also das geht halt, äh, so", mine, "de") == "Das geht äh, so"
    assert postprocess("Also das geht halt", dataclasses.replace(mine, remove_fillers=False), "de") == \
        "Also das geht halt"
