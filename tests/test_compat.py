"""Every upstream detail onevox relies on (onevox.compat), checked against what is installed, and the
installed versions against pyproject.toml: an upgrade that breaks an assumption fails here."""

from __future__ import annotations

import importlib.metadata
import logging
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from packaging.requirements import Requirement

from onevox import compat
from onevox.audio.devices import PORTAUDIO_LOCK, list_input_devices, refresh_devices, sounddevice
from onevox.errors import AudioError, ModelError

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def requirements() -> dict[str, Requirement]:
    """Every requirement that applies on this platform (evdev's `sys_platform == 'linux'` marker, say)."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    listed = project["dependencies"] + project["optional-dependencies"]["test"]
    return {req.name: req for req in map(Requirement, listed)
            if req.marker is None or req.marker.evaluate()}


@pytest.mark.parametrize("name", sorted(requirements()))
def test_installed_version_satisfies_pyproject(name: str) -> None:
    req = requirements()[name]
    installed = importlib.metadata.version(name)
    assert req.specifier.contains(installed, prereleases=True), f"{name} {installed} does not satisfy {req}"


def test_compat_requirements_are_the_ones_pyproject_states() -> None:
    for stated in (compat.FASTER_WHISPER_REQUIREMENT, compat.SOUNDDEVICE_REQUIREMENT):
        req = Requirement(stated)
        assert str(requirements()[req.name]) == str(req)


def test_faster_whisper_pin_excludes_releases_without_the_silero_model() -> None:
    spec = requirements()["faster-whisper"].specifier
    assert "1.2.1" in spec
    assert "1.2.0" not in spec and "1.1.1" not in spec


def test_language_codes() -> None:
    codes = compat.whisper_language_codes()
    assert isinstance(codes, frozenset)
    assert {"en", "de", "fr", "es", "ja", "zh", "yue"} <= codes
    assert "auto" not in codes and all(code.isascii() and code.islower() for code in codes)


def test_silero_model_exists_and_loads_with_onnxruntime() -> None:
    import onnxruntime as ort

    path = compat.silero_model_path()
    assert path.name == compat.SILERO_MODEL_FILE and path.is_file()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input", "h", "c"]
    assert [o.name for o in session.get_outputs()] == ["speech_probs", "hn", "cn"]


def test_silero_model_is_found_without_importing_faster_whisper() -> None:
    # importing faster-whisper pulls in PyAV and huggingface_hub: too slow for a VAD that does not need them
    code = ("import sys; from onevox.compat import silero_model_path; silero_model_path(); "
            "assert 'faster_whisper' not in sys.modules, 'faster_whisper was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_missing_silero_model_names_the_faster_whisper_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr("importlib.util.find_spec", lambda name: fake)
    with pytest.raises(ModelError, match=r"faster-whisper>=1\.2\.1,<1\.3.*webrtc"):
        compat.silero_model_path()
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(ModelError, match="not installed"):
        compat.silero_model_path()


@pytest.fixture
def sd() -> ModuleType:  # the real sounddevice: scripts/setup.sh installs PortAudio, so it must load
    try:
        return sounddevice()
    except AudioError as exc:
        pytest.fail(str(exc))


def test_sounddevice_private_names_exist(sd: ModuleType) -> None:
    assert callable(sd._initialize) and callable(sd._terminate)
    assert isinstance(sd._initialized, int) and sd._initialized >= 1  # sounddevice initialises at import


def test_rescan_leaves_portaudio_initialised_once(sd: ModuleType) -> None:
    # Valid with or without a sound card or sound server: PortAudio initialises with whatever it finds.
    with PORTAUDIO_LOCK:
        sd._initialize()  # a second, nested initialisation: the rescan must undo both for PortAudio to rescan
    refresh_devices()
    assert sd._initialized == 1
    assert all(device.channels > 0 for device in list_input_devices())


def test_rescan_without_the_private_names_warns_once_and_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    compat._warn_no_rescan.cache_clear()
    future = SimpleNamespace(__version__="9.9")
    with caplog.at_level(logging.WARNING, logger="onevox.compat"):
        compat.rescan_audio_devices(future)  # type: ignore[arg-type]
        compat.rescan_audio_devices(future)  # type: ignore[arg-type]
    assert len(caplog.records) == 1
    assert "sounddevice 9.9" in caplog.text and "sounddevice>=0.4.6,<0.6" in caplog.text


def test_whisper_checks_the_language_against_the_codes() -> None:
    from onevox.asr.language import language_policy

    assert language_policy("de", [], True, "small").fixed == "de"
    assert language_policy("auto", [], True, "small").fixed is None
    with pytest.raises(ModelError, match="not a Whisper language code"):
        language_policy("xx", [], True, "small")
