"""What the pipeline is told (its options, from the config) and whom it tells (its listener)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from onevox.config import Config

if TYPE_CHECKING:
    from onevox.daemon.record import Dictation


@dataclass(frozen=True)
class PipelineOptions:
    pre_roll_ms: int = 300  # audio kept from before the start command
    post_roll_ms: int = 300  # tail read after the stop command, only while speech is still going on
    max_dictation_s: float = 600.0  # a dictation is stopped automatically after this much audio
    save_recordings: bool = False  # write each dictation's audio as WAV under recordings_dir
    save_failed: bool = False  # keep the audio in memory and write it when a decode fails (a remote server
    # with no local fallback: the user can transcribe it again later)
    recordings_dir: Path | None = None  # None: <XDG data>/onevox/recordings
    hallucination_filter: bool = True  # drop segments that are only a phrase Whisper invents in silence
    read_timeout_s: float = 0.01  # longest a capture read waits; bounds how late a stop is noticed
    early_decode_ms: int = 250  # decode the open segment once speech has paused this long (0 = never)
    min_speech_ms: int = 200  # less speech than this is not worth an early decode
    pass_interval_ms: int = 1000  # incremental passes over the open segment while speech goes on (0 = off)
    live: bool = False  # settled words go into the window while the user speaks
    language: str = "en"  # [model] language: each dictation's language until it is detected ("auto")
    edit_commands: bool = True  # [commands] edit: "scratch that", "press enter" as a whole dictation

    @classmethod
    def from_config(cls, config: Config, hotkey_backend: str = "none") -> PipelineOptions:
        """`hotkey_backend`: the listener running (Diagnostics.hotkey_backend), which decides live typing."""
        return cls(pre_roll_ms=config.audio.pre_roll_ms, post_roll_ms=config.audio.post_roll_ms,
                   max_dictation_s=float(config.audio.max_dictation_s),
                   save_recordings=config.audio.save_recordings, min_speech_ms=config.vad.min_speech_ms,
                   save_failed=config.model.backend == "openai" and config.model.fallback == "none",
                   hallucination_filter=config.post_processing.hallucination_filter,
                   early_decode_ms=early_decode_ms(config), pass_interval_ms=config.vad.pass_interval_ms,
                   live=live_typing(config, hotkey_backend), language=config.model.language,
                   edit_commands=config.commands.edit)


def early_decode_ms(config: Config) -> int:
    """No early decodes with a remote engine: one thrown away when speech resumes would have sent the same
    audio to the server twice (see asr/remote.py for what is sent)."""
    return 0 if config.model.backend == "openai" else config.vad.early_decode_ms


# hotkey backends that leave the keyboard to the focused window while a push-to-talk key is held, with an
# injector that releases the held modifiers before it types (hotkey/x11.py, inject/xkeyboard.py)
FREE_WHILE_HELD = ("x11",)


def live_typing(config: Config, hotkey_backend: str = "none") -> bool:
    """Whether live mode may type while the user speaks. With a push-to-talk key held, only where the
    running hotkey backend gives the keyboard back meanwhile: a held global key otherwise owns the keyboard
    (the portal's compositor, a grab) and the held modifiers would turn the typed text into shortcuts;
    settled words are then still shown (partial events) and typed at release."""
    held = config.hotkey.mode == "push-to-talk" and config.hotkey.backend != "none"
    # `xdotool type` would type a space on the held space key itself, releasing it as far as X knows
    free = hotkey_backend in FREE_WHILE_HELD and config.injection.method != "xdotool"
    return config.injection.live and (not held or free)


class PipelineListener(Protocol):
    """What the pipeline reports to the controller (called from the worker threads)."""

    def on_max_duration(self, d: Dictation) -> None: ...

    def on_transcribed(self, d: Dictation) -> None: ...

    def on_done(self, d: Dictation) -> None: ...

    def on_error(self, d: Dictation, stage: str, message: str, *, fatal: bool) -> None: ...

    def on_audio_event(self, kind: str, message: str) -> None: ...

    def on_partial(self, d: Dictation, text: str) -> None: ...

    def on_model_loaded(self, model_name: str) -> None: ...

    def on_model_failed(self, message: str) -> None: ...
