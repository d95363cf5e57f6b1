"""The model stage's memory across many DIFFERENT audio lengths, as real dictations have.

With an audio-sized encoder window each new length is a new tensor shape, and oneDNN (inside CTranslate2)
keeps compiled kernels per shape for good: unrounded, RSS grew from 184 MB to ~340 MB over 200 lengths. The
window is now rounded up to 0.5 s buckets (asr/window.py), so there are at most 60 shapes: once each bucket
has been seen, any number of new lengths must not grow the process.

The measurement runs in a fresh child process: the test process's own RSS also moves with everything the
rest of the suite allocated and freed. It loads the model as the daemon does, so its threads share one heap
arena (asr/memory.py): with glibc's per-thread arenas, samples stepped by up to 17 MB either way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from statistics import median

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.model]

CALLS = 200
MAX_GROWTH_MB = 10.0  # far above the noise (0.2 MB), far below what unbounded shapes took (+105 MB)
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_rss_stays_flat_across_many_audio_lengths(speech_dir: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "tests.soak.test_model_memory", str(speech_dir)], cwd=REPO,
                          capture_output=True, text=True, timeout=580, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\nRSS per 20 calls (MB): {result['samples']}; growth {result['growth_mb']:.1f} MB")
    assert result["growth_mb"] < MAX_GROWTH_MB


def _measure(speech_dir: Path) -> dict:
    from onevox.asr.whisper import load_recognizer
    from onevox.config import ModelConfig
    from tests.soak import soak
    from tests.soak.rig import settled_rss_kb

    recognizer = load_recognizer(ModelConfig())
    recognizer.warm_up()
    clips = soak.load_clips(speech_dir)
    longest = max((clip.audio for clip in clips), key=len)
    for end in range(8000, longest.size + 1, 8000):  # every window bucket once (0.5 s steps): below, only
        recognizer.transcribe(longest[:end])  # lengths never seen before, in buckets already seen
    rng = np.random.default_rng(0)
    samples = []
    for i in range(CALLS):
        audio = clips[i % len(clips)].audio
        recognizer.transcribe(audio[: int(rng.integers(8000, audio.size + 1))])
        if (i + 1) % 20 == 0:
            samples.append(round(settled_rss_kb() / 1024, 1))
    return {"samples": samples, "growth_mb": median(samples[-3:]) - median(samples[:3])}


if __name__ == "__main__":
    print(json.dumps(_measure(Path(sys.argv[1]))))
