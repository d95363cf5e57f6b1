"""Whisper on CTranslate2, sized to the audio.

The encoder runs on a window sized to the audio (plus a margin) instead of Whisper's fixed 30 s, which is
where most of the time goes for a short dictation. Its output is then laid over the encoder output of a
silent 30 s window (computed once per model), so the decoder sees the 1500 positions it was trained on, with
real-looking silence after the speech: without that, short windows make the decoder loop. A short-window
decode the guard doubts (token budget exceeded, a repetition loop, text timed after the window, low
confidence, maybe no speech: see `decoding.short_window_doubt`) is redone on the full 30 s window, which is
what `window = "full"` always uses. Multilingual models encode a longer margin of silence after the speech
(`MULTILINGUAL_OPTIONS`).

With `language = "auto"` the language is detected from the first window a call decodes (see `language.py`
for why from the short window's own encoder output) and kept for the rest of the call; the daemon passes the
language of a dictation's first speech to every later call, so a dictation never changes language.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import ctranslate2
import numpy as np
from faster_whisper.tokenizer import Tokenizer

from onevox.asr.base import TimedTranscript, Transcript, Word
from onevox.asr.decoding import (
    Decoded,
    SilenceRule,
    build_prompt,
    context_text,
    is_silence,
    read_result,
    short_window_doubt,
)
from onevox.asr.features import LogMel
from onevox.asr.language import LanguageChoice, LanguagePolicy, language_policy
from onevox.asr.memory import release_free_memory
from onevox.asr.model_files import (
    DECODER_REPLICAS,
    Abandoned,
    encoder_threads,
    finish_or_abandon,
    load_model,
    load_tokenizer,
)
from onevox.asr.window import (
    FULL_FRAMES,
    HOP_LENGTH,
    WindowOptions,
    ct2_max_length,
    max_new_tokens,
    split_points,
    token_budget,
    uses_full_window,
    window_frames,
)
from onevox.asr.words import timed_words, token_starts
from onevox.audio import SAMPLE_RATE
from onevox.config import ModelConfig
from onevox.errors import AudioError, ModelError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineOptions:
    window: WindowOptions = field(default_factory=WindowOptions)  # short-window sizing and loop guard
    silence: SilenceRule = field(default_factory=SilenceRule)  # when the model's output counts as nothing
    max_passes: int = 8  # decodes per 30 s piece, continuing from the last timestamp each time
    min_rest_s: float = 0.5  # audio left after the last timestamp shorter than this is not decoded again
    uncovered_s: float = 1.0  # audio this long after the text's last timestamp is decoded once more
    pad_short: bool = True  # lay a short window's encoder output over the silent 30 s one (see below)
    split_encoder: bool = False  # encode on a copy of the model using every core (`encoder_threads`)


# Measured on Whisper base (multilingual), de/es/fr/it/pt/zh: laid over the silent window right after the
# speech, a short window's encoder output reads as "no speech" and the decoder repeats the sentence into the
# silence; decoded on its own it loops less but misses words. With 10 s of real silence encoded after the
# speech before the silent window takes over, base (beam 5) decodes as well as on its 30 s window, while the
# encoder sees half of it. That window is long enough for the encoder to gain from every core, which the
# decoder does not (see `model_files.encoder_threads`). Its "no speech" probability in that layout runs
# higher than tiny.en's: up to 0.56 on clear speech in either corpus, 0.73-0.75 on silence, noise and tones
# (which its low confidence doubts as well). English-only tiny.en keeps its short margin.
MULTILINGUAL_OPTIONS = EngineOptions(window=WindowOptions(margin_s=10.0, max_no_speech=0.65),
                                     split_encoder=True)


@dataclass
class _Pass:
    """One decode of one window: what it produced and what it cost."""

    decoded: Decoded
    timings_ms: dict[str, float]
    memory: ctranslate2.StorageView  # the encoder output decoded (valid until the engine's next encode)
    tokenizer: Tokenizer
    language: LanguageChoice  # the language decoded in (detected by this pass when its probability is set)


@dataclass
class _Progress:
    """What the passes over one `transcribe` call have produced so far."""

    texts: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    no_speech_prob: float = 1.0
    fallback: bool = False
    language: LanguageChoice | None = None  # fixed by the caller, or detected by the first pass

    def add(self, text: str, done: _Pass, fallback: bool) -> None:
        if text:
            self.texts.append(text)
        for key, ms in done.timings_ms.items():
            self.timings_ms[key] = self.timings_ms.get(key, 0.0) + ms
        self.no_speech_prob = min(self.no_speech_prob, done.decoded.no_speech_prob)
        self.fallback = self.fallback or fallback
        self.language = self.language or done.language


class WhisperEngine:
    """A loaded Whisper model (implements `SpeechRecognizer`). Not thread-safe: one ASR worker owns it."""

    def __init__(self, model_path: Path, cfg: ModelConfig, model_name: str,
                 options: EngineOptions | None = None) -> None:
        self.model_name = model_name
        self._cfg = cfg
        self._context: tuple[str, list[str]] = (cfg.initial_prompt, cfg.vocabulary)
        self._model = load_model(Path(model_path), cfg, replicas=DECODER_REPLICAS)
        self._opts = options or (MULTILINGUAL_OPTIONS if self._model.is_multilingual else EngineOptions())
        # greedy and beam 5 decode English alike; other languages lose words greedily (on base, in the test
        # clips, mostly where a whole sentence goes astray)
        self._beam = cfg.beam_size or (5 if self._model.is_multilingual else 1)
        threads = encoder_threads(Path(model_path), cfg) if self._opts.split_encoder else 0
        self._encoder = load_model(Path(model_path), cfg, threads) if threads else self._model
        self._hf_tokenizer = load_tokenizer(Path(model_path))
        self._policy: LanguagePolicy = language_policy(cfg.language, cfg.languages,
                                                       self._model.is_multilingual, model_name)
        self._tokenizers: dict[str, Tokenizer] = {}
        self._features = LogMel(self._model.n_mels)
        self._silence_memory: np.ndarray | None = None
        self._memory: np.ndarray | None = None  # the decoder's input for short windows (see _encode_short)
        self._memory_dirty = 0  # encoder frames of _memory that hold audio rather than silence
        self._learned: list[str] = []  # words learned from corrections, primed after the vocabulary
        self._abandon: Callable[[], bool] | None = None  # the running transcribe_words call's `abandon`

    def use_context(self, initial_prompt: str | None = None, vocabulary: Sequence[str] | None = None) -> None:
        """Implements `PromptedRecognizer`: the prompt and vocabulary of the following decodes."""
        self._context = (self._cfg.initial_prompt if initial_prompt is None else initial_prompt,
                         self._cfg.vocabulary if vocabulary is None else list(vocabulary))

    @property
    def multilingual(self) -> bool:
        return bool(self._model.is_multilingual)

    def warm_up(self) -> None:
        """Compute the silent window's encoder output and run one small decode, then hand the memory the
        30 s encode used back to the system."""
        if self._opts.pad_short:
            self._silence()
        noise = np.random.default_rng(0).normal(0.0, 1e-3, SAMPLE_RATE).astype(np.float32)
        self.transcribe(noise)
        release_free_memory()

    def set_learned_words(self, words: Sequence[str]) -> None:
        """Words learned from corrections, primed after the vocabulary in force (implements
        `VocabularyRecognizer`). Replaced whole: a decode on another thread reads one list or the other."""
        self._learned = list(words)

    def _context_text(self, previous: str) -> str:
        """What the decoder is primed with: the prompt and vocabulary in force (a profile's, or the
        configured ones), the learned words they do not already name, then `previous`."""
        prompt, vocabulary = self._context
        named = {word.casefold() for word in vocabulary}
        words = [*vocabulary, *(w for w in self._learned if w.casefold() not in named)]
        return context_text(prompt, words, previous)

    def transcribe(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None) -> Transcript:
        """Decode 16 kHz mono float32 audio. Audio over 30 s is decoded in pieces of up to 30 s cut at quiet
        points (Whisper cannot see more at once; callers normally hand in VAD segments of at most 25 s).
        `language`: decode in this language (None: the configured one, or detect it)."""
        audio = _as_mono_float32(audio)
        start = time.perf_counter()
        progress = _Progress(language=self._given(language))
        for lo, hi in split_points(audio):
            self._transcribe_piece(audio[lo:hi], prompt, progress)
        progress.timings_ms["total"] = (time.perf_counter() - start) * 1000
        chosen = progress.language or LanguageChoice(self._policy.fixed or "", None)
        return Transcript(text=" ".join(progress.texts), audio_s=audio.size / SAMPLE_RATE,
                          model=self.model_name, timings_ms=progress.timings_ms,
                          no_speech_prob=progress.no_speech_prob, fallback=progress.fallback,
                          language=chosen.language, language_prob=chosen.probability)

    def transcribe_words(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None,
                         fallback: bool = True, timed: bool = True, speech: bool = False,
                         known_s: float = 0.0, abandon: Callable[[], bool] | None = None) -> TimedTranscript:
        """One window of up to 30 s decoded with each word's time (implements `WordRecognizer`). Unlike
        `transcribe`, a decode that ends early is not continued: the incremental decoder that calls this
        decodes the rest again on its next pass anyway. With `fallback` False a short-window decode in doubt
        is not redone on the full window (which costs several times as much): it comes back without words,
        with `doubt` saying why. With `timed` False the words are not aligned (all placed at 0 s)."""
        audio = _as_mono_float32(audio)[:FULL_FRAMES * HOP_LENGTH]
        start = time.perf_counter()
        context = self._context_text(prompt)
        # the engine's own (one caller at a time); passed down this way so the helpers keep their shape
        self._abandon = abandon
        try:
            text, done, used_full, doubt = self._transcribe_window(audio, context, self._given(language),
                                                                   full_if_doubt=fallback, speech=speech,
                                                                   known_s=known_s)
            self._check_abandon()
        except Abandoned:
            return TimedTranscript(words=(), audio_s=audio.size / SAMPLE_RATE, doubt="abandoned",
                                   timings_ms={"total": (time.perf_counter() - start) * 1000})
        finally:
            self._abandon = None
        audio_s = audio.size / SAMPLE_RATE
        words: tuple[Word, ...] = ()
        if text:
            t0 = time.perf_counter()
            tokenizer = done.tokenizer
            tokens = [t for t in done.decoded.tokens if t < tokenizer.eot]
            frames = min(round(audio_s * SAMPLE_RATE / HOP_LENGTH), FULL_FRAMES)
            texts, word_tokens = tokenizer.split_to_word_tokens(tokens)
            if timed:
                alignment = self._model.align(done.memory, tokenizer.sot_sequence, [tokens], frames)[0]
                starts = token_starts(alignment, len(tokens))
            else:
                starts = np.zeros(len(tokens) + 1)
            words = timed_words(texts, word_tokens, starts, audio_s)
            done.timings_ms["align"] = (time.perf_counter() - t0) * 1000
        done.timings_ms["total"] = (time.perf_counter() - start) * 1000
        return TimedTranscript(words=words, audio_s=audio_s, timings_ms=done.timings_ms, fallback=used_full,
                               language=done.language.language, language_prob=done.language.probability,
                               doubt=doubt)

    def _given(self, language: str | None) -> LanguageChoice | None:
        """The language a call decodes in when it is known before decoding (None: detect it)."""
        if language is not None:
            if not self.multilingual and language != "en":
                raise ModelError(f"model {self.model_name} understands English only, not {language!r}")
            return LanguageChoice(language, None)
        return None if self._policy.fixed is None else LanguageChoice(self._policy.fixed, None)

    def _transcribe_piece(self, piece: np.ndarray, prompt: str, progress: _Progress) -> None:
        """At most 30 s. A decode that stops before the end is continued from its last timestamp, as
        Whisper's own transcribe loop does for an unfinished sentence; here also when the model ended early
        and left a second or more of audio after its last timestamp (it sometimes stops after the first
        sentence of two)."""
        pos = 0
        min_rest = round(self._opts.min_rest_s * SAMPLE_RATE)
        for _ in range(self._opts.max_passes):
            rest = piece[pos:]
            previous = " ".join([prompt, *progress.texts])
            context = self._context_text(previous)
            text, done, fallback, _doubt = self._transcribe_window(rest, context, progress.language)
            progress.add(text, done, fallback)
            step = round(self._resume_at(done.decoded, text, rest.size / SAMPLE_RATE) * SAMPLE_RATE)
            if step <= 0 or rest.size - step < min_rest:
                return
            pos += step

    def _resume_at(self, decoded: Decoded, text: str, rest_s: float) -> float:
        """Seconds into the window where decoding goes on (0: the window is done)."""
        if decoded.resume_s is not None:
            return decoded.resume_s
        if text and decoded.last_s > 0 and rest_s - decoded.last_s >= self._opts.uncovered_s:
            return decoded.last_s
        return 0.0

    def _transcribe_window(self, audio: np.ndarray, context: str, language: LanguageChoice | None, *,
                           full_if_doubt: bool = True, speech: bool = False,
                           known_s: float = 0.0) -> tuple[str, _Pass, bool, str | None]:
        """One window: the short one first (in auto mode), the full one when the short one is in doubt
        (unless `full_if_doubt` is False: then the doubted decode counts as no text, and the doubt is
        returned). A language detected on the short window is kept for the full one (detection never
        forces 30 s). Returns the text, the pass, whether the full window was used, and the doubt."""
        short = self._cfg.window == "auto" and not uses_full_window(audio.size, self._opts.window)
        fallback = False
        result = self._decode(audio, context, language, short=short, known_s=known_s)
        window_s = window_frames(audio.size, self._opts.window) * HOP_LENGTH / SAMPLE_RATE
        doubt = short and short_window_doubt(result.decoded, window_s, self._opts.window, speech=speech)
        if doubt and not full_if_doubt:
            return "", result, False, doubt
        if doubt:
            log.debug("short window: %s (%r); decoding the full window", doubt, result.decoded.text[:80])
            full = self._decode(audio, context, result.language, short=False, known_s=known_s)
            full.timings_ms = {k: full.timings_ms.get(k, 0.0) + v for k, v in result.timings_ms.items()}
            result, fallback = full, True
        text = "" if is_silence(result.decoded, self._opts.silence) else result.decoded.text
        return text, result, fallback, None

    def _decode(self, audio: np.ndarray, context: str, language: LanguageChoice | None, *,
                short: bool, known_s: float = 0.0) -> _Pass:
        t0 = time.perf_counter()
        mel = self._mel(audio, window_frames(audio.size, self._opts.window) if short else FULL_FRAMES)
        t1 = time.perf_counter()
        if short:
            memory, own = self._encode_short(mel)
        else:
            memory = own = self._encode(mel)
        t2 = time.perf_counter()
        self._check_abandon()
        if language is None:
            scores = self._model.detect_language(own)[0]
            candidates = self._policy.candidates([(token[2:-2], prob) for token, prob in scores])
        else:
            candidates = [language]
        # an unsure detection gets a second opinion: the audio decoded in its two likeliest languages, and
        # the decode the model finds likelier wins (once per dictation: later calls are given the language)
        # (a decode the short window's guard doubts, e.g. a loop, loses whatever its score)
        decodes = [self._generate(memory, audio.size, context, choice, short=short, known_s=known_s)
                   for choice in candidates]
        window_s = window_frames(audio.size, self._opts.window) * HOP_LENGTH / SAMPLE_RATE
        decoded, tokenizer, chosen = max(decodes, key=lambda done: (
            len(decodes) == 1 or not short_window_doubt(done[0], window_s, self._opts.window),
            done[0].avg_logprob))
        t3 = time.perf_counter()
        timings = {"features": (t1 - t0) * 1000, "encode": (t2 - t1) * 1000, "decode": (t3 - t2) * 1000}
        return _Pass(decoded, timings, memory, tokenizer, chosen)

    def _generate(self, memory: ctranslate2.StorageView, samples: int, context: str, language: LanguageChoice,
                  *, short: bool, known_s: float = 0.0) -> tuple[Decoded, Tokenizer, LanguageChoice]:
        tokenizer = self._tokenizer_for(language.language)
        plain = not known_s and short and samples <= self._opts.window.plain_max_s * SAMPLE_RATE
        prompt = build_prompt(tokenizer, context, timestamps=not plain, start_s=known_s)
        limit = max_new_tokens(len(prompt))
        if short:
            limit = min(limit, token_budget(samples / SAMPLE_RATE - known_s, self._opts.window))
        abandon = self._abandon
        result = self._model.generate(
            memory, [prompt], beam_size=self._beam, max_length=ct2_max_length(limit, len(prompt)),
            return_scores=True, return_no_speech_prob=True, suppress_blank=True, suppress_tokens=[-1],
            asynchronous=abandon is not None,
        )[0]
        if abandon is not None:
            result = finish_or_abandon(result, abandon)
        return read_result(result, tokenizer, limit), tokenizer, language

    def _check_abandon(self) -> None:
        if self._abandon is not None and self._abandon():
            raise Abandoned

    def _mel(self, audio: np.ndarray, frames: int) -> np.ndarray:
        """Log-mel features of `audio`, zero-padded (as Whisper pads its last window) to `frames`."""
        mel = self._features(audio)[:, :-1]
        if mel.shape[1] >= frames:
            return np.ascontiguousarray(mel[:, :frames])
        return np.pad(mel, ((0, 0), (0, frames - mel.shape[1])))

    def _encode(self, mel: np.ndarray) -> ctranslate2.StorageView:
        return self._encoder.encode(ctranslate2.StorageView.from_array(mel[np.newaxis]), to_cpu=False)

    def _encode_short(self, mel: np.ndarray) -> tuple[ctranslate2.StorageView, ctranslate2.StorageView]:
        """Encode a short window and lay it over the silent full window's encoder output; also returns the
        short window's own encoder output (what language detection reads). The result lives in one buffer
        reused by every call (StorageView.from_array shares its memory): only the part the previous call
        overwrote is restored from the silence, not 30 s of it copied anew."""
        own = self._encoder.encode(ctranslate2.StorageView.from_array(mel[np.newaxis]), to_cpu=True)
        if not self._opts.pad_short:
            return own, own
        short = np.asarray(own)
        silence = self._silence()
        if self._memory is None:
            self._memory = silence.copy()
        frames = short.shape[1]
        if self._memory_dirty > frames:
            self._memory[:, frames:self._memory_dirty] = silence[:, frames:self._memory_dirty]
        self._memory[:, :frames] = short
        self._memory_dirty = frames
        return ctranslate2.StorageView.from_array(self._memory), own

    def _silence(self) -> np.ndarray:
        """Encoder output of a 30 s window of Whisper's zero padding (the same for every call)."""
        if self._silence_memory is None:
            mel = np.zeros((self._model.n_mels, FULL_FRAMES), dtype=np.float32)
            out = self._encoder.encode(ctranslate2.StorageView.from_array(mel[np.newaxis]), to_cpu=True)
            self._silence_memory = np.array(out)
        return self._silence_memory

    def _tokenizer_for(self, language: str) -> Tokenizer:
        if language not in self._tokenizers:
            self._tokenizers[language] = Tokenizer(self._hf_tokenizer, self.multilingual, task="transcribe",
                                                   language=language)
        return self._tokenizers[language]


def load_recognizer(cfg: ModelConfig) -> WhisperEngine:
    """The engine for `cfg.name` (a model name or a folder), resolved by the model registry."""
    from onevox.models.registry import resolve_model

    resolved = resolve_model(cfg.name)
    return WhisperEngine(resolved.path, cfg, resolved.name)


def _as_mono_float32(audio: np.ndarray) -> np.ndarray:
    array = np.asarray(audio)
    if array.ndim != 1:
        raise AudioError(f"expected mono audio as a 1-D array of samples, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise AudioError(f"expected float audio samples in -1..1, got {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float32)
