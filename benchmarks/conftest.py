"""Fixtures for the benchmark suite: real speech from tests/data/speech, the bundled model loaded once,
the in-process daemon, and a virtual desktop for injection."""

from __future__ import annotations

import numpy as np
import pytest

from onevox.audio.files import load_audio
from onevox.config import Config
from tests.support.speech import speech_file

ONE_SECOND_CLIP = "ljspeech-lj002-0020.wav"  # 1.5 s file, about 1 s of speech ("In 1813")
TEN_SECOND_CLIP = "ls-2412-153948-0001.wav"  # 10.5 s of read speech


def _clip(name: str) -> np.ndarray:
    return load_audio(speech_file(name))


@pytest.fixture(scope="session")
def speech_1s() -> np.ndarray:
    return _clip(ONE_SECOND_CLIP)


@pytest.fixture(scope="session")
def speech_10s() -> np.ndarray:
    return _clip(TEN_SECOND_CLIP)


@pytest.fixture(scope="session")
def config() -> Config:
    return Config()


@pytest.fixture(scope="session")
def recognizer(config: Config):
    from onevox.asr.whisper import load_recognizer

    engine = load_recognizer(config.model)
    engine.warm_up()
    return engine


@pytest.fixture(scope="session")
def plain_faster_whisper(config: Config):
    from onevox.bench.workloads import load_faster_whisper

    return load_faster_whisper(config)


@pytest.fixture(scope="session")
def said_to_rig() -> dict[float, tuple[str, float]]:
    """Gap-free speech of a length (onevox.bench.continuous) already said to `rig` and released on its last
    word: the text typed and the share of a core used while speaking. A later check of that same
    dictation reads it here instead of saying it again (a minute of real time)."""
    return {}


@pytest.fixture(scope="session")
def rig(config: Config, recognizer):
    from onevox.bench.workloads import DictationRig

    rig = DictationRig(config, recognizer)
    yield rig
    rig.close()
