"""An uploaded audio file: its size bounded while it arrives, then decoded and transcribed on a worker.

The body is counted as uvicorn hands it over, so a client that sends no Content-Length (or lies in it)
is cut off at the limit too. The multipart parser spools the file to disk past a small size, and the audio
is decoded only on a worker's thread, where `max_audio_s` bounds the decoded array.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO

from onevox.audio.files import AudioTooLong, load_audio
from onevox.errors import AudioError, ModelError
from onevox.transcribe import FileOptions, FileResult, FileTranscriber

TYPE_CHECKING = False
if TYPE_CHECKING:
    from starlette.types import Message, Receive

FORM_OVERHEAD_BYTES = 64 * 1024  # the other form fields and multipart headers around the file


class BodyTooLarge(Exception):
    """The request body went past the limit while it arrived."""


class UploadRejected(Exception):
    """An upload that cannot be transcribed: `status` (400, 413), a one-line reason for the client, and the
    form field at fault."""

    def __init__(self, status: int, message: str, param: str = "file") -> None:
        super().__init__(message)
        self.status = status
        self.param = param


def limited(receive: Receive, max_bytes: int) -> Receive:
    """`receive` that raises BodyTooLarge once the body passes `max_bytes`."""
    seen = 0

    async def receive_limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > max_bytes:
                raise BodyTooLarge
        return message

    return receive_limited


@dataclass(frozen=True)
class Upload:
    """The file part of a request: its stream (the spooled upload) and the name the client gave it."""

    stream: IO[bytes]
    filename: str


def transcribe_upload(transcriber: FileTranscriber, upload: Upload, options: FileOptions,
                      max_audio_s: float) -> FileResult:
    """Runs on a worker's thread. Raises UploadRejected for audio that cannot be read or is too long."""
    name = _display_name(upload.filename)
    # the decoders take a path (and the suffix helps FFmpeg guess a format), so the spooled upload is copied
    with tempfile.NamedTemporaryFile(prefix="onevox-upload-", suffix=_suffix(upload.filename)) as tmp:
        upload.stream.seek(0)
        shutil.copyfileobj(upload.stream, tmp)
        tmp.flush()
        try:
            audio = load_audio(tmp.name, max_seconds=max_audio_s)
        except AudioTooLong as exc:
            raise UploadRejected(413, _renamed(exc, tmp.name, name)) from exc
        except AudioError as exc:
            raise UploadRejected(400, _renamed(exc, tmp.name, name)) from exc
    try:
        return transcriber.transcribe_loaded(name, audio, options)
    except ModelError as exc:  # e.g. a language the model cannot decode
        raise UploadRejected(400, str(exc), "language") from exc


def _display_name(filename: str) -> str:
    """The client's file name as we quote it back: its last part, printable, short."""
    base = PurePath(filename.replace("\\", "/")).name if filename else ""
    base = "".join(ch if ch.isprintable() else "?" for ch in base)[:100]
    return base or "upload"


def _suffix(filename: str) -> str:
    suffix = os.path.splitext(_display_name(filename))[1].lower()
    return suffix if suffix[1:].isalnum() and len(suffix) <= 6 else ""


def _renamed(exc: Exception, path: str, name: str) -> str:
    """The decoder's one-line message about the temporary file, told about the client's file instead."""
    message = " ".join(str(exc).split())
    return f"{name}{message.removeprefix(path)}" if message.startswith(path) else f"{name}: {message}"
