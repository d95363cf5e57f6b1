"""A transcribed file written out as text, JSON, SRT or WebVTT.

One implementation for `onevox transcribe --format` and `onevox serve`'s `response_format`; the JSON shapes
(`json`, `verbose_json`) are those of OpenAI's transcription API, so its clients read them unchanged.
"""

from __future__ import annotations

import json

from onevox.text.subtitles import to_srt, to_vtt
from onevox.transcribe import FileResult

SERVER_FORMATS = ("json", "text", "verbose_json", "srt", "vtt")  # OpenAI's response_format values
FILE_FORMATS = ("txt", "json", "srt", "vtt")  # `onevox transcribe --format`; also the file extensions
TIMED_FORMATS = frozenset({"verbose_json", "srt", "vtt"})  # these need word timing (FileOptions.timed)

MEDIA_TYPES = {
    "json": "application/json",
    "verbose_json": "application/json",
    "text": "text/plain; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}


def render(result: FileResult, fmt: str, *, words: bool = False) -> str:
    """`result` in format `fmt` (one of SERVER_FORMATS, or "txt"). JSON is OpenAI's `{"text": ...}`;
    `onevox transcribe --format json` writes `FileResult.to_json()` instead (see `render_file`).
    `words`: verbose_json also lists each word's time (OpenAI's timestamp_granularities=["word"])."""
    if fmt in ("text", "txt"):
        return result.text + "\n"
    if fmt == "json":
        # OpenAI's body is the text alone; the language (a field its clients ignore) lets a daemon that uses
        # this server with language = "auto" post-process in the language that was heard
        body = {"text": result.text}
        if result.language:
            body["language"] = result.language
        return json.dumps(body, ensure_ascii=False)
    if fmt == "verbose_json":
        return json.dumps(verbose_json(result, words=words), ensure_ascii=False)
    if fmt == "srt":
        return to_srt(result.cues)
    if fmt == "vtt":
        return to_vtt(result.cues)
    raise ValueError(f"unknown format {fmt!r}")


def render_file(result: FileResult, fmt: str) -> str:
    """What `onevox transcribe --format FMT` writes for one file (FILE_FORMATS)."""
    if fmt == "json":
        return json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n"
    return render(result, fmt)


def verbose_json(result: FileResult, *, words: bool = False) -> dict[str, object]:
    """OpenAI's verbose_json: the text, the language, the duration and the timed segments (our cues);
    with `words`, the timed words too."""
    out: dict[str, object] = {
        "task": "transcribe",
        "language": result.language,
        "duration": round(result.audio_s, 3),
        "text": result.text,
        "segments": [{"id": i, "start": c.start_s, "end": c.end_s, "text": c.text}
                     for i, c in enumerate(result.cues)],
    }
    if words:
        out["words"] = [{"word": w.text, "start": w.start_s, "end": w.end_s} for w in result.words]
    return out
