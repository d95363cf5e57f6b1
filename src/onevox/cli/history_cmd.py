"""`onevox history ...`: read and manage past dictations. Works without a running daemon: it opens the
SQLite database directly (WAL mode lets it read while the daemon writes)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from onevox.cli.common import config_option as _untyped_config_option
from onevox.cli.common import get_config
from onevox.cli.vocabulary_cmd import correct, correction_of, drop_correction_texts, show_correction
from onevox.config import Config
from onevox.errors import OnevoxError
from onevox.history import History, HistoryEntry, HistoryError
from onevox.history_export import EXPORT_FORMATS

_F = TypeVar("_F", bound=Callable[..., Any])
# common.config_option with a type, so that the commands below keep theirs under mypy --strict
config_option = cast(Callable[[_F], _F], _untyped_config_option)

# clipboard tools tried in order by `history last --copy`: (executable, arguments, needs)
_CLIPBOARD_TOOLS = (
    ("wl-copy", (), "WAYLAND_DISPLAY"),
    ("xclip", ("-selection", "clipboard"), "DISPLAY"),
    ("xsel", ("--clipboard", "--input"), "DISPLAY"),
)


@click.group()
def history() -> None:
    """Past dictations, kept in a local SQLite database."""


@contextmanager
def _open(ctx: click.Context, config_path: str | None) -> Iterator[tuple[History | None, Path]]:
    """The history and its path; None instead of a history when the file does not exist yet (reading it
    must not create it)."""
    config = get_config(ctx, config_path)
    path = config.history_path()
    if not path.exists():
        yield None, path
        return
    with _store(config) as store:
        yield store, path


@contextmanager
def _store(config: Config) -> Iterator[History]:
    store = History(config.history_path(), config.history.max_entries)
    try:
        yield store
    finally:
        store.close()


@history.command("list")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many dictations to show (newest first).")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many of the newest.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of entries ([] when there are none).")
@config_option
@click.pass_context
def list_cmd(ctx: click.Context, limit: int, offset: int, as_json: bool, sub_config_path: str | None) -> None:
    """Show recent dictations."""
    with _open(ctx, sub_config_path) as (store, path):
        entries = store.list(limit, offset) if store else []
    _show_entries(entries, as_json, empty=f"No dictations in the history yet ({path}).")


@history.command("search")
@click.argument("query")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array of entries ([] when none match).")
@config_option
@click.pass_context
def search_cmd(ctx: click.Context, query: str, limit: int, as_json: bool,
               sub_config_path: str | None) -> None:
    """Find dictations containing every word of QUERY."""
    if not query.strip():
        raise click.BadParameter("give at least one word to search for", param_hint="QUERY")
    with _open(ctx, sub_config_path) as (store, _path):
        entries = store.search(query, limit) if store else []
    _show_entries(entries, as_json, empty=f"No dictation matches {query!r}.")


@history.command("show")
@click.argument("entry_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="The entry as a JSON object.")
@config_option
@click.pass_context
def show_cmd(ctx: click.Context, entry_id: int, as_json: bool, sub_config_path: str | None) -> None:
    """Show one dictation in full."""
    with _open(ctx, sub_config_path) as (store, _path):
        entry = store.get(entry_id) if store else None
    if entry is None:
        raise HistoryError(f"no dictation with id {entry_id} in the history (see `onevox history list`)")
    fixed = correction_of(get_config(ctx, sub_config_path), entry_id)
    if as_json:
        corrected = {"corrected": fixed.corrected} if fixed is not None else {}
        click.echo(json.dumps({**entry.to_dict(), **corrected}, ensure_ascii=False))
        return
    click.echo(f"id:       {entry.id}\ncreated:  {_when(entry)}\nstatus:   {_status(entry)}\n"
               f"audio:    {entry.audio_s:.2f} s\nmodel:    {entry.model}")
    if entry.timings:
        click.echo("timings:  " + ", ".join(f"{k} {v:.1f} ms" for k, v in sorted(entry.timings.items())))
    if entry.raw_text and entry.raw_text != entry.text:
        click.echo(f"raw:      {entry.raw_text}")
    click.echo(f"\n{entry.text}")
    if fixed is not None:
        click.echo(f"\ncorrected ({_when_ts(fixed.created_at)}):\n{fixed.corrected}")


@history.command("correct")
@click.argument("entry_id", metavar="ID", type=int)
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="What was recorded and learned, as a JSON object.")
@config_option
@click.pass_context
def correct_cmd(ctx: click.Context, entry_id: int, text: str, as_json: bool,
                sub_config_path: str | None) -> None:
    """Say what dictation ID should have been; onevox learns the word fixes it shows (`onevox vocabulary`)."""
    result = correct(get_config(ctx, sub_config_path), entry_id, text)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        show_correction(result)


@history.command("last")
@click.option("--copy", is_flag=True, help="Put the text on the clipboard (wl-copy, xclip or xsel).")
@config_option
@click.pass_context
def last_cmd(ctx: click.Context, copy: bool, sub_config_path: str | None) -> None:
    """Print the most recent dictation (or copy it to the clipboard)."""
    with _open(ctx, sub_config_path) as (store, path):
        entry = store.last() if store else None
    if entry is None:
        raise HistoryError(f"the history is empty ({path})")
    if copy:
        tool = _copy_to_clipboard(entry.text)
        click.echo(f"Copied dictation {entry.id} ({len(entry.text)} characters) with {tool}.", err=True)
        return
    click.echo(entry.text)


@history.command("export")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="jsonl", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="File to write (default: standard output).")
@config_option
@click.pass_context
def export_cmd(ctx: click.Context, fmt: str, output: str | None, sub_config_path: str | None) -> None:
    """Write every dictation, oldest first, as json, jsonl, csv or txt."""
    with _store(get_config(ctx, sub_config_path)) as store:
        if output is None:
            store.export(fmt, sys.stdout)
            return
        target = Path(output).expanduser()
        try:
            with open(target, "w", encoding="utf-8", newline="", opener=_private_opener) as handle:
                count = store.export(fmt, handle)
        except OSError as exc:
            raise OnevoxError(f"cannot write {target}: {exc.strerror or exc}") from exc
    click.echo(f"Exported {count} dictation(s) to {target}.", err=True)


@history.command("delete")
@click.argument("entry_id", metavar="ID", type=int)
@config_option
@click.pass_context
def delete_cmd(ctx: click.Context, entry_id: int, sub_config_path: str | None) -> None:
    """Delete one dictation."""
    with _open(ctx, sub_config_path) as (store, _path):
        deleted = store.delete(entry_id) if store else False
    if not deleted:
        raise HistoryError(f"no dictation with id {entry_id} in the history (see `onevox history list`)")
    drop_correction_texts(get_config(ctx, sub_config_path), entry_id)
    click.echo(f"Deleted dictation {entry_id}.")


@history.command("clear")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@config_option
@click.pass_context
def clear_cmd(ctx: click.Context, yes: bool, sub_config_path: str | None) -> None:
    """Delete every dictation."""
    with _open(ctx, sub_config_path) as (store, path):
        if store is None:
            click.echo("The history is already empty.")
            return
        if not yes:
            click.confirm(f"Delete all {store.count()} dictation(s) in {path}?", abort=True)
        count = store.clear()
    drop_correction_texts(get_config(ctx, sub_config_path), None)
    click.echo(f"Deleted {count} dictation(s).")


def _show_entries(entries: list[HistoryEntry], as_json: bool, *, empty: str) -> None:
    if as_json:  # an array even when empty: a JSON reader gets [] rather than nothing at all
        click.echo(json.dumps([entry.to_dict() for entry in entries], ensure_ascii=False, indent=2))
        return
    if not entries:
        click.echo(empty, err=True)
        return
    for entry in entries:
        text = " ".join(entry.text.split())
        if len(text) > 80:
            text = text[:77] + "..."
        flag = "" if entry.status == "injected" and not entry.command else f" [{_status(entry)}]"
        click.echo(f"{entry.id:>6}  {_when(entry)}  {text}{flag}")


def _when(entry: HistoryEntry) -> str:
    return _when_ts(entry.created_at)


def _when_ts(created_at: float) -> str:
    return datetime.fromtimestamp(created_at).strftime("%Y-%m-%d %H:%M:%S")


def _status(entry: HistoryEntry) -> str:
    if entry.command:  # an edit command: carried out (status injected) or refused (not_injected)
        done = "done" if entry.status == "injected" else f"refused: {entry.error}"
        return f"command {entry.command}: {done}"
    if entry.status == "injected":
        return f"injected ({entry.method})" if entry.method else "injected"
    return f"{entry.status}: {entry.error}" if entry.error else entry.status


def _copy_to_clipboard(text: str) -> str:
    """Hand the text to the first clipboard tool that works; the tool keeps owning the selection."""
    reasons: list[str] = []
    for tool, args, needs in _CLIPBOARD_TOOLS:
        exe = shutil.which(tool)
        if exe is None:
            reasons.append(f"{tool} not installed")
            continue
        if not os.environ.get(needs):
            reasons.append(f"{tool}: ${needs} not set")
            continue
        try:
            # no pipes on stdout/stderr: xclip forks a child that owns the selection and keeps them open
            subprocess.run([exe, *args], input=text.encode("utf-8"), check=True, timeout=5,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError) as exc:
            reasons.append(f"{tool}: {exc}")
            continue
        return tool
    raise OnevoxError("cannot copy to the clipboard (" + "; ".join(reasons) +
                      "); run `onevox history last` to print the text instead")


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)
