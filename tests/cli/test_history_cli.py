"""`onevox history ...` against a real database, without a daemon."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from onevox.cli import cli
from onevox.history import INTERRUPTED_NOTE, History, HistoryEntry


@pytest.fixture
def db(isolated_xdg: Path) -> Path:
    """The default history file (XDG data dir), with three dictations."""
    path = isolated_xdg / "xdg_data_home" / "onevox" / "history.sqlite3"
    with History(path) as h:
        first = h.add(HistoryEntry(text="Buy milk and eggs.", raw_text="buy milk and eggs", audio_s=1.2,
                                   model="tiny.en", timings={"inference": 40.0}))
        h.mark_injected(first, "paste")
        failed = h.add(HistoryEntry(text="Call the dentist at noon.", audio_s=2.0, model="tiny.en"))
        h.mark_failed(failed, "no display")
        last = h.add(HistoryEntry(text="Naïve café 🙂", audio_s=0.8, model="tiny.en"))
        h.mark_injected(last, "type")
    return path


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_list_shows_newest_first(db: Path) -> None:
    result = run("history", "list")
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert "Naïve café" in lines[0] and "Buy milk" in lines[2]
    assert "failed: no display" in lines[1]


def test_list_json_and_limit(db: Path) -> None:
    result = run("history", "list", "--json", "--limit", "2")
    rows = json.loads(result.output)
    assert [r["text"] for r in rows] == ["Naïve café 🙂", "Call the dentist at noon."]
    assert rows[1]["status"] == "failed" and rows[1]["error"] == "no display"


def test_show_prints_one_entry_in_full(db: Path) -> None:
    result = run("history", "show", "1")
    assert result.exit_code == 0
    assert "Buy milk and eggs." in result.output and "injected (paste)" in result.output
    assert "inference 40.0 ms" in result.output and "raw:      buy milk and eggs" in result.output
    assert json.loads(run("history", "show", "1", "--json").output)["id"] == 1


def test_show_unknown_id_is_one_clear_line(db: Path) -> None:
    result = CliRunner().invoke(cli, ["history", "show", "999"])
    assert result.exit_code == 1
    assert "no dictation with id 999" in result.output and "Traceback" not in result.output


def test_search(db: Path) -> None:
    result = run("history", "search", "dentist")
    assert "Call the dentist" in result.output and "milk" not in result.output
    assert run("history", "search", "nothing-like-this").exit_code == 0


def test_last_prints_the_text(db: Path) -> None:
    assert run("history", "last").output == "Naïve café 🙂\n"


def test_last_copy_uses_a_clipboard_tool(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a stand-in xclip on PATH records what it was given (the real one is covered by the e2e suite)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sink = tmp_path / "clipboard.txt"
    fake = bin_dir / "xclip"
    script = f"import sys\nopen({str(sink)!r}, 'wb').write(sys.stdin.buffer.read())\n"
    fake.write_text(f"#!{sys.executable}\n{script}")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = run("history", "last", "--copy")
    assert result.exit_code == 0
    assert sink.read_text(encoding="utf-8") == "Naïve café 🙂"


def test_last_copy_without_any_clipboard_is_a_clear_error(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = CliRunner().invoke(cli, ["history", "last", "--copy"])
    assert result.exit_code == 1
    assert "cannot copy to the clipboard" in result.output and "onevox history last" in result.output


def test_export_to_a_private_file(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.json"
    result = run("history", "export", "--format", "json", "--output", str(out))
    assert result.exit_code == 0
    assert [e["id"] for e in json.loads(out.read_text(encoding="utf-8"))] == [1, 2, 3]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_export_to_stdout_as_csv(db: Path) -> None:
    result = run("history", "export", "--format", "csv")
    assert result.output.splitlines()[0].startswith("id,created,text")
    assert run("history", "export", "--format", "xml").exit_code == 2  # click rejects the choice


def test_delete(db: Path) -> None:
    assert run("history", "delete", "2").output.strip() == "Deleted dictation 2."
    assert "dentist" not in run("history", "list").output
    again = CliRunner().invoke(cli, ["history", "delete", "2"])
    assert again.exit_code == 1 and "no dictation with id 2" in again.output


def test_clear_asks_first(db: Path) -> None:
    refused = CliRunner().invoke(cli, ["history", "clear"], input="n\n")
    assert refused.exit_code == 1 and "Delete all 3 dictation(s)" in refused.output
    assert "Buy milk" in run("history", "list").output
    assert run("history", "clear", "--yes").output.strip() == "Deleted 3 dictation(s)."
    assert json.loads(run("history", "list", "--json").output) == []


def test_commands_on_a_missing_history_do_not_create_it(isolated_xdg: Path) -> None:
    result = run("history", "list")
    assert result.exit_code == 0 and "No dictations" in result.output
    last = CliRunner().invoke(cli, ["history", "last"])
    assert last.exit_code == 1 and "history is empty" in last.output
    assert not list(isolated_xdg.rglob("history.sqlite3"))


def test_history_path_from_the_config_file(isolated_xdg: Path, tmp_path: Path) -> None:
    custom = tmp_path / "elsewhere" / "h.sqlite3"
    with History(custom) as h:
        h.add(HistoryEntry(text="From the custom file"))
    config = tmp_path / "onevox.toml"
    config.write_text(f'[history]\npath = "{custom}"\n')
    assert "From the custom file" in run("--config", str(config), "history", "list").output
    assert "From the custom file" in run("history", "last", "--config", str(config)).output


def test_search_json_is_an_array(db: Path) -> None:
    assert [e["id"] for e in json.loads(run("history", "search", "dentist", "--json").output)] == [2]


@pytest.mark.parametrize("args", [("list",), ("search", "nothing-like-this"), ("export", "--format", "json")])
def test_json_of_an_empty_history_is_an_empty_array(isolated_xdg: Path, args: tuple[str, ...]) -> None:
    json_args = args if "export" in args else (*args, "--json")
    missing = run("history", *json_args)
    assert missing.exit_code == 0 and json.loads(missing.stdout) == []
    with History(isolated_xdg / "xdg_data_home" / "onevox" / "history.sqlite3"):
        pass  # the file exists now, with no entries
    empty = run("history", *json_args)
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []


def test_export_jsonl_of_an_empty_history_is_no_lines(isolated_xdg: Path) -> None:
    assert run("history", "export", "--format", "jsonl").stdout == ""


def test_a_dictation_the_daemon_never_injected_shows_as_interrupted(db: Path) -> None:
    with History(db) as killed:  # the daemon was killed while typing this one
        lost = killed.add(HistoryEntry(text="Lost in the crash.", model="tiny.en"))
    with History(db) as daemon:  # the next daemon, at its start
        assert daemon.resolve_interrupted() == 1
    listed = run("history", "list").output.splitlines()[0]
    assert "Lost in the crash." in listed and f"[interrupted: {INTERRUPTED_NOTE}]" in listed
    shown = run("history", "show", str(lost))
    assert f"status:   interrupted: {INTERRUPTED_NOTE}" in shown.output
    assert shown.output.endswith("\nLost in the crash.\n")
    as_json = json.loads(run("history", "show", str(lost), "--json").output)
    assert (as_json["status"], as_json["error"]) == ("interrupted", INTERRUPTED_NOTE)
    assert json.loads(run("history", "list", "--json").output)[0]["status"] == "interrupted"
    assert "Lost in the crash." in run("history", "search", "crash").output
    assert run("history", "last").output == "Lost in the crash.\n"


def test_listing_while_the_daemon_injects_leaves_its_dictation_pending(db: Path) -> None:
    with History(db) as daemon:
        in_flight = daemon.add(HistoryEntry(text="Being typed right now."))
        assert "[pending]" in run("history", "list").output.splitlines()[0]
        assert json.loads(run("history", "show", str(in_flight), "--json").output)["status"] == "pending"
        daemon.mark_injected(in_flight, "paste")
    assert "[" not in run("history", "list").output.splitlines()[0]


@pytest.mark.e2e
def test_last_copy_with_the_real_xclip(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.desktop import VirtualDesktop
    from tests.support.requirements import require_tools

    require_tools(("xclip",))
    with VirtualDesktop.start(tmp_path / "x") as desktop:
        monkeypatch.setenv("DISPLAY", desktop.display)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        result = run("history", "last", "--copy")
        assert result.exit_code == 0 and "with xclip" in result.output
        assert desktop.clipboard() == "Naïve café 🙂"
