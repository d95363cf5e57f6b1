"""Global hotkey through the XDG desktop portal's GlobalShortcuts interface (KDE Plasma 5.27+, GNOME 48+,
Hyprland's portal): no key grab, no /dev/input; the desktop owns the key and tells us when it goes down
(Activated) and up (Deactivated), so push-to-talk works as it does with the other backends.

The conversation, over the session bus with jeepney (imported lazily):

1. `org.freedesktop.host.portal.Registry.Register(APP_ID)` where the portal has it (1.19+): the portal keeps
   shortcuts per application id, and an unsandboxed program has none unless it registers one (or runs in a
   systemd scope named after one). Older portals answer "unknown interface/method": carried on without.
2. `CreateSession({handle_token, session_handle_token})`: the answer comes as a `Response` signal on the
   Request object, whose path is known in advance from our unique name and the token, so the signal is
   subscribed to before the call (otherwise a quick portal answers before we listen).
3. `ListShortcuts(session)`: when the portal already has our shortcut (bound in an earlier run, kept for the
   app id), it is used as it is: no dialog on every start. Otherwise `BindShortcuts(session, [("dictate",
   {description, preferred_trigger})])`; the desktop may ask the user, who may choose another key or cancel.
4. `Activated` / `Deactivated` for our session and shortcut id: the gesture's key_down / key_up.

Steps 1 and 2 run in start() (a few seconds at most), so a missing portal is an error the daemon reports at
once. Step 3 may wait for the user, so it runs on the listener's thread, as does step 4; a cancel, an error
reply or the bus going away there is one line in the log and to `on_problem` (the daemon's status), and the
daemon keeps running with its other control paths. The D-Bus plumbing under these steps (the connection,
the session, the Request/Response calls) is portal_session.py's; this module decides what to bind and what
each signal means.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from onevox.desktop import portal_requests as requests
from onevox.desktop.keys import MODIFIER_ORDER, Hotkey
from onevox.desktop.portal_requests import POLL_S
from onevox.errors import HotkeyError
from onevox.hotkey import kglobalaccel
from onevox.hotkey.base import CommandCallback
from onevox.hotkey.gesture import HotkeyGesture
from onevox.hotkey.portal_session import APP_ID, CALL_TIMEOUT_S, SESSION_TOKEN, GlobalShortcutsSession

if TYPE_CHECKING:
    from jeepney import Message
    from jeepney.io.blocking import DBusConnection

log = logging.getLogger(__name__)

SHORTCUT_ID = "dictate"
DESCRIPTION = "Dictate (onevox)"
# the XDG shortcuts spec's modifier names (xkbcommon's XKB_MOD_NAME_*) for onevox's
TRIGGER_MODIFIERS = {"ctrl": "CTRL", "shift": "SHIFT", "alt": "ALT", "super": "LOGO"}


def portal_trigger(combo: Hotkey) -> str:
    """`combo` as the XDG shortcuts spec writes a trigger: modifiers CTRL, SHIFT, ALT, LOGO and an xkbcommon
    keysym name, joined by "+" (ctrl+shift+space -> "CTRL+SHIFT+space")."""
    mods = [TRIGGER_MODIFIERS[m] for m in MODIFIER_ORDER if m in combo.modifiers]
    return "+".join([*mods, combo.names.x_keysym])


def desktop_entry() -> str:
    """A .desktop file naming onevox's application id, for ~/.local/share/applications/<APP_ID>.desktop:
    portals show its Name in their shortcut dialogs and settings, and newer ones want it for a registered
    app id."""
    return ("[Desktop Entry]\nType=Application\nName=onevox\nComment=Local speech-to-text dictation\n"
            "Exec=onevox daemon\nNoDisplay=true\n")


class PortalHotkeyListener(GlobalShortcutsSession):
    backend = "portal"

    def __init__(self, trigger: Hotkey, gesture: HotkeyGesture, on_command: CommandCallback, *,
                 on_problem: Callable[[str], None] | None = None, address: str | None = None,
                 app_id: str = APP_ID, session_token: str = SESSION_TOKEN,
                 call_timeout: float = CALL_TIMEOUT_S) -> None:
        super().__init__(address=address, app_id=app_id, session_token=session_token,
                         call_timeout=call_timeout)
        self.trigger = trigger
        self.gesture = gesture
        self.on_command = on_command
        self.on_problem = on_problem
        self.preferred_trigger = portal_trigger(trigger)
        self.bound_trigger: str | None = None  # what the portal says triggers it ('' when it says nothing)
        self.problem: str | None = None  # the last failure after start(), as reported
        self.via_kglobalaccel = False  # KDE 5.27: the key lives in kglobalaccel, the portal forwards it
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()  # set once the shortcut is bound and signals are watched

    # -- HotkeyListener ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect, register the app id, check the interface and create the session (HotkeyError on any
        failure); binding the shortcut and watching it go on the listener's thread."""
        if self._thread is not None:
            return
        self._open()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="onevox-hotkey-portal", daemon=True)
        self._thread.start()
        log.info("GlobalShortcuts portal v%d: session %s", self.version, self.session_handle)

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        thread.join(timeout=2.0)
        self._close()

    def sync(self, recording: bool) -> None:
        if self.gesture.mode == "toggle":
            self.gesture.sync(recording)

    # -- the listener's thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        conn = self._conn
        assert conn is not None
        try:
            self._bind(conn)
        except HotkeyError as exc:
            if not self._stopping.is_set():  # stop() while the user still had the dialog: nothing to say
                self._report(str(exc))
            return
        except (OSError, EOFError) as exc:
            self._report(f"the D-Bus session bus went away: {exc}")
            return
        self.ready.set()
        while not self._stopping.is_set():
            try:
                message = self._next_signal(conn, POLL_S)
            except TimeoutError:
                continue
            except (OSError, EOFError, ValueError) as exc:
                if not self._stopping.is_set():
                    self._report(f"the D-Bus session bus went away: {exc}")
                return
            if not self._on_signal(message):
                return

    def _bind(self, conn: DBusConnection) -> None:
        """Use the shortcut the portal already keeps for us, else bind it (the desktop may ask the user)."""
        from jeepney import new_method_call

        token = self._token()
        listed = self._request(conn, new_method_call(self._portal(), "ListShortcuts", "oa{sv}",
                                                     (self.session_handle, {"handle_token": ("s", token)})),
                               token, self.call_timeout, "ListShortcuts")
        known = self._our_trigger(listed)
        if known is not None:
            self.bound_trigger = known
            log.info("global shortcut %r already bound by the portal: %s", SHORTCUT_ID,
                     known or "(no key shown)")
            return
        kde = kglobalaccel.present(conn)
        if kde and kglobalaccel.keys_of(conn, self.session_token, SHORTCUT_ID):
            # an earlier start set it up in KDE (below); the portal forwards it without another bind, which
            # on Plasma 5.27 would open System Settings every time
            self.bound_trigger, self.via_kglobalaccel = "", True
            log.info("global shortcut %r: KDE keeps its key (System Settings > Shortcuts > onevox)",
                     SHORTCUT_ID)
            return
        token = self._token()
        shortcut = (SHORTCUT_ID, {"description": ("s", DESCRIPTION),
                                  "preferred_trigger": ("s", self.preferred_trigger)})
        bound = self._request(conn, new_method_call(self._portal(), "BindShortcuts", "oa(sa{sv})sa{sv}",
                                                    (self.session_handle, [shortcut], "",
                                                     {"handle_token": ("s", token)})),
                              token, None, "BindShortcuts")
        self.bound_trigger = self._our_trigger(bound) or ""
        if not self.bound_trigger and kde:  # Plasma 5.27: success, and nothing registered
            self._bind_in_kde(conn)
            return
        if not self.bound_trigger:
            log.warning("the desktop accepted the dictation shortcut but shows no key for it: if %s does "
                        "nothing, "
                        "assign a key to \"%s\" in its shortcut settings (KDE: System Settings > Shortcuts)",
                        self.preferred_trigger, DESCRIPTION)
        else:
            log.info("global shortcut %r bound through the portal: %s (asked for %s)", SHORTCUT_ID,
                     self.bound_trigger, self.preferred_trigger)

    def _bind_in_kde(self, conn: DBusConnection) -> None:
        """xdg-desktop-portal-kde 5.27 binds nothing, but forwards the presses of a kglobalaccel component
        named after the session token that exists when the session is made: register the action there (see
        hotkey/kglobalaccel.py), then make the session again."""
        from jeepney.wrappers import DBusErrorResponse

        try:
            keys = kglobalaccel.ensure_action(conn, self.session_token, SHORTCUT_ID, DESCRIPTION,
                                              self.trigger)
        except (DBusErrorResponse, OSError, TimeoutError) as exc:
            raise HotkeyError(f"KDE's portal bound no key, and registering one with kglobalaccel failed: "
                              f"{exc}; bind a key to `onevox toggle` in System Settings > Shortcuts") from exc
        if not keys:
            raise HotkeyError(f"KDE refused {self.trigger} for the dictation shortcut (another shortcut has "
                              "it?): choose a key for \"Dictate (onevox)\" in System Settings > Shortcuts > "
                              "onevox, then restart onevox")
        self._close_session(conn)
        self.session_handle = self._create_session(conn)
        self.bound_trigger, self.via_kglobalaccel = "", True
        log.info("KDE's portal binds nothing itself (Plasma 5.27): registered %r with KDE's global shortcuts "
                 "(change it in System Settings > Shortcuts > onevox)", SHORTCUT_ID)

    @staticmethod
    def _our_trigger(results: dict[str, Any]) -> str | None:
        """The trigger description of our shortcut in a shortcuts result ('' when it gives none), None
        when our shortcut is not among them."""
        for shortcut_id, info in results.get("shortcuts", ("a(sa{sv})", []))[1]:
            if shortcut_id == SHORTCUT_ID:
                return str(info.get("trigger_description", ("s", ""))[1])
        return None

    def _on_signal(self, message: Message) -> bool:
        """Act on one signal; False when the session is over."""
        member = requests.field(message, "member")
        body = message.body
        if member in ("Activated", "Deactivated"):
            if body[0] != self.session_handle or body[1] != SHORTCUT_ID:
                return True
            t = time.monotonic()  # the portal's timestamp has no defined unit or clock: our receipt time
            command = self.gesture.key_down(t) if member == "Activated" else self.gesture.key_up(t)
            log.debug("portal %s -> %s", member, command)
            if command is not None:
                try:
                    self.on_command(command)
                except Exception:
                    log.exception("the hotkey command %r failed", command)
        elif member == "ShortcutsChanged" and body[0] == self.session_handle:
            trigger = self._our_trigger({"shortcuts": ("a(sa{sv})", body[1])})
            log.info("the desktop changed the dictation shortcut: %s", trigger or "(no key)")
            self.bound_trigger = trigger
        elif member == "Closed" and requests.field(message, "path") == self.session_handle:
            self._report("the desktop closed the GlobalShortcuts session; restart onevox (or reload its "
                         "config) to bind the shortcut again")
            return False
        return True

    def _report(self, problem: str) -> None:
        self.problem = problem
        log.error("global hotkey (portal): %s", problem)
        if self.on_problem is not None:
            try:
                self.on_problem(problem)
            except Exception:
                log.exception("reporting the hotkey problem failed")
