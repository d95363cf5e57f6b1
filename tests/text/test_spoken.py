"""Spoken punctuation (text/spoken.py through postprocess): what Whisper writes for dictated commands becomes
what a careful typist writes, and ordinary prose that uses the same words is left alone."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onevox.config import CommandsConfig, ModelConfig, PostProcessingConfig, parse_config
from onevox.text.postprocess import postprocess
from onevox.text.spoken import COMMANDS, PROMPT_WORDS, apply_spoken_commands, primed_model

DATA = Path(__file__).resolve().parents[1] / "data" / "commands"
ON = CommandsConfig()
PLAIN = PostProcessingConfig(trailing_space=False)
# Prose sentences spoken punctuation may change: emphatic "..., period." is written by Whisper exactly as a
# dictated full stop after a pause (they are the last lines of prose.txt, and the only ones allowed)
KNOWN_FALSE_TRIGGERS = {"No phones at the dinner table, period.", "You are not going to that party, period."}
MAX_FALSE_TRIGGER_RATE = 0.01


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _pairs() -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in _lines("commands.tsv")]
    return [(raw, typed.replace("\\n", "\n")) for raw, typed in rows]


def typed(text: str, language: str = "en", commands: CommandsConfig | None = ON) -> str:
    return postprocess(text, PLAIN, language, commands)


@pytest.mark.parametrize(("raw", "expected"), _pairs(), ids=lambda v: v[:40])
def test_command_corpus(raw: str, expected: str) -> None:
    assert typed(raw) == expected


def test_prose_corpus_is_left_alone() -> None:
    prose = _lines("prose.txt")
    assert len(prose) >= 200
    changed = [line for line in prose if typed(line) != typed(line, commands=None)]
    rate = len(changed) / len(prose)
    print(f"\nspoken punctuation false triggers on prose: {len(changed)} of {len(prose)} sentences "
          f"({rate:.1%}): {changed}", file=sys.stderr)
    assert set(changed) <= KNOWN_FALSE_TRIGGERS, changed
    assert rate <= MAX_FALSE_TRIGGER_RATE


@pytest.mark.parametrize("sentence", [
    "The trial period ended.", "A comma splice is a common mistake.", "We only scratched the surface.",
    "It was a difficult period", "Put a period at the end", "The colon is part of the gut.",
    "That is a literal translation.", "We need to cap prices.", "Type in all caps.",
])
def test_everyday_uses_of_command_words(sentence: str) -> None:
    assert typed(sentence) == sentence


def test_careful_typist_spacing() -> None:
    out = typed("One, comma, two semicolon three, colon, four, period. Five. Question mark.")
    assert out == "One, two; three: four. Five?"
    # a noun that could be a command, run into the words around it, stays a word
    assert typed("One comma two colon three") == "One comma two colon three"
    assert typed("Say open quote hi close quote now, period.") == "Say “hi” now."
    assert typed("It costs, open bracket, roughly, close bracket, ten.") == "It costs (roughly) ten."
    assert typed("Done, new line, next, new paragraph, last, period.") == "Done\nnext\n\nLast."


def test_case_commands() -> None:
    assert typed("Ask cap john about it.") == "Ask John about it."
    assert typed("This is all caps urgent news.") == "This is URGENT news."
    assert typed("Cap it all off.") == "Cap it all off."  # a verb before a function word


def test_literal_word_types_the_command_words() -> None:
    assert typed("Write literal comma and literal period.") == "Write comma and period."
    assert typed("Write literal comma.", commands=CommandsConfig(literal_word="")) == "Write literal,"
    assert typed("Write verbatim new line here.", commands=CommandsConfig(literal_word="verbatim")) == \
        "Write new line here."


@pytest.mark.parametrize("language", ["de", "fr", "auto", "zh"])
def test_only_english_dictation(language: str) -> None:
    raw = "Hello, comma, how are you? Question mark."
    assert typed(raw, language) == typed(raw, language, commands=None)


def test_switched_off() -> None:
    raw = "Hello, comma, how are you? Question mark."
    assert typed(raw, commands=CommandsConfig(punctuation=False)) == raw
    assert typed(raw, commands=None) == raw


def test_config_section() -> None:
    config = parse_config('[commands]\npunctuation = false\nliteral_word = "verbatim"\n')
    assert config.commands == CommandsConfig(punctuation=False, literal_word="verbatim")
    assert parse_config("").commands.punctuation is True


def test_trailing_space_and_line_breaks() -> None:
    cfg = PostProcessingConfig()
    assert postprocess("Hello, comma, how are you? Question mark.", cfg, "en", ON) == "Hello, how are you? "
    assert postprocess("The end, new paragraph.", cfg, "en", ON) == "The end\n\n"  # no space after a break


_WORDS = ["hello", "the", "a", "period", "comma", "question", "mark", "new", "line", "paragraph", "open",
          "close", "quote", "bracket", "cap", "all", "caps", "literal", "dash", "colon", "I", "you"]


@given(st.lists(st.tuples(st.sampled_from(_WORDS), st.sampled_from(["", ",", ".", "?", "!"])), max_size=12))
def test_any_word_sequence_is_handled(words: list[tuple[str, str]]) -> None:
    text = " ".join(w + p for w, p in words)
    out = apply_spoken_commands(text, ON)
    assert "  " not in out and " \n" not in out and "\n " not in out
    assert not any(f" {mark}" in out for mark in ",.?!;:)”")


def test_every_command_fires_on_its_own_after_a_pause() -> None:
    for command in COMMANDS:
        if command.text in ("cap", "upper"):
            continue
        said = " ".join(command.words)
        out = typed(f"Alpha, {said}, beta.")
        assert command.text.strip() in out and said not in out.lower(), (said, out)


def test_the_model_is_primed_with_the_command_words_in_english_only() -> None:
    primed = primed_model(ModelConfig(vocabulary=["Onevox", "comma"]), ON)
    assert primed.vocabulary == ["Onevox", "comma", *PROMPT_WORDS[1:]]
    german = ModelConfig(language="de")
    assert primed_model(german, ON) == german
    assert primed_model(ModelConfig(language="auto"), ON) == ModelConfig(language="auto")
    assert primed_model(ModelConfig(), CommandsConfig(punctuation=False)) == ModelConfig()
