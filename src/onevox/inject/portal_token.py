"""Where the RemoteDesktop portal's restore token is kept between runs: one file, private to the user.

The portal hands out a new token at every Start that was asked to persist (the old one is spent), so the file
is rewritten each time: written beside the old one and renamed over it, never left half-written.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from onevox import paths

log = logging.getLogger(__name__)

TOKEN_FILE = "remote-desktop-portal.token"
MAX_TOKEN_CHARS = 4096  # portals use a UUID; anything far longer is not a token of theirs


def default_token_path() -> Path:
    return paths.state_dir() / TOKEN_FILE


class RestoreTokenStore:
    """The restore token in `path` (default: $XDG_STATE_HOME/onevox/remote-desktop-portal.token), 0600 in a
    0700 folder."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_token_path()

    def load(self) -> str | None:
        """The kept token, None when there is none (or the file cannot be read: consent is asked again)."""
        try:
            token = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("cannot read the RemoteDesktop portal's restore token %s (%s); the desktop will ask "
                        "for consent again", self.path, exc)
            return None
        if not token or len(token) > MAX_TOKEN_CHARS or not token.isprintable():
            log.warning("%s holds no usable restore token; the desktop will ask for consent again", self.path)
            return None
        return token

    def save(self, token: str) -> None:
        """Keep `token` (atomically, 0600); a failure is logged, not raised: the text was typed anyway."""
        try:
            folder = paths.ensure_private_dir(self.path.parent)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".restore-token-")  # mkstemp makes it 0600
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(token + "\n")
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as exc:
            log.warning("cannot keep the RemoteDesktop portal's restore token in %s (%s); the desktop will "
                        "ask for consent again next time", self.path, exc)

    def clear(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("cannot remove %s: %s", self.path, exc)
