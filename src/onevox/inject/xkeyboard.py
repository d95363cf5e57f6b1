"""Key presses through the X server's XTEST extension (python-xlib), in-process: no helper program to start.

Characters that are not on the keyboard map are put on spare keycodes, all of a text's at once and with the
same keysym on both shift levels (one keysym alone would be case-converted by the receiver: "Ü" -> "ü").
The map is not touched again while keys are in flight: the receiver reads it lazily after its MappingNotify,
so a keycode re-used too soon would arrive as the wrong character. Spare keycodes are emptied again after
`keymap_restore_s` without typing.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from onevox.desktop.keys import MODIFIER_KEYS, MODIFIER_ORDER, Hotkey
from onevox.errors import InjectionError

if TYPE_CHECKING:
    from Xlib.display import Display

log = logging.getLogger(__name__)

# The receiver looks a keycode up only when it gets to that key; under load that can be long after we sent
# it, so the map is changed back only well after the last keys went out.
KEYMAP_RESTORE_S = 2.0  # spare keycodes are emptied this long after the last typing
CHUNK_PAUSE_S = 0.3  # before re-using a keycode (texts with more new characters than spare keycodes): the
# window must have read the keys sent with the old meaning; 0.1 s was too short on a loaded machine


def char_keysym(ch: str) -> int | None:
    """The X keysym that types `ch`, or None for control characters that cannot be typed."""
    if ch == "\n":
        return 0xFF0D  # Return
    if ch == "\t":
        return 0xFF09  # Tab
    code = ord(ch)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return None
    if code < 0x100:
        return code  # Latin-1 keysyms are the code points
    return 0x01000000 | code


def open_display(name: str | None = None) -> Display:
    try:
        from Xlib import display as xdisplay
        from Xlib.error import DisplayError
    except ImportError as exc:  # pragma: no cover - python-xlib is a dependency
        raise InjectionError(f"python-xlib is not installed: {exc}") from exc
    try:
        return xdisplay.Display(name)
    except (DisplayError, OSError) as exc:
        raise InjectionError(f"cannot open the X display: {exc}") from exc


class XKeyboard:
    """One X connection that presses keys and types text for the injectors. Thread-safe."""

    def __init__(self, display_name: str | None = None, keymap_restore_s: float = KEYMAP_RESTORE_S) -> None:
        self.display = open_display(display_name)
        if not self.display.has_extension("XTEST"):
            self.display.close()
            raise InjectionError("the X server has no XTEST extension, so keys cannot be sent")
        self.keymap_restore_s = keymap_restore_s
        self.lock = threading.RLock()
        self._scratch: dict[int, int] = {}  # keysym -> spare keycode it is mapped on
        self._restore_timer: threading.Timer | None = None
        self.broken: str | None = None  # why the connection can no longer be used
        self._group = 0  # the keyboard layout group active when the current operation began
        self._held_keys: set[int] = set()  # keys other than modifiers held when the current operation began
        self._closed = False

    def close(self) -> None:
        with self.lock:
            if self._closed:
                return
            self._closed = True
            self._cancel_restore()
            try:
                if not self.broken:
                    self._restore_keymap()
                self.display.close()
            except Exception as exc:  # the server may be gone already
                log.debug("closing the keyboard display: %s", exc)

    # public operations ---------------------------------------------------------------------------------
    def press_combo(self, combo: Hotkey) -> None:
        """Press and release a combination such as ctrl+v (modifiers down, key, modifiers up)."""
        with self._session():
            names = [MODIFIER_KEYS[m][0] for m in MODIFIER_ORDER if m in combo.modifiers]
            mods = [self._keycode_any_level(name) for name in names]
            key = self._keycode_any_level(combo.names.x_keysym)
            downs = [(True, m) for m in mods]
            ups = [(False, m) for m in reversed(mods)]
            self._send([*downs, (True, key), (False, key), *ups])

    def press_key(self, keysym_name: str, count: int = 1) -> None:
        """Press and release one key (an X keysym name such as "BackSpace") `count` times."""
        with self._session():
            key = self._keycode_any_level(keysym_name)
            self._send([(True, key), (False, key)] * count)

    def type_text(self, text: str, delay_ms: int = 0) -> None:
        """Type `text` exactly (any Unicode); control characters other than newline and tab are skipped."""
        keysyms = [ks for ks in map(char_keysym, text) if ks is not None]
        with self._session():
            for chunk in self._chunks(keysyms):
                self._type_chunk(chunk, delay_ms)

    @contextmanager
    def characters_mapped(self, text: str) -> Iterator[None]:
        """Keep the characters of `text` on the keyboard map while the block runs, so that another program
        (xdotool) finds them there and does not remap keycodes itself (which it does too fast for the
        receiver, dropping or lower-casing characters). Too many new characters: left to that program."""
        keysyms = {ks for ks in map(char_keysym, text) if ks is not None}
        with self._session():
            missing = {ks for ks in keysyms if self._plain_keycode(ks) is None and ks not in self._scratch}
            if missing and len(missing) <= len(self._spare_keycodes()) + len(self._scratch):
                self._map_scratch(missing, keep=keysyms)
            yield

    @contextmanager
    def _session(self) -> Iterator[None]:
        from Xlib.error import ConnectionClosedError, XError

        with self.lock:
            if self.broken or self._closed:
                raise InjectionError(f"the X connection is gone ({self.broken or 'closed'})")
            self._cancel_restore()
            try:
                with self._neutral_modifiers():
                    yield
            except (ConnectionClosedError, XError, OSError) as exc:
                self.broken = str(exc) or type(exc).__name__
                raise InjectionError(f"the X server stopped answering: {self.broken}") from exc
            finally:
                if not self.broken:
                    self._schedule_restore()

    # typing ---------------------------------------------------------------------------------------------
    def _chunks(self, keysyms: list[int]) -> Iterator[list[int]]:
        """Split so that each chunk needs no more new keycodes than there are spare ones."""
        spare = len(self._spare_keycodes()) + len(self._scratch)
        chunk: list[int] = []
        needed: set[int] = set()
        for ks in keysyms:
            if self._plain_keycode(ks) is None and ks not in needed:
                if spare == 0:
                    raise InjectionError("no spare keycodes to type characters missing from the keyboard map")
                if len(needed) == spare:
                    yield chunk
                    chunk, needed = [], set()
                needed.add(ks)
            chunk.append(ks)
        if chunk:
            yield chunk

    def _type_chunk(self, keysyms: list[int], delay_ms: int) -> None:
        missing = {ks for ks in keysyms if self._plain_keycode(ks) is None and ks not in self._scratch}
        if missing:
            self._map_scratch(missing, keep=set(keysyms))
        shift = self._keycode_any_level("Shift_L")
        events: list[tuple[bool, int, int]] = []
        for ks in keysyms:
            code, shifted = self._scratch.get(ks, 0), False
            if not code:
                code, shifted = self._plain_keycode(ks)  # type: ignore[misc]
            delay = delay_ms if events else 0
            if shifted:
                events += [(True, shift, delay), (True, code, 0), (False, code, 0), (False, shift, 0)]
            else:
                events += [(True, code, delay), (False, code, 0)]
        self._send_delayed(events)

    def _map_scratch(self, keysyms: set[int], keep: set[int]) -> None:
        """Put `keysyms` on spare keycodes, evicting earlier ones this chunk does not use if need be."""
        free = self._spare_keycodes()
        evictable = [ks for ks in self._scratch if ks not in keep]
        reused = False
        while len(free) < len(keysyms) and evictable:
            free.append(self._scratch.pop(evictable.pop()))
            reused = True
        if len(free) < len(keysyms):
            raise InjectionError("not enough spare keycodes for the characters of this text")
        if reused:
            time.sleep(CHUNK_PAUSE_S)  # the window may still be reading the old meaning of that keycode
        assigned = dict(zip(free, sorted(keysyms), strict=False))
        self._set_keysyms(assigned)
        self._scratch.update({ks: code for code, ks in assigned.items()})

    def _set_keysyms(self, keysym_of: dict[int, int]) -> None:
        """Give each keycode its keysym (0: none) in ONE request over their range, so that every client
        gets a single MappingNotify. One request per keycode sent a burst of them, and now and then the
        window typed a re-used keycode with its old meaning (one run in ~25 under load)."""
        low, high = min(keysym_of), max(keysym_of)
        rows = [list(row) for row in self.display.get_keyboard_mapping(low, high - low + 1)]
        width = max(2, len(rows[0]))
        rows = [row + [0] * (width - len(row)) for row in rows]
        for code, keysym in keysym_of.items():
            rows[code - low] = [keysym, keysym] + [0] * (width - 2)
        self.display.change_keyboard_mapping(low, rows)
        self.display.sync()

    def _spare_keycodes(self) -> list[int]:
        """Keycodes with no keysym at all (highest first), excluding the ones already in use here."""
        info = self.display.display.info
        first, count = info.min_keycode, info.max_keycode - info.min_keycode + 1
        rows = self.display.get_keyboard_mapping(first, count)
        used = set(self._scratch.values())
        spare = [first + i for i, row in enumerate(rows) if not any(row) and first + i not in used]
        return spare[::-1]

    def _plain_keycode(self, keysym: int) -> tuple[int, bool] | None:
        """(keycode, needs shift) for a keysym on the first two levels of the current map."""
        if self._group:
            return None
        for code, level in self.display.keysym_to_keycodes(keysym):
            if level in (0, 1) and code not in self._scratch.values() and code not in self._held_keys:
                return code, level == 1
        return None

    def _keycode_any_level(self, keysym_name: str) -> int:
        from Xlib import XK

        keysym = XK.string_to_keysym(keysym_name)
        codes = [code for code, _level in self.display.keysym_to_keycodes(keysym)]
        if codes:
            return codes[0]
        if keysym not in self._scratch:
            self._map_scratch({keysym}, keep={keysym})
        return self._scratch[keysym]

    # keymap housekeeping -------------------------------------------------------------------------------
    def _schedule_restore(self) -> None:
        if not self._scratch:
            return
        self._restore_timer = threading.Timer(self.keymap_restore_s, self.restore_keymap)
        self._restore_timer.daemon = True
        self._restore_timer.start()

    def _cancel_restore(self) -> None:
        if self._restore_timer is not None:
            self._restore_timer.cancel()
            self._restore_timer = None

    def focused_window_class(self) -> str:
        from onevox.inject.window import focused_window_class

        with self._session():
            return focused_window_class(self.display)

    def restore_keymap(self) -> None:
        """Empty the spare keycodes used for typing now (normally done by a timer after typing)."""
        with self.lock:
            self._cancel_restore()
            try:
                self._restore_keymap()
            except Exception as exc:  # the display may be gone
                log.debug("restoring the keyboard map: %s", exc)

    def _restore_keymap(self) -> None:
        if self._scratch:
            self._set_keysyms(dict.fromkeys(self._scratch.values(), 0))
            self._scratch.clear()

    def _process_events(self) -> None:
        """Read what the server sent this connection (MappingNotify keeps our copy of the map fresh)."""
        from Xlib import X

        while self.display.pending_events():
            event = self.display.next_event()
            if event.type == X.MappingNotify:
                self.display.refresh_keyboard_mapping(event)

    # modifiers ------------------------------------------------------------------------------------------
    @contextmanager
    def _neutral_modifiers(self) -> Iterator[None]:
        """Release modifiers the user still holds and switch Caps Lock off while keys are sent."""
        from Xlib import XK, X

        self._process_events()
        held = self._held_modifier_keycodes()
        state = self.display.screen().root.query_pointer().mask
        # XKB keeps the active layout group in bits 13-14; in a group other than the first, the first
        # levels of the map are not what the keys type, so every character goes on a spare keycode
        self._group = (state >> 13) & 3
        caps = state & X.LockMask
        caps_code = self.display.keysym_to_keycode(XK.string_to_keysym("Caps_Lock")) if caps else 0
        events = [(False, code) for code in held]
        if caps_code:
            events += [(True, caps_code), (False, caps_code)]
        if events:
            self._send(events)
        try:
            yield
        finally:
            if caps_code:
                self._send([(True, caps_code), (False, caps_code)])

    def _held_modifier_keycodes(self) -> list[int]:
        """The modifier keys held now; the other keys held are remembered, as typing must not use them."""
        keymap = self.display.query_keymap()
        down = {code for code in range(8, 256) if keymap[code // 8] & (1 << (code % 8))}
        mapping = self.display.get_modifier_mapping()
        modifiers = {code for codes in mapping for code in codes if code}
        # a key the user holds (a push-to-talk hotkey's space) would be released by typing its character
        # on it, ending the hold as far as the server knows: such characters go on a spare keycode
        self._held_keys = down - modifiers
        held = []
        for index, codes in enumerate(mapping):
            if index == 1:
                continue  # Lock is a toggle, handled separately
            held += [code for code in codes if code in down]
        return held

    def _send(self, events: list[tuple[bool, int]]) -> None:
        self._send_delayed([(down, code, 0) for down, code in events])

    def _send_delayed(self, events: list[tuple[bool, int, int]]) -> None:
        """Synthetic key events through XTEST; the delay (ms) is applied by the server before that event."""
        from Xlib import X
        from Xlib.ext import xtest

        for down, code, delay in events:
            xtest.fake_input(self.display, X.KeyPress if down else X.KeyRelease, code, time=delay)
        self.display.sync()


class SharedKeyboard:
    """Opens one XKeyboard on first use (and again after its connection broke), shared by the injectors."""

    def __init__(self, display_name: str | None = None) -> None:
        self.display_name = display_name
        self._keyboard: XKeyboard | None = None
        self._lock = threading.Lock()
        atexit.register(self.close)  # put the keyboard map back even if nobody calls close()

    def get(self) -> XKeyboard:
        with self._lock:
            if self._keyboard is not None and self._keyboard.broken:
                self._keyboard.close()
                self._keyboard = None
            if self._keyboard is None:
                self._keyboard = XKeyboard(self.display_name)
            return self._keyboard

    def close(self) -> None:
        with self._lock:
            if self._keyboard is not None:
                self._keyboard.close()
                self._keyboard = None
