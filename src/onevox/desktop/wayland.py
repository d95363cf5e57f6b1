"""Which Wayland protocols the compositor offers: `wayland_globals(socket)` connects to the display as any
client does (pywayland over libwayland-client), asks for the registry and returns the interface names it
announces. Nothing is bound, no surface is made.

That tells, for instance, whether `wtype` can work: it needs zwp_virtual_keyboard_manager_v1, which wlroots
compositors (sway, Hyprland, river) offer and GNOME's Mutter does not.
"""

from __future__ import annotations

import threading
from typing import Any

VIRTUAL_KEYBOARD = "zwp_virtual_keyboard_manager_v1"
PROBE_TIMEOUT_S = 1.0


def wayland_globals(path: str, timeout: float = PROBE_TIMEOUT_S) -> tuple[str, ...] | None:
    """The global interfaces the compositor at socket `path` announces, sorted; None when that cannot be
    learnt (pywayland or libwayland-client missing, no socket, no answer in time)."""
    found: list[tuple[str, ...]] = []

    def probe() -> None:  # a roundtrip blocks until the compositor answers: it gets a thread and a deadline
        names = _announced(path)
        if names is not None:
            found.append(names)

    worker = threading.Thread(target=probe, name="onevox-wayland-probe", daemon=True)
    worker.start()
    worker.join(timeout)
    return found[0] if found else None


def _announced(path: str) -> tuple[str, ...] | None:
    try:
        from pywayland.client.display import Display
    except (ImportError, OSError):  # OSError: the package is there, libwayland-client is not
        return None
    names: list[str] = []
    display = Display(path)
    try:
        display.connect()
    except (ValueError, OSError, RuntimeError):  # pywayland reports a failed connect as ValueError
        return None
    try:
        registry = display.get_registry()

        def on_global(_registry: Any, _name: int, interface: str, _version: int) -> None:
            names.append(interface)

        registry.dispatcher["global"] = on_global
        display.roundtrip()  # every global has been announced when the roundtrip's sync comes back
    finally:
        display.disconnect()
    return tuple(sorted(set(names)))
