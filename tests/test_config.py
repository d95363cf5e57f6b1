"""Unit tests for onevox.config: defaults, every error path, where the file is found, and the TOML round
trip used by `onevox config show|init`."""

from __future__ import annotations

import dataclasses
import math
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onevox import paths
from onevox.config import (
    CONFIG_ENV,
    SECTIONS,
    Config,
    LanguagePostConfig,
    ModelConfig,
    load_config,
    parse_config,
    resolve_config_path,
)
from onevox.config_toml import to_toml
from onevox.errors import ConfigError, OnevoxError


def _error(text: str | bytes, source: str = "test.toml") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source)
    return info.value


# --- defaults -------------------------------------------------------------------------------------------

def test_empty_file_is_all_defaults() -> None:
    assert parse_config("") == Config()
    assert parse_config(b"# only a comment\n") == Config()


def test_missing_default_file_is_all_defaults(isolated_xdg: Path) -> None:
    cfg = load_config()

    assert cfg == Config()
    assert cfg.source == ""


def test_file_values_override_defaults_per_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[model]\nname = "base.en"\nbeam_size = 5\n[vad]\nthreshold = 0.3\n')

    cfg = load_config(path)

    assert (cfg.model.name, cfg.model.beam_size, cfg.vad.threshold) == ("base.en", 5, 0.3)
    assert cfg.model.compute_type == ModelConfig().compute_type
    assert cfg.source == str(path)


def test_float_key_accepts_a_whole_number() -> None:
    cfg = parse_config("[vad]\nmax_segment_s = 10\n")

    assert cfg.vad.max_segment_s == 10.0
    assert isinstance(cfg.vad.max_segment_s, float)


def test_tables_and_lists() -> None:
    cfg = parse_config('[post_processing]\nfillers = ["um"]\n[post_processing.replacements]\n'
                       '"new line" = "\\n"\n[model]\nvocabulary = []\n')

    assert cfg.post_processing.fillers == ["um"]
    assert cfg.post_processing.replacements == {"new line": "\n"}
    assert cfg.model.vocabulary == []


# --- unknown names --------------------------------------------------------------------------------------

def test_unknown_section_names_the_allowed_ones() -> None:
    err = _error("[modle]\nname = 'x'\n")

    assert (err.path, err.key) == ("test.toml", "modle")
    assert "unknown section; allowed: hotkey, audio, vad, model" in str(err)


def test_unknown_key_names_the_allowed_ones() -> None:
    err = _error("[model]\nbeam = 2\n")

    assert err.key == "model.beam"
    assert str(err).startswith("test.toml: model.beam: unknown key; allowed: name, compute_type")


def test_nested_table_inside_a_section_is_an_unknown_key() -> None:
    assert _error("[model.extra]\nx = 1\n").key == "model.extra"


def test_top_level_key_is_an_unknown_section() -> None:
    assert "unknown section" in str(_error("name = 'tiny'\n"))


def test_section_that_is_not_a_table() -> None:
    assert "must be a [section] table" in str(_error("model = 'tiny'\n"))


# --- wrong types ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("toml", "key", "message"), [
    ("[model]\nname = 3", "model.name", "must be a string, got a number (3)"),
    ("[audio]\ndevice = true", "audio.device", "must be a string, got a boolean (True)"),
    ("[model]\nbeam_size = '2'", "model.beam_size", "whole number from 0 to 16, got a string ('2')"),
    ("[model]\nbeam_size = 2.0", "model.beam_size", "whole number from 0 to 16, got a number (2.0)"),
    ("[vad]\nthreshold = 'high'", "vad.threshold", "must be a number from 0 to 1, got a string ('high')"),
    ("[model]\nvocabulary = 'onevox'", "model.vocabulary", "must be a list of strings, got a string"),
    ("[model]\nvocabulary = ['a', 1]", "model.vocabulary", "must be a list of strings, got a list"),
    ("[post_processing]\nreplacements = ['a']", "post_processing.replacements", "must be a table of"),
    ("[post_processing]\nreplacements = {a = 1}", "post_processing.replacements", "must be a table of"),
    ("[audio]\nkeep_warm = 'yes'", "audio.keep_warm", "must be true or false, got a string ('yes')"),
    ("[model]\nname = 1979-05-27", "model.name", "must be a string, got date"),
])
def test_wrong_type_names_key_and_expected_type(toml: str, key: str, message: str) -> None:
    err = _error(toml)

    assert err.key == key
    assert message in str(err)


@pytest.mark.parametrize(("toml", "key"), [
    ("[audio]\nkeep_warm = 1", "audio.keep_warm"),
    ("[audio]\nkeep_warm = 0", "audio.keep_warm"),
    ("[audio]\npre_roll_ms = true", "audio.pre_roll_ms"),
    ("[vad]\nthreshold = false", "vad.threshold"),
])
def test_bool_and_number_are_never_confused(toml: str, key: str) -> None:
    assert _error(toml).key == key


def test_long_values_are_shortened_in_the_message() -> None:
    message = str(_error(f"[model]\nbeam_size = '{'x' * 200}'"))

    assert "..." in message
    assert len(message) < 150


# --- ranges and choices ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("toml", "message"), [
    ("[audio]\npre_roll_ms = -1", "audio.pre_roll_ms: must be from 0 to 5000, got -1"),
    ("[audio]\npre_roll_ms = 5001", "audio.pre_roll_ms: must be from 0 to 5000, got 5001"),
    ("[vad]\nthreshold = 1.5", "vad.threshold: must be from 0 to 1, got 1.5"),
    ("[vad]\nmax_segment_s = 1.9", "vad.max_segment_s: must be from 2 to 30, got 1.9"),
    ("[vad]\nmax_segment_s = inf", "vad.max_segment_s: must be from 2 to 30, got inf"),
    ("[history]\nmax_entries = -5", "history.max_entries: must be of at least 0, got -5"),
])
def test_out_of_range(toml: str, message: str) -> None:
    assert message in str(_error(toml))


@pytest.mark.parametrize("toml", [
    "[audio]\npre_roll_ms = 0", "[audio]\npre_roll_ms = 5000", "[vad]\nthreshold = 0.0",
    "[vad]\nthreshold = 1", "[history]\nmax_entries = 100000000",
])
def test_range_bounds_are_inclusive(toml: str) -> None:
    parse_config(toml)


def test_choice_lists_the_allowed_values() -> None:
    err = _error("[hotkey]\nmode = 'hold'")

    assert err.key == "hotkey.mode"
    assert "must be one of push-to-talk, toggle; got 'hold'" in str(err)


@pytest.mark.parametrize(("section", "key"), [
    (name, f.name) for name, cls in SECTIONS.items() for f in dataclasses.fields(cls) if f.metadata["choices"]
])
def test_every_choice_key_accepts_its_choices_and_nothing_else(section: str, key: str) -> None:
    choices = next(f for f in dataclasses.fields(SECTIONS[section]) if f.name == key).metadata["choices"]
    needs = {"model.backend": "url = 'http://127.0.0.1:8000/v1'"}.get(f"{section}.{key}", "")  # cross-key
    for choice in choices:
        parsed = parse_config(f"[{section}]\n{key} = '{choice}'\n{needs}")
        assert getattr(getattr(parsed, section), key) == choice
    assert _error(f"[{section}]\n{key} = 'not-a-choice'").key == f"{section}.{key}"


def test_nan_is_rejected() -> None:
    _error("[vad]\nthreshold = nan")


# --- bad files ------------------------------------------------------------------------------------------

def test_bad_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[model]\nname = \n")

    with pytest.raises(ConfigError) as info:
        load_config(path)

    assert str(info.value).startswith(f"{path}: not valid TOML: ")
    assert "line 2" in str(info.value)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[model]\ninitial_prompt = "caf\xe9"\n')

    with pytest.raises(ConfigError, match=r"not valid UTF-8 \(byte 29\)") as info:
        load_config(path)

    assert info.value.path == str(path)


def test_a_folder_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path)


def test_config_error_exits_with_status_2() -> None:
    err = _error("[x]")

    assert isinstance(err, OnevoxError)
    assert err.exit_code == 2


# --- which file -----------------------------------------------------------------------------------------

def test_missing_explicit_file_is_an_error(tmp_path: Path, isolated_xdg: Path) -> None:
    path = tmp_path / "absent.toml"

    with pytest.raises(ConfigError, match="file not found") as info:
        load_config(path)

    assert info.value.path == str(path)


def test_default_path_follows_xdg(isolated_xdg: Path) -> None:
    expected = isolated_xdg / "xdg_config_home" / "onevox" / "config.toml"

    assert resolve_config_path() == expected == paths.default_config_path()


def test_environment_variable_names_the_file(tmp_path: Path, isolated_xdg: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "env.toml"
    path.write_text("[model]\nbeam_size = 3\n")
    monkeypatch.setenv(CONFIG_ENV, str(path))

    assert resolve_config_path() == path
    assert load_config().model.beam_size == 3


def test_missing_file_named_by_the_environment_is_an_error(tmp_path: Path, isolated_xdg: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "gone.toml"))

    with pytest.raises(ConfigError, match=r"gone\.toml: file not found"):
        load_config()


def test_explicit_path_beats_the_environment(tmp_path: Path, isolated_xdg: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "gone.toml"))
    path = tmp_path / "flag.toml"
    path.write_text("[model]\nbeam_size = 4\n")

    assert load_config(path).model.beam_size == 4


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    assert resolve_config_path("~/c.toml") == tmp_path / "c.toml"


# --- helpers on Config ----------------------------------------------------------------------------------

def test_with_changes_copies(isolated_xdg: Path) -> None:
    base = Config()
    changed = base.with_changes("model", name="small.en", beam_size=2)

    assert (changed.model.name, changed.model.beam_size) == ("small.en", 2)
    assert base.model.name == "tiny.en"
    assert changed.vad == base.vad


def test_socket_and_history_paths(isolated_xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(isolated_xdg))
    cfg = Config()
    assert cfg.socket_path() == paths.default_socket_path()
    assert cfg.history_path() == paths.default_history_path()

    custom = cfg.with_changes("daemon", socket="~/s.sock").with_changes("history", path="~/h.db")

    assert custom.socket_path() == isolated_xdg / "s.sock"
    assert custom.history_path() == isolated_xdg / "h.db"


# --- TOML round trip ------------------------------------------------------------------------------------

def test_defaults_round_trip_with_and_without_docs() -> None:
    assert parse_config(to_toml(Config())) == Config()
    assert parse_config(to_toml(Config(), with_docs=False)) == Config()


def test_rendered_file_documents_every_key() -> None:
    text = to_toml(Config())

    for name, cls in SECTIONS.items():
        assert f"[{name}]" in text
        for f in dataclasses.fields(cls):
            assert f"# {f.metadata['doc']}" in text
            if f.name == "languages" and cls is not ModelConfig:  # [post_processing.languages.CODE] tables
                continue
            assert f"\n{f.name} = " in text
    assert "(push-to-talk | toggle)" in text


def test_tricky_strings_round_trip() -> None:
    cfg = (Config()
           .with_changes("model", initial_prompt='He said "hi" \\ then\tleft\nÜmlaut 🎙', vocabulary=['a"b'])
           .with_changes("post_processing", replacements={'say "x"': "\\", "new line": "\n"}))

    assert parse_config(to_toml(cfg)) == cfg


# Characters TOML forbids raw in a basic string, other than the two to_toml already escapes (\n, \t).
_CONTROL = "".join(chr(c) for c in (*range(0x20), 0x7F) if chr(c) not in "\n\t")
_SAFE_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=_CONTROL), max_size=20)


def test_control_characters_round_trip() -> None:
    cfg = Config().with_changes("model", initial_prompt="line one\r\nbell\x07 del\x7f")

    assert parse_config(to_toml(cfg)) == cfg


def _value_strategy(hint: Any, meta: Any) -> st.SearchStrategy[Any]:
    if hint is bool:
        return st.booleans()
    if meta.get("choices"):
        return st.sampled_from(meta["choices"])
    lo, hi = meta.get("lo"), meta.get("hi")
    if hint is int:
        return st.integers(int(lo) if lo is not None else -(10**9), int(hi) if hi is not None else 10**12)
    if hint is float:
        return st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if hint is str:
        return _SAFE_TEXT
    if typing.get_origin(hint) is list:
        return st.lists(_SAFE_TEXT, max_size=4)
    if typing.get_origin(hint) is dict and dataclasses.is_dataclass(value := typing.get_args(hint)[1]):
        codes = st.sampled_from(["de", "fr", "zh", "yue"])
        return st.dictionaries(codes, _section_strategy(value), max_size=2)
    return st.dictionaries(_SAFE_TEXT.filter(str.strip), _SAFE_TEXT, max_size=4)


# keys whose valid values depend on others (ModelConfig.problem): drawn from values that can fit together
_CROSS_KEYS = {"url": st.sampled_from(["", "http://127.0.0.1:8000/v1", "https://api.example.com/v1"]),
               "api_key_env": st.sampled_from(["", "OPENAI_API_KEY"]),
               "api_key_file": st.sampled_from(["", "~/k"])}


def _section_strategy(cls: type) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    values = {f.name: _CROSS_KEYS.get(f.name) if cls is ModelConfig and f.name in _CROSS_KEYS
              else _value_strategy(hints[f.name], f.metadata) for f in dataclasses.fields(cls)}
    fits = lambda section: getattr(section, "problem", lambda: None)() is None  # noqa: E731
    return st.builds(cls, **values).filter(fits)


_CONFIGS = st.builds(Config, **{name: _section_strategy(cls) for name, cls in SECTIONS.items()})


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(_CONFIGS)
def test_any_valid_config_round_trips(cfg: Config) -> None:
    back = parse_config(to_toml(cfg))

    assert back == cfg
    assert not math.isnan(back.vad.threshold)


def test_audio_device_accepts_an_index_as_a_number() -> None:
    assert parse_config("[audio]\ndevice = 3").audio.device == "3"


def test_empty_replacement_phrase_is_rejected() -> None:
    _error('[post_processing]\nreplacements = { " " = "x" }')


def test_feedback_section() -> None:
    cfg = parse_config('[feedback]\nsounds = false\nsound_volume = 0.2\nindicator = "off"\n')
    assert (cfg.feedback.sounds, cfg.feedback.sound_volume, cfg.feedback.indicator) == (False, 0.2, "off")
    assert (Config().feedback.sounds, Config().feedback.indicator) == (True, "auto")  # on by default
    assert "feedback.sound_volume: must be from 0 to 1, got 1.5" in str(
        _error("[feedback]\nsound_volume = 1.5\n"))
    assert "feedback.indicator: must be one of auto, layer-shell, x11, off; got 'on'" in str(
        _error('[feedback]\nindicator = "on"\n'))
    assert "feedback.sounds: must be true or false" in str(_error('[feedback]\nsounds = "yes"\n'))


# --- per-language post-processing -------------------------------------------------------------------------

def test_language_tables_of_post_processing() -> None:
    cfg = parse_config('[post_processing]\nreplacements = { "smiley" = ":)" }\n'
                       '[post_processing.languages.de]\nreplacements = { "Punkt Punkt" = "…" }\n'
                       'fillers = ["also"]\n[post_processing.languages.fr]\nfillers = ["ben"]\n')

    languages = cfg.post_processing.languages
    assert languages["de"] == LanguagePostConfig(fillers=["also"], replacements={"Punkt Punkt": "…"})
    assert languages["fr"] == LanguagePostConfig(fillers=["ben"], replacements={})
    assert cfg.post_processing.replacements == {"smiley": ":)"}
    assert parse_config(to_toml(cfg)) == cfg
    assert '\n[post_processing.languages.de]\nfillers = ["also"]\n' in to_toml(cfg)


def test_a_written_config_takes_language_tables_added_to_it_later() -> None:
    """`config init` writes no inline `languages = {}`: TOML would refuse a [post_processing.languages.de]
    table the user adds below it."""
    text = to_toml(Config()) + '\n[post_processing.languages.de]\nfillers = ["also"]\n'

    assert parse_config(text).post_processing.languages["de"].fillers == ["also"]
    assert Config().post_processing.languages == {}


@pytest.mark.parametrize(("toml", "key", "message"), [
    ("[post_processing.languages.german]\nfillers = []\n", "post_processing.languages.german",
     "not a Whisper language code"),
    ("[post_processing.languages.DE]\nfillers = []\n", "post_processing.languages.DE",
     "not a Whisper language code"),
    ("[post_processing.languages.de]\nfiller = []\n", "post_processing.languages.de.filler",
     "unknown key; allowed: fillers, replacements"),
    ("[post_processing.languages.de]\nreplacements = [\"x\"]\n", "post_processing.languages.de.replacements",
     "must be a table of"),
    ('[post_processing.languages.de]\nreplacements = { " " = "x" }\n',
     "post_processing.languages.de.replacements", "cannot be empty"),
    ("[post_processing.languages.de]\nfillers = [1]\n", "post_processing.languages.de.fillers",
     "must be a list of strings"),
    ('[post_processing]\nlanguages = { de = "x" }\n', "post_processing.languages",
     "must be [post_processing.languages.CODE] tables"),
    ('[post_processing]\nlanguages = ["de"]\n', "post_processing.languages", "tables, one per language"),
])
def test_language_table_errors_name_the_file_and_key(toml: str, key: str, message: str) -> None:
    err = _error(toml)

    assert err.key == key
    assert str(err).startswith(f"test.toml: {key}: ")
    assert message in str(err)


def test_a_profile_may_change_the_language_tables() -> None:
    cfg = parse_config('[profiles.chat]\nmatch_class = ["slack"]\n'
                       '[profiles.chat.post_processing.languages.de]\nreplacements = { "Lächeln" = "🙂" }\n')

    assert cfg.profiles[0].overrides["post_processing"]["languages"]["de"].replacements == {"Lächeln": "🙂"}
    assert "profiles.chat.post_processing.languages.xx" in str(_error(
        '[profiles.chat]\nmatch_class = ["slack"]\n'
        '[profiles.chat.post_processing.languages.xx]\nfillers = []\n'))
