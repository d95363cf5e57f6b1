"""The HTTP routes: OpenAI's `POST /v1/audio/transcriptions` and `GET /v1/models`, and `GET /health`.

Errors come back in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, so its clients raise
their usual exceptions (BadRequestError, AuthenticationError, RateLimitError, ...) with our one-line reason.
A request goes: token, size from Content-Length, a slot in the worker pool (429 when there is none), the
form (its body counted against the size limit), the fields, then the decode on a worker.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onevox.compat import whisper_language_codes
from onevox.formats import MEDIA_TYPES, SERVER_FORMATS, TIMED_FORMATS, render
from onevox.serve.options import ServeOptions
from onevox.serve.pool import Busy, WorkerPool
from onevox.serve.upload import (
    FORM_OVERHEAD_BYTES,
    BodyTooLarge,
    Upload,
    UploadRejected,
    limited,
    transcribe_upload,
)
from onevox.transcribe import FileOptions, FileTranscriber

log = logging.getLogger(__name__)

ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "invalid_request_error",
               408: "invalid_request_error", 413: "invalid_request_error", 429: "rate_limit_exceeded",
               500: "server_error"}


def error(status: int, message: str, *, param: str | None = None, code: str | None = None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": ERROR_TYPES.get(status, "invalid_request_error"),
                      "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


class FieldError(Exception):
    def __init__(self, param: str, message: str, status: int = 400, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.status = status
        self.code = code


def create_app(pool: WorkerPool[FileTranscriber], options: ServeOptions, models: Sequence[str]) -> Starlette:
    """The Starlette app serving `pool`; `models` are the names a request may ask for (the first is the
    loaded model's own name)."""
    max_body = options.max_upload_bytes + FORM_OVERHEAD_BYTES

    def authorised(request: Request) -> bool:
        if not options.token:
            return True
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                                options.token.encode())

    def unauthorised() -> JSONResponse:
        return error(401, "missing or wrong bearer token (send the header 'Authorization: Bearer TOKEN')",
                     code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})

    def too_large() -> JSONResponse:
        return error(413, f"upload too large: the limit is {options.max_upload_mb:g} MB",
                     param="file", code="file_too_large", headers={"Connection": "close"})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "model": models[0], "workers": pool.workers,
                             "running": pool.running, "waiting": pool.waiting, "capacity": pool.capacity})

    async def list_models(request: Request) -> Response:
        if not authorised(request):
            return unauthorised()
        return JSONResponse({"object": "list", "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "onevox"} for name in models]})

    async def transcriptions(request: Request) -> Response:
        if not authorised(request):
            return unauthorised()
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_body:
            return too_large()
        try:
            slot = pool.admit()
        except Busy as busy:
            return error(429, str(busy), code="server_busy", headers={"Retry-After": str(busy.retry_after_s)})
        try:
            form = await read_form(Request(request.scope, limited(request.receive, max_body)))
            try:
                upload, file_options, fmt, words = read_fields(form, options, models)
                result = await slot.run(lambda transcriber: transcribe_upload(
                    transcriber, upload, file_options, options.max_audio_s))
            finally:
                await form.close()
        except BodyTooLarge:
            return too_large()
        except FieldError as exc:
            return error(exc.status, str(exc), param=exc.param, code=exc.code)
        except UploadRejected as exc:  # after a stalled upload the connection cannot be reused
            return error(exc.status, str(exc), param=exc.param,
                         headers={"Connection": "close"} if exc.status == 408 else None)
        except HTTPException as exc:  # a malformed multipart body
            return error(exc.status_code, f"cannot read the form: {exc.detail}")
        except Exception as exc:  # a bug: the client still gets an answer in the usual shape
            log.exception("transcription failed")
            return error(500, f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())}"[:300])
        finally:
            slot.release()
        return Response(render(result, fmt, words=words), media_type=MEDIA_TYPES[fmt])

    async def read_form(body: Request) -> FormData:
        """The form, read within the upload time limit (a slow sender must not hold its slot for ever)."""
        try:
            async with asyncio.timeout(options.upload_timeout_s):
                return await body.form(max_files=1, max_fields=20)
        except TimeoutError as exc:
            raise UploadRejected(408, f"upload not received within {options.upload_timeout_s:g} s") from exc

    return Starlette(routes=[
        Route("/health", health, methods=["GET"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/audio/transcriptions", transcriptions, methods=["POST"]),
    ])


def read_fields(form: FormData, options: ServeOptions,
                models: Sequence[str]) -> tuple[Upload, FileOptions, str, bool]:
    """The upload, how to transcribe it, the response format and whether to list timed words; FieldError
    for the first bad field."""
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise FieldError("file", "no audio file: send it as the multipart form field 'file'")
    model = _text(form, "model")
    if model and model not in models:
        raise FieldError("model", f"model {model!r} is not served here; this server has: {', '.join(models)}",
                         status=404, code="model_not_found")
    fmt = _text(form, "response_format") or "json"
    if fmt not in SERVER_FORMATS:
        raise FieldError("response_format",
                         f"response_format {fmt!r} is not one of {', '.join(SERVER_FORMATS)}")
    language = _text(form, "language").lower() or None
    if language is not None and language not in whisper_language_codes():
        raise FieldError("language",
                         f"language {language!r} is not a Whisper language code (e.g. en, de, fr)")
    prompt = _text(form, "prompt")
    if len(prompt) > options.max_prompt_chars:
        raise FieldError("prompt", f"prompt longer than {options.max_prompt_chars} characters")
    temperature = _text(form, "temperature")
    if temperature:  # accepted for compatibility; decoding follows the server's config (greedy or beam)
        try:
            value = float(temperature)
        except ValueError:
            value = math.nan
        if not 0.0 <= value <= 1.0:
            raise FieldError("temperature", f"temperature {temperature!r} is not a number from 0 to 1")
    granularities = {str(value).strip() for value in form.getlist("timestamp_granularities[]")}
    if granularities - {"word", "segment"}:
        raise FieldError("timestamp_granularities", "timestamp_granularities[] takes word and segment")
    if granularities and fmt != "verbose_json":
        raise FieldError("timestamp_granularities", "timestamp_granularities[] needs response_format "
                         "verbose_json")
    upload = Upload(file.file, file.filename or "")
    timed = FileOptions(timed=fmt in TIMED_FORMATS, prompt=prompt, language=language)
    return upload, timed, fmt, "word" in granularities


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldError(name, f"{name} must be a text field, not a file")
    return value.strip()
