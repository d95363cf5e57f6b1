"""load_config on generated files: valid and invalid TOML, random bytes, deep nesting, huge strings and keys.

The only outcomes allowed: a Config, or a ConfigError whose message is ONE line that starts with the file's
path and names the offending key (when there is one). Anything else (RecursionError, TypeError, a multi-line
message) is what a user would see as a traceback or a garbled error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onevox.config import SECTIONS, Config, load_config
from onevox.config_toml import to_toml
from onevox.errors import ConfigError

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
JUNK = ["[", "]", "=", "\"", "\n", "[[", "{", "\\", "\0", "'''"]
KEYS = {name: [f.name for f in cls.__dataclass_fields__.values()] for name, cls in SECTIONS.items()}


def toml_value(value: object) -> str:
    """A TOML inline rendering of a JSON-like value (TOML basic strings accept JSON's escapes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


_scalars = (st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.text(max_size=40)
            | st.sampled_from(["push-to-talk", "toggle", "silero", "off", "int8", "cpu", "x" * 5000]))
_values = st.recursive(_scalars, lambda kids: st.lists(kids, max_size=4)
                       | st.dictionaries(st.text(max_size=8), kids, max_size=3), max_leaves=12)
_section_names = st.sampled_from(sorted(SECTIONS)) | st.text(max_size=12)


@st.composite
def toml_documents(draw: st.DrawFn) -> str:
    """Mostly-plausible files: real and made-up sections and keys, values of any type (or a bare value)."""
    lines: list[str] = []
    for section in draw(st.lists(_section_names, max_size=4, unique=True)):
        if draw(st.booleans()) or section not in KEYS:
            lines.append(f"{json.dumps(section)} = {toml_value(draw(_values))}" if draw(st.booleans())
                         else f"[{json.dumps(section)}]")
        else:
            lines.append(f"[{section}]")
        known = st.sampled_from(KEYS.get(section) or ["x"])
        for key in draw(st.lists(known | st.text(max_size=10), max_size=5, unique=True)):
            lines.append(f"{json.dumps(key)} = {toml_value(draw(_values))}")
    return "\n".join(lines) + "\n"


def _mangle(text: str, cut: int, junk: str) -> str:
    position = cut % (len(text) + 1)
    return text[:position] + junk + text[position:]


def check_outcome(path: Path) -> Config | ConfigError:
    try:
        return load_config(path)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message, message[:300]
        assert message.startswith(f"{path}: "), message[:300]
        assert len(message) < 2000, message[:300]
        if exc.key:
            assert exc.key[:40] in message or not exc.key[:40].isprintable(), message[:300]
        return exc


@FUZZ
@given(toml_documents())
def test_generated_toml(tmp_path: Path, document: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(document)
    check_outcome(path)


@FUZZ
@given(toml_documents(), st.integers(0, 10_000), st.sampled_from(JUNK))
def test_corrupted_toml(tmp_path: Path, document: str, cut: int, junk: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(_mangle(document, cut, junk))
    check_outcome(path)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(data)
    check_outcome(path)


@FUZZ
@given(st.builds(Config, **{name: st.builds(cls) for name, cls in SECTIONS.items()}))
def test_valid_configs_round_trip(tmp_path: Path, config: Config) -> None:
    path = tmp_path / "config.toml"
    path.write_text(to_toml(config))
    assert load_config(path) == config


@pytest.mark.parametrize("depth", [10, 500, 5000, 50_000])
@pytest.mark.parametrize("shape", ["array", "inline_table", "array_of_tables_value"])
def test_deep_nesting(tmp_path: Path, depth: int, shape: str) -> None:
    if shape == "array":
        body = "[" * depth + "]" * depth
    elif shape == "inline_table":
        body = "{a = " * depth + "1" + "}" * depth
    else:
        body = "[" * depth + "{}" + "]" * depth
    path = tmp_path / "config.toml"
    path.write_text(f"[model]\nvocabulary = {body}\n")
    outcome = check_outcome(path)
    assert isinstance(outcome, ConfigError)
    assert outcome.key in ("", "model.vocabulary")


def test_deep_dotted_keys(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("model." + ".".join(["k"] * 20_000) + " = 1\n")
    assert isinstance(check_outcome(path), ConfigError)


@pytest.mark.parametrize("size", [1 << 20, 16 << 20])
def test_huge_string_value_is_accepted_where_a_string_is_allowed(tmp_path: Path, size: int) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[model]\ninitial_prompt = "{"a" * size}"\n')
    assert load_config(path).model.initial_prompt == "a" * size


def test_huge_key_gives_a_short_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[model]\n"{"k" * 1_000_000}" = 1\n')
    assert isinstance(check_outcome(path), ConfigError)


@pytest.mark.parametrize("key", ['"a\\nb"', '"tab\\there"', '"bell\\u0007"'])
def test_control_characters_in_names_stay_on_one_line(tmp_path: Path, key: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"{key} = 1\n[model]\n{key} = 2\n")
    assert isinstance(check_outcome(path), ConfigError)
    path.write_text(f"[model]\n{key} = 2\n")
    assert isinstance(check_outcome(path), ConfigError)
