"""[profiles.NAME]: parsing and every validation error (exact lines), matching a focused window (class, title,
file order), and the config one dictation runs with."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onevox.config import (
    SECTIONS,
    Config,
    InjectionConfig,
    PostProcessingConfig,
    ProfileConfig,
    parse_config,
)
from onevox.config_toml import to_toml
from onevox.desktop.focus import FocusedWindow
from onevox.errors import ConfigError
from onevox.profiles import ProfileChooser, apply_profile, find_profile, matches
from onevox.text.postprocess import postprocess
from tests.fuzz.test_config_fuzz import toml_value

TERMINAL = """
[injection]
method = "paste"

[profiles.terminal]
match_class = ["kitty", "Alacritty"]
[profiles.terminal.injection]
method = "type"
[profiles.terminal.post_processing]
capitalize = false
final_period = false

[profiles.vim]
match_class = ["kitty"]
match_title = "(?i)\\\\bvim\\\\b"
enabled = false

[profiles.editor]
match_title = " - Visual Studio Code$"
[profiles.editor.model]
initial_prompt = "Python code."
vocabulary = ["pytest", "asyncio"]
"""


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.toml")
    return str(info.value)


def test_profiles_parse_in_file_order_with_checked_overrides() -> None:
    cfg = parse_config(TERMINAL)
    assert [p.name for p in cfg.profiles] == ["terminal", "vim", "editor"]
    terminal, vim, editor = cfg.profiles
    assert terminal == ProfileConfig("terminal", ["kitty", "Alacritty"], "", True, {
        "injection": {"method": "type"}, "post_processing": {"capitalize": False, "final_period": False}})
    assert (vim.match_title, vim.enabled, vim.overrides) == (r"(?i)\bvim\b", False, {})
    assert editor.overrides == {"model": {"initial_prompt": "Python code.",
                                          "vocabulary": ["pytest", "asyncio"]}}
    assert cfg.injection.method == "paste"  # the base config is untouched


def test_profiles_round_trip_through_config_show() -> None:
    cfg = parse_config(TERMINAL + '\n[profiles."odd name"]\nmatch_class = ["x"]\n'
                       '[profiles."odd name".post_processing]\nreplacements = { "new line" = "\\n" }\n')
    assert parse_config(to_toml(cfg)) == cfg
    assert parse_config(to_toml(cfg, with_docs=False)) == cfg


@pytest.mark.parametrize(("text", "message"), [
    ("profiles = 3", "c.toml: profiles: must be [profiles.NAME] tables"),
    ("[profiles]\nterm = 1", "c.toml: profiles.term: must be a [profiles.NAME] table with a name"),
    ('[profiles." "]\nmatch_class = ["k"]',
     "c.toml: profiles. : must be a [profiles.NAME] table with a name"),
    ("[profiles.term]\nenabled = true",
     "c.toml: profiles.term: needs match_class or match_title (which windows it is for)"),
    ("[profiles.term]\nmatch_class = \"kitty\"",
     "c.toml: profiles.term.match_class: must be a list of strings, got a string ('kitty')"),
    ("[profiles.term]\nmatch_title = \"([a-z\"",
     "c.toml: profiles.term.match_title: not a valid regular expression: unterminated character set at "
     "position 1"),
    ("[profiles.term]\nmatch_class = [\"k\"]\nenabled = \"no\"",
     "c.toml: profiles.term.enabled: must be true or false, got a string ('no')"),
    ("[profiles.term]\nmatch_class = [\"k\"]\ncolour = 1",
     "c.toml: profiles.term.colour: unknown key; allowed: match_class, match_title, enabled and the "
     "sections injection, post_processing, commands, model"),
    ("[profiles.term]\nmatch_class = [\"k\"]\n[profiles.term.audio]\ndevice = \"x\"",
     "c.toml: profiles.term.audio: unknown key; allowed: match_class, match_title, enabled and the "
     "sections injection, post_processing, commands, model"),
    ("[profiles.term]\nmatch_class = [\"k\"]\n[profiles.term.injection]\nmethod = \"telepathy\"",
     "c.toml: profiles.term.injection.method: must be one of auto, paste, type, xdotool, wtype, "
     "remote-desktop, portal, ydotool, stdout; got 'telepathy'"),
    ("[profiles.term]\nmatch_class = [\"k\"]\n[profiles.term.injection]\nspeed = 3",
     "c.toml: profiles.term.injection.speed: unknown key; allowed: method, paste_keys, terminal_paste_keys, "
     "terminal_classes, restore_clipboard, restore_delay_ms, type_delay_ms, live"),
    ("[profiles.term]\nmatch_class = [\"k\"]\n[profiles.term.injection]\nlive = true",
     "c.toml: profiles.term.injection.live: cannot differ per window; allowed: method, paste_keys, "
     "terminal_paste_keys, terminal_classes, restore_clipboard, restore_delay_ms, type_delay_ms"),
    ("[profiles.term]\nmatch_class = [\"k\"]\n[profiles.term.model]\nname = \"base.en\"",
     "c.toml: profiles.term.model.name: cannot differ per window; allowed: initial_prompt, vocabulary"),
    ("[profiles.term]\nmatch_class = [\"k\"]\n[profiles.term.post_processing]\ncapitalize = 0",
     "c.toml: profiles.term.post_processing.capitalize: must be true or false, got a number (0)"),
    ("[profiles.term]\nmatch_class = [\"k\"]\n[profiles.term]\n", "c.toml: not valid TOML: Cannot declare "
     "('profiles', 'term') twice (at line 3, column 15)"),
    ("[profiles.term]\nmatch_class = [\"k\"]\nmodel = 1", "c.toml: profiles.term.model: must be a table"),
    ("[profile.term]\nmatch_class = [\"k\"]",
     f"c.toml: profile: unknown section; allowed: {', '.join([*SECTIONS, 'profiles'])}"),
])
def test_bad_profiles_name_file_key_and_reason(text: str, message: str) -> None:
    assert _error(text) == message


def window(app: tuple[str, ...], title: str = "") -> FocusedWindow:
    return FocusedWindow(app, title, "x11")


def test_matching_class_title_and_file_order() -> None:
    terminal, vim, editor = parse_config(TERMINAL).profiles
    assert matches(terminal, window(("alacritty", "Alacritty")))  # any name, case-insensitive
    assert matches(terminal, window(("KITTY",)))
    assert not matches(terminal, window(("kitty-like", "Kittylike")))  # a name, not a substring
    assert matches(vim, window(("kitty",), "VIM - notes.txt"))
    assert not matches(vim, window(("kitty",), "vimrc"))
    assert not matches(vim, window(("foot",), "vim"))  # both matchers must hold
    assert matches(editor, window(("code", "Code"), "main.py - Visual Studio Code"))
    profiles = [terminal, vim, editor]
    assert find_profile(profiles, window(("kitty",), "vim")) is terminal  # the first match wins
    assert find_profile([vim, terminal], window(("kitty",), "vim")) is vim
    assert find_profile(profiles, window(("firefox",), "vim")) is None
    assert find_profile(profiles, None) is None


def test_apply_profile_changes_only_its_keys() -> None:
    cfg = parse_config(TERMINAL + '\n[post_processing]\nremove_fillers = true\n')
    applied = apply_profile(cfg, cfg.profiles[0])
    assert applied.injection == InjectionConfig(method="type")
    assert applied.post_processing == PostProcessingConfig(capitalize=False, final_period=False,
                                                           remove_fillers=True)
    assert applied.model == cfg.model and applied.audio == cfg.audio
    prompted = apply_profile(cfg, cfg.profiles[2])
    assert prompted.model.initial_prompt == "Python code."
    assert prompted.model.vocabulary == ["pytest", "asyncio"]


def test_terminal_post_processing_drops_the_capital_and_the_final_period() -> None:
    cfg = apply_profile(parse_config(TERMINAL), parse_config(TERMINAL).profiles[0])
    assert postprocess("git status.", cfg.post_processing) == "git status "
    assert postprocess("Git status.", cfg.post_processing) == "git status "
    assert postprocess("git status.", PostProcessingConfig()) == "Git status. "
    off = PostProcessingConfig(final_period=False, trailing_space=False)
    assert postprocess("Wait...", off) == "Wait..."  # an ellipsis is not a full stop
    assert postprocess("Is it?", off) == "Is it?"
    assert postprocess("Version 3.5.", off) == "Version 3.5"
    assert postprocess("写完了。", off, "zh") == "写完了"


@pytest.mark.parametrize(("text", "expected"), [
    ("Git status.", "git status."), ('"Hello" there', '"hello" there'), ("Über alles", "über alles"),
    ("I am here", "I am here"), ("I'm here", "I'm here"), ("NASA rocks", "NASA rocks"),
    ("iPhone", "iPhone"), ("McDonald", "McDonald"), ("3 Apples", "3 Apples"), ("", ""),
])
def test_capitalize_off_lower_cases_the_first_word_unless_it_is_written_otherwise(text: str,
                                                                                   expected: str) -> None:
    lower = PostProcessingConfig(capitalize=False, trailing_space=False)
    assert postprocess(text, lower) == expected
    assert postprocess("Die Straße.", lower, "de") == "Die Straße."  # German nouns keep their capital
    assert postprocess("Hello.", lower, "auto") == "Hello."  # the language is not known: left as it is


class StillReader:
    """A focus reader that answers a fixed window and counts its calls."""

    def __init__(self, found: FocusedWindow | None) -> None:
        self.found = found
        self.calls = 0

    def focused(self) -> FocusedWindow | None:
        self.calls += 1
        return self.found

    def close(self) -> None:
        pass


def test_chooser_looks_the_window_up_only_when_there_are_profiles() -> None:
    reader = StillReader(window(("kitty",), "vim"))
    chooser = ProfileChooser(reader)  # type: ignore[arg-type]
    plain = Config()
    assert chooser.choose(plain).profile == "" and reader.calls == 0
    cfg = parse_config(TERMINAL)
    choice = chooser.choose(cfg)
    assert (choice.profile, choice.enabled) == ("terminal", True)
    assert choice.sections == ("injection", "post_processing")
    assert choice.injection == InjectionConfig(method="type")
    reader.found = window(("code",), "x - Visual Studio Code")
    choice = chooser.choose(cfg)
    assert (choice.profile, choice.injection) == ("editor", None)
    assert choice.config.model.initial_prompt == "Python code."
    reader.found = None
    assert chooser.choose(cfg).config is cfg


@pytest.mark.parametrize(("env", "status", "summary", "reason"), [
    ({"DISPLAY": ":0"}, "ok", "terminal, vim, editor: the focused window comes from X11 (_NET_ACTIVE_WINDOW, "
     "else the input focus)", None),
    ({"WAYLAND_DISPLAY": "wayland-1", "SWAYSOCK": "/run/sway.sock"}, "ok",
     "terminal, vim, editor: the focused window comes from sway's IPC (SWAYSOCK)", None),
    ({"WAYLAND_DISPLAY": "wayland-1", "DISPLAY": ":0", "XDG_CURRENT_DESKTOP": "GNOME"}, "missing",
     "terminal, vim, editor: matched against X11 (XWayland) windows only",
     "GNOME on Wayland does not tell applications which window has the focus: profiles match only X11 "
     "(XWayland) windows here"),
])
def test_doctor_says_where_the_focused_window_comes_from(env: dict[str, str], status: str, summary: str,
                                                         reason: str | None) -> None:
    from onevox.cli import doctor_cmd
    from onevox.desktop import Desktop
    from tests.cli.test_doctor import probes

    fake = probes(Desktop("x11", "other"))
    fake.environ = lambda: env
    report = doctor_cmd.diagnose(parse_config(TERMINAL), fake)
    assert (report["profiles"]["status"], report["profiles"]["summary"], report["profiles"]["reason"]) == (
        status, summary, reason)
    assert report["profiles"]["essential"] is False
    assert doctor_cmd.diagnose(Config(), fake)["profiles"]["summary"] == "none configured ([profiles.NAME])"
    assert f"profiles      {'ok' if status == 'ok' else 'no'}: {summary}" in doctor_cmd.render(report)


_keys = st.sampled_from(["match_class", "match_title", "enabled", "injection", "post_processing", "model",
                         "audio", "commands", "x"]) | st.text(max_size=6)
_scalars = st.booleans() | st.integers(-5, 5) | st.text(max_size=12) | st.sampled_from(["(", "[a-", "kitty"])
_values = st.recursive(_scalars, lambda kids: st.lists(kids, max_size=3)
                       | st.dictionaries(st.sampled_from(["method", "capitalize", "live", "name", "x"])
                                         | st.text(max_size=6), kids, max_size=3), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.dictionaries(_keys, _values, max_size=4) | _scalars,
                       max_size=3))
def test_any_profiles_table_gives_a_config_or_one_line_naming_the_file(profiles: dict[str, Any]) -> None:
    text = f"profiles = {toml_value(profiles)}"
    try:
        cfg = parse_config(text, "c.toml")
    except ConfigError as exc:
        assert str(exc).startswith("c.toml: ") and "\n" not in str(exc), str(exc)
        return
    assert parse_config(to_toml(cfg), "c.toml") == cfg
