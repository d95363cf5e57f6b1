"""Bad audio files handed to load_audio and `onevox transcribe`: empty, truncated headers, wrong extension,
0 channels, random bytes, corrupted real files, a WAV header claiming hours, and a real 4-hour silent FLAC.
Each ends in a clear AudioError (naming the file) or a bounded result: never a hang (the risky ones run in a
child process with a deadline) and never unbounded memory (the child's peak RSS is measured)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onevox.audio.files import MAX_SECONDS, load_audio
from onevox.errors import AudioError
from tests.fuzz.bounded import run_bounded

RATE = 16000
EXTENSIONS = ["wav", "flac", "ogg", "mp3", "m4a", "txt", "bin"]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def wav_header(channels: int, rate: int, data_bytes: int, bits: int = 16) -> bytes:
    block = min(max(channels, 1) * bits // 8, 0xFFFF)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, min(rate * block, 0xFFFFFFFF), block, bits)
    return (b"RIFF" + struct.pack("<I", min(36 + data_bytes, 0xFFFFFFFF)) + b"WAVE" + b"fmt "
            + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", data_bytes))


def speech_like(seconds: float) -> np.ndarray:
    return np.random.default_rng(3).normal(0, 0.1, int(seconds * RATE)).astype(np.float32)


def load_or_error(path: Path) -> np.ndarray | AudioError:
    try:
        audio = load_audio(path)
    except AudioError as exc:
        message = str(exc)
        assert path.name in message and "\n" not in message, message
        return exc
    assert audio.dtype == np.float32 and audio.ndim == 1, (audio.dtype, audio.shape)
    assert audio.size <= MAX_SECONDS * RATE
    return audio


def _real_file(tmp_path: Path, ext: str) -> bytes:
    path = tmp_path / f"real.{ext}"
    sf.write(path, speech_like(0.5), RATE)
    return path.read_bytes()


@pytest.mark.timeout(300)
@FUZZ
@given(st.binary(max_size=4096), st.sampled_from(EXTENSIONS))
def test_random_bytes(tmp_path: Path, data: bytes, ext: str) -> None:
    path = tmp_path / f"random.{ext}"
    path.write_bytes(data)
    load_or_error(path)


@pytest.mark.timeout(300)
@FUZZ
@given(st.sampled_from(["wav", "flac", "ogg"]), st.integers(0, 100_000), st.binary(min_size=1, max_size=8),
       st.sampled_from(["truncate", "overwrite", "insert"]), st.sampled_from(EXTENSIONS))
def test_corrupted_real_files(tmp_path: Path, fmt: str, position: int, junk: bytes, how: str,
                              ext: str) -> None:
    data = _real_file(tmp_path, fmt)
    at = position % len(data)
    if how == "truncate":
        data = data[:at]
    elif how == "overwrite":
        data = data[:at] + junk + data[at + len(junk):]
    else:
        data = data[:at] + junk + data[at:]
    path = tmp_path / f"bad.{ext}"  # the extension may lie, too
    path.write_bytes(data)
    load_or_error(path)


@pytest.mark.parametrize(("name", "data"), [
    ("empty.wav", b""),
    ("riff-only.wav", b"RIFF"),
    ("header-only.wav", wav_header(1, RATE, 32000)),
    ("zero-channels.wav", wav_header(0, RATE, 64) + b"\0" * 64),
    ("zero-rate.wav", wav_header(1, 0, 64) + b"\0" * 64),
    ("huge-channels.wav", wav_header(65535, RATE, 64) + b"\0" * 64),
    ("flac-magic-only.flac", b"fLaC"),
    ("text.mp3", b"ID3" + b"not really mp3 " * 50),
])
def test_broken_headers_give_a_clear_error(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    outcome = run_bounded(lambda: load_audio(path).size, timeout=60)
    assert outcome.kind == "AudioError", outcome
    assert name in outcome.value


def test_odd_sample_width_is_read_or_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd-bits.wav"
    path.write_bytes(wav_header(1, RATE, 64, bits=13) + b"\0" * 64)
    outcome = run_bounded(lambda: load_audio(path).size, timeout=60)
    assert (outcome.kind == "ok" and outcome.value <= 64) or (
        outcome.kind == "AudioError" and path.name in outcome.value), outcome


def test_wrong_extension_still_reads(tmp_path: Path) -> None:
    sf.write(tmp_path / "x.flac", speech_like(1.0), RATE)
    (tmp_path / "flac-named.wav").write_bytes((tmp_path / "x.flac").read_bytes())
    assert load_audio(tmp_path / "flac-named.wav").size == RATE


@pytest.mark.parametrize(("channels", "rate", "hours"), [(1, RATE, 3.0), (2, 48000, 3.0), (1, RATE, 37.0)])
def test_wav_header_claiming_hours(tmp_path: Path, channels: int, rate: int, hours: float) -> None:
    """1 s of samples behind a header that claims hours (37 h overflows the 4 GiB RIFF size)."""
    frames = int(hours * 3600 * rate)
    data_bytes = min(frames * channels * 2, 0xFFFFFFFE)
    path = tmp_path / "claims-hours.wav"
    path.write_bytes(wav_header(channels, rate, data_bytes) + b"\0\1" * channels * rate)
    outcome = run_bounded(lambda: load_audio(path).size, timeout=60)
    print(f"\n{hours} h claimed: {outcome}")
    assert outcome.kind == "AudioError", outcome
    assert "claims-hours.wav" in outcome.value
    assert "truncated" in outcome.value or "too long" in outcome.value
    assert outcome.peak_growth_mb < 200


def write_silent_flac(path: Path, seconds: float, rate: int = RATE) -> None:
    """A silent FLAC written a minute at a time (never all in memory); silence compresses to ~3 KB/min."""
    minute = np.zeros(rate * 60, np.int16)
    left = int(seconds * rate)
    with sf.SoundFile(path, "w", samplerate=rate, channels=1, format="FLAC", subtype="PCM_16") as out:
        while left > 0:
            out.write(minute[:left])
            left -= min(left, minute.size)


@pytest.fixture(scope="module")
def over_four_hours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("long") / "silence-4h.flac"
    write_silent_flac(path, MAX_SECONDS + 60)
    return path


@pytest.mark.timeout(300)
def test_longer_than_the_limit_is_refused_from_the_header(over_four_hours: Path) -> None:
    assert over_four_hours.stat().st_size < 2_000_000
    outcome = run_bounded(lambda: load_audio(over_four_hours).size, timeout=30)
    print(f"\n4 h 1 min silent FLAC ({over_four_hours.stat().st_size} bytes): {outcome}")
    assert outcome.kind == "AudioTooLong" and "too long" in outcome.value, outcome
    assert outcome.peak_growth_mb < 100


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_four_hour_file_at_the_limit_decodes_in_bounded_memory(tmp_path: Path) -> None:
    """Exactly the 4 h limit: decoded (a bounded result). Peak memory is what 4 h of float32 at 16 kHz
    needs (879 MiB), written in place, plus the decoder's buffers (joining decoded blocks took twice that)."""
    path = tmp_path / "silence-4h.flac"
    write_silent_flac(path, MAX_SECONDS)
    outcome = run_bounded(lambda: load_audio(path).size, timeout=300)
    print(f"\nexactly 4 h silent FLAC ({path.stat().st_size} bytes): {outcome}")
    assert outcome.kind == "ok" and outcome.value == MAX_SECONDS * RATE, outcome
    assert outcome.peak_growth_mb < 1.1 * MAX_SECONDS * RATE * 4 / 2**20 + 64


def _onevox_transcribe(isolated_xdg: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "onevox", "transcribe", *map(str, files)],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ), check=False)


@pytest.mark.timeout(300)
def test_onevox_transcribe_reports_each_bad_file_on_one_line(tmp_path: Path, isolated_xdg: Path,
                                                              over_four_hours: Path) -> None:
    bad = {"empty.wav": b"", "random.flac": os.urandom(3000), "zero-channels.wav": wav_header(0, RATE, 64),
           "header-only.wav": wav_header(1, RATE, 32000),
           "claims-hours.wav": wav_header(1, RATE, 3 * 3600 * RATE * 2) + b"\0" * 3200}
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    files = [tmp_path / name for name in bad] + [over_four_hours]
    result = _onevox_transcribe(isolated_xdg, *files)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == len(files), lines
    for line, path in zip(lines, files, strict=True):
        assert line.startswith("onevox: ") and path.name in line, line
