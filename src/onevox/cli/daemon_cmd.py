"""`onevox daemon`, `stop`, `status`, `toggle`, `start-dictation`, `stop-dictation`, `cancel`, `events`,
`reload` and `install-service`: running the daemon and talking to it over IPC.
Exit codes: 0 ok, 1 error, 3 not running."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from onevox.cli.common import config_option, get_config
from onevox.config import Config, resolve_config_path
from onevox.daemon.lifecycle import RuntimeFiles, running_pid, wait_for_exit
from onevox.errors import OnevoxError
from onevox.ipc.client import DaemonNotRunning, IpcClient

log = logging.getLogger("onevox.daemon")

STATUS_TIMEOUT_S = 5.0


def _files(cfg: Config) -> RuntimeFiles:
    return RuntimeFiles.for_socket(cfg.socket_path())


def _print_json(value: Any, sort_keys: bool = True) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, sort_keys=sort_keys))


# ---- running the daemon ----------------------------------------------------------------------------------


@click.command("daemon")
@click.option("--foreground", is_flag=True, help="Stay attached to this terminal (how systemd runs it).")
@config_option
@click.pass_context
def daemon(ctx: click.Context, foreground: bool, sub_config_path: str | None) -> None:
    """Run the dictation daemon (in the background unless --foreground)."""
    from onevox.daemon import lifecycle

    cfg = get_config(ctx, sub_config_path)
    files = _files(cfg)
    config_path = resolve_config_path(sub_config_path or (ctx.obj or {}).get("config_path"))
    serve = _serve(cfg, foreground, config_path)
    if foreground:
        lifecycle.run_foreground(files, serve, on_ready=lambda: _foreground_ready(files))
        return
    log_path = lifecycle.default_log_path()
    outcome = lifecycle.start_background(files, serve, log_path)
    if outcome.error:
        raise OnevoxError(f"the daemon did not start: {outcome.error}")
    click.echo(f"onevox daemon started (pid {outcome.pid}); log: {log_path}")
    _warn_if_faulted(files)


def _warn_if_faulted(files: RuntimeFiles) -> None:
    """The daemon runs but cannot dictate (e.g. no model): say so now, not at the first key press."""
    try:
        fault = IpcClient(files.socket, timeout=STATUS_TIMEOUT_S).request("status").get("fault")
    except OnevoxError:
        return
    if fault:
        click.echo(f"onevox: the daemon cannot dictate yet: {fault}", err=True)


def _serve(cfg: Config, foreground: bool, config_path: Path) -> Callable[[Callable[[], None]], None]:
    def serve(ready: Callable[[], None]) -> None:
        from onevox.daemon.lifecycle import configure_logging

        configure_logging(cfg.daemon.log_level)
        from onevox.daemon.run import run_daemon  # the model and audio stack load here, after any fork

        run_daemon(cfg, foreground=foreground, ready=ready, config_path=config_path)

    return serve


def _foreground_ready(files: RuntimeFiles) -> None:
    from onevox.daemon.systemd import notify

    notify("READY=1")
    log.info("onevox daemon ready (pid %d) on %s", os.getpid(), files.socket)


@click.command("stop")
@click.option("--timeout", type=float, default=15.0, show_default=True, help="Seconds to wait for the exit.")
@config_option
@click.pass_context
def stop(ctx: click.Context, timeout: float, sub_config_path: str | None) -> None:
    """Stop the running daemon and wait until it has exited."""
    files = _files(get_config(ctx, sub_config_path))
    try:
        IpcClient(files.socket, timeout=STATUS_TIMEOUT_S).request("shutdown")
    except DaemonNotRunning:
        pid = running_pid(files)
        if not pid:
            raise
        os.kill(pid, signal.SIGTERM)  # still starting (no socket yet): ask it the POSIX way
    if not wait_for_exit(files, timeout):
        pid = running_pid(files)
        raise OnevoxError(f"the daemon (pid {pid}) is still running after {timeout:g} s; "
                          f"see its log, or end it with `kill {pid}`")
    click.echo("onevox daemon stopped")


# ---- status ----------------------------------------------------------------------------------------------


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the daemon's status as one JSON object.")
@config_option
@click.pass_context
def status(ctx: click.Context, as_json: bool, sub_config_path: str | None) -> None:
    """Show the daemon's state, model, device, uptime, memory and latencies."""
    files = _files(get_config(ctx, sub_config_path))
    try:
        result = {"running": True, **IpcClient(files.socket, timeout=STATUS_TIMEOUT_S).request("status")}
    except DaemonNotRunning as exc:
        pid = running_pid(files)
        if pid is None:
            if as_json:
                _print_json({"running": False, "error": str(exc)})
                ctx.exit(exc.exit_code)
            raise
        result = {"running": True, "state": "starting", "pid": pid}
    if as_json:
        _print_json(result)
    else:
        click.echo(format_status(result))


def format_status(status: dict[str, Any]) -> str:
    """The human view of a status result."""
    version = f", version {status['version']}" if status.get("version") else ""
    lines = [f"onevox daemon: running (pid {status.get('pid', '?')}{version})"]
    rows = [
        ("state", status.get("state")),
        ("fault", status.get("fault")),
        ("model", _describe(status.get("model"))),
        ("audio", _remote(status.get("remote"))),
        ("language", _languages(status)),
        ("device", _describe(status.get("device"))),
        ("uptime", _duration(status.get("uptime_s"))),
        ("memory", _memory(status)),
        ("feedback", ", ".join(status.get("feedback") or ()) or None),
        ("dictations", status.get("dictations")),
        ("profile", _profile(status)),
        ("last error", status.get("last_error")),
        ("command", status.get("last_command")),
    ]
    lines += [f"{name + ':':<12}{value}" for name, value in rows if value not in (None, "")]
    lines += _latency_table(status.get("latencies"))
    return "\n".join(lines)


def _profile(status: dict[str, Any]) -> str | None:
    """The profile the last dictation used, among the configured ones: "terminal (of terminal, editor)"."""
    names, last = status.get("profiles"), status.get("last_profile")
    if not names or not isinstance(names, list):
        return str(last) if last else None
    used = last or ("none matched" if status.get("dictations") or status.get("dictation") else "-")
    return f"{used} (of {', '.join(map(str, names))})"


def _remote(remote: Any) -> str:
    """Where the daemon sends dictated audio: said plainly, since onevox otherwise keeps it on the machine."""
    if not isinstance(remote, dict):
        return ""
    line = f"sent to {remote.get('audio_sent_to')}"
    if not remote.get("encrypted_or_local"):
        line += " (plain http: not encrypted)"
    line += f"; fallback: {remote.get('fallback') or 'none'}"
    line += f"; {remote.get('remote_decodes', 0)} decoded there, {remote.get('local_fallbacks', 0)} here"
    if remote.get("retry_remote_in_s"):
        line += f"; server retried in {remote['retry_remote_in_s']:g} s"
    if remote.get("last_remote_error"):
        line += f"\n{'':<12}last failure: {remote['last_remote_error']}"
    return line


def _languages(status: dict[str, Any]) -> str | None:
    """`[model] language`, and the languages the user speaks when the daemon reports them: "auto (de, en)"."""
    language, spoken = status.get("language"), status.get("languages")
    if isinstance(spoken, list) and spoken:
        return f"{language or 'auto'} ({', '.join(map(str, spoken))})"
    return None if language is None else str(language)


def _describe(value: Any) -> str | None:
    if isinstance(value, dict):
        main = value.get("name") or value.get("device") or ""
        extra = [f"{k}={v}" for k, v in value.items() if k not in ("name", "device") and v not in (None, "")]
        return f"{main} ({', '.join(extra)})" if extra else str(main)
    return None if value is None else str(value)


def _duration(seconds: Any) -> str | None:
    if not isinstance(seconds, int | float):
        return None
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def _memory(status: dict[str, Any]) -> str | None:
    rss_mb = status.get("rss_mb")
    if not isinstance(rss_mb, int | float) and isinstance(status.get("pid"), int):
        rss_mb = _rss_from_proc(status["pid"])
    return f"{rss_mb:.1f} MB RSS" if isinstance(rss_mb, int | float) else None


def _rss_from_proc(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _latency_table(latencies: Any) -> list[str]:
    if not isinstance(latencies, dict) or not latencies:
        return []
    lines = ["latency (ms)        count      p50      p95     last"]
    for stage, stats in latencies.items():
        if isinstance(stats, dict):
            cells = "".join(f"{_ms(stats.get(key)):>9}" for key in ("p50", "p95", "last"))
            lines.append(f"  {stage:<18}{stats.get('count', 0):>5}{cells}")
    return lines


def _ms(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else "-"


# ---- dictation control -----------------------------------------------------------------------------------


def _control(command_name: str, cmd: str, summary: str) -> click.Command:
    @click.command(command_name, help=summary)
    @click.option("--json", "as_json", is_flag=True, help="Print the daemon's answer as JSON.")
    @config_option
    @click.pass_context
    def command(ctx: click.Context, as_json: bool, sub_config_path: str | None) -> None:
        files = _files(get_config(ctx, sub_config_path))
        result = IpcClient(files.socket, timeout=STATUS_TIMEOUT_S).request(cmd)
        if as_json:
            _print_json(result)
        else:
            click.echo(_summarise(result))

    return command


def _summarise(result: dict[str, Any]) -> str:
    parts = [str(result[key]) for key in ("state", "message") if result.get(key)]
    return " - ".join(parts) if parts else "ok"


toggle = _control("toggle", "toggle", "Start dictating, or stop and transcribe if already recording.")
start_dictation = _control("start-dictation", "start_dictation", "Start recording a dictation.")
stop_dictation = _control("stop-dictation", "stop_dictation", "Stop recording; transcribe and type the text.")
cancel = _control("cancel", "cancel", "Throw the current dictation away.")


@click.command("events")
@config_option
@click.pass_context
def events(ctx: click.Context, sub_config_path: str | None) -> None:
    """Print the daemon's events as JSON lines until Ctrl-C."""
    files = _files(get_config(ctx, sub_config_path))
    try:
        for event in IpcClient(files.socket, timeout=STATUS_TIMEOUT_S).events():
            _print_json(event, sort_keys=False)  # as sent: {"v":1,"event":...} first
    except KeyboardInterrupt:
        return
    except BrokenPipeError:  # `onevox events | head`: the reader is gone; keep the exit quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    click.echo("onevox: the daemon closed the event stream", err=True)


@click.command("reload")
@click.option("--timeout", type=float, default=10.0, show_default=True,
              help="Seconds to wait for the result.")
@config_option
@click.pass_context
def reload(ctx: click.Context, timeout: float, sub_config_path: str | None) -> None:
    """Make the running daemon read its config file again (same as SIGHUP)."""
    files = _files(get_config(ctx, sub_config_path))
    client = IpcClient(files.socket, timeout=STATUS_TIMEOUT_S)
    before = client.request("status")
    pid = before.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        raise OnevoxError("the daemon did not report its pid; send it SIGHUP yourself")
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        after = client.request("status")
        if after.get("reloads", 0) != before.get("reloads", 0):
            result = str(after.get("reload", ""))
            if result.startswith("rejected: "):
                raise OnevoxError(f"config not reloaded, the old one is kept: {result[len('rejected: '):]}")
            click.echo(f"config reloaded: {result}")
            return
        time.sleep(0.1)
    raise OnevoxError(f"the daemon (pid {pid}) did not report a reload within {timeout:g} s; see its log")


# ---- systemd ---------------------------------------------------------------------------------------------


@click.command("install-service")
@click.option("--print", "print_only", is_flag=True, help="Only print the unit; write nothing.")
@config_option
@click.pass_context
def install_service(ctx: click.Context, print_only: bool, sub_config_path: str | None) -> None:
    """Write the systemd user unit that runs the daemon at login."""
    from onevox.daemon.systemd import IMPORT_ENVIRONMENT, install_unit, render_unit

    config_path = sub_config_path or (ctx.obj or {}).get("config_path")
    if config_path:
        get_config(ctx, sub_config_path)  # refuse to install a unit that would fail on a broken config
    text = render_unit(config_path=Path(config_path) if config_path else None)
    if print_only:
        click.echo(text, nl=False)
        return
    path = install_unit(text)
    click.echo(f"wrote {path}\nnow run:\n  systemctl --user daemon-reload\n"
               f"  {IMPORT_ENVIRONMENT}\n"
               "  systemctl --user enable --now onevox")
    pid = running_pid(_files(get_config(ctx, sub_config_path)))
    if pid is not None:
        click.echo(f"a daemon is running outside systemd now (pid {pid}): `onevox stop` it first", err=True)
