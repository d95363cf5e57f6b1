"""The only place that touches upstream names and files that are not public API.

faster-whisper's language list and its bundled Silero VAD model, and sounddevice's PortAudio
(re)initialisation, have no public equivalent. Each is reached here and nowhere else, pyproject.toml caps
those packages below the next release that could change them, and tests/test_compat.py checks every
assumption against what is installed, so an upgrade that breaks one fails there and not deep in the daemon.
Nothing is imported at module import: importing faster-whisper or PortAudio is slow or may fail.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import logging
from pathlib import Path
from types import ModuleType

from onevox.errors import ModelError

log = logging.getLogger(__name__)

SILERO_MODEL_FILE = "silero_vad_v6.onnx"
# The requirements as pyproject.toml states them (a test keeps the two equal), quoted in error messages.
# faster-whisper ships SILERO_MODEL_FILE from 1.2.1 on (1.2.0 and older have the v5 encoder/decoder pair).
FASTER_WHISPER_REQUIREMENT = "faster-whisper>=1.2.1,<1.3"
SOUNDDEVICE_REQUIREMENT = "sounddevice>=0.4.6,<0.6"


@functools.cache
def whisper_language_codes() -> frozenset[str]:
    """Whisper's language codes ("en", "de", "yue", ...), from faster-whisper's private
    `tokenizer._LANGUAGE_CODES`. Checked against faster-whisper 1.2.1."""
    from faster_whisper import tokenizer

    codes = getattr(tokenizer, "_LANGUAGE_CODES", None)
    if not codes or not all(isinstance(code, str) for code in codes):
        raise ModelError(f"faster-whisper {_version('faster-whisper')} no longer lists Whisper's language "
                         "codes where onevox looks for them: run "
                         f"`pip install '{FASTER_WHISPER_REQUIREMENT}'`")
    return frozenset(codes)


def silero_model_path() -> Path:
    """The Silero VAD model file faster-whisper ships in its `assets` folder, found without importing
    faster-whisper. The file name is an upstream detail: checked against faster-whisper 1.2.1 (1.2.0 and
    older do not have it). Raises ModelError naming the faster-whisper to install when it is missing."""
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the Silero VAD model comes with faster-whisper, which is not installed: run "
                         f"`pip install '{FASTER_WHISPER_REQUIREMENT}'`, "
                         "or set [vad] backend = \"webrtc\"")
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / SILERO_MODEL_FILE
    if not path.is_file():
        raise ModelError(f"the Silero VAD model {path} is missing: faster-whisper "
                         f"{_version('faster-whisper')} does not ship it; run "
                         f"`pip install '{FASTER_WHISPER_REQUIREMENT}'`, "
                         "or set [vad] backend = \"webrtc\"")
    return path


def rescan_audio_devices(sd: ModuleType) -> None:
    """Make PortAudio enumerate devices again. PortAudio does so only in Pa_Initialize, and only once every
    earlier Pa_Initialize has been matched by a Pa_Terminate; sounddevice initialises at import and offers no
    public way to do it again, so this uses its private `_terminate`, `_initialize` and `_initialized` (the
    count of unmatched initialisations). Checked against sounddevice 0.4.6 and 0.5.6.

    Closes every open stream. The caller serialises PortAudio calls and handles `sd.PortAudioError`. If the
    private names are gone this logs a warning (once) and does nothing: streams still open on the devices
    PortAudio saw at start, but new devices and a restarted sound server are not seen until a restart."""
    terminate = getattr(sd, "_terminate", None)
    initialize = getattr(sd, "_initialize", None)
    count = getattr(sd, "_initialized", None)
    if not (callable(terminate) and callable(initialize) and isinstance(count, int)):
        _warn_no_rescan(str(getattr(sd, "__version__", "?")))
        return
    for _ in range(count):  # bounded by the count read once, in case _terminate stops counting down
        terminate()
    initialize()


@functools.cache
def _warn_no_rescan(version: str) -> None:
    log.warning("sounddevice %s has no private _terminate/_initialize: audio devices plugged in (or a sound "
                "server started) after onevox started are not seen until it restarts; run "
                "`pip install '%s'`", version, SOUNDDEVICE_REQUIREMENT)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"
