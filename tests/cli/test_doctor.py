"""`onevox doctor`: what it reports and its exit code over described machines (fake probes), and one run of
the real command here, where there is no desktop, no microphone and no daemon."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from onevox.cli import cli, doctor_cmd
from onevox.config import HotkeyConfig, InjectionConfig
from onevox.desktop import Desktop
from onevox.errors import HotkeyError
from onevox.inject.rd_portal_session import NO_PORTAL, NOT_OFFERED

WAYLAND_TOOLS = frozenset({"wtype", "wl-copy", "wl-paste"})
EVDEV_LOCKED = "cannot read the keyboards in /dev/input: add your user to the 'input' group"
MIC = {"device": "Built-in Audio Analog Stereo", "hostapi": "ALSA", "index": 3, "note": None}
MODEL = {"name": "tiny.en", "path": "/models/tiny.en", "source": "bundled"}


def wayland_injection(desktop: Desktop) -> Any:
    """What the wtype -> paste -> ydotool chain says for the tools `desktop` has."""
    def probe(cfg: InjectionConfig, session: str) -> list[tuple[str, str | None]]:
        has = desktop.has
        paste = [t for t in ("wl-copy", "wl-paste", "wtype") if not has(t)]
        return [("wtype", None if has("wtype") else "wtype is not installed"),
                ("paste", f"needs {', '.join(paste)}" if paste else None),
                ("ydotool", None if has("ydotool") else "ydotool is not installed")]
    return probe


def probes(desktop: Desktop, *, hotkey: list[tuple[str, str | None]] | Exception | None = None,
           injection: Any = None, mic: dict[str, Any] | None = None, model: dict[str, Any] | None = None,
           daemon: dict[str, Any] | None = None) -> doctor_cmd.Probes:
    def hotkey_probe(cfg: HotkeyConfig, session: str) -> list[tuple[str, str | None]]:
        if isinstance(hotkey, Exception):
            raise hotkey
        if cfg.backend == "none":
            return []
        return hotkey if hotkey is not None else [("evdev", EVDEV_LOCKED)]

    return doctor_cmd.Probes(
        desktop=lambda: desktop, hotkey=hotkey_probe,
        injection=injection or wayland_injection(desktop),
        microphone=lambda spec: MIC if mic is None else mic,
        model=lambda name: MODEL if model is None else model,
        daemon=lambda socket: daemon or {"running": True, "state": "idle"})


def run(monkeypatch: pytest.MonkeyPatch, fake: doctor_cmd.Probes, *args: str) -> Any:
    monkeypatch.setattr(doctor_cmd, "make_probes", lambda: fake)
    return CliRunner().invoke(cli, ["doctor", *args])


def as_json(monkeypatch: pytest.MonkeyPatch, fake: doctor_cmd.Probes,
            *args: str) -> tuple[int, dict[str, Any]]:
    result = run(monkeypatch, fake, "--json", *args)
    return result.exit_code, json.loads(result.output)


@pytest.fixture(autouse=True)
def _home(isolated_xdg: Path) -> None:
    """Every test reads the default config from an empty temporary home."""


def test_sway_with_wtype_works_and_prints_the_binding_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    sway = Desktop("wayland", "sway", tools=WAYLAND_TOOLS)
    result = run(monkeypatch, probes(sway))
    assert result.exit_code == 0, result.output
    assert "bindsym --no-repeat Ctrl+Shift+space exec onevox start-dictation" in result.output
    assert "bindsym --release Ctrl+Shift+space exec onevox stop-dictation" in result.output
    assert "~/.config/sway/config" in result.output
    assert "injection     ok: auto: wtype first" in result.output
    assert "dictation can work end to end" in result.output
    code, report = as_json(monkeypatch, probes(sway))
    assert code == 0 and report["ok"] and report["missing"] == []
    assert report["hotkey"]["backend"] == "compositor binding" and report["hotkey"]["status"] == "setup"
    assert report["hotkey"]["bindings"] == [
        "bindsym --no-repeat Ctrl+Shift+space exec onevox start-dictation",
        "bindsym --release Ctrl+Shift+space exec onevox stop-dictation"]
    assert [(m["method"], m["ok"]) for m in report["injection"]["order"]] == [
        ("wtype", True), ("paste", True), ("ydotool", False)]
    assert report["injection"]["order"][2]["fix"] == "sudo apt install ydotool"
    assert report["desktop"]["family"] == "sway"


@pytest.mark.parametrize(("family", "expected"), [
    ("hyprland", ["bind = CTRL SHIFT, space, exec, onevox start-dictation",
                  "bindr = CTRL SHIFT, space, exec, onevox stop-dictation"]),
    ("i3", ["bindsym --no-repeat Ctrl+Shift+space exec onevox start-dictation",
            "bindsym --release Ctrl+Shift+space exec onevox stop-dictation"]),
    ("river", ["riverctl map normal Control+Shift space spawn 'onevox start-dictation'",
               "riverctl map -release normal Control+Shift space spawn 'onevox stop-dictation'"]),
    ("kde", ["onevox toggle"]),
    ("wlroots-other", ["onevox toggle"]),
])
def test_binding_lines_for_each_compositor(monkeypatch: pytest.MonkeyPatch, family: str,
                                          expected: list[str]) -> None:
    code, report = as_json(monkeypatch, probes(Desktop("wayland", family, tools=WAYLAND_TOOLS)))
    assert code == 0
    assert report["hotkey"]["bindings"] == expected
    if family == "kde":
        assert "System Settings > Shortcuts > Custom" in report["hotkey"]["fix"]


def test_gnome_gets_the_gsettings_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(monkeypatch, probes(Desktop("wayland", "gnome", tools=WAYLAND_TOOLS)))
    assert result.exit_code == 0
    path = "/org/gnome/settings-daemon/plugins/media-keys/custom-keybindings/onevox/"
    assert (f"gsettings set org.gnome.settings-daemon.plugins.media-keys custom-keybindings \"['{path}']\""
            in result.output)
    assert (f"gsettings set org.gnome.settings-daemon.plugins.media-keys.custom-keybinding:{path} command "
            "'onevox toggle'" in result.output)
    assert "binding '<Control><Shift>space'" in result.output
    assert "tap the keys to start and again to stop, or hold them while you speak" in result.output


def test_evdev_readable_needs_no_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = probes(Desktop("wayland", "sway", tools=WAYLAND_TOOLS), hotkey=[("evdev", None)])
    code, report = as_json(monkeypatch, fake)
    assert code == 0 and report["hotkey"]["status"] == "ok" and report["hotkey"]["backend"] == "evdev"
    assert report["hotkey"]["fix"] is None and "bindings" not in report["hotkey"]


def test_x11_everything_works(monkeypatch: pytest.MonkeyPatch) -> None:
    x11 = Desktop("x11", "other", tools=frozenset({"xdotool", "xclip"}))
    fake = probes(x11, hotkey=[("x11", None), ("evdev", EVDEV_LOCKED)],
                  injection=lambda cfg, s: [("paste", None), ("type", None), ("xdotool", None)])
    result = run(monkeypatch, fake)
    assert result.exit_code == 0, result.output
    assert "hotkey        ok: x11 grab (ctrl+shift+space)" in result.output
    assert "microphone    ok: Built-in Audio Analog Stereo (ALSA)" in result.output
    assert "model         ok: tiny.en (bundled, /models/tiny.en)" in result.output
    assert "daemon        ok: running (idle)" in result.output
    assert "fix:" not in result.output


def test_wayland_without_tools_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    bare = Desktop("wayland", "hyprland")
    result = run(monkeypatch, probes(bare))
    assert result.exit_code == 1
    assert "injection     MISSING: no injection method works" in result.output
    assert "fix: sudo apt install wtype" in result.output
    assert "dictation cannot work yet: missing injection" in result.output
    code, report = as_json(monkeypatch, probes(Desktop("wayland", "sway", tools=frozenset({"wtype"}))))
    assert code == 0  # wtype alone types; paste's fix is there for the asking
    assert report["injection"]["order"][1]["fix"] == "sudo apt install wl-clipboard"


def test_ydotool_without_uinput_says_which_group(monkeypatch: pytest.MonkeyPatch) -> None:
    desktop = Desktop("wayland", "gnome", tools=frozenset({"ydotool"}))
    fake = probes(desktop, injection=lambda cfg, s: [("ydotool", "ydotoold is not running")])
    code, report = as_json(monkeypatch, fake)
    assert code == 1 and report["missing"] == ["injection"]
    assert "usermod -aG input" in report["injection"]["fix"]


def test_no_microphone_and_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = probes(Desktop("wayland", "sway", tools=WAYLAND_TOOLS),
                  mic={"device": None, "reason": "no audio input device found", "fix": "start PipeWire"},
                  model={"reason": "model 'small.en' is not downloaded",
                         "fix": "onevox models download small.en"},
                  daemon={"running": False})
    code, report = as_json(monkeypatch, fake)
    assert code == 1 and report["missing"] == ["microphone", "model"]
    assert report["microphone"]["fix"] == "start PipeWire" and report["microphone"]["device"] is None
    assert report["model"]["fix"] == "onevox models download small.en"
    assert report["daemon"]["running"] is False and report["daemon"]["fix"].startswith("onevox daemon")
    text = run(monkeypatch, fake).output
    assert "microphone    MISSING: no microphone" in text and "fix: onevox models download small.en" in text
    assert "daemon        no: not running" in text


def test_an_explicit_evdev_backend_that_cannot_read_is_essential(monkeypatch: pytest.MonkeyPatch,
                                                                isolated_xdg: Path) -> None:
    config = isolated_xdg / "onevox.toml"
    config.write_text('[hotkey]\nbackend = "evdev"\n')
    desktop = Desktop("wayland", "sway", tools=WAYLAND_TOOLS, input_nodes=5, input_readable=False)
    code, report = as_json(monkeypatch, probes(desktop), "--config", str(config))
    assert code == 1 and report["missing"] == ["hotkey"]
    assert report["hotkey"]["fix"] == "sudo usermod -aG input $USER, then log out and in again"


def test_backend_none_is_fine(monkeypatch: pytest.MonkeyPatch, isolated_xdg: Path) -> None:
    config = isolated_xdg / "onevox.toml"
    config.write_text('[hotkey]\nbackend = "none"\n')
    code, report = as_json(monkeypatch, probes(Desktop("wayland", "hyprland", tools=WAYLAND_TOOLS)),
                           "--config", str(config))
    assert code == 0 and report["hotkey"]["status"] == "setup"
    assert report["hotkey"]["bindings"][0] == "bind = CTRL SHIFT, space, exec, onevox start-dictation"


def test_a_bad_trigger_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = probes(Desktop("x11", "other"), hotkey=HotkeyError("unknown key 'foo'"),
                  injection=lambda cfg, s: [("paste", None)])
    code, report = as_json(monkeypatch, fake)
    assert code == 1 and report["missing"] == ["hotkey"] and "foo" in report["hotkey"]["reason"]


def test_no_session_and_stdout(monkeypatch: pytest.MonkeyPatch, isolated_xdg: Path) -> None:
    fake = probes(Desktop("none", "other"),
                  injection=lambda cfg, s: [("stdout", None)] if cfg.method == "stdout" else [])
    code, report = as_json(monkeypatch, fake)
    assert code == 1 and report["missing"] == ["injection"]
    assert "desktop session" in report["injection"]["fix"]
    assert report["hotkey"]["essential"] is False
    config = isolated_xdg / "onevox.toml"
    config.write_text('[injection]\nmethod = "stdout"\n')
    code, report = as_json(monkeypatch, fake, "--config", str(config))
    assert code == 0 and report["injection"]["summary"] == "stdout: stdout"


def test_the_real_probes_have_no_side_effects() -> None:
    """Each real probe answers without a desktop: the injection chain's methods by name, no hotkey for
    backend "none", a daemon that is not running."""
    from onevox.inject import AUTO_ORDER

    names = [name for name, _ in doctor_cmd.make_probes().injection(InjectionConfig(), "x11")]
    assert names == list(AUTO_ORDER["x11"])
    assert doctor_cmd.make_probes().injection(InjectionConfig(), "none") == []
    assert doctor_cmd.make_probes().hotkey(HotkeyConfig(backend="none"), "wayland") == []
    assert doctor_cmd.make_probes().daemon(Path("/nonexistent/onevox.sock"))["running"] is False


def test_the_real_doctor_here_says_what_is_missing(isolated_xdg: Path) -> None:
    """This machine has no display: doctor must say so (exit 1, a fix for injection), not crash."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "src")
    done = subprocess.run([sys.executable, "-m", "onevox", "doctor", "--json"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    report = json.loads(done.stdout)
    assert report["ok"] is False and "injection" in report["missing"]
    assert report["desktop"]["session"] == "none"
    for name in report["missing"]:
        assert report[name]["fix"], name
    assert report["daemon"]["running"] is False
    human = subprocess.run([sys.executable, "-m", "onevox", "doctor"], env=env, capture_output=True,
                           text=True, timeout=60, check=False)
    assert human.returncode == 1 and "dictation cannot work yet: missing injection" in human.stdout
    assert "Traceback" not in human.stderr


def test_doctor_is_not_on_the_fast_path() -> None:
    code = ("import sys, onevox.cli, onevox.cli.fast as f; assert f.parse_args(['doctor']) is None; "
            "assert 'onevox.cli.doctor_cmd' not in sys.modules and 'onevox.desktop' not in sys.modules")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)


def test_a_display_that_cannot_be_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    gone = Desktop("x11", "other", display_socket="/tmp/.X11-unix/X9", display_reachable=False)
    fake = probes(gone, hotkey=[("x11", "cannot open X display :9")],
                  injection=lambda cfg, s: [("paste", None)])
    code, report = as_json(monkeypatch, fake)
    assert code == 1 and report["missing"] == ["injection"]
    assert "/tmp/.X11-unix/X9 does not exist" in report["injection"]["reason"]
    assert "import-environment DISPLAY" in report["injection"]["fix"]


def test_wtype_and_paste_refused_where_the_compositor_has_no_virtual_keyboard(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Mutter announces no zwp_virtual_keyboard_manager_v1: wtype is installed yet cannot type there."""
    mutter = Desktop("wayland", "gnome", tools=WAYLAND_TOOLS, wayland_globals=("wl_seat", "wl_shm"))

    def chain(cfg: InjectionConfig, session: str) -> list[tuple[str, str | None]]:
        return [("remote-desktop", None), ("wtype", None), ("paste", None), ("ydotool", "not installed")]
    code, report = as_json(monkeypatch, probes(mutter, injection=chain))
    assert code == 0 and report["injection"]["summary"] == "auto: remote-desktop first"
    found = {m["method"]: m for m in report["injection"]["order"]}
    assert found["remote-desktop"]["ok"]
    for method in ("wtype", "paste"):
        assert not found[method]["ok"] and "virtual-keyboard protocol" in found[method]["reason"]
    code, report = as_json(monkeypatch, probes(mutter, injection=lambda cfg, s: [("wtype", None)]))
    assert code == 1 and report["missing"] == ["injection"]
    sway = Desktop("wayland", "sway", tools=WAYLAND_TOOLS,
                   wayland_globals=("zwp_virtual_keyboard_manager_v1",))
    code, report = as_json(monkeypatch, probes(sway))
    assert code == 0 and report["injection"]["order"][0] == {"method": "wtype", "ok": True, "reason": None,
                                                             "fix": None}


@pytest.mark.parametrize(("family", "reason", "fix"), [
    ("gnome", "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus does not "
              "exist)", "import-environment DBUS_SESSION_BUS_ADDRESS"),
    ("gnome", "org.gnome.Mutter.RemoteDesktop is not on the session bus (it is GNOME Mutter's: not a GNOME "
              "session)", "GNOME Wayland session"),
    ("sway", "the jeepney package is not installed", "pip install jeepney"),
    ("sway", "no D-Bus session bus", None),  # not meant to work outside GNOME: nothing to fix
])
def test_remote_desktop_fix(monkeypatch: pytest.MonkeyPatch, family: str, reason: str,
                            fix: str | None) -> None:
    desktop = Desktop("wayland", family, tools=frozenset())
    _, report = as_json(monkeypatch, probes(desktop, injection=lambda cfg, s: [("remote-desktop", reason)]))
    got = report["injection"]["order"][0]["fix"]
    assert (got is None) if fix is None else (fix in got), got
    if fix is not None:
        assert fix in report["injection"]["fix"]


@pytest.mark.parametrize(("family", "reason", "fix"), [
    ("kde", NOT_OFFERED, "install xdg-desktop-portal-kde"),
    ("gnome", NOT_OFFERED, "install xdg-desktop-portal-gnome"),
    ("kde", NO_PORTAL, "install xdg-desktop-portal xdg-desktop-portal-kde"),
    ("sway", NOT_OFFERED, None),  # wlroots' portal has no RemoteDesktop: nothing to install
    ("kde", "the jeepney package is not installed", "pip install jeepney (into onevox's environment)"),
    ("kde", "typing through the RemoteDesktop portal was not allowed (Start cancelled in the desktop's "
            "dialog); restart onevox to be asked again, or choose another [injection] method", None),
])
def test_portal_fix(monkeypatch: pytest.MonkeyPatch, family: str, reason: str, fix: str | None) -> None:
    desktop = Desktop("wayland", family, tools=frozenset())
    _, report = as_json(monkeypatch, probes(desktop, injection=lambda cfg, s: [("portal", reason)]))
    method = report["injection"]["order"][0]
    assert method["reason"] == reason and method["fix"] == fix, method


@pytest.mark.parametrize(("globals_", "ok"), [
    (("wl_seat", "zwlr_data_control_manager_v1"), False),  # KWin hides fake input from an unauthorised client
    (("wl_seat", "zwlr_data_control_manager_v1", "org_kde_kwin_fake_input"), True),
])
def test_paste_on_kde_depends_on_kwin_fake_input(monkeypatch: pytest.MonkeyPatch, globals_: tuple[str, ...],
                                                 ok: bool) -> None:
    kde = Desktop("wayland", "kde", tools=WAYLAND_TOOLS, wayland_globals=globals_)
    found = [("paste", None), ("portal", None)]
    _, report = as_json(monkeypatch, probes(kde, injection=lambda cfg, s: found))
    paste = report["injection"]["order"][0]
    assert paste["ok"] is ok, paste
    assert report["injection"]["summary"] == ("auto: paste first" if ok else "auto: portal first")
    if not ok:
        assert "org_kde_kwin_fake_input" in paste["reason"], paste
        assert "onevox-kwin-fake-input.desktop, then log in again" in paste["fix"], paste


@pytest.mark.parametrize(("family", "trigger", "first"), [
    ("sway", "super+d", "bindsym --no-repeat Mod4+d exec onevox start-dictation"),
    ("i3", "alt+F9", "bindsym --no-repeat Mod1+F9 exec onevox start-dictation"),
    ("hyprland", "super+alt+enter", "bind = ALT SUPER, Return, exec, onevox start-dictation"),
    ("river", "pause", "riverctl map normal None Pause spawn 'onevox start-dictation'"),
    ("gnome", "ctrl+alt+d", "gsettings set org.gnome.settings-daemon.plugins.media-keys.custom-keybinding:"
                            "/org/gnome/settings-daemon/plugins/media-keys/custom-keybindings/onevox/ "
                            "binding '<Control><Alt>d'"),
])
def test_binding_lines_bind_the_configured_trigger(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                   family: str, trigger: str, first: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[hotkey]\ntrigger = "{trigger}"\nbackend = "none"\n', encoding="utf-8")
    fake = probes(Desktop("wayland", family, tools=WAYLAND_TOOLS))
    code, report = as_json(monkeypatch, fake, "--config", str(config))
    assert code == 0
    assert first in report["hotkey"]["bindings"], report["hotkey"]["bindings"]


def test_the_portal_is_reported_when_it_works(monkeypatch: pytest.MonkeyPatch) -> None:
    kde = Desktop("wayland", "kde", tools=WAYLAND_TOOLS)
    fake = probes(kde, hotkey=[("portal", None), ("evdev", EVDEV_LOCKED)])
    code, report = as_json(monkeypatch, fake)
    assert code == 0 and report["hotkey"]["status"] == "ok" and report["hotkey"]["backend"] == "portal"
    assert report["hotkey"]["summary"].startswith("GlobalShortcuts portal (ctrl+shift+space;")


def test_an_explicit_portal_backend_that_cannot_work_is_missing(monkeypatch: pytest.MonkeyPatch,
                                                                 isolated_xdg: Path) -> None:
    config = isolated_xdg / "onevox.toml"
    config.write_text('[hotkey]\nbackend = "portal"\n')
    gnome = Desktop("wayland", "gnome", tools=WAYLAND_TOOLS)
    no_interface = "this desktop's portal offers no GlobalShortcuts (it needs GNOME 48+, ...)"
    code, report = as_json(monkeypatch, probes(gnome, hotkey=[("portal", no_interface)]), "--config",
                           str(config))
    assert code == 1 and report["missing"] == ["hotkey"]
    assert report["hotkey"]["reason"] == f"portal: {no_interface}"
    assert report["hotkey"]["fix"] == 'set [hotkey] backend = "auto"'


def test_feedback_says_where_the_indicator_is_and_why_there_is_none(monkeypatch: pytest.MonkeyPatch,
                                                                    isolated_xdg: Path) -> None:
    x11 = Desktop("x11", "other", tools=frozenset({"xdotool", "xclip"}))
    fake = probes(x11, hotkey=[("x11", None)], injection=lambda cfg, s: [("paste", None)])
    fake.environ = lambda: {"DISPLAY": ":0"}
    result = run(monkeypatch, fake)
    assert "feedback      ok: sounds on (volume 0.5); indicator: an X11 window on :0" in result.output
    sway = Desktop("wayland", "sway", tools=WAYLAND_TOOLS)
    fake = probes(sway)
    fake.environ = lambda: {"WAYLAND_DISPLAY": "wayland-1"}
    fake.layer_shell = lambda env: None
    result = run(monkeypatch, fake)
    assert ("feedback      ok: sounds on (volume 0.5); indicator: a layer-shell surface on wayland-1"
            in result.output)
    fake.layer_shell = lambda env: "GTK's layer-shell is not installed for /usr/bin/python3 (apt ...)"
    result = run(monkeypatch, fake)
    assert result.exit_code == 0, result.output  # not essential
    assert "feedback      no: sounds on (volume 0.5); no recording indicator" in result.output
    assert "fix: sudo apt install python3-gi gir1.2-gtklayershell-0.1" in result.output
    (isolated_xdg / "xdg_config_home" / "onevox").mkdir(parents=True)
    (isolated_xdg / "xdg_config_home" / "onevox" / "config.toml").write_text(
        '[feedback]\nsounds = false\nindicator = "off"\n')
    _, report = as_json(monkeypatch, fake)
    assert report["feedback"]["status"] == "off" and report["feedback"]["summary"].startswith("sounds off")


def test_doctor_says_where_the_audio_goes(monkeypatch: pytest.MonkeyPatch, isolated_xdg: Path) -> None:
    fake = probes(Desktop("x11", "other", tools=frozenset({"xdotool", "xclip"})), hotkey=[("x11", None)])
    assert "audio         ok: stays on this machine (local model)" in run(monkeypatch, fake).output
    config = isolated_xdg / "onevox.toml"
    config.write_text('[model]\nbackend = "openai"\nurl = "http://gpu-box:8000/v1"\nfallback = "none"\n')
    output = run(monkeypatch, fake, "--config", str(config)).output
    assert "audio         ok: audio is sent to http://gpu-box:8000/v1 (model whisper-1); warning: plain " \
           "http to another host" in output
    assert "when the server fails: none" in output
    _, report = as_json(monkeypatch, fake, "--config", str(config))
    assert report["audio"]["sent_to"] == "http://gpu-box:8000/v1"


def test_profiles_on_kde_wayland_ask_kwin_and_name_its_failure() -> None:
    from onevox.config import Config, ProfileConfig
    from onevox.profiles import KWIN_SOURCE

    kde = Desktop("wayland", "kde", tools=WAYLAND_TOOLS)
    env = {"WAYLAND_DISPLAY": "wayland-0", "XDG_CURRENT_DESKTOP": "KDE"}
    cfg = Config(profiles=[ProfileConfig(name="term", match_class=["konsole"])])
    asked: list[dict[str, str]] = []

    def kwin(answer: str | None) -> doctor_cmd.Probes:
        fake = probes(kde)
        fake.environ = lambda: env
        fake.kwin_focus = lambda environ: asked.append(dict(environ)) or answer  # type: ignore[func-returns-value]
        return fake

    works = doctor_cmd.check_profiles(cfg, kwin(None)).as_dict()
    assert works["status"] == "ok"
    assert works["summary"] == f"term: the focused window comes from {KWIN_SOURCE}"
    assert asked == [env]  # it was tried, in this session's environment
    fails = doctor_cmd.check_profiles(cfg, kwin("KWin answered loadScript with org.freedesktop.DBus.Error."
                                                "ServiceUnknown: ...")).as_dict()
    assert fails["status"] == "missing" and fails["reason"].startswith("KWin answered loadScript")
    assert fails["summary"] == "term: KWin did not tell the focused window" and fails["fix"]
    on_x11 = kwin("never asked")
    on_x11.environ = lambda: {"DISPLAY": ":0", "XDG_CURRENT_DESKTOP": "KDE"}
    x11 = doctor_cmd.check_profiles(cfg, on_x11).as_dict()
    assert len(asked) == 2 and x11["status"] == "ok"  # Plasma on X11: EWMH, no KWin script
    assert x11["summary"] == ("term: the focused window comes from X11 (_NET_ACTIVE_WINDOW, else the input "
                              "focus)")
