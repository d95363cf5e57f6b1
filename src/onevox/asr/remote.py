"""The remote engine: `[model] backend = "openai"` decodes on an OpenAI-compatible server instead of here.

What goes to the server: each speech segment once, when the voice activity detector closes it (at a pause,
or at release), with the text before it as the prompt. Incremental passes and early decodes at pauses are
off with this engine (it is no WordRecognizer, and the pipeline's options turn early decodes off): both
decode the same audio again and again as it grows, which on a shared server multiplies its load and the
audio sent for text the next pass replaces. So the release waits for the last segment's round trip only.

When the server fails (no connection, no answer within timeout_s, an HTTP error, an answer that is not a
transcription) and `fallback = "local"`, the local model decodes the same audio at once, and keeps answering
for `retry_after_s` before the server is tried again: a dead server costs one timeout, not one per segment
or per dictation. The local model is loaded and warmed at start like the local backend's, so the first
fallback does not add a model load to the timeout, right when the user is waiting. With `fallback = "none"`
the decode fails with one line naming the server and why; the pipeline then types nothing and keeps the
audio on disk and a failed history entry (daemon/delivery.py).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from onevox.asr.base import PromptedRecognizer, SpeechRecognizer, Transcript, VocabularyRecognizer
from onevox.asr.decoding import context_text
from onevox.asr.openai_api import RemoteError, ServerOptions, TranscriptionServer
from onevox.asr.privacy import is_private_url
from onevox.audio import SAMPLE_RATE
from onevox.clock import SYSTEM_CLOCK, Clock
from onevox.config import ModelConfig
from onevox.errors import ModelError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FallbackOptions:
    retry_after_s: float = 30.0  # the local model answers this long after a failure before a retry
    language: str | None = "en"  # the configured language; None: the server detects it
    initial_prompt: str = ""  # [model] initial_prompt and vocabulary: sent ahead of each prompt
    vocabulary: tuple[str, ...] = ()


class RemoteEngine:
    """A SpeechRecognizer whose decodes run on a server, with the local model as the fallback (or none).
    Called from the daemon's single ASR worker; `status()` may be called from any thread."""

    def __init__(self, server: TranscriptionServer, local: SpeechRecognizer | None,
                 options: FallbackOptions, clock: Clock = SYSTEM_CLOCK) -> None:
        self.server = server
        self.local = local
        self.options = options
        self.clock = clock
        self.url = server.options.url
        self.model_name = f"{server.options.model} at {self.url}"
        self._lock = threading.Lock()
        self._down_until = 0.0  # monotonic time before which the server is not tried again
        self._last_error = ""
        self._remote = 0  # decodes the server answered
        self._fallbacks = 0  # decodes the local model answered instead
        self._context = (options.initial_prompt, list(options.vocabulary))
        self._learned: list[str] = []  # learned from corrections, sent after the vocabulary in force

    def use_context(self, initial_prompt: str | None = None, vocabulary: Sequence[str] | None = None) -> None:
        """A dictation's profile may bring its own prompt and vocabulary (None: the configured ones); the
        local fallback is told too."""
        self._context = (self.options.initial_prompt if initial_prompt is None else initial_prompt,
                         list(self.options.vocabulary if vocabulary is None else vocabulary))
        if isinstance(self.local, PromptedRecognizer):
            self.local.use_context(initial_prompt, vocabulary)

    def set_learned_words(self, words: Sequence[str]) -> None:
        """Implements `VocabularyRecognizer`, for the server's prompt and the local fallback alike."""
        self._learned = list(words)
        if isinstance(self.local, VocabularyRecognizer):
            self.local.set_learned_words(words)

    def transcribe(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None) -> Transcript:
        language = language or self.options.language
        now = self.clock.monotonic()
        if self.local is not None and now < self._down_until:
            return self._local(audio, prompt, language)
        start = self.clock.perf_ns()
        try:
            prompt_text, vocabulary = self._context
            named = {word.casefold() for word in vocabulary}
            words = [*vocabulary, *(w for w in self._learned if w.casefold() not in named)]
            context = context_text(prompt_text, words, prompt)
            answer = self.server.transcribe(audio, prompt=context, language=language)
        except RemoteError as exc:
            return self._failed(exc, audio, prompt, language)
        with self._lock:
            self._remote += 1
            if self._down_until:
                log.info("the server at %s answers again", self.url)
            self._down_until = 0.0
        total_ms = (self.clock.perf_ns() - start) / 1e6
        return Transcript(text=answer.text, audio_s=audio.size / SAMPLE_RATE, model=self.model_name,
                          timings_ms={"remote": total_ms, "total": total_ms},
                          language=language or answer.language)

    def warm_up(self) -> None:
        """Warms the local model only: nothing is sent before the user dictates."""
        if self.local is not None:
            self.local.warm_up()

    def status(self) -> dict[str, Any]:
        """For `onevox status`: where the audio goes, and how the server has been doing."""
        with self._lock:
            wait = max(self._down_until - self.clock.monotonic(), 0.0)
            return {"audio_sent_to": self.url, "remote_model": self.server.options.model,
                    "fallback": self.local.model_name if self.local is not None else None,
                    "encrypted_or_local": is_private_url(self.url), "remote_decodes": self._remote,
                    "local_fallbacks": self._fallbacks, "last_remote_error": self._last_error or None,
                    "retry_remote_in_s": round(wait, 1) if wait else None}

    def close(self) -> None:
        self.server.close()

    def _failed(self, exc: RemoteError, audio: np.ndarray, prompt: str, language: str | None) -> Transcript:
        message = f"the server at {self.url} failed: {exc}"
        with self._lock:
            self._last_error = message
        if self.local is None:
            raise ModelError(f"{message} ([model] fallback = \"none\": nothing decoded this audio)")
        with self._lock:
            self._down_until = self.clock.monotonic() + self.options.retry_after_s
        log.warning("%s; the local model %s answers for the next %g s", message, self.local.model_name,
                    self.options.retry_after_s)
        return self._local(audio, prompt, language)

    def _local(self, audio: np.ndarray, prompt: str, language: str | None) -> Transcript:
        assert self.local is not None
        with self._lock:
            self._fallbacks += 1
        return self.local.transcribe(audio, prompt=prompt, language=language)  # None: its own detection


def build_remote(cfg: ModelConfig, local: SpeechRecognizer | None,
                 clock: Clock = SYSTEM_CLOCK) -> RemoteEngine:
    """The engine `cfg` asks for; `local` is the fallback model, already loaded (None with fallback none)."""
    server = TranscriptionServer(ServerOptions(url=cfg.url, model=cfg.remote_model, api_key=read_api_key(cfg),
                                               timeout_s=cfg.timeout_s))
    language = None if cfg.language == "auto" else cfg.language
    options = FallbackOptions(retry_after_s=cfg.retry_after_s, language=language,
                              initial_prompt=cfg.initial_prompt, vocabulary=tuple(cfg.vocabulary))
    return RemoteEngine(server, local, options, clock)


def read_api_key(cfg: ModelConfig) -> str:
    """The key from the variable or file the config names (never from the config itself); "" for none."""
    if cfg.api_key_env:
        key = os.environ.get(cfg.api_key_env, "").strip()
        if not key:
            raise ModelError(f"[model] api_key_env: the environment variable {cfg.api_key_env} is not set "
                             "(or empty) in the daemon's environment")
        return key
    if cfg.api_key_file:
        path = Path(cfg.api_key_file).expanduser()
        try:
            key = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelError(f"[model] api_key_file: cannot read {path}: {exc}") from exc
        if not key:
            raise ModelError(f"[model] api_key_file: {path} is empty")
        return key
    return ""
