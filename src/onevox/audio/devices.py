"""Audio input devices as PortAudio (through sounddevice) sees them, and matching a config `device` spec."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from onevox.compat import rescan_audio_devices
from onevox.errors import AudioError

# PortAudio calls (listing, rescanning, opening streams) are serialised through this lock: a rescan
# terminates and re-initialises PortAudio, which must not overlap any other call.
PORTAUDIO_LOCK = threading.RLock()


@dataclass(frozen=True)
class DeviceInfo:
    index: int  # PortAudio device index (valid until the next rescan)
    name: str
    hostapi: str  # e.g. "ALSA"
    channels: int  # maximum input channels
    default_rate: int  # the device's default sample rate in Hz
    is_default: bool  # the system's default input device


def sounddevice() -> ModuleType:
    """The sounddevice module, or AudioError saying what to install when PortAudio is missing."""
    try:
        import sounddevice as sd
    except OSError as exc:
        hint = "install it, e.g. `apt install libportaudio2`"
        raise AudioError(f"PortAudio is not available ({exc}); {hint}") from exc
    module: ModuleType = sd
    return module


def list_input_devices() -> list[DeviceInfo]:
    """Every device with at least one input channel, in PortAudio's order."""
    sd = sounddevice()
    with PORTAUDIO_LOCK:
        raw = sd.query_devices()
        hostapis = sd.query_hostapis()
        default_index = _default_input_index(sd)
    return [_info(d, hostapis, default_index) for d in raw if d["max_input_channels"] > 0]


def find_device(spec: str) -> DeviceInfo | None:
    """The input device `spec` names: 'default' (or ''), else an exact name, else an integer index, else a
    case-insensitive substring of a name. None when nothing matches. (An index comes before substrings
    because "2" is a substring of names such as "ALC257 (hw:0,2)"; a device really named "2" still wins
    by exact name.)"""
    devices = list_input_devices()
    wanted = spec.strip()
    if wanted.lower() in ("", "default"):
        defaults = [d for d in devices if d.is_default]
        return defaults[0] if defaults else (devices[0] if devices else None)
    for match in (
        lambda d: d.name == wanted,
        lambda d: wanted.isdigit() and d.index == int(wanted),
        lambda d: wanted.lower() in d.name.lower(),
    ):
        found = [d for d in devices if match(d)]
        if found:
            return found[0]
    return None


def refresh_devices() -> None:
    """Make PortAudio enumerate devices again (it only does so when initialised). This closes every open
    PortAudio stream in the process, so call it only when none should be open."""
    sd = sounddevice()
    with PORTAUDIO_LOCK:
        try:
            rescan_audio_devices(sd)
        except sd.PortAudioError as exc:
            raise AudioError(f"PortAudio could not be re-initialised: {exc}") from exc


def _default_input_index(sd: Any) -> int:
    try:
        index = sd.default.device[0]
        if index is None or index < 0:
            index = sd.query_devices(kind="input")["index"]
    except (sd.PortAudioError, ValueError):
        return -1
    return int(index)


def _info(raw: Any, hostapis: Any, default_index: int) -> DeviceInfo:
    return DeviceInfo(
        index=int(raw["index"]),
        name=str(raw["name"]),
        hostapi=str(hostapis[raw["hostapi"]]["name"]),
        channels=int(raw["max_input_channels"]),
        default_rate=round(raw["default_samplerate"]),
        is_default=int(raw["index"]) == default_index,
    )
