"""Audio files in, 16 kHz mono float32 out.

WAV, FLAC and OGG are read with soundfile (libsndfile); anything it does not know (MP3 on older libsndfile,
M4A, Opus, video containers) goes through PyAV's bundled FFmpeg. Both paths read in blocks, mix down to mono
and resample with a streaming soxr resampler into an array sized from the header, so memory stays at the
size of the result; files longer than `max_seconds` are refused from their header before decoding when the
header says how long they are.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf
import soxr

from onevox.audio import SAMPLE_RATE
from onevox.errors import AudioError

if TYPE_CHECKING:
    from av.audio.frame import AudioFrame
    from av.audio.stream import AudioStream
    from av.container.input import InputContainer

MAX_SECONDS = 4 * 3600.0  # a dictation tool has no business decoding more than this in one go
_BLOCK_FRAMES = 1 << 18  # frames read per block


class AudioTooLong(AudioError):
    """The audio runs past the length allowed (`max_seconds`)."""


class _NotForSoundfile(Exception):
    """libsndfile does not recognise the format: PyAV gets a try."""


def load_audio(path: str | os.PathLike[str], *, max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """The whole file as 16 kHz mono float32. Raises AudioError naming the file when it is missing,
    unreadable, empty, not audio, truncated, or longer than `max_seconds`."""
    file = _check_file(Path(path))
    try:
        audio = _load_with_soundfile(file, max_seconds)
    except _NotForSoundfile:
        audio = _load_with_av(file, max_seconds)
    if audio.size == 0:
        raise AudioError(f"{file}: contains no audio samples (empty or truncated file)")
    return audio


def _check_file(path: Path) -> Path:
    if not path.exists():
        raise AudioError(f"{path}: file not found")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    if not os.access(path, os.R_OK):
        raise AudioError(f"{path}: permission denied")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    return path


@dataclass
class _Mono16k:
    """Collects blocks of (frames, channels) audio at `rate` as 16 kHz mono, refusing more than a limit.

    When the header says how long the file is, the result is written into one array of that size, so the
    peak is the result itself (a 4 h file: 0.9 GB, where collecting blocks and joining them took 1.8 GB).
    Past that size, or with no size known, blocks are collected and joined at the end."""

    file: Path
    rate: int
    max_seconds: float
    expected_frames: int = 0  # frames at `rate` the header declares; 0 when unknown
    frames_in: int = 0  # frames received so far, at `rate`
    _stream: soxr.ResampleStream | None = None
    _buffer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    _filled: int = 0
    _parts: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise AudioError(f"{self.file}: invalid sample rate {self.rate}")
        if self.rate != SAMPLE_RATE:
            self._stream = soxr.ResampleStream(self.rate, SAMPLE_RATE, 1, dtype="float32")
        if 0 < self.expected_frames <= self.max_seconds * self.rate:
            # pages of np.empty are only taken as they are written: a header that overstates costs nothing
            self._buffer = np.empty(self.expected_frames * SAMPLE_RATE // self.rate + SAMPLE_RATE, np.float32)

    def add(self, block: np.ndarray) -> None:
        self.frames_in += block.shape[0]
        if self.frames_in > self.max_seconds * self.rate:
            raise AudioTooLong(_too_long(self.file, self.frames_in / self.rate, self.max_seconds))
        mono = block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]
        mono = np.ascontiguousarray(mono, dtype=np.float32)
        self._put(self._stream.resample_chunk(mono) if self._stream else mono)

    def _put(self, samples: np.ndarray) -> None:
        end = self._filled + samples.size
        if not self._parts and end <= self._buffer.size:
            self._buffer[self._filled:end] = samples
            self._filled = end
        else:
            self._parts.append(samples.copy())

    def finish(self) -> np.ndarray:
        if self._stream is not None:
            self._put(self._stream.resample_chunk(np.zeros(0, np.float32), last=True))
        if not self._parts:
            return self._buffer[:self._filled]
        return np.concatenate([self._buffer[:self._filled], *self._parts])


def _too_long(file: Path, seconds: float, limit: float) -> str:
    return (f"{file}: too long ({_duration(seconds)}; the limit is {_duration(limit)}): "
            "split it into shorter files")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _load_with_soundfile(file: Path, max_seconds: float) -> np.ndarray:
    try:
        handle = sf.SoundFile(file)
    except sf.LibsndfileError as exc:
        if "not recognised" in str(exc).lower() or "unknown format" in str(exc).lower():
            raise _NotForSoundfile from exc
        raise AudioError(f"{file}: not a readable audio file ({_sf_reason(exc)})") from exc
    with handle:
        if handle.format == "MP3":  # FFmpeg's decoder handles damaged MP3s better than mpg123 here
            raise _NotForSoundfile
        _check_header(file, handle.channels, handle.samplerate, handle.frames, max_seconds)
        _check_wav_length(file, handle)
        collector = _Mono16k(file, handle.samplerate, max_seconds, expected_frames=max(handle.frames, 0))
        try:
            while (block := handle.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)).shape[0]:
                collector.add(block)
        except sf.LibsndfileError as exc:
            raise AudioError(f"{file}: truncated or corrupt audio ({_sf_reason(exc)})") from exc
        _check_complete(file, collector.frames_in / handle.samplerate, handle.frames / handle.samplerate)
    return collector.finish()


def _check_complete(file: Path, decoded_s: float, declared_s: float) -> None:
    """A file that decodes to clearly less than its header promised is damaged, not just short."""
    if declared_s > 0 and decoded_s + max(0.25, 0.02 * declared_s) < declared_s:
        raise AudioError(f"{file}: truncated audio (header says {declared_s:.2f} s, "
                         f"only {decoded_s:.2f} s could be decoded)")


def _sf_reason(exc: Exception) -> str:
    text = str(exc).strip()
    if text.startswith("Error opening"):
        text = text.split(": ", 1)[-1]
    return text.removeprefix("Error : ").strip().rstrip(".")


def _check_header(file: Path, channels: int, rate: int, frames: int, max_seconds: float) -> None:
    if channels <= 0:
        raise AudioError(f"{file}: has no audio channels")
    if rate <= 0:
        raise AudioError(f"{file}: invalid sample rate {rate}")
    if frames > 0 and frames / rate > max_seconds:
        raise AudioTooLong(_too_long(file, frames / rate, max_seconds))


def _check_wav_length(file: Path, handle: sf.SoundFile) -> None:
    """libsndfile quietly shortens a WAV whose data ends early; compare with what the header declared."""
    if handle.format not in ("WAV", "WAVEX"):
        return
    declared = _wav_declared_data_bytes(file)
    if declared is None:
        return
    bytes_per_frame = _bytes_per_frame(handle)
    if bytes_per_frame and handle.frames * bytes_per_frame < declared - bytes_per_frame:
        have = handle.frames / handle.samplerate
        want = declared / bytes_per_frame / handle.samplerate
        raise AudioError(f"{file}: truncated WAV file (header says {want:.2f} s, only {have:.2f} s present)")


def _bytes_per_frame(handle: sf.SoundFile) -> int:
    sizes = {"PCM_U8": 1, "PCM_S8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8,
             "ULAW": 1, "ALAW": 1}
    subtype: str = handle.subtype
    channels: int = handle.channels
    return sizes.get(subtype, 0) * channels


def _wav_declared_data_bytes(file: Path) -> int | None:
    """Size of the 'data' chunk as the RIFF header declares it; None when unknown (streamed WAVs write
    0 or 0xFFFFFFFF there)."""
    with open(file, "rb") as fh:
        if fh.read(4) != b"RIFF" or len(fh.read(4)) != 4 or fh.read(4) != b"WAVE":
            return None
        while True:
            head = fh.read(8)
            if len(head) < 8:
                return None
            chunk_id, size = head[:4], struct.unpack("<I", head[4:])[0]
            if chunk_id == b"data":
                return None if size in (0, 0xFFFFFFFF) else size
            fh.seek(size + (size & 1), os.SEEK_CUR)


def _load_with_av(file: Path, max_seconds: float) -> np.ndarray:
    import av  # only files libsndfile cannot read need FFmpeg

    try:
        container = av.open(str(file), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioError(f"{file}: not an audio file (format not recognised)") from exc
    with container:
        if not container.streams.audio:
            raise AudioError(f"{file}: has no audio stream")
        stream = container.streams.audio[0]
        if stream.codec_context.channels <= 0:
            raise AudioError(f"{file}: has no audio channels")
        if container.duration and container.duration / 1_000_000 > max_seconds:
            raise AudioTooLong(_too_long(file, container.duration / 1_000_000, max_seconds))
        return _decode_av(file, container, stream, max_seconds)


def _decode_av(file: Path, container: InputContainer, stream: AudioStream, max_seconds: float) -> np.ndarray:
    import av

    collector: _Mono16k | None = None
    declared_s = container.duration / 1_000_000 if container.duration else 0.0
    try:
        for frame in container.decode(stream):
            if collector is None:
                collector = _Mono16k(file, frame.sample_rate, max_seconds,
                                     expected_frames=int(declared_s * frame.sample_rate))
            collector.add(_frame_to_block(frame))
    except av.error.InvalidDataError as exc:
        if collector is None:
            raise AudioError(f"{file}: not an audio file or corrupt ({exc.strerror or exc})") from exc
        raise AudioError(f"{file}: truncated or corrupt audio ({exc.strerror or exc})") from exc
    except av.error.FFmpegError as exc:
        raise AudioError(f"{file}: cannot decode audio ({exc.strerror or exc})") from exc
    if collector is None:
        return np.zeros(0, np.float32)
    if stream.duration is not None and stream.time_base is not None:
        _check_complete(file, collector.frames_in / collector.rate, float(stream.duration * stream.time_base))
    return collector.finish()


def _frame_to_block(frame: AudioFrame) -> np.ndarray:
    """An FFmpeg audio frame as a (frames, channels) float32 array, whatever its sample format."""
    data: np.ndarray = frame.to_ndarray()  # one of several dtypes: told apart below, at run time
    # planar frames come as (channels, samples), packed ones as one interleaved row
    data = data.T if frame.format.is_planar else data.reshape(-1, len(frame.layout.channels))
    if np.issubdtype(data.dtype, np.integer):
        info = np.iinfo(data.dtype)
        if info.min == 0:  # unsigned 8-bit
            return (data.astype(np.float32) - 128.0) / 128.0
        return data.astype(np.float32) / float(-info.min)
    return data.astype(np.float32, copy=False)
