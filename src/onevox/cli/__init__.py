"""The `onevox` command line. Each command group lives in its own module; heavy libraries (the model,
audio, X11) are imported inside the commands so that quick commands such as `status` start fast.

Importing this package costs nothing: the click group (`cli`) is built on first use, so `main()` can serve
the control commands a key binding runs (toggle, start-dictation, ...) through onevox.cli.fast first."""

from __future__ import annotations

import importlib
import sys

TYPE_CHECKING = False  # typing itself costs milliseconds on the slim control path
if TYPE_CHECKING:
    from typing import Any

    import click

    cli: click.Group

# module -> names of the click commands/groups it defines; registered on the root group below
_COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "onevox.cli.transcribe_cmd": ("transcribe",),
    "onevox.cli.models_cmd": ("models",),
    "onevox.cli.config_cmd": ("config",),
    "onevox.cli.daemon_cmd": ("daemon", "stop", "status", "toggle", "start_dictation", "stop_dictation",
                               "cancel", "events", "install_service", "reload"),
    "onevox.cli.history_cmd": ("history",),
    "onevox.cli.vocabulary_cmd": ("vocabulary",),
    "onevox.cli.devices_cmd": ("devices",),
    "onevox.cli.bench_cmd": ("bench",),
    "onevox.cli.doctor_cmd": ("doctor",),
    "onevox.cli.serve_cmd": ("serve",),
}


def _build() -> click.Group:
    import click

    from onevox import __version__
    from onevox.errors import OnevoxError

    class OnevoxGroup(click.Group):
        """Turns expected failures into one clear line and an exit code instead of a traceback."""

        def invoke(self, ctx: click.Context) -> Any:
            try:
                return super().invoke(ctx)
            except OnevoxError as exc:
                click.echo(f"onevox: {exc}", err=True)
                ctx.exit(exc.exit_code)

    @click.group(cls=OnevoxGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="onevox")
    @click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                  envvar="ONEVOX_CONFIG", help="Config file (default: $XDG_CONFIG_HOME/onevox/config.toml).")
    @click.pass_context
    def group(ctx: click.Context, config_path: str | None) -> None:
        """onevox: private, local speech-to-text dictation."""
        ctx.ensure_object(dict)
        ctx.obj["config_path"] = config_path

    group.name = "cli"
    for module_name, names in _COMMAND_MODULES.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # that command group is not built yet
            raise
        for name in names:
            command = getattr(module, name, None)
            if command is not None:
                group.add_command(command)
    return group


def __getattr__(name: str) -> Any:
    if name == "cli":
        group = _build()
        globals()["cli"] = group
        return group
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    from onevox.cli import fast

    code = fast.serve(sys.argv[1:])  # a key binding's toggle/start/stop/cancel: no click, no model
    if code is not None:
        sys.exit(code)
    from onevox.asr.memory import limit_heap_arenas

    limit_heap_arenas()  # before any thread starts: the daemon's and the model's threads share one heap
    __getattr__("cli")(prog_name="onevox")  # builds the click group now


if __name__ == "__main__":  # pragma: no cover
    main()
