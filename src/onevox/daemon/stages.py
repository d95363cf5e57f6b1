"""The one place that builds the daemon's stages from the config.

`StageFactory` builds each stage from a Config: at start, and again when a reload changes that stage's
section. A stage handed to it (a FileAudioSource in benchmarks, doubles in tests) is used as it is and never
rebuilt: `is_given` tells the reloader which keys it cannot apply. Native libraries load only when the stage
that needs them is built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from onevox.config import Config, InjectionConfig, ModelConfig
from onevox.errors import ModelError
from onevox.metrics import Metrics
from onevox.text.spoken import primed_model

if TYPE_CHECKING:
    import numpy as np

    from onevox.asr.base import SpeechRecognizer, Transcript
    from onevox.audio.base import AudioSource
    from onevox.feedback import Feedback
    from onevox.history import History
    from onevox.inject.base import Injector
    from onevox.inject.edits import Editor
    from onevox.vad.segmenter import SpeechSegmenter
    from onevox.vocabulary import LearnedVocabulary

log = logging.getLogger(__name__)

# (kind, message) from an audio source's own thread: device_lost, device_restored, device_fallback
AudioEventSink = Callable[[str, str], None]
ModelLoader = Callable[[ModelConfig], "SpeechRecognizer"]


class Stage(StrEnum):
    SOURCE = "source"
    SEGMENTER = "segmenter"
    RECOGNIZER = "recognizer"
    INJECTOR = "injector"


@dataclass
class Stages:
    """The stage objects a pipeline drives. Each is replaced only on the worker thread that uses it."""

    source: AudioSource
    segmenter: SpeechSegmenter
    recognizer: SpeechRecognizer
    injector: Injector
    history: History | None
    metrics: Metrics = field(default_factory=Metrics)
    # builds a profile's injector from its [injection] settings (None: create_injector, as for the daemon's)
    make_injector: Callable[[InjectionConfig], Injector] | None = None
    vocabulary: LearnedVocabulary | None = None  # substitutions and spellings learned from corrections
    editor: Editor | None = None  # carries out the edit commands; None: they are refused


class StageFactory:
    """Builds stages from a Config, or hands back the ones given to it."""

    def __init__(self, *, metrics: Metrics | None = None, source: AudioSource | None = None,
                 segmenter: SpeechSegmenter | None = None, recognizer: SpeechRecognizer | None = None,
                 injector: Injector | None = None, load_model: ModelLoader | None = None,
                 feedback: Sequence[Feedback] | None = None, editor: Editor | None = None) -> None:
        self.metrics = metrics or Metrics()
        self._source = source
        self._segmenter = segmenter
        self._recognizer = recognizer
        self._injector = injector
        self._load_model = load_model or _load_whisper
        self._feedback = feedback
        self._editor = editor

    def is_given(self, stage: Stage) -> bool:
        """True when the stage was handed in: a reload leaves it as it is."""
        given = {Stage.SOURCE: self._source, Stage.SEGMENTER: self._segmenter,
                 Stage.RECOGNIZER: self._recognizer, Stage.INJECTOR: self._injector}
        return given[stage] is not None

    def recognizer(self, config: Config) -> SpeechRecognizer:
        """Load and warm the model up; ModelError says what is wrong and how to fix it."""
        if self._recognizer is not None:
            return self._recognizer
        with self.metrics.span("model_load", model=config.model.name):
            recognizer = self._load_model(primed_model(config.model, config.commands))
        with self.metrics.span("warm_up"):
            recognizer.warm_up()
        return recognizer

    def segmenter(self, config: Config) -> SpeechSegmenter:
        if self._segmenter is not None:
            return self._segmenter
        from onevox.vad import create_detector
        from onevox.vad.segmenter import SpeechSegmenter

        return SpeechSegmenter(create_detector(config.vad), config.vad)

    def source(self, config: Config, on_event: AudioEventSink) -> AudioSource:
        if self._source is not None:
            return self._source
        from onevox.audio.capture import AudioCapture

        return AudioCapture(config.audio, on_event=on_event)

    def injector(self, config: Config) -> Injector:
        if self._injector is not None:
            return self._injector
        from onevox.inject import create_injector

        return create_injector(config.injection)

    def editor(self, config: Config) -> Editor | None:
        """What carries out the edit commands in this session. None when the injector was handed in (a
        test double) and no editor was: keys must not go to a real desktop behind the double's back."""
        if self._editor is not None or self._injector is not None:
            return self._editor
        from onevox.desktop import detect_session
        from onevox.desktop.keys import Hotkey, parse_hotkey
        from onevox.errors import HotkeyError
        from onevox.inject.edits import create_editor

        hotkeys: tuple[Hotkey, ...]
        try:
            hotkeys = (parse_hotkey(config.hotkey.trigger),)
        except HotkeyError:  # the hotkey listener reports a bad trigger; the editor just cannot exclude it
            hotkeys = ()
        editor = create_editor(config.injection, detect_session(), hotkeys)
        if config.commands.edit:  # start watching now, not during the first dictation's injection
            reason = editor.watcher.unavailable_reason()
            if reason:
                log.info("\"scratch that\" will refuse in this session: %s", reason)
        return editor

    def feedback(self, config: Config) -> list[Feedback]:
        """The start/stop sounds and the recording indicator this config and session ask for (maybe none);
        parts handed in (tests) are used as they are, every time."""
        if self._feedback is not None:
            return list(self._feedback)
        from onevox.feedback import create_feedback

        return create_feedback(config.feedback)

    def owns_injector(self) -> bool:
        """An injector this factory built is closed by the daemon; one handed in belongs to the caller."""
        return self._injector is None

    def history(self, config: Config) -> History | None:
        """The history store, or None when it is turned off. OnevoxError when it cannot be opened."""
        if not config.history.enabled:
            return None
        from onevox.history import History

        return History(config.history_path(), config.history.max_entries)

    def vocabulary(self, config: Config) -> LearnedVocabulary | None:
        """What corrections taught, next to the history; None when the history is off and nothing was
        learned before. OnevoxError when the file cannot be opened."""
        from onevox.vocabulary import LearnedVocabulary
        from onevox.vocabulary.store import VocabularyStore, store_path

        path = store_path(config.history_path())
        if not config.history.enabled and not path.exists():
            return None
        return LearnedVocabulary(VocabularyStore(path), config.vocabulary)


class MissingModel:
    """Stands in for the recognizer while the model cannot be loaded: the controller refuses dictations
    (a fault), and should a decode ever reach it, it fails with the same actionable message."""

    def __init__(self, name: str, message: str) -> None:
        self.model_name = name
        self.message = message

    def transcribe(self, audio: np.ndarray, *, prompt: str = "", language: str | None = None) -> Transcript:
        raise ModelError(self.message)

    def warm_up(self) -> None:
        raise ModelError(self.message)


def _load_whisper(config: ModelConfig) -> SpeechRecognizer:
    """The local model, or the remote engine with the local model as its fallback (see asr/remote.py)."""
    from onevox.asr.whisper import load_recognizer

    if config.backend != "openai":
        return load_recognizer(config)
    from onevox.asr.remote import build_remote

    return build_remote(config, load_recognizer(config) if config.fallback == "local" else None)
