"""The config written back as TOML: `onevox config show` and `config init` (every key, with its doc as a
comment), and the quoting `config_edit` uses for one value."""

from __future__ import annotations

import re
import typing
from dataclasses import fields, is_dataclass
from typing import Any

from onevox.config import PROFILE_MATCH, SECTIONS, Config


def to_toml(config: Config, *, with_docs: bool = True) -> str:
    """Render a config as TOML (all keys, with a comment per key): `config show` and `config init`."""
    lines: list[str] = []
    for name, cls in SECTIONS.items():
        section = getattr(config, name)
        lines.append(f"[{name}]")
        tables: list[str] = []  # [name.key.NAME] tables, after the section's own keys (see _is_tables)
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            value, tabled = getattr(section, f.name), _is_tables(hints[f.name])
            out = tables if tabled else lines
            if with_docs and f.metadata.get("doc"):
                doc = f.metadata["doc"]
                if f.metadata.get("choices"):
                    doc += f" ({' | '.join(f.metadata['choices'])})"
                out.append(f"# {doc}")
            out += _tables(f"{name}.{f.name}", value) if tabled else [f"{f.name} = {_toml_value(value)}"]
        lines += ["", *tables, *([""] if tables and tables[-1] else [])]
    for profile in config.profiles:
        name = profile.name if re.fullmatch(r"[A-Za-z0-9_-]+", profile.name) else toml_string(profile.name)
        lines += [f"[profiles.{name}]", *(f"{k} = {_toml_value(getattr(profile, k))}" for k in PROFILE_MATCH)]
        lines.append("")
        for section, values in profile.overrides.items():
            lines += [f"[profiles.{name}.{section}]", *(f"{k} = {_toml_value(v)}" for k, v in values.items())]
            lines.append("")
    return "\n".join(lines)


def _is_tables(hint: Any) -> bool:
    """A key typed as named tables of keys (post_processing.languages: dict[str, LanguagePostConfig]). Such
    a key is written as [section.key.NAME] tables, never inline: `key = {}` in a file would stop its user
    from adding a [section.key.NAME] table to it later (TOML does not extend an inline table)."""
    args = typing.get_args(hint)
    return typing.get_origin(hint) is dict and len(args) == 2 and is_dataclass(args[1])


def _tables(prefix: str, value: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for name, table in value.items():
        key = name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else toml_string(name)
        lines += [f"[{prefix}.{key}]", *(f"{f.name} = {_toml_value(getattr(table, f.name))}"
                                         for f in fields(table)), ""]
    return lines


def _toml_value(value: Any) -> str:
    if is_dataclass(value):  # a table of keys in a section (post_processing.languages.de)
        value = {f.name: getattr(value, f.name) for f in fields(value)}
    if isinstance(value, dict):
        inline = ", ".join(f"{toml_string(k)} = {_toml_value(v)}" for k, v in value.items())
        return f"{{ {inline} }}" if inline else "{}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_string(v) for v in value) + "]"
    return toml_string(value)


def toml_string(value: str) -> str:
    """A TOML basic string for `value` (quotes, backslashes and control characters escaped)."""
    out = []
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
