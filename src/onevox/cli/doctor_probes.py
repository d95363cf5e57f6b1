"""How `onevox doctor` looks at the machine: `Probes`, one callable per look (the desktop, the hotkey
backends, the injection methods, the microphone, the model, the daemon), and `make_probes()`, the real ones.
Each only looks: no text is injected, no key grabbed, no audio recorded. Tests describe any desktop by
building their own `Probes`; what doctor makes of the answers is doctor_cmd.py's."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onevox.config import HotkeyConfig, InjectionConfig
    from onevox.desktop import Desktop

DAEMON_TIMEOUT_S = 1.0


@dataclass
class Probes:
    """How doctor looks at the machine; each may be replaced in tests."""

    desktop: Callable[[], Desktop]
    hotkey: Callable[[HotkeyConfig, str], list[tuple[str, str | None]]]  # (backend, reason or None)
    injection: Callable[[InjectionConfig, str], list[tuple[str, str | None]]]  # (method, reason or None)
    microphone: Callable[[str], dict[str, Any]]  # {"device": name | None, "reason", "fix", "note"}
    model: Callable[[str], dict[str, Any]]  # {"name", "path", "source"} or {"reason", "fix"}
    daemon: Callable[[Path], dict[str, Any]]  # {"running": bool, "state"?, "reason"?}
    environ: Callable[[], Mapping[str, str]] = lambda: os.environ  # DISPLAY for the recording indicator
    layer_shell: Callable[[Mapping[str, str]], str | None] | None = None  # why no layer-shell (None: real)
    kwin_focus: Callable[[Mapping[str, str]], str | None] | None = None  # why KWin cannot tell (None: real)


# ---- the real probes ---------------------------------------------------------------------------------------


def _desktop() -> Desktop:
    from onevox.desktop import probe_desktop

    return probe_desktop()


def _hotkey(cfg: HotkeyConfig, session: str) -> list[tuple[str, str | None]]:
    from onevox.hotkey import check_backends

    return check_backends(cfg, session)


def _injection(cfg: InjectionConfig, session: str) -> list[tuple[str, str | None]]:
    from onevox.errors import InjectionError
    from onevox.inject import create_injector
    from onevox.inject.chain import FallbackInjector

    try:
        injector = create_injector(cfg, session)
    except InjectionError as exc:
        return [(cfg.method, str(exc))]
    parts = list(injector.injectors) if isinstance(injector, FallbackInjector) else [injector]
    try:
        return [(part.name, part.unavailable_reason()) for part in parts]
    finally:
        for part in parts:
            part.close()


def _microphone(spec: str) -> dict[str, Any]:
    from onevox.audio.devices import find_device, list_input_devices
    from onevox.errors import AudioError

    try:
        devices = list_input_devices()
    except AudioError as exc:
        return {"device": None, "reason": str(exc), "fix": "sudo apt install libportaudio2"}
    if not devices:
        return {"device": None, "reason": "no audio input device found",
                "fix": "start PipeWire or PulseAudio (systemctl --user start pipewire-pulse) or plug in a "
                       "microphone; `onevox devices list` shows what onevox sees"}
    chosen = find_device(spec)
    note = None
    if chosen is None:
        note = f"[audio] device = {spec!r} matches nothing; the default device will be used"
        chosen = find_device("default")
    assert chosen is not None  # devices is not empty
    return {"device": chosen.name, "hostapi": chosen.hostapi, "index": chosen.index, "note": note}


def _model(name: str) -> dict[str, Any]:
    from onevox.errors import ModelError
    from onevox.models.catalog import CATALOG
    from onevox.models.registry import resolve_model

    try:
        found = resolve_model(name)
    except ModelError as exc:
        fix = (f"onevox models download {name.strip()}" if name.strip() in CATALOG
               else "set [model] name to a model from `onevox models list`")
        if "--force" in str(exc):
            fix += " --force"
        return {"reason": str(exc), "fix": fix}
    return {"name": found.name, "path": str(found.path), "source": found.source}


def _daemon(socket: Path) -> dict[str, Any]:
    from onevox.errors import IpcError
    from onevox.ipc.client import DaemonNotRunning, IpcClient

    try:
        result = IpcClient(socket, timeout=DAEMON_TIMEOUT_S).request("status")
    except DaemonNotRunning:
        return {"running": False}
    except IpcError as exc:
        return {"running": False, "reason": str(exc)}
    return {"running": True, "state": result.get("state")}


def make_probes() -> Probes:
    return Probes(desktop=_desktop, hotkey=_hotkey, injection=_injection, microphone=_microphone,
                  model=_model, daemon=_daemon)
