"""The model stage's memory across many DIFFERENT audio lengths, as real dictations have.

The soak's clips repeat, so the daemon sees only a few dozen segment lengths; a user's dictations are all
different lengths. With the audio-sized encoder window each new length is a new tensor shape, and oneDNN
(inside CTranslate2) keeps a compiled primitive per shape in its cache (1,024 by default): measured here,
RSS grew from 184 MB to ~340 MB over 200 lengths, and stayed flat (180-190 MB) with
ONEDNN_PRIMITIVE_CACHE_CAPACITY=8. The window is now rounded up to 0.5 s buckets (asr/window.py): at most 60
shapes ever.
"""

from __future__ import annotations

from pathlib import Path
from statistics import median

import numpy as np
import pytest

from onevox.asr.whisper import load_recognizer
from onevox.config import ModelConfig
from tests.soak import soak
from tests.soak.rig import settled_rss_kb

pytestmark = [pytest.mark.slow, pytest.mark.model]

CALLS = 200
MAX_GROWTH_MB = 20.0  # far above the noise (+-5 MB), far below what the shape cache takes


@pytest.mark.timeout(600)
def test_rss_stays_flat_across_many_audio_lengths(speech_dir: Path) -> None:
    recognizer = load_recognizer(ModelConfig())
    recognizer.warm_up()
    clips = soak.load_clips(speech_dir)
    rng = np.random.default_rng(0)
    samples = []
    for i in range(CALLS):
        audio = clips[i % len(clips)].audio
        recognizer.transcribe(audio[: int(rng.integers(8000, audio.size + 1))])
        if (i + 1) % 20 == 0:
            samples.append(settled_rss_kb() / 1024)
    growth = median(samples[-3:]) - median(samples[:3])
    print(f"\nRSS per 20 calls (MB): {[round(s, 1) for s in samples]}; growth {growth:.1f} MB")
    assert growth < MAX_GROWTH_MB
