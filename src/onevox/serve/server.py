"""Starting the server: bind the port (a port in use fails at once, before any model loads), load one model
per worker, then serve with uvicorn until interrupted."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from onevox.config import Config
from onevox.serve.options import MODEL_ALIASES, ServeOptions, ServeSetupError
from onevox.serve.pool import WorkerPool
from onevox.transcribe import FileTranscriber

MAX_CONNECTIONS = 1000  # uvicorn answers 503 past this many open connections: a bound on idle sockets


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    try:
        return socket.create_server((host.strip("[]"), port), family=family, backlog=256)
    except (OSError, OverflowError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ServeSetupError(f"cannot listen on {host}:{port}: {reason}") from exc


def worker_config(config: Config, workers: int) -> Config:
    """Each worker's model gets its share of the cores, or fewer where the model decodes fastest on fewer
    (unless model.threads says how many)."""
    if config.model.threads:
        return config
    from onevox.asr.model_files import auto_threads
    from onevox.errors import ModelError
    from onevox.models.registry import resolve_model

    share = max(1, len(os.sched_getaffinity(0)) // workers)
    try:
        wanted = auto_threads(resolve_model(config.model.name).path)
    except ModelError:  # the workers' own load names the problem
        wanted = share
    return config.with_changes("model", threads=min(wanted, share))


def serve(config: Config, options: ServeOptions, *, announce: Callable[[str], None] = print) -> None:
    """Run the server until SIGINT/SIGTERM. `announce` gets one line once it accepts requests."""
    import uvicorn

    from onevox.serve.app import create_app

    options.check()
    sock = bind(options.host, options.port)
    per_worker = worker_config(config, options.workers)
    pool: WorkerPool[FileTranscriber] = WorkerPool(lambda _: FileTranscriber(per_worker), options.workers,
                                                   options.queue)
    try:
        pool.start()
        name = pool.models[0].recognizer.model_name
        app = create_app(pool, options, [name, *[a for a in MODEL_ALIASES if a != name]])
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                               limit_concurrency=MAX_CONNECTIONS, lifespan="off"))
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        workers = f"{options.workers} worker{'s' if options.workers > 1 else ''}"
        announce(f"onevox serve: {name} at http://{shown}:{port}/v1 ({workers}, queue {options.queue}"
                 f"{', token required' if options.token else ''})")
        server.run(sockets=[sock])
    finally:
        pool.close()
        sock.close()
