"""Global hotkey on X11 with a passive key grab (python-xlib).

Why a grab rather than listening through RECORD (pynput): the grabbed combination does not also reach the
focused window, and another program holding the same combination is reported instead of both firing.

A passive grab becomes an active grab of the whole keyboard when the key goes down: until the release every
key, ours injected through XTEST too, would go to us and not to the focused window. In push-to-talk the key
is held for the whole dictation, and live mode types meanwhile; in toggle mode the text of a short dictation
can be ready before the user lets go of the stopping press. So the listener gives the keyboard back at once
(XUngrabKeyboard) and sees the release through XInput2 raw events (hotkey/xraw.py). Auto-repeat presses the
key again and again, and each repeat activates the passive grab anew: those grabs freeze the keyboard
(GrabModeSync) until the listener lets go, so a key injected in that moment waits in the server's queue
instead of coming to us. While the key is held it is also grabbed with fewer of its modifiers, because the
injector releases the modifiers the user holds before it types (and the user may let go of ctrl before
space): a repeat would otherwise type spaces.

X auto-repeat reaches a grabbing client as release+press pairs with the same timestamp; such pairs are
dropped here, and a second press without a release is ignored by the gesture.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from itertools import combinations
from typing import TYPE_CHECKING

from onevox.desktop.keys import Hotkey
from onevox.errors import HotkeyError
from onevox.hotkey.base import CommandCallback
from onevox.hotkey.gesture import HotkeyGesture
from onevox.hotkey.xraw import RawKeyWatch

if TYPE_CHECKING:
    from Xlib.display import Display
    from Xlib.protocol.rq import Event

log = logging.getLogger(__name__)

REPEAT_PAIR_WAIT_S = 0.003  # how long a release waits for the press that would make it an auto-repeat


def modifier_masks(display: Display) -> dict[str, int]:
    """Mask bit of each modifier (and of the locks a grab must ignore) from the server's modifier map."""
    from Xlib import XK, X

    masks = {"ctrl": X.ControlMask, "shift": X.ShiftMask, "lock": X.LockMask}
    names = {"Alt_L": "alt", "Alt_R": "alt", "Super_L": "super", "Super_R": "super",
             "Num_Lock": "numlock", "Scroll_Lock": "scrolllock"}
    by_keysym = {XK.string_to_keysym(keysym): name for keysym, name in names.items()}
    mod_bits = (X.Mod1Mask, X.Mod2Mask, X.Mod3Mask, X.Mod4Mask, X.Mod5Mask)
    for index, keycodes in enumerate(display.get_modifier_mapping()[3:]):
        for keycode in keycodes:
            if not keycode:
                continue
            for level in range(4):
                name = by_keysym.get(display.keycode_to_keysym(keycode, level))
                if name:
                    masks.setdefault(name, mod_bits[index])
    masks.setdefault("alt", X.Mod1Mask)
    masks.setdefault("super", X.Mod4Mask)
    return masks


def lock_combinations(masks: dict[str, int]) -> list[int]:
    """Every combination of Caps/Num/Scroll Lock, so the hotkey works whatever locks are on."""
    locks = [masks[name] for name in ("lock", "numlock", "scrolllock") if name in masks]
    result = {0}
    for n in range(1, len(locks) + 1):
        for combo in combinations(locks, n):
            mask = 0
            for bit in combo:
                mask |= bit
            result.add(mask)
    return sorted(result)


def modifier_subsets(required: int, masks: dict[str, int]) -> list[int]:
    """Each proper subset of the `required` modifier bits combined with each lock combination: what a held
    trigger is grabbed with besides its own modifiers, as the held modifiers are released."""
    bits = [bit for bit in {masks[m] for m in ("ctrl", "shift", "alt", "super")} if bit & required]
    subsets = {sum(combo) for n in range(len(bits)) for combo in combinations(bits, n)}
    return sorted(sub | locks for sub in subsets for locks in lock_combinations(masks))


def keycodes_for(display: Display, hotkey: Hotkey) -> list[int]:
    from Xlib import XK

    keysym = XK.string_to_keysym(hotkey.names.x_keysym)
    codes = sorted({code for code, _level in display.keysym_to_keycodes(keysym)})
    if not codes:
        raise HotkeyError(f"key {hotkey.key!r} is not on this keyboard's map; choose another hotkey")
    return codes


class X11HotkeyListener:
    backend = "x11"

    def __init__(self, trigger: Hotkey, gesture: HotkeyGesture, on_command: CommandCallback,
                 cancel: Hotkey | None = None, display_name: str | None = None) -> None:
        self.trigger = trigger
        self.cancel_key = cancel
        self.gesture = gesture
        self.on_command = on_command
        self.display_name = display_name
        self._display: Display | None = None
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = -1, -1
        self._grabbed: list[tuple[int, int]] = []  # (keycode, modifiers) of the trigger grabs
        self._cancel_grabbed: list[int] = []
        self._trigger_codes: set[int] = set()
        self._cancel_codes: set[int] = set()
        self._hold_grabbed: list[tuple[int, int]] = []  # the trigger with fewer modifiers, while held
        self._raw: RawKeyWatch | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        display = self._display = open_display(self.display_name)
        try:
            self._masks = modifier_masks(display)
            self._raw = RawKeyWatch(display)
            self._grab_trigger()
        except BaseException:
            display.close()
            self._display = None
            raise
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="onevox-hotkey-x11", daemon=True)
        self._thread.start()
        log.info("hotkey %s grabbed on X11 display %s", self.trigger, display.get_display_name())

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        os.write(self._wake_w, b"x")  # a byte other than sync()'s "s": the thread returns
        thread.join(timeout=2.0)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        try:
            self._ungrab_all()
            self._dpy.close()
        except Exception as exc:  # the X server may be gone already
            log.debug("closing the hotkey display: %s", exc)
        self._display = None

    def sync(self, recording: bool) -> None:
        """A dictation started or ended by another route (IPC): in toggle mode the gesture follows it, and
        the cancel key is grabbed (on the listener thread, which owns the display) only while dictating.
        In push-to-talk the key held is the dictation: nothing to follow."""
        if self.gesture.mode != "toggle":
            return
        self.gesture.sync(recording)
        if self._thread is not None and self._cancel_codes:
            with contextlib.suppress(OSError):  # stopping at the same moment: nothing left to update
                os.write(self._wake_w, b"s")

    @property
    def _dpy(self) -> Display:
        """The connection, open from start() to stop()."""
        if self._display is None:
            raise HotkeyError("the X11 hotkey listener is not started")
        return self._display

    # grabs ---------------------------------------------------------------------------------------------
    def _relevant_mask(self) -> int:
        return sum(self._masks[m] for m in ("ctrl", "shift", "alt", "super"))

    def _required_mask(self) -> int:
        return sum(self._masks[m] for m in self.trigger.modifiers)

    def _grab_trigger(self) -> None:
        from Xlib import X
        from Xlib.error import BadAccess, CatchError

        display = self._dpy
        root = display.screen().root
        self._trigger_codes = set(keycodes_for(display, self.trigger))
        if self.cancel_key is not None:
            self._cancel_codes = set(keycodes_for(display, self.cancel_key))
        catch = CatchError(BadAccess)
        for code in sorted(self._trigger_codes):
            for locks in lock_combinations(self._masks):
                mods = self._required_mask() | locks
                # GrabModeSync: the keyboard is frozen until the listener gives it back (see the module doc)
                root.grab_key(code, mods, False, X.GrabModeAsync, X.GrabModeSync, onerror=catch)
                self._grabbed.append((code, mods))
        display.sync()
        if catch.get_error() is not None:
            self._ungrab_all()
            raise HotkeyError(f"hotkey {self.trigger} is already taken by another program on this display; "
                              "choose another [hotkey] trigger")

    def _set_hold(self, on: bool) -> None:
        """The key went down (on) or up: watch its release through raw events and grab it with fewer
        modifiers, only while it is held; in push-to-talk the cancel key is grabbed meanwhile too."""
        from Xlib import X
        from Xlib.error import CatchError

        if self._raw is None or on == self._raw.selected:
            return
        root = self._dpy.screen().root
        if on:
            self._raw.select(True)
            catch = CatchError()  # another program's grab of, say, bare space: that repeat is not caught
            for code in sorted(self._trigger_codes):
                for mods in modifier_subsets(self._required_mask(), self._masks):
                    root.grab_key(code, mods, False, X.GrabModeAsync, X.GrabModeSync, onerror=catch)
                    self._hold_grabbed.append((code, mods))
        else:
            self._raw.select(False)
            for code, mods in self._hold_grabbed:
                root.ungrab_key(code, mods)
            self._hold_grabbed = []
        if self._cancel_codes and self.gesture.mode == "push-to-talk":
            self._set_cancel_grab(on)
        self._dpy.sync()

    def _give_keyboard_back(self) -> None:
        from Xlib import X

        if self._raw is not None:
            self._dpy.ungrab_keyboard(X.CurrentTime)
            self._dpy.flush()

    def _set_cancel_grab(self, on: bool) -> None:
        """The keyboard is not held (toggle mode, or push-to-talk once given back), so the cancel key is
        grabbed only while dictating."""
        from Xlib import X
        from Xlib.error import CatchError

        root = self._dpy.screen().root
        if on and not self._cancel_grabbed:
            catch = CatchError()
            for code in sorted(self._cancel_codes):
                root.grab_key(code, X.AnyModifier, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catch)
                self._cancel_grabbed.append(code)
            self._dpy.sync()
            if catch.get_error() is not None:
                log.warning("cancel key %s is taken by another program; it will not cancel", self.cancel_key)
        elif not on and self._cancel_grabbed:
            for code in self._cancel_grabbed:
                root.ungrab_key(code, X.AnyModifier)
            self._cancel_grabbed = []
            self._dpy.flush()

    def _ungrab_all(self) -> None:
        self._set_hold(False)
        root = self._dpy.screen().root
        for code, mods in self._grabbed:
            root.ungrab_key(code, mods)
        self._grabbed = []
        self._set_cancel_grab(False)
        self._dpy.sync()

    # events --------------------------------------------------------------------------------------------
    def _run(self) -> None:
        from Xlib.error import ConnectionClosedError

        fd = self._dpy.fileno()
        try:
            while True:
                ready, _, _ = select.select([fd, self._wake_r], [], [])
                if self._wake_r in ready:
                    if b"x" in os.read(self._wake_r, 64):
                        return
                    self._set_cancel_grab(self.gesture.active)  # sync() asked for it
                    continue
                self._drain()
        except ConnectionClosedError:
            log.error("the X display closed; the hotkey no longer works")

    def _drain(self) -> None:
        display = self._dpy
        while display.pending_events():
            event = display.next_event()
            raw = self._raw.parse(event) if self._raw is not None else None
            if raw is not None:
                if not raw.pressed and raw.keycode in self._trigger_codes:
                    self._key_up(raw.time_ms)
                continue
            if not self._is_trigger_release(event):
                self._handle(event)
                continue
            following = self._next_event_soon()
            if following is not None and is_repeat_pair(event, following):
                self._give_keyboard_back()  # the repeat's press activated a (freezing) grab
                continue
            self._handle(event)
            if following is not None:
                self._handle(following)

    def _is_trigger_release(self, event: Event) -> bool:
        from Xlib import X

        return bool(event.type == X.KeyRelease and event.detail in self._trigger_codes)

    def _next_event_soon(self) -> Event | None:
        display = self._dpy
        if not display.pending_events():
            select.select([display.fileno()], [], [], REPEAT_PAIR_WAIT_S)
            if not display.pending_events():
                return None
        return display.next_event()

    def _handle(self, event: Event) -> None:
        from Xlib import X

        if event.type == X.KeyPress and event.detail in self._trigger_codes:
            if not self.gesture.held and event.state & self._relevant_mask() == self._required_mask():
                command = self.gesture.key_down(event.time / 1000.0)
                self._set_hold(self.gesture.held)
                self._give_keyboard_back()
                self._emit(command)
            else:
                self._give_keyboard_back()  # a repeat (or a stray press) activated a grab
        elif event.type == X.KeyRelease and event.detail in self._trigger_codes:
            self._key_up(event.time)
        elif event.type == X.KeyPress and event.detail in self._cancel_codes:
            self._give_keyboard_back()
            self._emit(self.gesture.cancel())
        elif event.type == X.MappingNotify:
            self._dpy.refresh_keyboard_mapping(event)
            self._regrab_if_moved()

    def _key_up(self, time_ms: int) -> None:
        """The trigger went up: reported by the grab (core event) or by raw events, or by both."""
        command = self.gesture.key_up(time_ms / 1000.0)
        self._set_hold(self.gesture.held)
        self._emit(command)

    def _regrab_if_moved(self) -> None:
        try:
            # a keycode that only gained the key's keysym (the injector puts a held key's character on a
            # spare keycode) changes nothing: the user's key is where it was
            moved = not self._trigger_codes <= set(keycodes_for(self._dpy, self.trigger))
        except HotkeyError as exc:
            log.error("%s", exc)
            return
        if moved:
            self._ungrab_all()
            try:
                self._grab_trigger()
            except HotkeyError as exc:
                log.error("%s", exc)

    def _emit(self, command: str | None) -> None:
        if command is None:
            return
        if self.gesture.mode == "toggle" and self._cancel_codes:
            self._set_cancel_grab(self.gesture.active)
        try:
            self.on_command(command)
        except Exception:
            log.exception("the hotkey command %r failed", command)


def is_repeat_pair(release: Event, following: Event) -> bool:
    """Auto-repeat: a release followed at once by a press of the same key with the same server time."""
    from Xlib import X

    return bool(following.type == X.KeyPress and following.detail == release.detail
                and following.time == release.time)


def open_display(name: str | None = None) -> Display:
    """A python-xlib connection, or HotkeyError saying why there is none."""
    try:
        from Xlib import display as xdisplay
        from Xlib.error import DisplayError
    except ImportError as exc:  # pragma: no cover - python-xlib is a dependency
        raise HotkeyError(f"python-xlib is not installed: {exc}") from exc
    try:
        return xdisplay.Display(name)
    except (DisplayError, OSError) as exc:
        shown = name or os.environ.get("DISPLAY") or "(DISPLAY not set)"
        raise HotkeyError(f"cannot open X display {shown}: {exc}") from exc
