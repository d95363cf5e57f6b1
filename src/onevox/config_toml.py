"""The config written back as TOML: `onevox config show` and `config init` (every key, with its doc as a
comment), and the quoting `config_edit` uses for one value."""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from typing import Any

from onevox.config import PROFILE_MATCH, SECTIONS, Config


def to_toml(config: Config, *, with_docs: bool = True) -> str:
    """Render a config as TOML (all keys, with a comment per key): `config show` and `config init`."""
    lines: list[str] = []
    for name, cls in SECTIONS.items():
        section = getattr(config, name)
        lines.append(f"[{name}]")
        for f in fields(cls):
            if with_docs and f.metadata.get("doc"):
                doc = f.metadata["doc"]
                if f.metadata.get("choices"):
                    doc += f" ({' | '.join(f.metadata['choices'])})"
                lines.append(f"# {doc}")
            lines.append(f"{f.name} = {_toml_value(getattr(section, f.name))}")
        lines.append("")
    for profile in config.profiles:
        name = profile.name if re.fullmatch(r"[A-Za-z0-9_-]+", profile.name) else toml_string(profile.name)
        lines += [f"[profiles.{name}]", *(f"{k} = {_toml_value(getattr(profile, k))}" for k in PROFILE_MATCH)]
        lines.append("")
        for section, values in profile.overrides.items():
            lines += [f"[profiles.{name}.{section}]", *(f"{k} = {_toml_value(v)}" for k, v in values.items())]
            lines.append("")
    return "\n".join(lines)


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
