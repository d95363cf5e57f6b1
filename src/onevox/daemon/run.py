"""The daemon as the CLI runs it: `run_daemon` starts a `Daemon`, calls ready(), blocks until a shutdown is
asked for (IPC `shutdown`, SIGTERM, SIGINT), and stops everything in reverse order.

Kept apart from app.py so that `Daemon` stays the in-process object tests and benchmarks drive, with nothing
that belongs to a whole process (the root logger, the signal handlers) touched by building one.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path

from onevox.config import Config
from onevox.daemon.app import Daemon
from onevox.daemon.stages import StageFactory

log = logging.getLogger(__name__)


def run_daemon(config: Config, *, foreground: bool = True, ready: Callable[[], None] | None = None,
               factory: StageFactory | None = None, config_path: Path | None = None) -> None:
    """Run the daemon until it is asked to stop. `ready()` is called once the model is warm and the socket
    answers. Detaching (when not `foreground`) and the single-instance lock are the CLI's job
    (daemon/lifecycle.py); SIGTERM and SIGINT stop the daemon cleanly when this runs on the main thread."""
    _setup_logging(config.daemon.log_level, foreground)
    daemon = Daemon(config, factory=factory, config_path=config_path)
    restore = _install_signal_handlers(daemon)
    try:
        daemon.start()
        if ready is not None:
            ready()
        while not daemon.wait(1.0):  # wake now and then so signal handlers run promptly
            pass
        log.info("shutting down")
    finally:
        daemon.stop()
        restore()


def _setup_logging(level: str, foreground: bool) -> None:
    root = logging.getLogger()
    if not root.handlers:  # the CLI may have configured logging already (e.g. to a log file)
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
        if foreground:
            fmt = "%(levelname)s: %(message)s"
        logging.basicConfig(level=level.upper(), format=fmt)
    logging.getLogger("onevox").setLevel(level.upper())


def _install_signal_handlers(daemon: Daemon) -> Callable[[], None]:
    """SIGTERM/SIGINT -> a clean shutdown (lifecycle's handlers: a second signal exits at once); returns a
    function that puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    from onevox.daemon.lifecycle import install_signal_handlers

    signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    previous = {sig: signal.getsignal(sig) for sig in signals}
    install_signal_handlers(daemon.request_shutdown, daemon.request_reload)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
