"""The injection tools missing from PATH, then the X display gone: the real `auto` chain falls back while it
can; when every method fails the text is in history as failed, the user is told (error event naming
`onevox history last --copy`, status.last_error), and `history last --copy` puts it on the clipboard."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from onevox.history import History
from tests.daemon.doubles import FakeRecognizer, virtual_mic
from tests.faults.conftest import Running, fault_config
from tests.support.daemon_proc import toml_config
from tests.support.desktop import VirtualDesktop
from tests.support.requirements import require_tools

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _tools() -> None:
    require_tools(("xclip",))


def test_missing_tools_fall_back_and_a_lost_display_keeps_the_text(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from onevox.daemon.app import Daemon
    from onevox.daemon.stages import StageFactory

    db = tmp_path / "history.sqlite3"
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    desktop = VirtualDesktop.start(tmp_path / "desk1", repeat=False)
    try:
        window = desktop.open_target("editor")
        with desktop.activated():
            monkeypatch.setenv("PATH", str(empty_bin))  # no xclip, xsel, xdotool for the daemon
            mic, clock = virtual_mic()
            factory = StageFactory(source=mic,
                                   recognizer=FakeRecognizer(["typed without tools", "kept in history"]))
            run = Running(Daemon(fault_config(tmp_path, db, method="auto"), factory=factory, clock=clock),
                          mic, clock)
            run.daemon.start()
            try:
                run.dictate(1)
                window.wait_for_text("Typed without tools", timeout=10)
                injected = run.log.wait_for("injected")
                assert injected["method"] in ("paste", "type")
                desktop.stop()  # the X server goes away
                run.dictate(2)
                error = run.log.wait_for("error", lambda e: e.get("stage") == "injection")
                assert error["fatal"] is True and "onevox history last --copy" in error["message"]
                # the chain tried every method and says why each failed
                assert all(f"{m}: " in error["message"] for m in ("paste", "type", "xdotool"))
                assert "xdotool is not installed" in error["message"]
                status = run.daemon.commands.status()
                assert status["last_error"].startswith("injection:")
                assert run.daemon.controller.start()["started"] is True  # the daemon carries on
                run.daemon.controller.cancel()
            finally:
                run.close()
                monkeypatch.undo()
    finally:
        desktop.stop()
    history = History(db, 100)
    try:
        last = history.list(limit=1)[0]
        assert (last.text, last.status) == ("Kept in history", "failed") and last.error
    finally:
        history.close()
    config = tmp_path / "onevox.toml"
    config.write_text(toml_config({"history": {"path": str(db)}}), encoding="utf-8")
    with VirtualDesktop.start(tmp_path / "desk2", repeat=False) as desk2:
        done = subprocess.run([sys.executable, "-m", "onevox", "--config", str(config), "history", "last",
                               "--copy"], env=desk2.env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert desk2.clipboard() == "Kept in history"
