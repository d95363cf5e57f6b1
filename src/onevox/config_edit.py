"""Changing one key of the user's config file while keeping everything else in it: comments, order, the
other keys and sections, byte for byte (`onevox models use` writes `[model] name` this way).

The edit is made on the text, line by line, then checked: the edited text must parse to exactly the old
config with that one key changed. Anything this simple editor cannot handle safely (an inline table, dotted
keys, a multi-line value) fails that check and raises instead of writing a wrong file.
"""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from onevox import paths
from onevox.config_toml import toml_string
from onevox.errors import OnevoxError

_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\s*(?:#.*)?$")  # [section] (not [[array]])
_ANY_HEADER = re.compile(r"^\s*\[")


def set_key(text: str, section: str, key: str, value: str) -> str:
    """`text` with `[section] key = "value"`: the key's value replaced where it is (its comment kept), else
    the key added at the top of the section, else the section appended. Raises OnevoxError when the result
    would not be the same config with only that key changed."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _section_name(line) == section), None)
    rendered = f"{key} = {toml_string(value)}"
    if start is None:
        tail = "" if not text or text.endswith("\n") else "\n"
        gap = "\n" if text.strip() else ""
        edited = f"{text}{tail}{gap}[{section}]\n{rendered}\n"
    else:
        end = next((i for i in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[i])), len(lines))
        value_re = r"\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'"  # a one-line basic or literal string
        assign = re.compile(rf"^(\s*{re.escape(key)}\s*=\s*)({value_re})(.*)$", re.DOTALL)
        for i in range(start + 1, end):
            match = assign.match(lines[i])
            if match:
                lines[i] = match.group(1) + toml_string(value) + match.group(3)
                break
        else:
            lines.insert(start + 1, rendered + "\n")
        edited = "".join(lines)
    _check(text, edited, section, key, value)
    return edited


def write_config_text(path: Path, text: str, mode: int | None = None) -> Path:
    """Replace the file at `path` (through a symlink: the file it points to, so dotfile links survive)
    atomically: a temp file beside it, fsync, rename. With `mode` None a new file is readable by its owner
    only and an existing one keeps its permissions. Returns the file written."""
    target = path.resolve() if path.is_symlink() else path
    if mode is None:
        mode = 0o600
        with contextlib.suppress(OSError):
            mode = target.stat().st_mode & 0o777
    if not target.parent.exists():
        paths.ensure_private_dir(target.parent)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OnevoxError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target


def _section_name(line: str) -> str | None:
    match = _HEADER.match(line)
    return match.group(1).strip().strip("\"'") if match else None


def _check(before: str, after: str, section: str, key: str, value: str) -> None:
    try:
        old, new = tomllib.loads(before), tomllib.loads(after)
    except tomllib.TOMLDecodeError as exc:
        raise OnevoxError(f"cannot set [{section}] {key} in this file safely ({exc}); "
                          f"set {key} = {toml_string(value)} under [{section}] by hand") from None
    table = old.get(section, {})
    expected: dict[str, Any] = {**old, section: {**table, key: value}} if isinstance(table, dict) else {}
    if new != expected:
        raise OnevoxError(f"cannot set [{section}] {key} in this file safely (it is written in a form this "
                          f"editor does not change); set {key} = {toml_string(value)} under [{section}] "
                          "by hand")
