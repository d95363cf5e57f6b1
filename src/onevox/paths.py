"""Where onevox keeps its files, following the XDG base directory spec.

Every function reads the environment when called, so tests (and users) can point XDG_* elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "onevox"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP))


def default_config_path() -> Path:
    return config_dir() / "config.toml"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP))


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP))


def state_dir() -> Path:
    """$XDG_STATE_HOME/onevox: what onevox keeps between runs that is neither config nor data (the daemon's
    log, the RemoteDesktop portal's restore token)."""
    return Path(platformdirs.user_state_dir(APP))


def models_dir() -> Path:
    return cache_dir() / "models"


def default_history_path() -> Path:
    return data_dir() / "history.sqlite3"


def runtime_dir() -> Path:
    """Private folder for the socket and pid file: $XDG_RUNTIME_DIR/onevox, else /tmp/onevox-UID."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base:
        return Path(base) / APP
    return Path("/tmp") / f"{APP}-{os.getuid()}"


def default_socket_path() -> Path:
    return runtime_dir() / f"{APP}.sock"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) and make it 0700, so no other user can look inside."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path
