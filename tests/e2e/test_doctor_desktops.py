"""`onevox doctor` run inside real desktops, as their user runs it: in a terminal of that session, with
that session's environment and nothing of ours (only PATH, LANG, a fresh HOME and PYTHONPATH, which points
at the code under test). Headless X11 (Xvfb), sway (as its test user, tests/support/wayland.py) and GNOME
Mutter 43 (on its private session bus, tests/support/gnome.py). What it says there is checked against what
the desktop really offers: the hotkey backend and binding lines, the injection order `auto` uses and which
of those methods can work (wtype needs a virtual-keyboard protocol Mutter does not have).

The plain reports are kept in .test-artifacts/doctor-{x11,sway,gnome}.txt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.desktop import VirtualDesktop, missing_tools, wait_until
from tests.support.gnome import HeadlessGnome, missing_programs
from tests.support.requirements import INSTALL_HINT
from tests.support.wayland import SwaySession, require_sway

pytestmark = [pytest.mark.e2e]

ARTIFACTS = Path(__file__).resolve().parents[2] / ".test-artifacts"
DOCTOR = [sys.executable, "-m", "onevox", "doctor"]
TRIGGER = "ctrl+shift+space"  # [hotkey] trigger's default: what doctor's binding lines must bind
Runner = Callable[[list[str]], "subprocess.CompletedProcess[bytes]"]


def user_env(home: Path, session: Mapping[str, str]) -> dict[str, str]:
    """A login's environment: the basics, then what the desktop session exports."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(home)}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return {**env, **session}


def run_in(env: dict[str, str]) -> Runner:
    def run(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(argv, env=env, capture_output=True, timeout=60, check=False)
    return run


def doctor(run: Runner, name: str) -> tuple[dict[str, Any], str]:
    """The JSON report and the plain one (kept as an artifact). Exit 0 or 1 (1: something essential is
    missing; here that can only be the microphone, which these desktops do not have)."""
    as_json = run([*DOCTOR, "--json"])
    assert as_json.returncode in (0, 1), as_json.stderr.decode(errors="replace")
    report = json.loads(as_json.stdout)
    plain = run(DOCTOR)
    assert plain.returncode == as_json.returncode, plain.stderr.decode(errors="replace")
    text = plain.stdout.decode()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"doctor-{name}.txt").write_text(text, encoding="utf-8")
    print(f"\n--- onevox doctor on {name}\n{text}")
    assert set(report["missing"]) <= {"microphone"}, report["missing"]
    return report, text


def methods(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["method"]: m for m in report["injection"]["order"]}


def test_doctor_on_x11(tmp_path: Path) -> None:
    missing = missing_tools()
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}; {INSTALL_HINT}")
    with VirtualDesktop.start(tmp_path / "x11") as desktop:
        (tmp_path / "home").mkdir()
        report, text = doctor(run_in(user_env(tmp_path / "home", {"DISPLAY": desktop.display})), "x11")
    assert report["desktop"]["session"] == "x11"
    assert report["desktop"]["display_reachable"] is True
    hotkey = report["hotkey"]
    assert (hotkey["status"], hotkey["backend"]) == ("ok", "x11"), hotkey
    injection = report["injection"]
    assert injection["status"] == "ok" and injection["summary"] == "auto: paste first", injection
    assert [m["method"] for m in injection["order"]] == ["paste", "type", "xdotool"]
    assert methods(report)["paste"]["ok"], injection
    assert "hotkey        ok: x11 grab" in text
    assert "ok           paste" in text


def test_doctor_on_sway() -> None:
    require_sway()
    with SwaySession.start() as sway:
        session = {k: sway.env[k] for k in ("WAYLAND_DISPLAY", "SWAYSOCK", "XDG_RUNTIME_DIR",
                                              "XDG_SESSION_TYPE", "XDG_CURRENT_DESKTOP")}
        env = user_env(sway.home, session)

        def run(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
            return subprocess.run(argv, env=env, cwd=sway.root, capture_output=True, timeout=60, check=False,
                                  **sway.user.popen_kwargs())
        report, text = doctor(run, "sway")
        pressed = bind_and_press(sway, report["hotkey"]["bindings"])
    assert pressed == ["start-dictation", "stop-dictation"], pressed
    desk = report["desktop"]
    assert (desk["session"], desk["family"], desk["display_reachable"]) == ("wayland", "sway", True), desk
    assert desk["virtual_keyboard"] is True, desk
    hotkey = report["hotkey"]
    assert (hotkey["status"], hotkey["backend"]) == ("setup", "compositor binding"), hotkey
    press, release = hotkey["bindings"]
    assert press == "bindsym --no-repeat Ctrl+Shift+space exec onevox start-dictation", press
    assert release == "bindsym --release Ctrl+Shift+space exec onevox stop-dictation", release
    assert "~/.config/sway/config" in hotkey["fix"]
    injection = report["injection"]
    assert injection["status"] == "ok" and injection["summary"] == "auto: wtype first", injection
    assert [m["method"] for m in injection["order"]] == ["wtype", "remote-desktop", "paste", "portal",
                                                         "ydotool"]
    found = methods(report)
    assert found["wtype"]["ok"] and found["paste"]["ok"], injection
    assert not found["remote-desktop"]["ok"] and found["remote-desktop"]["fix"] is None, injection
    assert not found["portal"]["ok"] and found["portal"]["fix"] is None, injection  # no bus in this session
    assert "wayland, sway" in text and "bindsym --no-repeat" in text and "ok           wtype" in text


def bind_and_press(sway: SwaySession, lines: list[str]) -> list[str]:
    """Put doctor's binding lines into the running sway as a user pastes them into the config (with
    `onevox` standing for a stub that logs its arguments), hold the configured chord and let it go: what
    the bindings ran, in order."""
    log = sway.root / "pressed.log"
    stub = sway.root / "onevox-stub"
    stub.write_text(f'#!/bin/sh\necho "$@" >> {log}\n', encoding="utf-8")
    stub.chmod(0o755)
    os.chown(stub, *sway.user.ids)
    for line in lines:
        assert line.startswith("bindsym ") and " exec onevox " in line, line
        sway.swaymsg(line.replace(" exec onevox ", f" exec {stub} "))  # sway refuses a bad key name
    sway.wait_released(sway.hold_chord(TRIGGER, 0.2))
    wait_until(lambda: log.exists() and len(log.read_text().splitlines()) >= 2, 5.0, "both bindings to run")
    return log.read_text().split()


def test_doctor_on_gnome() -> None:
    missing = missing_programs()
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}; {INSTALL_HINT}")
    with HeadlessGnome.start() as gnome:
        home = gnome.root / "home"
        report, text = doctor(run_in(user_env(home, gnome.env)), "gnome")
    desk = report["desktop"]
    assert (desk["session"], desk["family"], desk["dbus"]) == ("wayland", "gnome", True), desk
    assert desk["virtual_keyboard"] is False, desk
    hotkey = report["hotkey"]
    assert (hotkey["status"], hotkey["backend"]) == ("setup", "compositor binding"), hotkey
    assert any("custom-keybindings" in line for line in hotkey["bindings"]), hotkey
    injection = report["injection"]
    assert injection["status"] == "ok" and injection["summary"] == "auto: remote-desktop first", injection
    assert [m["method"] for m in injection["order"]] == ["remote-desktop", "portal", "wtype", "paste",
                                                         "ydotool"]
    found = methods(report)
    assert found["remote-desktop"]["ok"], injection
    # the portal runs here with KDE's backend only (it serves GNOME with it): none for GNOME types
    assert not found["portal"]["ok"] and "offers no RemoteDesktop" in found["portal"]["reason"], injection
    assert found["portal"]["fix"] == "install xdg-desktop-portal-gnome", injection
    for method in ("wtype", "paste"):  # both press keys through wtype, which Mutter cannot take
        assert not found[method]["ok"], injection
        assert "virtual-keyboard" in found[method]["reason"], found[method]
    assert "ok           remote-desktop" in text and "unavailable  wtype: " in text
    for line in hotkey["bindings"]:  # each a valid command for the installed GNOME schema
        done = subprocess.run(line, shell=True, env={**os.environ, "GSETTINGS_BACKEND": "memory"},
                              capture_output=True, text=True, timeout=10, check=False)
        assert done.returncode == 0, f"{line}: {done.stderr}"
    assert hotkey["bindings"][-1].endswith(" binding '<Control><Shift>space'"), hotkey
