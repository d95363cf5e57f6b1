"""`onevox serve` as a real process with the real tiny.en, driven by the official `openai` client and by
curl, for every response format; subtitles read back with the `srt` and `webvtt-py` parsers."""

from __future__ import annotations

import io
import itertools
import json
import subprocess
from pathlib import Path

import openai
import pytest
import srt
import webvtt

from tests.support.serve_proc import ServeProcess

pytestmark = pytest.mark.model

TOKEN = "test-token-5f1c"
JFK_TEXT = ("And so my fellow Americans ask not what your country can do for you ask what you can do for "
            "your country.")
FORMATS = ("json", "text", "verbose_json", "srt", "vtt")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Listening beyond loopback (so a token is required), with small limits the tests can reach."""
    root = tmp_path_factory.mktemp("serve")
    limits = ("--max-upload-mb", "2", "--max-audio-s", "30", "--upload-timeout-s", "2")
    with ServeProcess(root, *limits, token=TOKEN, host="0.0.0.0") as proc:
        yield proc


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url, api_key=TOKEN, max_retries=0, timeout=60)


def transcribe(client, path: Path, fmt: str, **extra):
    with open(path, "rb") as fh:
        return client.audio.transcriptions.create(model="whisper-1", file=fh, response_format=fmt, **extra)


def curl(server, *args: str, token: str | None = TOKEN) -> tuple[int, str, dict[str, str]]:
    """(status, body, headers) of one curl request to the server's API."""
    auth = ["-H", f"Authorization: Bearer {token}"] if token else []
    out = subprocess.run(["curl", "-sS", "-D", "-", *auth, *args], capture_output=True, timeout=60,
                         check=True).stdout.decode()  # bytes: text mode would turn the headers' CRLF into LF
    head, _, body = out.partition("\r\n\r\n")
    while head.startswith("HTTP/1.1 100"):  # curl's Expect: 100-continue answer comes first
        head, _, body = body.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), body, headers


def post(server, path: Path, *fields: str, token: str | None = TOKEN) -> tuple[int, str, dict[str, str]]:
    form = [arg for field in fields for arg in ("-F", field)]
    return curl(server, "-F", f"file=@{path}", *form, f"{server.url}/audio/transcriptions", token=token)


def check_cues(cues: list[tuple[float, float, str]], speech: tuple[float, float], text: str) -> None:
    """Cues in order, not overlapping, covering the speech from near its start to near its end, and
    carrying the whole text."""
    assert cues, "no cues"
    for (start, end, _), (next_start, _, _) in itertools.pairwise(cues):
        assert start < end <= next_start
    assert abs(cues[0][0] - speech[0]) < 0.6, cues[0]
    assert abs(cues[-1][1] - speech[1]) < 0.8, cues[-1]
    assert " ".join(c[2] for c in cues) == text


def srt_cues(text: str) -> list[tuple[float, float, str]]:
    return [(s.start.total_seconds(), s.end.total_seconds(), s.content) for s in srt.parse(text)]


def vtt_cues(text: str) -> list[tuple[float, float, str]]:
    def seconds(stamp: str) -> float:
        hours, minutes, secs = stamp.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(secs)

    return [(seconds(c.start), seconds(c.end), c.text) for c in webvtt.from_buffer(io.StringIO(text))]


def test_ready_line_says_what_is_served(server):
    assert server.ready_line.startswith("onevox serve: tiny.en at http://0.0.0.0:")
    assert "(1 worker, queue 8, token required)" in server.ready_line


def test_openai_client_every_format(client, speech_dir):
    jfk = speech_dir / "jfk-inaugural.wav"
    assert transcribe(client, jfk, "json").text == JFK_TEXT
    assert transcribe(client, jfk, "text").strip() == JFK_TEXT
    verbose = transcribe(client, jfk, "verbose_json")
    assert verbose.text == JFK_TEXT and verbose.language == "en" and verbose.duration == pytest.approx(11.0)
    check_cues([(s.start, s.end, s.text) for s in verbose.segments], (0.3, 10.7), JFK_TEXT)
    check_cues(srt_cues(transcribe(client, jfk, "srt")), (0.3, 10.7), JFK_TEXT)
    check_cues(vtt_cues(transcribe(client, jfk, "vtt")), (0.3, 10.7), JFK_TEXT)


def test_word_timestamps_as_openai_gives_them(client, speech_dir):
    verbose = transcribe(client, speech_dir / "jfk-inaugural.wav", "verbose_json",
                         timestamp_granularities=["word", "segment"])
    words = verbose.words
    assert " ".join(w.word for w in words) == JFK_TEXT
    assert all(a.start <= a.end <= b.start + 0.001 for a, b in itertools.pairwise(words))
    assert words[0].start < 0.6 and words[-1].end > 10.0
    assert [s.text for s in verbose.segments] and all(s.start < s.end for s in verbose.segments)
    with pytest.raises(openai.BadRequestError, match="needs response_format verbose_json"):
        transcribe(client, speech_dir / "ps-goforward.wav", "json", timestamp_granularities=["word"])


def test_curl_every_format(server, speech_dir):
    clip = speech_dir / "ls-61-70968-0000.wav"  # 4.9 s, speech from about 0.1 s to the end
    expected = ("He began a confused complaint against the wizard, who had vanished behind the curtain "
                "on the left.")
    bodies = {}
    for fmt in FORMATS:
        status, body, headers = post(server, clip, f"response_format={fmt}", "model=tiny.en", "language=en",
                                     "temperature=0", "prompt=The wizard of Oz.")
        assert status == 200, body
        bodies[fmt] = (body, headers["content-type"])
    text = json.loads(bodies["json"][0])["text"]  # the prompt may change its punctuation
    assert text.replace(",", "") == expected.replace(",", "")
    assert bodies["json"][1] == "application/json"
    assert json.loads(bodies["json"][0])["language"] == "en"  # what a remote daemon reads
    assert bodies["text"][0] == text + "\n" and bodies["text"][1].startswith("text/plain")
    verbose = json.loads(bodies["verbose_json"][0])
    assert verbose["text"] == text and verbose["duration"] == pytest.approx(4.905, abs=0.01)
    check_cues([(s["start"], s["end"], s["text"]) for s in verbose["segments"]], (0.1, 4.9), text)
    check_cues(srt_cues(bodies["srt"][0]), (0.1, 4.9), text)
    assert bodies["vtt"][1].startswith("text/vtt")
    check_cues(vtt_cues(bodies["vtt"][0]), (0.1, 4.9), text)


def test_silence_is_an_empty_text_and_empty_subtitles(client, speech_dir):
    silence = speech_dir / "nonspeech-silence-2s.wav"
    assert transcribe(client, silence, "json").text == ""
    assert list(srt.parse(transcribe(client, silence, "srt"))) == []
    assert transcribe(client, silence, "vtt").startswith("WEBVTT")


def test_models_and_health(server, client):
    assert [m.id for m in client.models.list()] == ["tiny.en", "whisper-1"]
    status, body, _ = curl(server, f"{server.base}/health", token=None)
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_no_or_wrong_token_is_401(server, speech_dir):
    jfk = speech_dir / "jfk-inaugural.wav"
    for token in (None, "wrong"):
        status, body, headers = post(server, jfk, token=token)
        assert status == 401 and headers["www-authenticate"] == "Bearer"
        assert "bearer token" in json.loads(body)["error"]["message"]
        assert curl(server, f"{server.url}/models", token=token)[0] == 401
    with pytest.raises(openai.AuthenticationError):
        transcribe(openai.OpenAI(base_url=server.url, api_key="wrong", max_retries=0), jfk, "json")


def test_oversized_upload_is_413(server, client, tmp_path):
    big = tmp_path / "big.wav"
    big.write_bytes(b"\0" * (3 * 1024 * 1024))
    status, body, _ = post(server, big)
    assert status == 413
    assert json.loads(body)["error"]["message"] == "upload too large: the limit is 2 MB"
    # sent without a Content-Length, the body is cut off as it arrives
    status, body, _ = curl(server, "-H", "Transfer-Encoding: chunked", "-H", f"Authorization: Bearer {TOKEN}",
                           "-F", f"file=@{big}", f"{server.url}/audio/transcriptions", token=None)
    assert status == 413
    with pytest.raises(openai.APIStatusError) as info:
        transcribe(client, big, "json")
    assert info.value.status_code == 413


def test_too_long_audio_is_413_with_one_line(server, speech_dir, tmp_path):
    import numpy as np
    import soundfile as sf

    long = tmp_path / "long.flac"  # 40 s of quiet noise: small as FLAC, longer than --max-audio-s 30
    sf.write(long, np.random.default_rng(0).normal(0, 1e-3, 16000 * 40).astype(np.float32), 16000)
    status, body, _ = post(server, long)
    assert status == 413
    assert json.loads(body)["error"]["message"] == (
        "long.flac: too long (40.0 s; the limit is 30.0 s): split it into shorter files")


def test_garbage_audio_is_400_with_one_line(server, client, tmp_path, speech_dir):
    garbage = tmp_path / "notes.mp3"
    garbage.write_bytes(b"this is not audio, just text pretending to be an mp3\n" * 50)
    status, body, _ = post(server, garbage)
    message = json.loads(body)["error"]["message"]
    assert status == 400 and "\n" not in message
    assert message.startswith("notes.mp3: ") and "tmp" not in message
    with pytest.raises(openai.BadRequestError, match=r"notes\.mp3: "):
        transcribe(client, garbage, "json")
    for fields, param in ((("response_format=docx",), "response_format"), (("language=xx",), "language"),
                          (("language=de",), "language"), (("temperature=hot",), "temperature")):
        status, body, _ = post(server, speech_dir / "ps-goforward.wav", *fields)
        error = json.loads(body)["error"]
        assert status == 400 and error["param"] == param, body
    status, body, _ = curl(server, "-F", "model=whisper-1", f"{server.url}/audio/transcriptions")
    assert status == 400 and "multipart form field 'file'" in body
    status, body, _ = post(server, speech_dir / "ps-goforward.wav", "model=gpt-4o-transcribe")
    assert status == 404 and json.loads(body)["error"]["code"] == "model_not_found"


def test_an_upload_that_stalls_gets_408_and_frees_its_place(server, speech_dir):
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(b"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
                     b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n"
                     b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF")
        answer = ""
        while not answer.endswith("}"):  # the headers and the body may come in separate reads
            chunk = conn.recv(65536).decode()
            assert chunk, answer
            answer += chunk
    assert answer.startswith("HTTP/1.1 408 ") and "upload not received within 2 s" in answer
    assert json.loads(curl(server, f"{server.base}/health", token=None)[1])["waiting"] == 0


def test_overload_gets_answers_or_429_and_the_server_lives(tmp_path, speech_dir):
    """One worker, a queue of one: of many requests at once, each gets 200 or 429 (with Retry-After)."""
    clip = speech_dir / "ps-goforward.wav"
    busy_clip = speech_dir / "jfk-inaugural.wav"  # long enough to decode that the requests pile up
    with ServeProcess(tmp_path, "--workers", "1", "--queue", "1") as server:
        url = f"{server.url}/audio/transcriptions"
        command = ["curl", "-sS", "-o", "/dev/null", "-D", "-", "-F", f"file=@{busy_clip}", url]
        procs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(16)]
        heads = [p.communicate(timeout=120)[0] for p in procs]
        statuses = [int(head.split()[1]) for head in heads]
        assert set(statuses) <= {200, 429} and statuses.count(200) >= 2 and statuses.count(429) >= 1, statuses
        refused = [head.lower() for head, status in zip(heads, statuses, strict=True) if status == 429]
        assert all("retry-after:" in head for head in refused)
        assert server.alive()
        status, body, _ = post(server, clip, "response_format=text", token=None)
        assert status == 200 and body == "Go forward 10 meters.\n"
