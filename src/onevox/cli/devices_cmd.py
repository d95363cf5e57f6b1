"""`onevox devices list`: the audio input devices onevox can listen to."""

from __future__ import annotations

import json

import click

from onevox.cli.common import config_option, get_config


@click.group()
def devices() -> None:
    """Audio input devices."""


@devices.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of device objects.")
@config_option
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool, sub_config_path: str | None) -> None:
    """List input devices: index, name, channels, default rate; '*' marks the system default and '>' the
    one [audio] device selects."""
    from onevox.audio.devices import find_device, list_input_devices

    cfg = get_config(ctx, sub_config_path)
    found = list_input_devices()
    chosen = find_device(cfg.audio.device) if found else None
    rows = [
        {"index": d.index, "name": d.name, "hostapi": d.hostapi, "channels": d.channels,
         "default_rate": d.default_rate, "default": d.is_default,
         "selected": chosen is not None and chosen.index == d.index}
        for d in found
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("no audio input devices found (is PulseAudio or PipeWire running?)")
        return
    width = max(len(d.name) for d in found)
    click.echo(f"    {'idx':>3}  {'name':<{width}}  {'ch':>3}  {'rate':>6}  api")
    for r in rows:
        mark = (">" if r["selected"] else " ") + ("*" if r["default"] else " ")
        click.echo(f"{mark}  {r['index']:>3}  {r['name']:<{width}}  {r['channels']:>3}  "
                   f"{r['default_rate']:>6}  {r['hostapi']}")
    if chosen is None:
        click.echo(f"[audio] device = {cfg.audio.device!r} matches nothing; the default device will be used")
