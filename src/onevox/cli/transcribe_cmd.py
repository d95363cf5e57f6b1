"""`onevox transcribe FILE...`: offline transcription of audio files with the configured model and VAD."""

from __future__ import annotations

import json

import click

from onevox.cli.common import config_option, get_config
from onevox.errors import AudioError


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (file, text, audio_s, "
              "latency_ms, segments, model, language, language_prob).")
@click.option("--model", "model", metavar="NAME_OR_PATH", default=None,
              help="Model name from `onevox models list`, or a CTranslate2 Whisper folder.")
@config_option
@click.pass_context
def transcribe(ctx: click.Context, files: tuple[str, ...], as_json: bool, model: str | None,
               sub_config_path: str | None) -> None:
    """Transcribe audio files (WAV, FLAC, OGG, MP3, ...). A file that cannot be read is reported on
    stderr and the others are still transcribed; the exit code is non-zero if any failed."""
    from onevox.audio.files import load_audio

    config = get_config(ctx, sub_config_path)
    if model:
        config = config.with_changes("model", name=model)
    transcriber = None  # the model loads at the first readable file, so a typo in a path costs nothing
    failed = 0
    for file in files:
        try:
            audio = load_audio(file)
        except AudioError as exc:
            click.echo(f"onevox: {exc}", err=True)
            failed += 1
            continue
        if transcriber is None:
            from onevox.transcribe import FileTranscriber

            transcriber = FileTranscriber(config)
        result = transcriber.transcribe_loaded(file, audio)
        if as_json:
            click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            click.echo(result.text if len(files) == 1 else f"{file}: {result.text}")
    if failed:
        ctx.exit(1)
