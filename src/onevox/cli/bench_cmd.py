"""`onevox bench`: the benchmark figures for this machine, beside the guide's targets."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from onevox.cli.common import config_option, get_config

if TYPE_CHECKING:
    from onevox.bench.runner import Result


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
@click.option("--quick", is_flag=True, help="Fewer rounds, no 30 s and 60 s speech (minutes fewer).")
@click.option("--no-pipeline", is_flag=True, help="Skip the whole-dictation (release to text) measurements.")
@click.option("--no-injection", is_flag=True, help="Do not type into the focused window.")
@click.option("--model", default=None, help="Model name or path (default: [model] name).")
@click.option("--speech", "speech_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Folder of real speech clips with manifest.jsonl, for the continuous-speech rows "
                   "(default: the checkout's tests/data/speech, when onevox runs from one).")
@config_option
@click.pass_context
def bench(ctx: click.Context, as_json: bool, quick: bool, no_pipeline: bool, no_injection: bool,
          model: str | None, speech_dir: Path | None, sub_config_path: str | None) -> None:
    """Measure onevox on this machine: audio, VAD, model, injection and whole dictations."""
    import dataclasses

    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from onevox.bench.runner import QUICK, Plan, default_speech_dir, run_all
    from onevox.bench.targets import BY_KEY, METRICS

    config = get_config(ctx, sub_config_path)
    if model:
        config = config.with_changes("model", name=model)
    plan = dataclasses.replace(QUICK if quick else Plan(), pipeline=not no_pipeline,
                               injection=not no_injection, speech_dir=speech_dir or default_speech_dir())
    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=as_json and not console.is_terminal) as progress:
        task = progress.add_task("starting", total=len(METRICS))

        def step(key: str) -> None:
            progress.update(task, description=BY_KEY[key].label, completed=_index(key))

        results = run_all(config, plan, step)
        progress.update(task, completed=len(METRICS))
    if as_json:
        click.echo(json.dumps({"model": config.model.name, "results": [r.as_dict() for r in results]}))
        return
    _print_table(results, config.model.name)


def _index(key: str) -> int:
    from onevox.bench.targets import METRICS

    return [m.key for m in METRICS].index(key)


def _print_table(results: Sequence[Result], model: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"onevox bench (model {model}; medians, warm)")
    for name in ("metric", "guide", "stretch", "goal", "measured", "p95", ""):
        table.add_column(name, justify="left" if name == "metric" else "right", no_wrap=name != "")
    for r in results:
        colour = {"ok": "green", "over": "red"}.get(r.verdict, "dim")
        table.add_row(r.label, _fmt(r.guide, r.unit), _fmt(r.stretch, r.unit), _fmt(r.goal, r.unit),
                      _fmt(r.median, r.unit), _fmt(r.p95, r.unit),
                      f"[{colour}]{r.verdict}[/]" + (f" ({r.note})" if r.note else ""))
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)
    console.print(table)


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.3g} {unit}" if value < 10 else f"{value:.0f} {unit}"
