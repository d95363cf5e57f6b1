"""CI versions of the soak (scripts/soak.sh runs the full ones): 90 consecutive dictations and a 2-minute
hands-free session through the real daemon, real VAD and the real bundled model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from onevox.asr.whisper import load_recognizer
from onevox.config import ModelConfig
from tests.soak import soak
from tests.soak.rig import SoakRig, soak_config

pytestmark = [pytest.mark.slow, pytest.mark.model]

DICTATIONS = 90
WARM_UP = 30
REPO = Path(__file__).resolve().parents[2]
SESSION_MINUTES = 2.0


@pytest.fixture(scope="module")
def recognizer():
    engine = load_recognizer(ModelConfig())
    engine.warm_up()
    return engine


@pytest.fixture(scope="module")
def clips(speech_dir: Path) -> list[soak.Clip]:
    return soak.load_clips(speech_dir)


@pytest.mark.timeout(600)
def test_consecutive_dictations_deliver_every_text_without_growing(tmp_path) -> None:
    """Run as `scripts/soak.sh` runs it, shortened, in a fresh child process: the test process's own RSS
    also moves with everything the rest of the suite allocated, which is not the daemon's growth."""
    out = tmp_path / "soak.json"
    done = subprocess.run([sys.executable, "-m", "tests.soak.soak", "--dictations", str(DICTATIONS),
                           "--warm-up", str(WARM_UP), "--session-minutes", "0", "--json", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=580)
    summary = json.loads(out.read_text())["dictations"]
    print("\n" + json.dumps({k: v for k, v in summary.items() if k != "distinct_texts"}, sort_keys=True))
    soak.check_delivery(summary)
    assert summary["delivered"] == DICTATIONS
    assert summary["growth_mb"] < soak.MAX_GROWTH_MB, summary
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.mark.timeout(600)
def test_hands_free_session_has_no_gap_and_no_duplicate(tmp_path, recognizer, clips) -> None:
    config = soak_config(tmp_path, mode="toggle", max_dictation_s=7200)
    with SoakRig(config, recognizer) as rig:
        summary = soak.run_session(rig, clips, SESSION_MINUTES, timeout=300)
    print("\n" + json.dumps(summary, sort_keys=True))
    assert summary["audio_minutes"] >= SESSION_MINUTES
    assert summary["segments"] > summary["occurrences"] // 2  # VAD-cut, not one giant window
    soak.check_session(summary)


def test_the_session_score_catches_a_gap_and_a_duplicate(clips) -> None:
    """The checks above can fail: a dropped clip and a doubled one are both reported."""
    _audio, order = soak.session_audio(clips, 1.0)
    texts = [c.text for c in order]
    assert soak.score_session(order, " ".join(texts))["missing"] == []
    gap = soak.score_session(order, " ".join(texts[:1] + texts[2:]))
    assert [m[0] for m in gap["missing"]] == [1]
    doubled = soak.score_session(order, " ".join(texts[:2] + texts[1:]))
    assert doubled["longest_insert_run"] >= len(order[1].text.split())
    with pytest.raises(AssertionError):
        soak.check_session(doubled)
