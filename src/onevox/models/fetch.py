"""One file over HTTP(S) with urllib: written to `<file>.part`, resumed with a Range request, verified by
size and sha256, then renamed to its final name.

Hugging Face answers a large-file URL with a redirect to its CDN that carries the file's sha256
(X-Linked-ETag) and size (X-Linked-Size); both are read from the redirect as well as from the final answer.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Protocol

from onevox import __version__
from onevox.errors import ModelError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


@dataclass(frozen=True)
class FetchOptions:
    timeout_s: float = 30.0  # connecting, and waiting for each read, gives up after this long
    retries: int = 3  # automatic resumes after a dropped connection or a timeout
    retry_wait_s: float = 1.0  # pause before the first retry; doubles each time
    chunk_bytes: int = 1 << 20  # read and write size


@dataclass(frozen=True)
class RemoteFile:
    url: str
    dest: Path  # final path; the transfer goes to dest + ".part"
    size: int | None  # pinned size, or None to trust the server
    sha256: str | None  # pinned digest, or None to use the server's X-Linked-ETag when it sends one


class _Interrupted(Exception):
    """A transfer that stopped part-way and can be resumed."""


class _Restart(Exception):
    """The partial file cannot be continued (the server refused the range): start it again."""


def fetch_file(remote: RemoteFile, options: FetchOptions, progress: Callable[[int], None]) -> None:
    """Download `remote` to its dest, resuming an earlier `.part`; `progress(bytes_of_this_file_done)`."""
    wait = options.retry_wait_s
    retries = 0
    restarted = False
    while True:
        try:
            _attempt(remote, options, progress)
            return
        except _Restart:
            if restarted:
                raise ModelError(f"the server cannot resume {remote.dest.name} and refused to send it "
                                 "from the start; try again later") from None
            restarted = True
            _part(remote).unlink(missing_ok=True)
            progress(0)
        except _Interrupted as exc:
            if retries >= options.retries:
                raise ModelError(f"downloading {remote.dest.name} failed: {exc}; run the command again "
                                 "to resume where it stopped") from None
            retries += 1
            time.sleep(wait)
            wait *= 2


def _part(remote: RemoteFile) -> Path:
    return remote.dest.with_name(remote.dest.name + ".part")


def _attempt(remote: RemoteFile, options: FetchOptions, progress: Callable[[int], None]) -> None:
    part = _part(remote)
    offset = part.stat().st_size if part.exists() else 0
    if remote.size is not None and offset > remote.size:
        raise _Restart
    hasher = _hash_prefix(part, offset)
    if offset and offset == remote.size:
        _finish(remote, part, hasher, remote.sha256)  # complete before, stopped before the rename
        return
    recorder = _LinkedHeaders()
    response = _open(remote.url, offset, options.timeout_s, recorder)
    with response:
        start = _start_of(response, offset)
        if start != offset:
            hasher, offset = hashlib.sha256(), 0  # the server ignored Range: it sends the whole file
        total = _expected_total(remote, response, recorder, offset)
        expected_sha = _expected_sha(remote, response, recorder)
        progress(offset)
        with part.open("ab" if offset else "wb", buffering=0) as out:
            done = _copy(response, out, remote, offset, total, hasher, options, progress)
    if total is not None and done < total:
        raise _Interrupted(f"the connection closed after {done} of {total} bytes")
    _finish(remote, part, hasher, expected_sha)


class _Hasher(Protocol):
    """What we use of a hashlib object."""

    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


def _hash_prefix(part: Path, offset: int) -> _Hasher:
    hasher = hashlib.sha256()
    if offset:
        with part.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                hasher.update(chunk)
    return hasher


class _LinkedHeaders(urllib.request.HTTPRedirectHandler):
    """Keeps the size and sha256 a redirect advertises (Hugging Face puts them on the redirect only)."""

    def __init__(self) -> None:
        self.etag: str | None = None
        self.size: str | None = None

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: http.client.HTTPMessage, newurl: str) -> urllib.request.Request | None:
        self.etag = headers.get("X-Linked-ETag") or self.etag
        self.size = headers.get("X-Linked-Size") or self.size
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _open(url: str, offset: int, timeout_s: float, recorder: _LinkedHeaders) -> http.client.HTTPResponse:
    headers = {"User-Agent": f"onevox/{__version__}", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    opener = urllib.request.build_opener(recorder)
    name = url.rsplit("/", 1)[-1]
    try:
        response: http.client.HTTPResponse = opener.open(urllib.request.Request(url, headers=headers),
                                                         timeout=timeout_s)  # http(s): an HTTPResponse
        return response
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            raise _Restart from None
        raise ModelError(_http_error_message(exc.code, exc.reason, name, url)) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, socket.gaierror):
            raise ModelError(f"cannot find the server for {url} (no network, or a wrong "
                             "ONEVOX_MODEL_BASE_URL?)") from None
        raise _Interrupted(f"cannot reach {url}: {_describe(reason)}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise _Interrupted(f"no answer from {url}: {_describe(exc)}") from None


def _http_error_message(code: int, reason: str, name: str, url: str) -> str:
    if code == 404:
        return f"the server has no {name} (HTTP 404 for {url}); is the model name or base URL right?"
    if code in (401, 403):
        return f"the server refused {name} (HTTP {code} for {url})"
    if code >= 500:
        return (f"the server failed while sending {name} (HTTP {code} {reason}); try again later, "
                "the download resumes where it stopped")
    return f"unexpected answer for {name}: HTTP {code} {reason} ({url})"


def _start_of(response: http.client.HTTPResponse, offset: int) -> int:
    """Where the body starts in the file: `offset` for a matching 206, 0 for a plain 200."""
    if response.status == 200:
        return 0
    if response.status == 206:
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        if match and int(match.group(1)) == offset:
            return offset
        raise _Restart
    raise ModelError(f"unexpected answer from {response.url}: HTTP {response.status}")


def _expected_total(remote: RemoteFile, response: http.client.HTTPResponse, recorder: _LinkedHeaders,
                    offset: int) -> int | None:
    """The file's full size: the pinned one, checked against what the server says it will send."""
    advertised = _int(response.headers.get("Content-Length"))
    if advertised is not None:
        advertised += offset
    if response.status == 206:
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        if match and match.group(3) != "*":
            advertised = int(match.group(3))
    linked = _int(recorder.size or response.headers.get("X-Linked-Size"))
    for offered in (advertised, linked):
        if remote.size is not None and offered is not None and offered != remote.size:
            raise ModelError(f"the server offers {offered} bytes for {remote.dest.name}, expected "
                             f"{remote.size}: the server's file is not the one onevox pins; not using it")
    return remote.size if remote.size is not None else advertised if advertised is not None else linked


def _expected_sha(remote: RemoteFile, response: http.client.HTTPResponse,
                  recorder: _LinkedHeaders) -> str | None:
    raw = recorder.etag or response.headers.get("X-Linked-ETag") or ""
    digest = raw.removeprefix("W/").strip('"').lower()
    advertised = digest if _SHA256.match(digest) else None
    if remote.sha256 and advertised and advertised != remote.sha256:
        raise ModelError(f"the server's {remote.dest.name} has sha256 {advertised}, but onevox pins "
                         f"{remote.sha256}; not using it")
    return remote.sha256 or advertised


def _copy(response: http.client.HTTPResponse, out: BinaryIO, remote: RemoteFile, done: int, total: int | None,
          hasher: _Hasher, options: FetchOptions, progress: Callable[[int], None]) -> int:
    while total is None or done < total:
        want = options.chunk_bytes if total is None else min(options.chunk_bytes, total - done)
        try:
            chunk = response.read1(want)
        except (OSError, http.client.HTTPException) as exc:
            raise _Interrupted(f"{_describe(exc)} after {done} of {total or '?'} bytes") from None
        if not chunk:
            break
        _write(out, chunk, remote)
        hasher.update(chunk)
        done += len(chunk)
        progress(done)
    _write(out, b"", remote, sync=True)
    return done


def _write(out: BinaryIO, data: bytes, remote: RemoteFile, sync: bool = False) -> None:
    try:
        view = memoryview(data)
        while view:  # an unbuffered write may take only part of the data
            written = out.write(view)
            view = view[written:]
        if sync:
            os.fsync(out.fileno())
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ModelError(f"the disk is full while writing {remote.dest.name} in {remote.dest.parent}; "
                             "free some space and run the command again (it resumes; "
                             "`onevox models remove NAME` deletes the partial download)") from None
        raise ModelError(f"cannot write {_part(remote)}: {exc.strerror or exc}") from None


def _finish(remote: RemoteFile, part: Path, hasher: _Hasher, expected_sha: str | None) -> None:
    if expected_sha is not None:
        actual = hasher.hexdigest()
        if actual != expected_sha:
            part.unlink(missing_ok=True)
            raise ModelError(f"checksum mismatch for {remote.dest.name}: expected sha256 {expected_sha}, "
                             f"got {actual}; the bad file was deleted, run the command again")
    os.replace(part, remote.dest)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _describe(exc: object) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
