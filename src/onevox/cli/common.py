"""Helpers shared by the CLI command modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from onevox.config import Config, load_config

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    """Lets every subcommand take --config too (`onevox status --config x.toml`)."""
    return click.option("--config", "sub_config_path", type=click.Path(dir_okay=False), default=None,
                        help="Config file (overrides the global --config).")(func)


def get_config(ctx: click.Context, sub_config_path: str | None = None) -> Config:
    """The validated config for this invocation; raises ConfigError (one clear line) when it is broken."""
    path = sub_config_path or (ctx.obj or {}).get("config_path")
    return load_config(path)
