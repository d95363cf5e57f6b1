"""One decode on an OpenAI-compatible server: POST {url}/audio/transcriptions, as OpenAI's API, onevox serve
and faster-whisper-server take it. The audio goes as a 16-bit WAV in memory (a third of float32's bytes, and
every such server reads it); nothing is written to disk."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import httpx2
import numpy as np
import soundfile

from onevox.audio import SAMPLE_RATE
from onevox.compat import whisper_language_codes

PROMPT_CHARS = 800  # Whisper reads at most 224 prompt tokens: the end of the text so far is what counts


@dataclass(frozen=True)
class ServerOptions:
    url: str  # base URL, e.g. http://host:8000/v1
    model: str = "whisper-1"  # the `model` form field
    api_key: str = ""  # sent as a Bearer token when set
    timeout_s: float = 10.0  # connect, send and the whole wait for the answer each get this long


@dataclass(frozen=True)
class ServerAnswer:
    text: str
    language: str = ""  # the Whisper code the server says it heard ("" when it does not say)


class RemoteError(Exception):
    """The server could not be reached, did not answer in time, refused, or answered nonsense."""


class TranscriptionServer:
    """A client of one server; keeps its connection open between decodes. Thread-safe (httpx2's client)."""

    def __init__(self, options: ServerOptions) -> None:
        self.options = options
        self.endpoint = options.url.rstrip("/") + "/audio/transcriptions"
        headers = {"Authorization": f"Bearer {options.api_key}"} if options.api_key else {}
        self._client = httpx2.Client(timeout=options.timeout_s, headers=headers, follow_redirects=False)

    def transcribe(self, audio: np.ndarray, *, prompt: str = "",
                   language: str | None = None) -> ServerAnswer:
        """What the server heard in `audio` (16 kHz mono float32). RemoteError says why there is none."""
        form = {"model": self.options.model, "response_format": "json"}
        if language:
            form["language"] = language
        if prompt.strip():
            form["prompt"] = prompt.strip()[-PROMPT_CHARS:]
        files = {"file": ("dictation.wav", wav_bytes(audio), "audio/wav")}
        try:
            response = self._client.post(self.endpoint, data=form, files=files)
        except httpx2.TimeoutException:
            raise RemoteError(f"no answer within {self.options.timeout_s:g} s") from None
        except httpx2.HTTPError as exc:
            raise RemoteError(f"cannot reach the server: {exc or type(exc).__name__}") from None
        if response.status_code >= 400:
            raise RemoteError(f"HTTP {response.status_code}: {_error_message(response)}")
        return _answer_of(response)

    @property
    def closed(self) -> bool:
        return self._client.is_closed

    def close(self) -> None:
        self._client.close()


def wav_bytes(audio: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.asarray(audio, dtype=np.float32), SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _answer_of(response: httpx2.Response) -> ServerAnswer:
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RemoteError(f"answered something that is not JSON: {_start(response.text)}") from None
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise RemoteError(f"answered JSON without a \"text\" string: {_start(response.text)}")
    # OpenAI's plain json has only the text; onevox serve adds the language it detected. A value that is
    # not one of Whisper's codes (a language name, say) is not guessed at.
    language = body.get("language")
    code = language.strip().lower() if isinstance(language, str) else ""
    return ServerAnswer(str(body["text"]), code if code in whisper_language_codes() else "")


def _error_message(response: httpx2.Response) -> str:
    """OpenAI's {"error": {"message": ...}}, FastAPI's {"detail": ...}, or the start of the body."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _start(response.text) or response.reason_phrase
    if isinstance(body, dict):
        detail = body.get("detail", body)
        error = detail.get("error") if isinstance(detail, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(detail, str):
            return detail
    return _start(response.text)


def _start(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
