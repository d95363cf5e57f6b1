"""The learned vocabulary with the real tiny.en, on the daemon's own path (the engine, then post-processing
with the learned substitutions): espeak-ng says "Kubernetes", tiny.en writes "Cuban eat" or "Qber needs".
Each mechanism is checked on its own: the substitution with no spelling primed, then the primed spelling
with no substitution."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from onevox.asr.whisper import WhisperEngine, load_recognizer
from onevox.audio.files import load_audio
from onevox.config import ModelConfig, PostProcessingConfig, VocabularyConfig
from onevox.history import History, HistoryEntry
from onevox.text.postprocess import postprocess
from onevox.vocabulary import LearnedVocabulary
from onevox.vocabulary.store import VocabularyStore

pytestmark = pytest.mark.model

TEACH = [("en-gb", 150, "We moved the service to Kubernetes every week."),
         ("en-gb", 140, "Kubernetes runs the cluster for our team."),
         ("en-gb-x-rp", 150, "We deploy the service to Kubernetes every morning.")]  # each heard "Cuban eat"
SAME_MISHEARING = ("en-gb", 150, "Kubernetes keeps the cluster for our team.")  # a new sentence, "Cuban eat"
OTHER_MISHEARING = ("en-us", 140, "I think Kubernetes is down again today.")  # heard as "Qber needs"


@pytest.fixture(scope="module")
def engine() -> WhisperEngine:
    if shutil.which("espeak-ng") is None:
        pytest.fail("this test needs espeak-ng: run scripts/install-system-deps.sh --with-test")
    engine = load_recognizer(ModelConfig())
    engine.warm_up()
    return engine


def _dictate(engine: WhisperEngine, folder: Path, spec: tuple[str, int, str], text_cfg: PostProcessingConfig,
             vocabulary: LearnedVocabulary | None = None) -> str:
    """What the daemon does with one dictation: prime, decode, post-process with the learned rules."""
    voice, speed, words = spec
    path = folder / f"{voice}-{speed}-{abs(hash(words))}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), words], check=True,
                   timeout=30)
    if vocabulary is not None:
        vocabulary.prime(engine)
        text_cfg = vocabulary.text_config(text_cfg)
    return postprocess(engine.transcribe(load_audio(path)).text, text_cfg).strip()


def test_three_corrections_fix_the_word_in_a_new_dictation(engine: WhisperEngine, tmp_path: Path) -> None:
    plain = PostProcessingConfig()
    history = History(tmp_path / "history.sqlite3")
    heard = [_dictate(engine, tmp_path, spec, plain) for spec in TEACH]
    assert all("Cuban eat " in text for text in heard), heard
    ids = [history.add(HistoryEntry(text=text)) for text in heard]
    store = VocabularyStore(tmp_path / "vocabulary.sqlite3")

    # the substitution alone: no spelling primed
    learned = LearnedVocabulary(store, VocabularyConfig(min_count=2, prompt_words=0))
    for entry, (_voice, _speed, spoken) in zip(ids, TEACH, strict=True):
        learned.correct(history, entry, spoken)
    assert learned.current.replacements == {"cuban eat": "Kubernetes"} and learned.current.words == ()
    before = _dictate(engine, tmp_path, SAME_MISHEARING, plain)
    after = _dictate(engine, tmp_path, SAME_MISHEARING, plain, learned)
    print(f"\nsubstitution: {before!r} -> {after!r}")
    assert "Kubernetes" not in before and "Kubernetes" in after, (before, after)

    # the primed spelling alone: a mishearing no correction showed
    learned.set_config(VocabularyConfig(min_count=2, prompt_words=20))
    assert learned.current.words == ("Kubernetes",)
    before = _dictate(engine, tmp_path, OTHER_MISHEARING, plain)
    after = _dictate(engine, tmp_path, OTHER_MISHEARING, PostProcessingConfig(), learned)
    print(f"primed spelling: {before!r} -> {after!r}")
    assert "Kubernetes" not in before and "Kubernetes" in after, (before, after)
    engine.set_learned_words(())
    assert "Kubernetes" not in _dictate(engine, tmp_path, OTHER_MISHEARING, plain)  # and it can be taken back
    store.close()
    history.close()
