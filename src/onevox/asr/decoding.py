"""Prompts in, decode results out: the token-level side of Whisper, without the model.

Decoding runs in Whisper's timestamp mode: without timestamps, a window holding several sentences is often
transcribed only in part (the model ends after one group of sentences). Timestamps also tell where the decode
got to, so the rest of a window can be decoded from there, and they expose text placed after the audio's end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from faster_whisper.tokenizer import Tokenizer

from onevox.asr.window import MAX_DECODER_POSITIONS, WindowOptions, find_loop

MAX_CONTEXT_TOKENS = MAX_DECODER_POSITIONS // 2 - 1  # earlier text kept in the prompt (as Whisper does)
TIME_PER_TOKEN = 0.02  # seconds per timestamp step
MAX_TIMESTAMP_INDEX = 1500  # the last timestamp token, <|30.00|>
_HAS_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class SilenceRule:
    no_speech_threshold: float = 0.6  # the model's "no speech" probability above which text is doubted
    logprob_threshold: float = -1.0  # ...and kept anyway when its average log-probability is above this


@dataclass(frozen=True)
class Timed:
    """Generated tokens split the way Whisper's own transcribe loop splits them."""

    text_tokens: list[int]  # text of the finished part (timestamps removed)
    resume_s: float | None  # the window's remaining audio starts here (None: the window is done)
    last_s: float  # the latest timestamp the model produced (0 when none)


@dataclass(frozen=True)
class Decoded:
    tokens: list[int]  # every generated token (text and timestamps; no prompt, no end token)
    text: str  # text of the finished part, stripped
    avg_logprob: float  # mean log-probability per token (end token included)
    no_speech_prob: float  # probability of the no-speech token at the start of the transcript
    truncated: bool  # generation stopped at the token limit instead of the end token
    resume_s: float | None  # where the rest of the window starts, when the decode stopped before its end
    last_s: float  # the latest timestamp produced


def context_text(initial_prompt: str, vocabulary: list[str], previous: str) -> str:
    """The text the decoder is primed with: the user's prompt, their words, then what was said before."""
    words = [word.strip() for word in vocabulary if word.strip()]
    parts = [initial_prompt.strip(), ", ".join(words) + "." if words else "", previous.strip()]
    return " ".join(part for part in parts if part)


def build_prompt(tokenizer: Tokenizer, context: str, *, timestamps: bool = True,
                 start_s: float = 0.0) -> list[int]:
    """Whisper's decoder prompt, [<|startofprev|> context...] <|startoftranscript|> [language task]
    [<|notimestamps|>], keeping the end of a long context. With `timestamps` (the default) the model decodes
    with timestamps; without, it produces only text, two decoder steps fewer (for a short single sentence).
    `start_s` (timestamps only): the transcript is made to begin at that time, the timestamp Whisper writes
    where a sentence starts, so the audio before it is heard but not transcribed (it ends the context)."""
    prompt: list[int] = []
    if context:
        tokens = tokenizer.encode(" " + context.strip())
        prompt = [tokenizer.sot_prev, *tokens[-MAX_CONTEXT_TOKENS:]]
    if not timestamps:
        return [*prompt, *tokenizer.sot_sequence, tokenizer.no_timestamps]
    start = [timestamp_token(tokenizer, start_s)] if start_s > 0 else []
    return [*prompt, *tokenizer.sot_sequence, *start]


def timestamp_token(tokenizer: Tokenizer, time_s: float) -> int:
    """The timestamp token nearest `time_s` (Whisper's run from 0 to 30 s)."""
    begin: int = tokenizer.timestamp_begin
    return begin + min(max(round(time_s / TIME_PER_TOKEN), 0), MAX_TIMESTAMP_INDEX)


def split_timestamps(tokens: list[int], timestamp_begin: int, eot: int) -> Timed:
    """Whisper's rule: text up to the last pair of consecutive timestamps is finished; what follows it is an
    unfinished sentence, redone from that timestamp. A single timestamp at the very end means the rest of
    the window holds no speech, so everything counts and the window is done."""
    is_time = [t >= timestamp_begin for t in tokens]
    times = [(t - timestamp_begin) * TIME_PER_TOKEN for t in tokens if t >= timestamp_begin]
    last_s = max(times, default=0.0)
    single_ending = len(tokens) >= 2 and is_time[-1] and not is_time[-2]
    pairs = [i for i in range(1, len(tokens)) if is_time[i - 1] and is_time[i]]
    if pairs and not single_ending:
        cut = pairs[-1]
        kept = tokens[:cut]
        resume_s: float | None = (tokens[cut - 1] - timestamp_begin) * TIME_PER_TOKEN
    else:
        kept, resume_s = tokens, None
    return Timed([t for t in kept if t < eot], resume_s, last_s)


class GenerationResult(Protocol):
    """What we read of a CTranslate2 WhisperGenerationResult (ctranslate2 ships no types)."""

    @property
    def sequences_ids(self) -> Sequence[Sequence[int]]: ...

    @property
    def scores(self) -> Sequence[float]: ...

    @property
    def no_speech_prob(self) -> float: ...


def read_result(result: GenerationResult, tokenizer: Tokenizer, max_new: int) -> Decoded:
    """A CTranslate2 WhisperGenerationResult (greedy or beam, one hypothesis) as a `Decoded`."""
    tokens = list(result.sequences_ids[0])
    score = result.scores[0] if result.scores else 0.0
    # CTranslate2 returns the length-normalised score (length_penalty 1): undo it, then average over the
    # tokens plus the end token, as faster-whisper does.
    avg_logprob = score * len(tokens) / (len(tokens) + 1)
    timed = split_timestamps(tokens, tokenizer.timestamp_begin, tokenizer.eot)
    return Decoded(
        tokens=tokens,
        text=tokenizer.decode(timed.text_tokens).strip(),
        avg_logprob=float(avg_logprob),
        no_speech_prob=float(result.no_speech_prob),
        truncated=len(tokens) >= max_new,
        resume_s=timed.resume_s,
        last_s=timed.last_s,
    )


def is_silence(decoded: Decoded, rule: SilenceRule) -> bool:
    """True when the decode heard nothing: no words at all, or Whisper's own no-speech test (its no-speech
    probability is high and it is not confident of the text it produced)."""
    if not _HAS_WORD.search(decoded.text):
        return True
    return decoded.no_speech_prob > rule.no_speech_threshold and decoded.avg_logprob < rule.logprob_threshold


def short_window_doubt(decoded: Decoded, window_s: float, opts: WindowOptions, *,
                       speech: bool = False) -> str | None:
    """Why a decode of a `window_s` seconds short window cannot be trusted (the full window must be decoded),
    or None. With `speech` (the voice activity detector heard speech in it) the model's no-speech
    probability is no reason: on some voices it sits near the threshold on every sentence."""
    if decoded.truncated:
        return "token budget exceeded"
    if not _HAS_WORD.search(decoded.text):
        return None if decoded.no_speech_prob > opts.silence_no_speech else "no words, but maybe speech"
    if decoded.last_s > window_s + opts.timestamp_slack_s:
        return f"text placed at {decoded.last_s:.2f} s, after the window's end ({window_s:.2f} s)"
    if find_loop(decoded.text, opts) is not None:
        return "repetition loop"
    if decoded.avg_logprob < opts.min_avg_logprob:
        return f"low confidence (avg log-probability {decoded.avg_logprob:.2f})"
    if not speech and decoded.no_speech_prob > opts.max_no_speech and \
            decoded.avg_logprob < opts.confident_logprob:
        return f"maybe no speech (no-speech probability {decoded.no_speech_prob:.2f})"
    return None
