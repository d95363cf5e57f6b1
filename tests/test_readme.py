"""The README's Commands table against the CLI: every command has a row."""

from __future__ import annotations

import re
from pathlib import Path

from onevox.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands_in_the_table() -> set[str]:
    section = README.read_text(encoding="utf-8").split("\n## Commands\n", 1)[1]
    rows = [line for line in section.split("\n## ", 1)[0].splitlines() if line.startswith("| `")]
    names = set()
    for row in rows:
        for span in re.findall(r"`([^`]+)`", row.split(" | ", 1)[0]):
            words = span.split()
            names.add(words[1] if words[0] == "onevox" else words[0])
    return names


def test_every_command_has_a_row_in_the_commands_table() -> None:
    assert sorted(set(cli.commands) - _commands_in_the_table()) == []
