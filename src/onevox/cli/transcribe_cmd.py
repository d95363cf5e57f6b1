"""`onevox transcribe FILE...`: offline transcription of audio files with the configured model and VAD."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from onevox.cli.common import config_option, get_config
from onevox.errors import AudioError

FILE_FORMATS = ("txt", "json", "srt", "vtt")  # onevox.formats.FILE_FORMATS (not imported: it loads numpy)
PROGRESS_MIN_S = 60.0  # files shorter than this finish before a progress bar would tell anything


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FILE_FORMATS), default=None,
              help="txt (the text), json (text, timed segments and cues, model, language), srt or vtt "
                   "(subtitles timed from the words).  [default: txt]")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json: one JSON object per file.")
@click.option("--output-dir", type=click.Path(file_okay=False), default=None,
              help="Write each file's result to DIR/NAME.FORMAT instead of printing it.")
@click.option("--model", "model", metavar="NAME_OR_PATH", default=None,
              help="Model name from `onevox models list`, or a CTranslate2 Whisper folder.")
@config_option
@click.pass_context
def transcribe(ctx: click.Context, files: tuple[str, ...], fmt: str | None, as_json: bool,
               output_dir: str | None, model: str | None, sub_config_path: str | None) -> None:
    """Transcribe audio files (WAV, FLAC, OGG, MP3, ...), all with one loaded model. A file that cannot be
    read is reported on stderr and the others are still transcribed; the exit code is non-zero if any
    failed."""
    fmt = "json" if as_json and fmt is None else (fmt or "txt")
    if as_json and fmt != "json":
        raise click.UsageError(f"--json and --format {fmt} disagree; use one of them")
    if output_dir is None and fmt in ("srt", "vtt") and len(files) > 1:
        raise click.UsageError(f"{fmt} for several files needs --output-dir (one subtitle file each)")
    targets = _targets(files, output_dir, fmt) if output_dir else {}
    from onevox.audio import SAMPLE_RATE
    from onevox.audio.files import load_audio
    from onevox.formats import render_file
    from onevox.transcribe import FileOptions

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
        with _progress(file, audio.size / SAMPLE_RATE) as progress:
            result = transcriber.transcribe_loaded(file, audio, FileOptions(timed=fmt != "txt",
                                                                             progress=progress))
        if file in targets:
            try:
                targets[file].write_text(render_file(result, fmt), encoding="utf-8")
            except OSError as exc:
                click.echo(f"onevox: {targets[file]}: cannot write: {exc.strerror or exc}", err=True)
                failed += 1
                continue
            click.echo(str(targets[file]))
        elif fmt == "json":
            click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        elif fmt == "txt":
            click.echo(result.text if len(files) == 1 else f"{file}: {result.text}")
        else:
            click.echo(render_file(result, fmt), nl=False)
    if failed:
        ctx.exit(1)


def _targets(files: tuple[str, ...], output_dir: str, fmt: str) -> dict[str, Path]:
    """Input file -> the file its result goes to; refuses (before any model loads) two inputs that would
    write the same file, or a folder that cannot be made."""
    folder = Path(output_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.UsageError(f"--output-dir {output_dir}: cannot create it: {exc.strerror or exc}") from exc
    targets: dict[str, Path] = {}
    seen: dict[Path, str] = {}
    for file in files:
        target = folder / f"{Path(file).stem}.{fmt}"
        if target in seen and seen[target] != file:
            raise click.UsageError(f"{seen[target]} and {file} would both be written to {target}")
        seen[target] = file
        targets[file] = target
    return targets


@contextmanager
def _progress(file: str, audio_s: float) -> Iterator[Callable[[float], None] | None]:
    """A progress bar on stderr for a long file when stderr is a terminal; None (no bar) otherwise."""
    if audio_s < PROGRESS_MIN_S or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(Path(file).name, total=1.0)
        yield lambda done: bar.update(task, completed=done)
