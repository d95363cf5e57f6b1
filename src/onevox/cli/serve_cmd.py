"""`onevox serve`: the OpenAI-compatible transcription server (needs the `serve` extra)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import click

from onevox.cli.common import config_option, get_config

SERVE_PACKAGES = ("starlette", "uvicorn", "multipart")  # python-multipart installs as `multipart`


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything beyond loopback needs a token.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Loaded models decoding in parallel (each takes its share of the cores).")
@click.option("--queue", type=click.IntRange(0, 10_000), default=8, show_default=True,
              help="Requests that may wait for a worker; past that a request gets 429 with Retry-After.")
@click.option("--token-file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="File holding the bearer token clients must send (default: $ONEVOX_SERVE_TOKEN).")
@click.option("--max-upload-mb", type=click.FloatRange(0.001, 1024), default=25.0, show_default=True)
@click.option("--max-audio-s", type=click.FloatRange(1, 4 * 3600), default=1800.0, show_default=True,
              help="Longest audio accepted, in seconds.")
@click.option("--upload-timeout-s", type=click.FloatRange(0.1, 3600), default=120.0, show_default=True,
              help="An upload not fully arrived by then gets 408 (its queue place is freed).")
@click.option("--model", "model", metavar="NAME_OR_PATH", default=None,
              help="Model name from `onevox models list`, or a CTranslate2 Whisper folder.")
@config_option
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, queue: int, token_file: str | None,
          max_upload_mb: float, max_audio_s: float, upload_timeout_s: float, model: str | None,
          sub_config_path: str | None) -> None:
    """Serve OpenAI's transcription API (POST /v1/audio/transcriptions, GET /v1/models, GET /health) with
    the configured model, for other machines' onevox (backend "openai") or any OpenAI client."""
    missing = [name for name in SERVE_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        click.echo(f"onevox: `onevox serve` needs the serve extra (missing: {', '.join(missing)}): "
                   "pip install 'onevox[serve]'", err=True)
        ctx.exit(1)
    from onevox.serve.options import TOKEN_ENV, ServeOptions
    from onevox.serve.server import serve as run_server

    token = os.environ.get(TOKEN_ENV) or None
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            click.echo(f"onevox: {token_file}: cannot read the token: {exc}", err=True)
            ctx.exit(1)
    config = get_config(ctx, sub_config_path)
    if model:
        config = config.with_changes("model", name=model)
    options = ServeOptions(host=host, port=port, workers=workers, queue=queue, token=token,
                           max_upload_mb=max_upload_mb, max_audio_s=max_audio_s,
                           upload_timeout_s=upload_timeout_s)
    run_server(config, options, announce=lambda line: click.echo(line))
