"""Vocabulary that learns from corrected dictations.

`onevox history correct ID "right text"` (or the IPC command `correct`) records what the user says a
dictation should have been; text/learned.py derives word-level substitutions from it, the store counts how
many corrections show each. Under `[vocabulary] learn = "apply"` a substitution seen `min_count` times is
applied to every later dictation (with the post-processing replacements) and its right spelling is added to
the words the model is primed with; under "propose" it waits for `onevox vocabulary accept`.

`LearnedVocabulary` is the daemon's live view: the IPC thread records corrections through it, the ASR worker
primes the model with its words at the start of each dictation (re-reading the file first when another
process, such as the CLI, changed it), the delivery worker adds its substitutions to the replacements.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from onevox.config import PostProcessingConfig, VocabularyConfig
from onevox.text.learned import with_learned
from onevox.vocabulary.store import Learned, LearnedRule, VocabularyError, VocabularyStore, learned

if TYPE_CHECKING:
    from onevox.asr.base import SpeechRecognizer
    from onevox.history import History

log = logging.getLogger(__name__)
MAX_ENTRY_ID = 2**63 - 1  # SQLite's largest integer

__all__ = ["CorrectionResult", "LearnedVocabulary", "VocabularyError", "record_correction"]


@dataclass(frozen=True)
class CorrectionResult:
    history_id: int
    original: str  # the text onevox typed
    corrected: str  # what the user says was right
    rules: list[LearnedRule]  # the substitutions this correction shows, as they stand now

    def to_dict(self) -> dict[str, Any]:
        return {"history_id": self.history_id, "original": self.original, "corrected": self.corrected,
                "rules": [rule.to_dict() for rule in self.rules]}


def record_correction(history: History, store: VocabularyStore, entry_id: int, text: str,
                      cfg: VocabularyConfig) -> CorrectionResult:
    """Record that history entry `entry_id` should have read `text`; VocabularyError, with nothing saved,
    for an unknown entry, an empty text or one that changes nothing."""
    corrected = text.strip()
    if not corrected:
        raise VocabularyError("the corrected text is empty: give the words the dictation should have had")
    entry = history.get(entry_id) if 0 < entry_id <= MAX_ENTRY_ID else None
    if entry is None:
        raise VocabularyError(f"no history entry {entry_id}")
    original = entry.text.strip()
    if corrected.split() == original.split():
        raise VocabularyError(f"the correction is the same as history entry {entry_id}: nothing to learn")
    shown = store.add_correction(entry_id, original, corrected)
    pairs = {(rule.wrong, rule.right) for rule in shown}
    rules = [rule for rule in store.rules(cfg) if (rule.wrong, rule.right) in pairs]
    return CorrectionResult(entry_id, original, corrected, rules)


class LearnedVocabulary:
    """The daemon's view of the learned rules; safe to use from any thread."""

    def __init__(self, store: VocabularyStore, cfg: VocabularyConfig) -> None:
        self.store = store
        self._cfg = cfg
        self._lock = threading.Lock()
        # replaced whole, never changed in place: a worker reading it sees one state or the next
        self.current = Learned()
        self.refresh()

    def refresh(self) -> Learned:
        with self._lock:
            self.current = learned(self.store.rules(self._cfg), self._cfg)
            return self.current

    def set_config(self, cfg: VocabularyConfig) -> None:
        """A reload changed [vocabulary]."""
        self._cfg = cfg
        self.refresh()

    def correct(self, history: History, entry_id: int, text: str) -> CorrectionResult:
        """Record a correction and apply what it teaches from the next dictation on."""
        result = record_correction(history, self.store, entry_id, text, self._cfg)
        self.refresh()
        return result

    def prime(self, recognizer: SpeechRecognizer) -> None:
        """At the start of a dictation, on the ASR worker: pick up what another process wrote, and give the
        model the learned spellings (a recognizer that takes no vocabulary is left alone)."""
        from onevox.asr.base import VocabularyRecognizer

        try:
            current = self.refresh() if self.store.changed() else self.current
        except VocabularyError as exc:  # a dictation never fails for it: what was learned so far still holds
            log.warning("learned vocabulary not re-read: %s", exc)
            current = self.current
        if isinstance(recognizer, VocabularyRecognizer):
            recognizer.set_learned_words(current.words)

    def text_config(self, cfg: PostProcessingConfig) -> PostProcessingConfig:
        """The post-processing options with the learned substitutions added to the replacements."""
        return with_learned(cfg, self.current.replacements)

    def close(self) -> None:
        self.store.close()
