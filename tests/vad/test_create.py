from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from onevox.config import VadConfig
from onevox.errors import ConfigError
from onevox.vad import EnergyVad, SileroVad, WebRtcVad, create_detector
from onevox.vad.bench import measure_frame_cost


@pytest.mark.parametrize(("backend", "cls", "frame"), [("silero", SileroVad, 512), ("webrtc", WebRtcVad, 480),
                                                       ("energy", EnergyVad, 320)])
def test_each_backend_builds_its_detector(backend: str, cls: type, frame: int) -> None:
    detector = create_detector(VadConfig(backend=backend))
    assert isinstance(detector, cls) and detector.frame_samples == frame and detector.name == backend


def test_off_means_no_detector() -> None:
    assert create_detector(VadConfig(backend="off")) is None


def test_webrtc_aggressiveness_comes_from_the_threshold() -> None:
    assert create_detector(VadConfig(backend="webrtc", threshold=0.9)).aggressiveness == 3
    assert create_detector(VadConfig(backend="webrtc", threshold=0.1)).aggressiveness == 0


def test_unknown_backend_is_a_config_error() -> None:
    cfg = dataclasses.replace(VadConfig(), backend="nope")
    with pytest.raises(ConfigError, match=r"vad\.backend"):
        create_detector(cfg)


def test_vad_package_import_does_not_load_native_libraries() -> None:
    import subprocess
    import sys

    code = "import sys, onevox.vad; print('onnxruntime' in sys.modules, 'webrtcvad' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_measure_frame_cost_reports_every_path() -> None:
    audio = (np.random.default_rng(0).standard_normal(16000) * 0.05).astype(np.float32)
    cost = measure_frame_cost(EnergyVad(), audio, repeats=1)
    assert cost.frames == 50 and cost.frame_samples == 320
    assert cost.single_us > 0 and cost.batched_us > 0 and cost.segmenter_ms_per_100ms > 0
    assert cost.ms_per_100ms == pytest.approx(cost.batched_us * 5 / 1000)
