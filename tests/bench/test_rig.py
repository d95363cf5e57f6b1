"""The benchmark's in-process daemon (DictationRig) keeps its dictations out of the user's history."""

from __future__ import annotations

from pathlib import Path

import pytest

from onevox import paths
from onevox.audio.files import load_audio
from onevox.bench.workloads import DictationRig
from onevox.config import Config
from onevox.history import History


@pytest.mark.model
def test_rig_dictations_go_to_a_history_of_their_own(isolated_xdg: Path, speech_dir: Path) -> None:
    user_history = paths.default_history_path()
    rig = DictationRig(Config())
    try:
        rig_history = Path(rig.daemon.config.history_path())
        rig.speak(load_audio(speech_dir / "ps-goforward.wav"), hold_s=0.4)
        assert rig.release().strip()
        with History(rig_history) as history:
            assert history.count() == 1
    finally:
        rig.close()
    assert rig_history != user_history
    assert not user_history.exists()
    assert not rig_history.exists()  # removed with the rig
