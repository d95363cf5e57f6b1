"""`onevox history correct`, `history show` with a correction, and `onevox vocabulary list|accept|forget`
against real files, without a daemon."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from onevox.cli import cli
from onevox.history import History, HistoryEntry

WRONG = "We deploy to cooper netties every day."


@pytest.fixture
def db(isolated_xdg: Path) -> Path:
    path = isolated_xdg / "xdg_data_home" / "onevox" / "history.sqlite3"
    with History(path) as h:
        for text in (WRONG, "Cooper netties is down again.", "Restart cooper netties now."):
            h.add(HistoryEntry(text=text, audio_s=1.0, model="tiny.en"))
    return path


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_correct_records_and_learns_and_show_displays_it(db: Path) -> None:
    first = run("history", "correct", "1", "We deploy to Kubernetes every day.")
    assert first.exit_code == 0, first.output
    assert "Recorded the correction of history entry 1." in first.output
    assert "'cooper netties' -> 'Kubernetes' (seen 1x, proposed)" in first.output
    second = json.loads(run("history", "correct", "2", "Kubernetes is down again.", "--json").output)
    assert second["rules"][0]["state"] == "active" and second["rules"][0]["support"] == 2
    shown = run("history", "show", "1").output
    assert WRONG in shown and "corrected (" in shown and "We deploy to Kubernetes every day." in shown
    assert "corrected" not in run("history", "show", "3").output
    assert json.loads(run("history", "show", "1", "--json").output)["corrected"] == (
        "We deploy to Kubernetes every day.")
    assert "corrected" not in json.loads(run("history", "show", "3", "--json").output)
    assert (db.parent / "vocabulary.sqlite3").exists()


def test_list_forget_and_accept(db: Path) -> None:
    assert "Nothing learned yet" in run("vocabulary", "list").output
    assert not (db.parent / "vocabulary.sqlite3").exists()  # reading does not create the file
    run("history", "correct", "1", "We deploy to Kubernetes every day.")
    listed = run("vocabulary", "list").output
    assert "proposed" in listed and "'cooper netties' -> 'Kubernetes'" in listed and "accept ID" in listed
    rule_id = json.loads(run("vocabulary", "list", "--json").output)[0]["id"]
    assert "Applying rule" in run("vocabulary", "accept", str(rule_id)).output
    assert json.loads(run("vocabulary", "list", "--json").output)[0]["state"] == "active"
    assert "Forgot rule" in run("vocabulary", "forget", str(rule_id)).output
    run("history", "correct", "2", "Kubernetes is down again.")  # not learned again
    rules = json.loads(run("vocabulary", "list", "--json").output)
    assert [(r["id"], r["state"], r["support"]) for r in rules] == [(rule_id, "forgotten", 2)]


@pytest.mark.parametrize(("args", "message"), [
    (("history", "correct", "9", "Anything"), "onevox: no history entry 9\n"),
    (("history", "correct", "1", "   "), "onevox: the corrected text is empty"),
    (("history", "correct", "1", WRONG), "onevox: the correction is the same as history entry 1: nothing"),
    (("vocabulary", "forget", "5"), "onevox: no learned rule 5"),
])
def test_bad_input_is_one_clear_line(db: Path, args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 1
    assert result.output.startswith(message) and result.output.count("\n") == 1


def test_correct_without_any_history_creates_nothing(isolated_xdg: Path) -> None:
    result = CliRunner().invoke(cli, ["history", "correct", "1", "Text"])
    assert result.exit_code == 1 and result.output == "onevox: no history entry 1\n"
    assert not (isolated_xdg / "xdg_data_home" / "onevox").exists()


def test_a_rewrite_teaches_nothing_but_is_recorded(db: Path) -> None:
    result = run("history", "correct", "3", "Please page the on-call engineer instead.")
    assert "Nothing word-level to learn" in result.output
    assert "Please page the on-call engineer instead." in run("history", "show", "3").output


def test_deleting_history_deletes_the_corrections_words_but_not_what_they_taught(db: Path) -> None:
    run("history", "correct", "1", "We deploy to Kubernetes every day.")
    run("history", "correct", "2", "Kubernetes is down again.")
    def stored() -> bytes:
        return b"".join(path.read_bytes() for path in db.parent.glob("vocabulary.sqlite3*"))

    assert b"every day" in stored()
    run("history", "delete", "1")
    assert b"every day" not in stored() and b"down again" in stored()
    rules = json.loads(run("vocabulary", "list", "--json").output)
    assert [(r["wrong"], r["support"], r["state"]) for r in rules] == [("cooper netties", 2, "active")]
    assert run("history", "clear", "--yes").exit_code == 0
    assert b"down again" not in stored()
    assert json.loads(run("vocabulary", "list", "--json").output)[0]["support"] == 2
