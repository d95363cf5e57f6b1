"""`onevox vocabulary list|accept|forget`: what corrected dictations taught (see onevox.vocabulary), and
`onevox history correct`'s part that talks to the daemon or, when none runs, to the files directly.

The commands write the vocabulary file directly; a running daemon sees the change at its next dictation
(it checks whether the file changed each time one starts)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from onevox.cli.common import config_option, get_config
from onevox.config import Config
from onevox.errors import IpcError
from onevox.history import History
from onevox.vocabulary import record_correction
from onevox.vocabulary.store import (
    ACCEPTED,
    FORGOTTEN,
    Correction,
    VocabularyError,
    VocabularyStore,
    store_path,
)


@click.group()
def vocabulary() -> None:
    """Word fixes learned from `onevox history correct`."""


@contextmanager
def open_store(config: Config, *, create: bool) -> Iterator[VocabularyStore | None]:
    """The vocabulary store of this config's history; None when it does not exist and `create` is off
    (reading must not create it)."""
    path = store_path(config.history_path())
    if not create and not path.exists():
        yield None
        return
    store = VocabularyStore(path)
    try:
        yield store
    finally:
        store.close()


@vocabulary.command("list")
@click.option("--all", "everything", is_flag=True, help="Also rules no correction shows any more.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of rules ([] when there are none).")
@config_option
@click.pass_context
def list_cmd(ctx: click.Context, everything: bool, as_json: bool, sub_config_path: str | None) -> None:
    """Show learned word fixes: active (applied), proposed (waiting for more corrections or for `accept`),
    forgotten."""
    config = get_config(ctx, sub_config_path)
    with open_store(config, create=False) as store:
        rules = store.rules(config.vocabulary, everything=everything) if store else []
    if as_json:
        click.echo(json.dumps([rule.to_dict() for rule in rules], ensure_ascii=False, indent=2))
        return
    if not rules:
        click.echo("Nothing learned yet: correct a dictation with `onevox history correct ID \"text\"`.",
                   err=True)
        return
    for rule in rules:
        seen = f"seen {rule.support}x"
        click.echo(f"{rule.id:>5}  {rule.state:<9}  {seen:<9}  {rule.wrong!r} -> {rule.right!r}")
    if config.vocabulary.learn != "apply" or any(rule.state == "proposed" for rule in rules):
        click.echo(f"(learn = {config.vocabulary.learn!r}, min_count = {config.vocabulary.min_count}; "
                   "`onevox vocabulary accept ID` applies a proposed rule)", err=True)


@vocabulary.command("accept")
@click.argument("rule_id", metavar="ID", type=int)
@config_option
@click.pass_context
def accept_cmd(ctx: click.Context, rule_id: int, sub_config_path: str | None) -> None:
    """Apply a learned rule now, however often it was seen (also brings back a forgotten one)."""
    _decide(ctx, sub_config_path, rule_id, ACCEPTED)


@vocabulary.command("forget")
@click.argument("rule_id", metavar="ID", type=int)
@config_option
@click.pass_context
def forget_cmd(ctx: click.Context, rule_id: int, sub_config_path: str | None) -> None:
    """Stop applying a learned rule, and never learn it again from corrections."""
    _decide(ctx, sub_config_path, rule_id, FORGOTTEN)


def _decide(ctx: click.Context, sub_config_path: str | None, rule_id: int, decision: str) -> None:
    config = get_config(ctx, sub_config_path)
    with open_store(config, create=False) as store:
        if store is None:
            raise VocabularyError(f"no learned rule {rule_id} (nothing learned yet)")
        wrong, right = store.decide(rule_id, decision)
    verb = "Applying" if decision == ACCEPTED else "Forgot"
    click.echo(f"{verb} rule {rule_id}: {wrong!r} -> {right!r}.")


def correct(config: Config, entry_id: int, text: str) -> dict[str, Any]:
    """Record a correction: through the running daemon, so that it applies what it learns at once, or
    directly in the files when no daemon runs (or it keeps no history)."""
    from onevox.ipc.client import DaemonNotRunning, IpcClient
    from onevox.ipc.protocol import UNAVAILABLE

    try:
        return IpcClient(config.socket_path()).request("correct", entry=entry_id, text=text)
    except DaemonNotRunning:
        pass
    except IpcError as exc:
        if exc.code != UNAVAILABLE:
            raise
    if not config.history_path().exists():  # reading must not create it
        raise VocabularyError(f"no history entry {entry_id}")
    with History(config.history_path(), config.history.max_entries) as history:
        store = VocabularyStore(store_path(config.history_path()))
        try:
            return record_correction(history, store, entry_id, text, config.vocabulary).to_dict()
        finally:
            store.close()


def correction_of(config: Config, entry_id: int) -> Correction | None:
    """The correction recorded for a history entry, if any (without creating the vocabulary file)."""
    with open_store(config, create=False) as store:
        return store.correction(entry_id) if store else None


def drop_correction_texts(config: Config, entry_id: int | None) -> None:
    """A deleted history entry (None: all) takes its correction's words with it; what they taught stays."""
    with open_store(config, create=False) as store:
        if store is not None:
            store.drop_texts(entry_id)


def show_correction(result: dict[str, Any]) -> None:
    click.echo(f"Recorded the correction of history entry {result['history_id']}.")
    rules = result.get("rules") or []
    if not rules:
        click.echo("Nothing word-level to learn from it (it only adds or drops words, or rewrites most of "
                   "the text).")
    for rule in rules:
        click.echo(f"  rule {rule['id']}: {rule['wrong']!r} -> {rule['right']!r} (seen {rule['support']}x, "
                   f"{rule['state']})")
