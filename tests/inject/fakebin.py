"""Fake helper programs (test doubles) on PATH: each records its arguments, stdin and chosen environment
variables into a folder, and can be told to fail. Used where the real tool needs something this machine
lacks (a Wayland compositor, uinput)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest


class FakeBin:
    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, *, keep_path: bool = False) -> None:
        self.bin = root / "bin"
        self.log = root / "log"
        self.bin.mkdir()
        self.log.mkdir()
        path = str(self.bin) + (os.pathsep + os.environ.get("PATH", "") if keep_path else "")
        monkeypatch.setenv("PATH", path)

    def add(self, name: str, *, exit_code: int = 0, stderr: str = "", stdout: str = "") -> None:
        script = f"""#!/bin/sh
log="{self.log}/{name}"
printf '%s\\n' "$@" > "$log.args"
/bin/cat > "$log.stdin"
printf '%s' "$LC_ALL" > "$log.lc_all"
printf '%s' '{stdout}'
printf '%s\\n' '{stderr}' >&2
exit {exit_code}
"""
        tool = self.bin / name
        tool.write_text(script)
        tool.chmod(tool.stat().st_mode | stat.S_IXUSR)

    def add_wayland_clipboard(self) -> Path:
        """wl-copy / wl-paste sharing one file, as the real pair share the compositor's clipboard."""
        store = self.log / "clipboard"
        self._script("wl-copy", f"""printf '%s\\n' "$@" > "{self.log}/wl-copy.args"
[ "$1" = "--clear" ] && {{ rm -f "{store}"; exit 0; }}
/bin/cat > "{store}"
""")
        self._script("wl-paste", f"""[ -f "{store}" ] || {{ echo "Nothing is copied" >&2; exit 1; }}
[ "$1" = "--list-types" ] && {{ echo "text/plain;charset=utf-8"; exit 0; }}
/bin/cat "{store}"
""")
        return store

    def _script(self, name: str, body: str) -> None:
        tool = self.bin / name
        tool.write_text("#!/bin/sh\n" + body)
        tool.chmod(0o755)

    def called(self, name: str) -> bool:
        return (self.log / f"{name}.args").exists()

    def args(self, name: str) -> list[str]:
        return (self.log / f"{name}.args").read_text().splitlines()

    def stdin(self, name: str) -> str:
        return (self.log / f"{name}.stdin").read_bytes().decode("utf-8")

    def lc_all(self, name: str) -> str:
        return (self.log / f"{name}.lc_all").read_text()
