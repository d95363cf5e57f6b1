"""`onevox config show|path|init|validate`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from onevox.cli.common import config_option, get_config
from onevox.config import CONFIG_ENV, Config, load_config, resolve_config_path
from onevox.config_edit import write_config_text
from onevox.config_toml import to_toml
from onevox.errors import ConfigError, OnevoxError

_HEADER = """\
# onevox configuration. Every key is optional: delete what you do not change.
# Check it with `onevox config validate`; see the effective values with `onevox config show`.

"""


@click.group("config")
def config() -> None:
    """Show, locate, create and check the config file."""


@config.command("show")
@click.option("--no-docs", is_flag=True, help="Leave out the comment above each key.")
@config_option
@click.pass_context
def show_cmd(ctx: click.Context, no_docs: bool, sub_config_path: str | None) -> None:
    """The effective config (file values over defaults) as TOML."""
    cfg = get_config(ctx, sub_config_path)
    source = cfg.source or f"built-in defaults (no file at {_config_path(ctx, sub_config_path)})"
    click.echo(f"# effective config from {source}\n")
    click.echo(to_toml(cfg, with_docs=not no_docs), nl=False)


@config.command("path")
@config_option
@click.pass_context
def path_cmd(ctx: click.Context, sub_config_path: str | None) -> None:
    """The config file onevox reads (--config, then $ONEVOX_CONFIG, then the XDG default)."""
    click.echo(str(_config_path(ctx, sub_config_path)))


@config.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@config_option
@click.pass_context
def init_cmd(ctx: click.Context, force: bool, sub_config_path: str | None) -> None:
    """Write the documented default config file (readable by you only)."""
    path = _config_path(ctx, sub_config_path)
    if path.exists() and not force:
        raise OnevoxError(f"{path} already exists; use --force to overwrite it")
    if path.is_dir():
        raise OnevoxError(f"{path} is a folder, not a config file")
    write_config_text(path, _HEADER + to_toml(Config()), mode=0o600)
    click.echo(f"wrote {path}")


@config.command("validate")
@click.argument("file", required=False)
@config_option
@click.pass_context
def validate_cmd(ctx: click.Context, file: str | None, sub_config_path: str | None) -> None:
    """Check a config file: prints "ok", or the problem and exits with status 2."""
    named = file or sub_config_path or (ctx.obj or {}).get("config_path") or os.environ.get(CONFIG_ENV)
    path = Path(file) if file else _config_path(ctx, sub_config_path)
    cfg = load_config(path, must_exist=bool(named))
    _check_model_name(cfg)
    if not cfg.source:
        click.echo(f"no config file at {path}; the built-in defaults are used", err=True)
    click.echo("ok")


def _config_path(ctx: click.Context, sub_config_path: str | None) -> Path:
    return resolve_config_path(sub_config_path or (ctx.obj or {}).get("config_path"))


def _check_model_name(cfg: Config) -> None:
    """A `[model] name` that is neither a catalog name nor a path can never load."""
    from onevox.models import CATALOG

    name = cfg.model.name
    if name in CATALOG or os.sep in name or name.startswith(("~", ".")) or Path(name).exists():
        return
    raise ConfigError(cfg.source, "model.name",
                      f"unknown model {name!r}; use one of {', '.join(CATALOG)} or a folder path")


