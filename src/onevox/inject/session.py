"""Small helpers for running the injection tools."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence

from onevox.errors import InjectionError

TOOL_TIMEOUT_S = 10.0
STDERR_CHARS = 400  # of a failed tool's stderr in the error message


def have_tool(name: str) -> bool:
    return shutil.which(name) is not None


def run_tool(argv: Sequence[str], *, stdin: bytes | None = None, timeout: float = TOOL_TIMEOUT_S,
             forks_owner: bool = False, env: Mapping[str, str] | None = None) -> bytes:
    """Run a helper program and return its stdout; InjectionError naming the tool when it fails.

    `forks_owner`: the tool leaves a child behind that owns the clipboard (xclip, xsel, wl-copy). That child
    inherits our pipes and would keep them open for as long as it lives, so its output goes to files instead.
    """
    tool = argv[0]
    if not have_tool(tool):
        raise InjectionError(f"{tool} is not installed (install the '{tool}' package)")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            done = subprocess.run(list(argv), input=stdin, timeout=timeout, check=False,
                                  stdin=subprocess.DEVNULL if stdin is None else None,
                                  env=None if env is None else dict(env),
                                  stdout=subprocess.DEVNULL if forks_owner else out, stderr=err)
        except subprocess.TimeoutExpired as exc:
            raise InjectionError(f"{tool} did not finish within {timeout:g} s") from exc
        except OSError as exc:
            raise InjectionError(f"cannot run {tool}: {exc.strerror or exc}") from exc
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if done.returncode != 0:
        raise InjectionError(f"{tool} failed (exit {done.returncode}){_stderr_detail(stderr)}")
    return stdout


def _stderr_detail(stderr: bytes) -> str:
    """What the tool said on stderr, for the error message: its non-blank lines (a usage text after the
    reason is kept too, so the reason is never lost), joined, at most STDERR_CHARS characters."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return " (nothing on stderr)"
    text = " | ".join(lines)
    return ": " + (text if len(text) <= STDERR_CHARS else text[:STDERR_CHARS - 3] + "...")
