"""Global hotkey from the kernel's input devices (/dev/input/event*), for Wayland and consoles.

Works under any display server, but needs read access to the keyboards: on most distributions that means the
user is in the `input` group (`sudo usermod -aG input $USER`, then log in again). The keys still reach the
focused window; nothing is grabbed. Keyboards plugged in later are picked up on the next rescan.
"""

from __future__ import annotations

import glob
import logging
import os
import select
import threading
from collections.abc import Callable
from typing import Any

from onevox.desktop.keys import MODIFIER_KEYS, Hotkey
from onevox.errors import HotkeyError
from onevox.hotkey.base import CommandCallback
from onevox.hotkey.gesture import HotkeyGesture

log = logging.getLogger(__name__)

INPUT_GLOB = "/dev/input/event*"
RESCAN_S = 3.0  # how often to look for keyboards that were plugged in
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2  # evdev EV_KEY values


def ecode(name: str) -> int:
    from evdev import ecodes

    return ecodes.ecodes[name]


class EvdevTranslator:
    """Turns raw key events from all keyboards into "down" / "up" of the hotkey and "cancel"."""

    def __init__(self, trigger: Hotkey, cancel: Hotkey | None = None) -> None:
        self.trigger = trigger
        self.trigger_code = ecode(trigger.names.evdev)
        self.cancel_code = ecode(cancel.names.evdev) if cancel is not None else None
        self.modifier_of = {ecode(code): mod for mod, (_x, codes) in MODIFIER_KEYS.items() for code in codes}
        self._pressed: dict[int, str] = {}  # modifier key code -> modifier, while held
        self._trigger_down = False

    def feed(self, code: int, value: int) -> str | None:
        if code in self.modifier_of:
            if value == KEY_UP:
                self._pressed.pop(code, None)
            else:
                self._pressed[code] = self.modifier_of[code]
        if code == self.trigger_code:
            return self._trigger(value)
        if code == self.cancel_code and value == KEY_DOWN:
            return "cancel"
        return None

    def _trigger(self, value: int) -> str | None:
        if value == KEY_DOWN and set(self._pressed.values()) == self.trigger.modifiers:
            self._trigger_down = True
            return "down"
        if value == KEY_UP and self._trigger_down:
            self._trigger_down = False
            return "up"
        return None  # auto-repeat, or the key pressed with other modifiers


def find_keyboards(key_code: int) -> list[Any]:
    """Open every readable input device that has `key_code`; HotkeyError when none can be read."""
    import evdev

    nodes = sorted(glob.glob(INPUT_GLOB))
    readable = [node for node in nodes if readable_node(node)]
    devices = []
    for node in readable:
        try:
            device = evdev.InputDevice(node)
        except OSError as exc:
            log.debug("skipping %s: %s", node, exc)
            continue
        if key_code in device.capabilities().get(evdev.ecodes.EV_KEY, []):
            devices.append(device)
        else:
            device.close()
    if devices:
        return devices
    if nodes and not readable:
        raise HotkeyError("cannot read the keyboards in /dev/input: add your user to the 'input' group "
                          "(sudo usermod -aG input $USER) and log in again, or bind a key in your desktop "
                          "to `onevox toggle`")
    raise HotkeyError("no keyboard with the hotkey's key was found under /dev/input")


def readable_node(node: str) -> bool:
    return os.access(node, os.R_OK)


class EvdevHotkeyListener:
    backend = "evdev"

    def __init__(self, trigger: Hotkey, gesture: HotkeyGesture, on_command: CommandCallback,
                 cancel: Hotkey | None = None,
                 find_devices: Callable[[], list[Any]] | None = None) -> None:
        self.translator = EvdevTranslator(trigger, cancel)
        self.gesture = gesture
        self.on_command = on_command
        self._find = find_devices or (lambda: find_keyboards(self.translator.trigger_code))
        self._devices: dict[int, Any] = {}  # fd -> device
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = -1, -1

    def start(self) -> None:
        if self._thread is not None:
            return
        self._adopt(self._find())
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="onevox-hotkey-evdev", daemon=True)
        self._thread.start()
        log.info("hotkey %s read from %d input device(s)", self.translator.trigger, len(self._devices))

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        os.write(self._wake_w, b"x")
        thread.join(timeout=2.0)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        for device in self._devices.values():
            device.close()
        self._devices.clear()

    def sync(self, recording: bool) -> None:
        """A dictation started or ended by another route (IPC, max duration, an error): in toggle mode the
        gesture follows it, so the next press starts when idle and stops when recording. In push-to-talk
        the key held is the dictation: nothing to follow."""
        if self.gesture.mode == "toggle":
            self.gesture.sync(recording)

    def _adopt(self, devices: list[Any]) -> None:
        known = {device.path for device in self._devices.values()}
        for device in devices:
            if device.path in known:
                device.close()
            else:
                self._devices[device.fileno()] = device

    def _run(self) -> None:
        while True:
            ready, _, _ = select.select([self._wake_r, *self._devices], [], [], RESCAN_S)
            if self._wake_r in ready:
                return
            if not ready:
                self._rescan()
            for fd in ready:
                self._read(fd)

    def _rescan(self) -> None:
        try:
            self._adopt(self._find())
        except HotkeyError as exc:
            log.debug("rescan: %s", exc)

    def _read(self, fd: int) -> None:
        from evdev import ecodes

        device = self._devices[fd]
        try:
            events = list(device.read())
        except OSError as exc:  # unplugged
            log.info("input device %s went away: %s", getattr(device, "path", fd), exc)
            self._devices.pop(fd).close()
            return
        for event in events:
            if event.type == ecodes.EV_KEY:
                self.on_key(event.code, event.value, event.timestamp())

    def on_key(self, code: int, value: int, t: float) -> None:
        action = self.translator.feed(code, value)
        if action == "down":
            command = self.gesture.key_down(t)
        elif action == "up":
            command = self.gesture.key_up(t)
        elif action == "cancel":
            command = self.gesture.cancel()
        else:
            return
        if command is not None:
            try:
                self.on_command(command)
            except Exception:
                log.exception("the hotkey command %r failed", command)
