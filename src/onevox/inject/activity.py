"""Has the user pressed a key or clicked since onevox last typed? "scratch that" must know before it sends a
single BackSpace, or it would delete the user's own text.

On X11 the RECORD extension shows every key and button press of the server. onevox's own keys are in that
stream too (XTEST and the tools it runs look exactly like a keyboard), so `own_input()` brackets them with
two marker requests (NoOperation, which the server ignores) sent on this watcher's connection: the server
records requests and device events in the order it handles them, so everything between the two markers is
onevox's and everything outside is the user's. The hotkey itself (pressed to dictate "scratch that") and
bare modifier keys do not count; any other key, or a click, does. Wayland gives no client this view: there
`unavailable_reason()` says so, and nothing is ever deleted.
"""

from __future__ import annotations

import functools
import logging
import struct
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from onevox.desktop.keys import Hotkey
from onevox.errors import InjectionError
from onevox.inject.xkeyboard import open_display

if TYPE_CHECKING:
    from Xlib.display import Display

log = logging.getLogger(__name__)

START_TIMEOUT_S = 2.0  # for the RECORD context to begin reporting
BEGIN, END = 1, 2  # the marker requests around onevox's own keys
NO_OPERATION = 127
SCROLL_BUTTONS = (4, 5, 6, 7)  # the wheel moves the view, not the text cursor
# the modifier-map rows (Shift, Lock, Control, Mod1..Mod5) a hotkey modifier is on, in the usual layout
MODIFIER_ROWS = {"shift": 0, "ctrl": 2, "alt": 3, "super": 6}


class ActivityWatcher(Protocol):
    def unavailable_reason(self) -> str | None:
        """Why user input cannot be watched here (None: it is)."""
        ...

    def own_input(self) -> AbstractContextManager[None]:
        """A context manager around keys onevox sends: they are not the user's."""
        ...

    def user_presses(self) -> int:
        """Key and button presses by the user since the watcher started."""
        ...

    def focus(self) -> tuple[int, ...]:
        """What has the keyboard focus now (window ids); equal values mean the same target."""
        ...

    def close(self) -> None: ...


class Unwatched:
    """A session where user input cannot be seen: every question is answered with the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def unavailable_reason(self) -> str | None:
        return self.reason

    @contextmanager
    def own_input(self) -> Iterator[None]:
        yield

    def user_presses(self) -> int:
        return 0

    def focus(self) -> tuple[int, ...]:
        return ()

    def close(self) -> None:
        return None


class X11ActivityWatcher:
    """Counts the user's key and button presses through RECORD, from its own thread. Starts on first use."""

    def __init__(self, hotkeys: Sequence[Hotkey] = (), display_name: str | None = None) -> None:
        self.hotkeys = list(hotkeys)
        self.display_name = display_name
        self._lock = threading.Lock()
        self._own_lock = threading.Lock()
        self._presses = 0
        self._inside_own = False
        self._held: set[int] = set()
        self._released = (0, -1)  # (keycode, server time) of the last key release
        self._first_counted: dict[int, bool] = {}  # keycode -> whether its last first press counted
        self._started = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctrl: Display | None = None
        self._record: Display | None = None
        self._context = 0
        self._error = ""
        self._modifier_rows: dict[int, int] = {}  # keycode -> modifier-map row
        self._hotkey_codes: list[tuple[set[int], frozenset[int]]] = []  # (key's codes, modifier rows)

    def unavailable_reason(self) -> str | None:
        try:
            self._ensure_started()
        except InjectionError as exc:
            return str(exc)
        return None

    @contextmanager
    def own_input(self) -> Iterator[None]:
        try:
            self._ensure_started()
        except InjectionError as exc:
            log.debug("no activity watch: %s", exc)
            yield
            return
        with self._own_lock:
            began = self._try_mark(BEGIN)
            try:
                yield
            finally:
                if began:
                    self._try_mark(END)

    def user_presses(self) -> int:
        with self._lock:
            return self._presses

    def focus(self) -> tuple[int, ...]:
        self._ensure_started()
        assert self._ctrl is not None
        with self._own_lock:
            return _focus_of(self._ctrl)

    def close(self) -> None:
        with self._own_lock:
            ctrl, record, self._ctrl, self._record = self._ctrl, self._record, None, None
            if ctrl is None:
                return
            try:
                ctrl.record_disable_context(self._context)
                ctrl.sync()
                if self._thread is not None:
                    self._thread.join(timeout=2.0)
                ctrl.record_free_context(self._context)
                ctrl.close()
            except Exception as exc:  # the server may be gone already
                log.debug("closing the activity watch: %s", exc)
            if record is not None and (self._thread is None or not self._thread.is_alive()):
                try:
                    record.close()
                except Exception as exc:  # its connection died with the server
                    log.debug("closing the activity watch's record connection: %s", exc)

    # -- internals ----------------------------------------------------------------------------------------

    def _ensure_started(self) -> None:
        with self._own_lock:
            if self._error:
                raise InjectionError(self._error)
            if self._ctrl is None:
                try:
                    self._start()
                except InjectionError as exc:
                    self._error = str(exc)
                    raise

    def _start(self) -> None:
        from Xlib import X
        from Xlib.ext import record

        ctrl = open_display(self.display_name)
        if not ctrl.has_extension("RECORD"):
            ctrl.close()
            raise InjectionError("the X server has no RECORD extension: typing in the window cannot be seen")
        self._record = open_display(self.display_name)
        self._ctrl = ctrl
        self._read_keymap(ctrl)
        self._context = ctrl.record_create_context(0, [record.AllClients], [{
            "core_requests": (NO_OPERATION, NO_OPERATION), "core_replies": (0, 0),
            "ext_requests": (0, 0, 0, 0), "ext_replies": (0, 0, 0, 0), "delivered_events": (0, 0),
            "device_events": (X.KeyPress, X.ButtonPress), "errors": (0, 0),
            "client_started": False, "client_died": False}])
        ctrl.sync()
        self._thread = threading.Thread(target=self._run, name="onevox-activity", daemon=True)
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_S):
            raise InjectionError(f"the X server's RECORD extension did not start in {START_TIMEOUT_S:g} s")

    def _read_keymap(self, display: Display) -> None:
        from Xlib import XK

        mapping = display.get_modifier_mapping()
        self._modifier_rows = {code: row for row, codes in enumerate(mapping) for code in codes if code}
        for hotkey in self.hotkeys:
            keysym = XK.string_to_keysym(hotkey.names.x_keysym)
            codes = {code for code, _level in display.keysym_to_keycodes(keysym)}
            rows = frozenset(MODIFIER_ROWS[m] for m in hotkey.modifiers if m in MODIFIER_ROWS)
            self._hotkey_codes.append((codes, rows))

    def _run(self) -> None:
        record = self._record
        assert record is not None
        try:
            record.record_enable_context(self._context, self._on_data)
        except Exception as exc:  # the server went away: from now on nothing can be known
            with self._lock:
                self._error = f"the X connection watching for typing broke: {exc}"
            self._started.set()

    def _on_data(self, reply: Any) -> None:
        from Xlib.ext import record

        if reply.category == record.StartOfData:
            self._started.set()
        elif reply.category == record.FromClient:
            self._on_request(reply)
        elif reply.category == record.FromServer:
            self._on_events(bytes(reply.data))

    def _on_request(self, reply: Any) -> None:
        data = bytes(reply.data)
        ctrl = self._ctrl
        if len(data) < 8 or data[0] != NO_OPERATION or ctrl is None:
            return
        if reply.id_base != ctrl.display.info.resource_id_base:
            return  # another client's no-op
        (mark,) = struct.unpack("=I", data[4:8])
        with self._lock:
            self._inside_own = mark == BEGIN

    def _on_events(self, data: bytes) -> None:
        from Xlib import X
        from Xlib.protocol import rq

        record = self._record
        assert record is not None
        field = rq.EventField("")
        while len(data) >= 32:
            event, rest = field.parse_binary_value(data, record.display, None, None)
            data = bytes(rest)
            with self._lock:
                if event.type == X.KeyRelease:
                    self._held.discard(event.detail)
                    self._released = (event.detail, event.time)
                elif event.type == X.KeyPress:
                    self._on_key_press(event.detail, event.time)
                elif event.type == X.ButtonPress and event.detail not in SCROLL_BUTTONS:
                    self._presses += not self._inside_own

    def _on_key_press(self, code: int, when: int) -> None:
        """Count a key press (caller holds _lock). Auto-repeat (a press of a key still down, or a release and
        press with one timestamp) is judged as the first press was: a held hotkey's repeats do not turn
        into typing when its modifiers are let go a moment before the key."""
        repeat = code in self._held or self._released == (code, when)
        counts = self._first_counted.get(code, False) if repeat else self._counts(code)
        if not repeat:
            self._first_counted[code] = counts
        self._held.add(code)
        # only counted: which keys the user types is never kept or logged
        self._presses += counts and not self._inside_own

    def _counts(self, code: int) -> bool:
        """Whether a key press may have changed the text: not a modifier, not the dictation hotkey."""
        if code in self._modifier_rows:
            return False
        rows = frozenset(self._modifier_rows[c] for c in self._held if c in self._modifier_rows)
        return not any(code in codes and rows == mods for codes, mods in self._hotkey_codes)

    def _try_mark(self, mark: int) -> bool:
        """`_mark`, or when the X connection has gone (the display went away): the watch is over, so every
        later scratch refuses, and the injection it brackets goes ahead (it has its own way of failing)."""
        try:
            self._mark(mark)
        except Exception as exc:  # Xlib raises its own errors, OSError and more for a lost connection
            if not self._error:
                self._error = f"the X connection watching for typing broke: {exc}"
                log.warning("%s", self._error)
            return False
        return True

    def _mark(self, mark: int) -> None:
        """Send a marker request and wait until the server has handled it (caller holds _own_lock)."""
        ctrl = self._ctrl
        assert ctrl is not None
        _marker_request()(display=ctrl.display, mark=mark)
        ctrl.sync()


def _focus_of(display: Display) -> tuple[int, ...]:
    """The focused window, the window manager's active window and, when the focus follows the pointer,
    the window under it."""
    from Xlib import X

    focus = display.get_input_focus().focus
    focus_id = focus if isinstance(focus, int) else focus.id
    root = display.screen().root
    atom = display.intern_atom("_NET_ACTIVE_WINDOW", only_if_exists=True)
    active = root.get_full_property(atom, X.AnyPropertyType) if atom else None
    active_id = int(active.value[0]) if active is not None and len(active.value) else 0
    pointer = root.query_pointer().child if focus_id == X.PointerRoot else 0
    return focus_id, active_id, pointer if isinstance(pointer, int) else pointer.id


@functools.cache
def _marker_request() -> Any:
    """NoOperation carrying one number (the server ignores a no-op's body; RECORD shows it to us)."""
    from Xlib.protocol import rq

    class Marker(rq.Request):
        _request = rq.Struct(rq.Opcode(NO_OPERATION), rq.Pad(1), rq.RequestLength(), rq.Card32("mark"))

    return Marker
