"""The paste method: put the text on the clipboard, press the paste keys, put the old clipboard back.

Constant time whatever the length, and exact for any Unicode. On X11 the clipboard is owned in-process and
the keys go through XTEST (measured faster than xclip + xdotool, which remain the fallback); on Wayland it is
wl-copy and wtype, or on KDE (XDG_CURRENT_DESKTOP) wl-copy and KWin's fake-input protocol (kwin_fake_input).
Terminals (matched by window class) get their own paste keys.

The previous clipboard text is restored from a background thread once the window has fetched the paste
(restore_delay_ms after the keys at the earliest), and only if the clipboard still holds what we pasted:
whatever the user copied meanwhile is left alone. A second paste before the restore keeps the original.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from onevox.config import InjectionConfig
from onevox.desktop import detect_session
from onevox.desktop.keys import MODIFIER_ORDER, Hotkey, parse_hotkey
from onevox.desktop.kwin import KWinFocus, KWinFocusError
from onevox.errors import HotkeyError, InjectionError
from onevox.inject.base import InjectionMethod
from onevox.inject.clipboard import NOT_TEXT, Clipboard, Contents, NotText, tool_clipboard
from onevox.inject.session import have_tool, run_tool
from onevox.inject.window import is_terminal, sway_focused_app
from onevox.inject.xkeyboard import SharedKeyboard

log = logging.getLogger(__name__)

LANDING_TIMEOUT_S = 1.0  # wait this much past restore_delay for a window to fetch the paste
FETCH_GRACE_S = 0.05  # after the last fetch, for windows that fetch more than once
WTYPE_MODIFIERS = {"ctrl": "ctrl", "shift": "shift", "alt": "alt", "super": "logo"}


WTYPE_SPARE_KEYS = ("F24", "F23")  # keys no layout types and hardly any program binds


def wtype_chord_args(combo: Hotkey) -> list[str]:
    """`wtype` pressing `combo` (modifiers held around the key) so that GTK 3 windows take it too.

    wtype uploads a keymap holding only the keys of its command line, in order, and GTK 3.24 ignores the
    highest keycode of a keymap: a lone `wtype -M ctrl -k v -m ctrl` reaches a GTK 3 window as nothing at all.
    So a spare key is named last, as a bare release (`-p`: no press, nothing typed), which gives it the
    highest keycode instead of the paste key."""
    mods = [m for m in MODIFIER_ORDER if m in combo.modifiers]
    key = combo.names.x_keysym
    spare = next(k for k in WTYPE_SPARE_KEYS if k != key)
    args = ["wtype"]
    for mod in mods:
        args += ["-M", WTYPE_MODIFIERS[mod]]
    args += ["-k", key]
    for mod in reversed(mods):
        args += ["-m", WTYPE_MODIFIERS[mod]]
    return [*args, "-p", spare]


def parse_keys(spec: str, key: str) -> Hotkey:
    try:
        return parse_hotkey(spec)
    except HotkeyError as exc:
        raise InjectionError(f"injection.{key}: {exc}") from exc


class PasteBackend(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def clipboard(self) -> Clipboard:
        """Where the previous text is read from and put back."""
        ...

    @property
    def broken(self) -> bool:
        """The connection is gone: the injector makes a new backend."""
        ...

    def clipboard_for(self, text: str) -> Clipboard: ...

    def press(self, combo: Hotkey) -> None: ...

    def window_class(self) -> str: ...

    def close(self) -> None: ...


class XlibPaste:
    """X11 in-process: our own selection owner and XTEST keys (no process started per paste)."""

    name = "xlib"

    def __init__(self, keyboard: SharedKeyboard) -> None:
        from onevox.inject.xselection import ClipboardOwner

        self.keyboard = keyboard
        keyboard.get()  # fail here, not halfway through a paste, when there is no usable display
        self.clipboard = ClipboardOwner(keyboard.display_name)

    @property
    def broken(self) -> bool:
        return not self.clipboard.usable

    def clipboard_for(self, text: str) -> Clipboard:
        if len(text.encode("utf-8")) <= self.clipboard.max_bytes:
            return self.clipboard
        return tool_clipboard("x11")  # very large text: xclip/xsel know the INCR transfer

    def press(self, combo: Hotkey) -> None:
        self.keyboard.get().press_combo(combo)

    def window_class(self) -> str:
        return self.keyboard.get().focused_window_class()

    def close(self) -> None:
        self.clipboard.close()


class ToolPaste:
    """Helper programs: xclip/xsel + `xdotool key` on X11, wl-copy + wtype on Wayland."""

    broken = False

    def __init__(self, session: str) -> None:
        self.session = session
        self.clipboard = tool_clipboard(session)
        self.key_tool = "xdotool" if session == "x11" else "wtype"
        if not have_tool(self.key_tool):
            raise InjectionError(f"pasting needs {self.key_tool} to press the paste keys; install it")
        self.name = f"{self.clipboard.name}+{self.key_tool}"

    def clipboard_for(self, text: str) -> Clipboard:
        return self.clipboard

    def press(self, combo: Hotkey) -> None:
        """Press the paste keys. A tool's exit 0 only says the keys were sent (neither XTEST nor Wayland's
        virtual keyboard hears back from the window); a failed exit is an InjectionError with its stderr."""
        if self.key_tool == "xdotool":
            mods = [m for m in MODIFIER_ORDER if m in combo.modifiers]
            run_tool(["xdotool", "key", "--clearmodifiers", "+".join([*mods, combo.names.x_keysym])])
            return
        run_tool(wtype_chord_args(combo))

    def window_class(self) -> str:
        if self.session == "wayland":
            return sway_focused_app()  # Wayland tells clients nothing; sway's IPC does ('' elsewhere)
        return ""

    def close(self) -> None:
        pass


class KWinPaste:
    """wl-copy + the paste keys through KWin's fake-input protocol (KDE Plasma, where wtype cannot type)."""

    broken = False

    def __init__(self) -> None:
        from onevox.inject.kwin_fake_input import FakeInput

        self.clipboard = tool_clipboard("wayland")
        self.keys = FakeInput()
        self.focus = KWinFocus()
        self.name = f"{self.clipboard.name}+kwin-fake-input"

    def clipboard_for(self, text: str) -> Clipboard:
        return self.clipboard

    def press(self, combo: Hotkey) -> None:
        try:
            self.keys.press(combo)
        except InjectionError:
            self.broken = True
            raise

    def window_class(self) -> str:
        """The focused window's "resourceName resourceClass" from a KWin script ("org.kde.konsole"
        for Konsole); '' when KWin cannot be asked (then the ordinary paste keys are pressed)."""
        try:
            window = self.focus.lookup()
        except KWinFocusError as exc:
            log.debug("paste keys for an unknown window: %s", exc)
            return ""
        return " ".join(window.app) if window is not None else ""

    def close(self) -> None:
        self.keys.close()
        self.focus.close()


@dataclass
class _Restore:
    backend: PasteBackend
    original: str | None  # the clipboard's text before our first paste (None: it was empty)
    pasted: str
    sent_at: float
    cancelled: threading.Event = field(default_factory=threading.Event)


class PasteInjector(InjectionMethod):
    name = "paste"

    def __init__(self, cfg: InjectionConfig, session: str | None = None,
                 keyboard: SharedKeyboard | None = None, backend: PasteBackend | None = None,
                 protect_clipboard: bool = False) -> None:
        """protect_clipboard: refuse (InjectionError) rather than paste over a clipboard holding something
        other than text, which could not be restored; "auto" sets it so that typing takes over."""
        self.cfg = cfg
        self.protect_clipboard = protect_clipboard
        self.session = session or detect_session()
        self.paste_keys = parse_keys(cfg.paste_keys, "paste_keys")
        self.terminal_keys = parse_keys(cfg.terminal_paste_keys, "terminal_paste_keys")
        self.keyboard = keyboard or SharedKeyboard()
        self.last_backend = ""
        self.last_keys = ""
        self._backend: PasteBackend | None = backend  # chosen on first use when None
        self._given_backend = backend is not None
        self._lock = threading.Lock()
        self._pending: _Restore | None = None

    def unavailable_reason(self) -> str | None:
        if self.session == "x11" or self._given_backend:  # a given backend has its own tools and keys
            return None
        if self.session == "wayland":
            from onevox.inject.kwin_fake_input import is_kde

            key_tool = () if is_kde() else ("wtype",)  # on KDE the keys go through KWin's fake input
            missing = [t for t in ("wl-copy", "wl-paste", *key_tool) if not have_tool(t)]
            return f"needs {', '.join(missing)}" if missing else None
        return "no graphical session (neither WAYLAND_DISPLAY nor DISPLAY is set)"

    def _deliver(self, text: str) -> None:
        with self._lock:
            backend = self._get_backend()
            self._wait_previous_fetched()
            original = self._take_original(backend)
            if original is NOT_TEXT:
                if self.protect_clipboard:
                    raise InjectionError("paste: the clipboard holds something other than text (an image or "
                                         "files) that pasting would overwrite for good")
                log.warning("the clipboard holds something other than text; it cannot be restored")
            backend.clipboard_for(text).write(text)
            terminal = is_terminal(backend.window_class(), self.cfg.terminal_classes)
            keys = self.terminal_keys if terminal else self.paste_keys
            backend.press(keys)
            self.last_backend, self.last_keys = backend.name, str(keys)
            if self.cfg.restore_clipboard and not isinstance(original, NotText):
                self._pending = _Restore(backend, original, text, time.monotonic())
                threading.Thread(target=self._restore, args=(self._pending,), name="onevox-clipboard-restore",
                                 daemon=True).start()

    def wait_restored(self, timeout: float) -> bool:
        """Block until no restore is pending (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._pending is None:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        """Stop serving the clipboard (what we still own is lost, as when any X client exits)."""
        with self._lock:
            if self._pending is not None:
                self._pending.cancelled.set()
                self._pending = None
            if self._backend is not None:
                self._backend.close()
                self._backend = None

    def _get_backend(self) -> PasteBackend:
        if self._backend is not None and not self._backend.broken:
            return self._backend
        if self._backend is not None:
            self._backend.close()
        backend: PasteBackend
        if self.session == "x11":
            try:
                backend = self._backend = XlibPaste(self.keyboard)
                return backend
            except InjectionError as exc:
                log.warning("in-process paste unavailable (%s); using xclip/xsel and xdotool", exc)
        if self.session == "wayland":
            from onevox.inject.kwin_fake_input import is_kde

            if is_kde():
                backend = self._backend = KWinPaste()
                return backend
        backend = self._backend = ToolPaste(self.session)
        return backend

    def _wait_previous_fetched(self) -> None:
        """A paste right after another must not replace the text before the window has fetched it."""
        job = self._pending
        if job is None:
            return
        if job.backend.clipboard.reports_fetch:
            job.backend.clipboard.wait_pasted(LANDING_TIMEOUT_S)
        else:  # the tools cannot tell: give the window the restore delay
            time.sleep(max(0.0, job.sent_at + self.cfg.restore_delay_ms / 1000.0 - time.monotonic()))

    def _take_original(self, backend: PasteBackend) -> Contents:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancelled.set()
            return pending.original
        if not self.cfg.restore_clipboard:
            return None
        return backend.clipboard.read()

    def _restore(self, job: _Restore) -> None:
        delay = self.cfg.restore_delay_ms / 1000.0
        clipboard = job.backend.clipboard
        fetched = clipboard.wait_pasted(delay + LANDING_TIMEOUT_S) if clipboard.reports_fetch else None
        if clipboard.reports_fetch and fetched is None:
            log.info("no window fetched the pasted text within %.1f s", delay + LANDING_TIMEOUT_S)
        when = max(job.sent_at + delay, (fetched or 0.0) + FETCH_GRACE_S)
        if job.cancelled.wait(max(0.0, when - time.monotonic())):
            return
        with self._lock:
            if job.cancelled.is_set():
                return
            self._pending = None
            try:
                self._put_back(job)
            except Exception as exc:
                log.warning("could not restore the clipboard: %s", exc)

    def _put_back(self, job: _Restore) -> None:
        if job.backend.clipboard.read() != job.pasted:
            log.debug("the clipboard changed since the paste; leaving it as it is")
            return
        if job.original is None:
            job.backend.clipboard.clear()
        else:
            job.backend.clipboard_for(job.original).write(job.original)
