"""`onevox doctor [--json]`: can dictation work here, end to end, and if not, the one fix for each missing
piece. It looks without touching: no text is injected, no key grabbed, no audio recorded.

Every look at the machine goes through `Probes` (doctor_probes.py), so tests describe any desktop; the
command uses `make_probes()`, which tests replace here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from onevox.cli.common import config_option, get_config
from onevox.cli.doctor_probes import Probes, make_probes
from onevox.cli.doctor_render import render

if TYPE_CHECKING:
    from onevox.config import Config, FeedbackConfig, HotkeyConfig, InjectionConfig
    from onevox.desktop import Desktop

ONE_OF = ("ok", "missing", "setup", "off")  # a check's status; "setup": works once the user does the fix

# the helper programs each injection method runs, by session
METHOD_TOOLS: dict[str, dict[str, tuple[str, ...]]] = {
    "paste": {"wayland": ("wl-copy", "wl-paste", "wtype")},
    "xdotool": {"x11": ("xdotool",)},
    "wtype": {"wayland": ("wtype",)},
    "ydotool": {"wayland": ("ydotool",)},
}
VIRTUAL_KEYBOARD = "zwp_virtual_keyboard_manager_v1"  # the Wayland protocol wtype needs
KWIN_FAKE_INPUT = "org_kde_kwin_fake_input"  # what paste presses its keys with on KDE, once authorised
KWIN_FAKE_INPUT_FIX = ("python -c 'from onevox.inject.kwin_fake_input import desktop_entry; "
                       "print(desktop_entry(), end=\"\")' > "
                       "~/.local/share/applications/onevox-kwin-fake-input.desktop, then log in again "
                       "(docs/kde.md)")


@dataclass
class Check:
    """One piece dictation needs. `fix` is the one thing to do about it (None: nothing to do)."""

    status: str  # one of ONE_OF
    summary: str
    essential: bool = True
    reason: str | None = None
    fix: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return self.essential and self.status == "missing"

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "ok": self.status in ("ok", "off"), "summary": self.summary,
                "essential": self.essential, "reason": self.reason, "fix": self.fix, **self.details}


# ---- what to tell the user ---------------------------------------------------------------------------------


def _install(tools: list[str]) -> str:
    from onevox.desktop import package_for

    return "sudo apt install " + " ".join(dict.fromkeys(package_for(t) for t in tools))


def check_hotkey(cfg: HotkeyConfig, desktop: Desktop, probes: Probes) -> Check:
    from onevox.desktop.bindings import bindings
    from onevox.errors import HotkeyError

    binding = bindings(desktop.family, cfg.trigger)
    if desktop.session == "none":
        return Check("missing", "no graphical session", essential=False,
                     reason="no DISPLAY or WAYLAND_DISPLAY: no key can be read",
                     fix="run onevox inside your desktop session", details={"backend": None})
    try:
        tried = probes.hotkey(cfg, desktop.session)
    except HotkeyError as exc:
        return Check("missing", "the hotkey cannot be parsed", reason=str(exc),
                     fix="set [hotkey] trigger to keys such as ctrl+alt+d", details={"backend": None})
    details: dict[str, Any] = {"tried": [{"backend": b, "ok": r is None, "reason": r} for b, r in tried]}
    working = [b for b, r in tried if r is None]
    if working:
        if working[0] == "portal":
            summary = (f"GlobalShortcuts portal ({cfg.trigger}; the desktop may ask you to confirm or choose "
                       "the key when onevox first starts)")
        else:
            summary = f"{'x11 grab' if working[0] == 'x11' else 'evdev'} ({cfg.trigger})"
        return Check("ok", summary, details={"backend": working[0], **details})
    reasons = "; ".join(f"{b}: {r}" for b, r in tried)
    if cfg.backend in ("x11", "portal", "evdev"):  # the daemon refuses to start
        fix = _evdev_fix(desktop, reasons) if cfg.backend == "evdev" else 'set [hotkey] backend = "auto"'
        return Check("missing", f"[hotkey] backend = {cfg.backend!r} cannot work", reason=reasons, fix=fix,
                     details={"backend": None, **details})
    details |= {"backend": "compositor binding", "bindings": binding["lines"], "where": binding["where"]}
    off = cfg.backend == "none"
    summary = ("off ([hotkey] backend = \"none\"): a key bound in the desktop controls dictation" if off
               else "compositor binding: bind a key to onevox's control commands")
    fix = binding["where"] + ":\n" + "\n".join(binding["lines"])
    return Check("setup", summary, essential=False, reason=None if off else reasons, fix=fix,
                 details=details)


def _evdev_fix(desktop: Desktop, reasons: str) -> str:
    if "evdev package" in reasons:
        return "pip install evdev (into onevox's environment)"
    if desktop.input_nodes and not desktop.input_readable:
        return "sudo usermod -aG input $USER, then log out and in again"
    return 'set [hotkey] backend = "auto"'


def check_injection(cfg: InjectionConfig, desktop: Desktop, probes: Probes) -> Check:
    in_session = ("run onevox inside your desktop session (systemd service: systemctl --user "
                  "import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY)")
    if desktop.session == "none" and cfg.method != "stdout":
        return Check("missing", "no graphical session to type into",
                     reason="no DISPLAY or WAYLAND_DISPLAY: text can go only to stdout", fix=in_session,
                     details={"method": cfg.method, "order": []})
    if desktop.display_reachable is False and cfg.method != "stdout":
        return Check("missing", "the display cannot be reached",
                     reason=f"the {desktop.session} display's socket {desktop.display_socket} does not exist",
                     fix=in_session, details={"method": cfg.method, "order": []})
    order = []
    first_fix = None
    for method, reason in probes.injection(cfg, desktop.session):
        fix = None
        if reason is None:
            reason = _compositor_refuses(method, desktop)
        if reason is not None:
            missing = desktop.missing_tools(*METHOD_TOOLS.get(method, {}).get(desktop.session, ()))
            if missing:
                fix = _install(missing)
            elif method == "ydotool" and not desktop.uinput_writable:
                fix = "sudo usermod -aG input $USER (ydotoold needs /dev/uinput), then log in again"
            elif method == "remote-desktop":
                fix = _remote_desktop_fix(reason, desktop)
            elif method == "portal":
                fix = _portal_fix(reason, desktop)
            elif method == "paste" and KWIN_FAKE_INPUT in reason:
                fix = KWIN_FAKE_INPUT_FIX
            first_fix = first_fix or fix
        order.append({"method": method, "ok": reason is None, "reason": reason, "fix": fix})
    details = {"method": cfg.method, "order": order}
    working = [m["method"] for m in order if m["ok"]]
    if working:
        return Check("ok", f"{cfg.method}: {working[0]}" + (" first" if cfg.method == "auto" else ""),
                     details=details)
    reasons = "; ".join(f"{m['method']}: {m['reason']}" for m in order) or "no method for this session"
    return Check("missing", "no injection method works", reason=reasons,
                 fix=first_fix or 'set [injection] method = "auto"', details=details)


def _compositor_refuses(method: str, desktop: Desktop) -> str | None:
    """Why `method`, whose tools are all there, still cannot work in this compositor (None: it can, or we
    cannot tell). wtype, and the paste's keys (pressed with wtype on Wayland), need the virtual-keyboard
    protocol, which GNOME's Mutter (and others) do not offer: wtype then fails on every call. On KDE paste
    presses them through KWin's fake input instead, which KWin announces only to a program it authorised."""
    if method == "paste" and desktop.session == "wayland" and desktop.family == "kde":
        if desktop.wayland_globals is None or KWIN_FAKE_INPUT in desktop.wayland_globals:
            return None
        return (f"KWin does not offer {KWIN_FAKE_INPUT} to this program (it needs a .desktop file naming it, "
                "read when KWin starts)")
    if desktop.session != "wayland" or desktop.virtual_keyboard is not False:
        return None
    where = f"this compositor ({desktop.family})" if desktop.family != "other" else "this compositor"
    if method == "wtype":
        return f"{where} offers no virtual-keyboard protocol ({VIRTUAL_KEYBOARD}), which wtype needs"
    if method == "paste":
        return (f"{where} offers no virtual-keyboard protocol ({VIRTUAL_KEYBOARD}): wtype cannot press "
                "the paste keys")
    return None


def _remote_desktop_fix(reason: str, desktop: Desktop) -> str | None:
    """The fix for remote-desktop (GNOME Mutter's RemoteDesktop D-Bus service); None where it is not meant
    to work (any other desktop)."""
    if "jeepney" in reason:
        return "pip install jeepney (into onevox's environment)"
    if desktop.family != "gnome":
        return None
    if "D-Bus" in reason:
        return ("run onevox inside your GNOME session (systemd service: systemctl --user "
                "import-environment DBUS_SESSION_BUS_ADDRESS WAYLAND_DISPLAY)")
    return "log in to a GNOME Wayland session (Mutter provides org.gnome.Mutter.RemoteDesktop)"


def _portal_fix(reason: str, desktop: Desktop) -> str | None:
    """The fix for portal (the XDG RemoteDesktop portal); None where no portal backend for this desktop
    offers it (wlroots) or the reason says what to do (a refused consent)."""
    if "jeepney" in reason:
        return "pip install jeepney (into onevox's environment)"
    backend = {"kde": "xdg-desktop-portal-kde", "gnome": "xdg-desktop-portal-gnome"}.get(desktop.family)
    if "not on the session bus" in reason:
        return f"install xdg-desktop-portal {backend or ''}".strip()
    if "offers no RemoteDesktop" in reason and backend:
        return f"install {backend}"
    return None


def check_microphone(spec: str, probes: Probes) -> Check:
    found = probes.microphone(spec)
    if found.get("device") is None:
        return Check("missing", "no microphone", reason=found.get("reason"), fix=found.get("fix"),
                     details={"device": None, "configured": spec})
    summary = str(found["device"]) + (f" ({found['hostapi']})" if found.get("hostapi") else "")
    return Check("ok", summary, reason=found.get("note"),
                 details={"device": found["device"], "configured": spec})


def check_model(name: str, probes: Probes) -> Check:
    found = probes.model(name)
    if "path" not in found:
        return Check("missing", f"model {name!r} is not usable", reason=found.get("reason"),
                     fix=found.get("fix"), details={"name": name, "path": None, "source": None})
    return Check("ok", f"{found['name']} ({found['source']}, {found['path']})",
                 details={"name": found["name"], "path": found["path"], "source": found["source"]})


def check_daemon(socket: Path, probes: Probes) -> Check:
    found = probes.daemon(socket)
    details = {"running": bool(found.get("running")), "socket": str(socket)}
    if found.get("running"):
        return Check("ok", f"running ({found.get('state') or 'unknown state'})", essential=False,
                     details={**details, "state": found.get("state")})
    return Check("missing", "not running", essential=False, reason=found.get("reason"),
                 fix="onevox daemon (or at login: onevox install-service && systemctl --user enable --now "
                     "onevox)", details=details)


def check_feedback(cfg: FeedbackConfig, probes: Probes) -> Check:
    """The start/stop sounds and the recording indicator (never essential: dictation works without)."""
    from onevox.feedback import choose_indicator

    environ = probes.environ()
    sounds = (f"sounds on (volume {cfg.sound_volume:g})" if cfg.sounds and cfg.sound_volume > 0
              else "sounds off")
    kind, note = (choose_indicator(cfg, environ) if probes.layer_shell is None
                  else choose_indicator(cfg, environ, layer_shell=probes.layer_shell))
    if kind is not None:
        return Check("ok", f"{sounds}; indicator: {note}", essential=False, details={"indicator": kind})
    missing_gtk = "layer-shell is not installed" in note
    fix = "sudo apt install python3-gi gir1.2-gtklayershell-0.1" if missing_gtk else None
    return Check("off" if cfg.indicator == "off" else "missing", f"{sounds}; no recording indicator",
                 essential=False, reason=note, fix=fix, details={"indicator": None})


def check_profiles(cfg: Config, probes: Probes) -> Check:
    """Whether per-application profiles can see the focused window here (never essential)."""
    from onevox.profiles import KWIN_SOURCE, focus_source

    names = ", ".join(p.name for p in cfg.profiles)
    if not names:
        return Check("off", "none configured ([profiles.NAME])", essential=False)
    environ = probes.environ()
    source, blind = focus_source(environ)
    if source == KWIN_SOURCE:  # try it: the script only reads, and is unloaded at once
        from onevox.desktop.kwin import kwin_focus_problem

        problem = (probes.kwin_focus or kwin_focus_problem)(environ)
        if problem:
            return Check("missing", f"{names}: KWin did not tell the focused window", essential=False,
                         reason=problem, fix="run onevox in the Plasma session (its session bus and KWin)")
    if blind:
        return Check("missing", f"{names}: matched against X11 (XWayland) windows only", essential=False,
                     reason=blind)
    return Check("ok", f"{names}: the focused window comes from {source}", essential=False)


def check_audio_destination(cfg: Config) -> Check:
    """Where dictated audio goes: this machine, or the server `[model] backend = "openai"` names."""
    from onevox.asr.privacy import privacy_line

    line = privacy_line(cfg.model)
    if line is None:
        return Check("ok", "stays on this machine (local model)", essential=False, details={"sent_to": None})
    fallback = "the local model" if cfg.model.fallback == "local" else "none"
    return Check("ok", line, essential=False, reason=f"when the server fails: {fallback}",
                 details={"sent_to": cfg.model.url})


def diagnose(cfg: Config, probes: Probes) -> dict[str, Any]:
    """The whole report as one JSON-ready object; "ok" says whether dictation can work end to end."""
    desktop = probes.desktop()
    checks = {
        "hotkey": check_hotkey(cfg.hotkey, desktop, probes),
        "injection": check_injection(cfg.injection, desktop, probes),
        "microphone": check_microphone(cfg.audio.device, probes),
        "model": check_model(cfg.model.name, probes),
        "daemon": check_daemon(cfg.socket_path(), probes),
        "feedback": check_feedback(cfg.feedback, probes),
        "profiles": check_profiles(cfg, probes),
        "audio": check_audio_destination(cfg),
    }
    missing = [name for name, check in checks.items() if check.blocking]
    return {"ok": not missing, "missing": missing, "desktop": desktop.as_dict(),
            **{name: check.as_dict() for name, check in checks.items()}}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="The same report as one JSON object.")
@config_option
@click.pass_context
def doctor(ctx: click.Context, as_json: bool, sub_config_path: str | None) -> None:
    """Check that dictation can work here: hotkey, injection, microphone, model, daemon; print the one fix
    for each missing piece. Exit code 1 when something essential is missing."""
    report = diagnose(get_config(ctx, sub_config_path), make_probes())
    click.echo(json.dumps(report, ensure_ascii=False, sort_keys=True) if as_json else render(report))
    if not report["ok"]:
        ctx.exit(1)
