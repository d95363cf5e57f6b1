"""How a config value is judged: its type, its choices and range, and the message when it does not fit.

Kept apart from config.py so that the sections there read as the list of keys and their help, and so that
every table (a section, a profile's overrides, a per-language table) is checked by the same code and fails
with the same one line naming the file, the key and what is allowed. It works on any dataclass whose fields
carry the metadata that config.py's `_opt` gives them, and knows nothing of the sections themselves.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import fields
from typing import Any

from onevox.errors import ConfigError


def build_section(cls: type, values: dict[str, Any], source: str, section: str) -> Any:
    """One [section] table built as `cls`, every key checked, then the section's own `problem()`."""
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        dotted = f"{section}.{key}"
        if key not in known:
            raise ConfigError(source, dotted, f"unknown key; allowed: {', '.join(known)}")
        kwargs[key] = check_value(value, hints[key], known[key].metadata, source, dotted)
    built = cls(**kwargs)
    if (problem := getattr(built, "problem", lambda: None)()) is not None:
        raise ConfigError(source, f"{section}.{problem[0]}", problem[1])
    return built


def check_value(value: Any, hint: Any, meta: Any, source: str, key: str) -> Any:
    """`value` if it fits the field's type `hint` and its metadata (choices, lo, hi, int_ok); else a
    ConfigError naming `source` and `key`."""
    origin = typing.get_origin(hint)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(source, key, f"must be true or false, got {_show(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(source, key, f"must be a whole number{_range(meta)}, got {_show(value)}")
        return _in_range(value, meta, source, key)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(source, key, f"must be a number{_range(meta)}, got {_show(value)}")
        return _in_range(float(value), meta, source, key)
    if hint is str:
        if meta.get("int_ok") and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise ConfigError(source, key, f"must be a string, got {_show(value)}")
        choices = meta.get("choices") or ()
        if choices and value not in choices:
            raise ConfigError(source, key, f"must be one of {', '.join(choices)}; got {brief(value)}")
        return value
    if origin is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(source, key, f"must be a list of strings, got {_show(value)}")
        return list(value)
    if origin is dict and dataclasses.is_dataclass(typing.get_args(hint)[1]):
        return _language_tables(value, typing.get_args(hint)[1], source, key)
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(source, key,
                              f"must be a table of \"phrase\" = \"text\" strings, got {_show(value)}")
        if any(not phrase.strip() for phrase in value):
            raise ConfigError(source, key, "a phrase to replace cannot be empty or only spaces")
        return dict(value)
    raise TypeError(f"config field {key} has unsupported type {hint}")  # a bug in this module, not user input


def _language_tables(value: Any, cls: type, source: str, key: str) -> dict[str, Any]:
    """[KEY.CODE] tables, one per Whisper language code, each checked as a section of `cls`."""
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ConfigError(source, key, f"must be [{key}.CODE] tables, one per language (e.g. [{key}.de]), "
                          f"got {_show(value)}")
    if value:
        from onevox.compat import whisper_language_codes  # imports faster-whisper: only when needed

        codes = whisper_language_codes()
        for code in value:
            if code not in codes:
                raise ConfigError(source, f"{key}.{code}", "not a Whisper language code (lower case, e.g. "
                                  "en, de, fr, es, zh)")
    return {code: build_section(cls, table, source, f"{key}.{code}") for code, table in value.items()}


def _in_range(value: float, meta: Any, source: str, key: str) -> Any:
    if isinstance(value, float) and math.isnan(value):
        raise ConfigError(source, key, f"must be{_range(meta)}, got nan")
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(source, key, f"must be{_range(meta)}, got {value}")
    return value


def _range(meta: Any) -> str:
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and hi is not None:
        return f" from {lo:g} to {hi:g}"
    if lo is not None:
        return f" of at least {lo:g}"
    return ""


def brief(value: str, limit: int = 60) -> str:
    """A user's string quoted for an error message, cut short so one bad value keeps it one line."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def _show(value: Any) -> str:
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{kind} ({text[:40]}{'...' if len(text) > 40 else ''})"
